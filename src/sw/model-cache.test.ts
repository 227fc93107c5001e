import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// Workbox reads `self` as it loads, and checks the class of the events it is given: in Node
// the global object stands in for the worker's, with event classes of its own.
const { ExtendableEvent } = vi.hoisted(() => {
  class ExtendableEvent {
    waitUntil(_promise: Promise<unknown>): void {}
  }
  class FetchEvent extends ExtendableEvent {}
  Object.assign(globalThis, {
    self: globalThis,
    location: new URL('http://localhost/'),
    ExtendableEvent,
    FetchEvent,
    __WB_DISABLE_DEV_LOGS: true,
  });
  return { ExtendableEvent };
});

import {
  entryPath,
  MODEL_MANIFEST_CACHE,
  MODEL_MANIFEST_PATH,
  modelCacheName,
} from '../core/cache-policy';
import { sha256Hex } from '../core/digest';
import type { ChannelManifest } from '../core/model-channels';
import { stableManifest, withCandidate } from '../core/model-channels.fixtures';
import type { ModelEntry } from '../core/model-manifest';
import { fakeModelEntry } from '../core/model-manifest.fixtures';
import { FakeCacheStorage, ORIGIN } from './fake-caches.fixtures';
import { handleModelFile } from './model-cache';

/**
 * The service worker's model caching in Node, on Cache Storage in memory and a network
 * that answers from a table: what is stored, what is served, what is deleted, at the
 * moments a real download gives (another manifest lands while a file is being stored).
 */

const FILES = {
  'model.json': '{"m":1}',
  'group1-shard1of1.bin': 'weights',
  'labels.txt': 'a\nb\n',
};

/** An entry whose files hash to what `network` serves for them. */
async function realEntry(id: string, version: string): Promise<ModelEntry> {
  const files = await Promise.all(
    Object.entries(FILES).map(async ([path, text]) => {
      const data = new TextEncoder().encode(`${version}:${text}`);
      return { path, bytes: data.byteLength, sha256: await sha256Hex(data) };
    }),
  );
  return { ...fakeModelEntry(id, version), files, totalBytes: 0 };
}

function body(entry: ModelEntry, path: string): string {
  return `${entry.version}:${FILES[path as keyof typeof FILES]}`;
}

let storage: FakeCacheStorage;
/** What the network answers, by path. */
let network: Map<string, string>;

beforeEach(() => {
  storage = new FakeCacheStorage();
  network = new Map();
  vi.stubGlobal('caches', storage);
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: RequestInfo | URL) => {
      const path = new URL(input instanceof Request ? input.url : String(input), ORIGIN).pathname;
      const text = network.get(path);
      return text === undefined ? new Response('', { status: 404 }) : new Response(text);
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
});

async function cacheManifest(manifest: ChannelManifest): Promise<void> {
  await (
    await storage.open(MODEL_MANIFEST_CACHE)
  ).put(MODEL_MANIFEST_PATH, Response.json(manifest));
}

function serve(entry: ModelEntry, path: string, text = body(entry, path)): void {
  network.set(`/models/${entry.id}/${entry.version}/${path}`, text);
}

/** A request for one file through the worker, to the end of its body and of its storing. */
async function request(entry: ModelEntry, path: string): Promise<string> {
  const url = new URL(`/models/${entry.id}/${entry.version}/${path}`, ORIGIN);
  const waits: Promise<unknown>[] = [];
  const event = Object.assign(new ExtendableEvent(), {
    request: new Request(url),
    waitUntil: (promise: Promise<unknown>) => void waits.push(promise),
  }) as unknown as FetchEvent;
  const response = await handleModelFile(event, url);
  const text = await response.text();
  await Promise.allSettled(waits);
  return text;
}

async function storedPaths(entry: ModelEntry): Promise<string[]> {
  if (!(await storage.has(modelCacheName(entry.id, entry.version)))) return [];
  return (await storage.open(modelCacheName(entry.id, entry.version))).paths();
}

describe('the model caches of the service worker', () => {
  it('stores a listed file checked against its sha256, with the version entry', async () => {
    const stable = await realEntry('birds', 'v3');
    await cacheManifest(stableManifest(stable));
    serve(stable, 'labels.txt');
    expect(await request(stable, 'labels.txt')).toBe(body(stable, 'labels.txt'));
    expect((await storedPaths(stable)).sort()).toEqual(['entry.json', 'labels.txt']);
  });

  it('stores nothing that no manifest entry describes: a file the cached manifest does not list yet', async () => {
    const stable = await realEntry('birds', 'v3');
    const candidate = await realEntry('birds', 'v4');
    await cacheManifest(stableManifest(stable));
    serve(candidate, 'model.json', 'not what any manifest says');
    await request(candidate, 'model.json');
    expect(await storedPaths(candidate)).toEqual([]);
  });

  it('checks a file against the current manifest when the request read an older one', async () => {
    const stable = await realEntry('birds', 'v3');
    const candidate = await realEntry('birds', 'v4');
    const rollout = withCandidate(stableManifest(stable), 'birds', 'v4');
    rollout.models.birds!.candidate = { ...rollout.models.birds!.candidate!, ...candidate };
    // A corrupt copy in the candidate's cache, and a manifest that lists the candidate
    // landing just after the request read the one before it.
    const cache = await storage.open(modelCacheName('birds', 'v4'));
    await cache.put(`/models/birds/v4/model.json`, new Response('corrupt'));
    await cacheManifest(stableManifest(stable));
    const manifests = await storage.open(MODEL_MANIFEST_CACHE);
    const match = manifests.match.bind(manifests);
    let reads = 0;
    manifests.match = async (request) => {
      if (reads++ === 1) await cacheManifest(rollout);
      return match(request);
    };
    serve(candidate, 'model.json');
    expect(await request(candidate, 'model.json')).toBe(body(candidate, 'model.json'));
    expect(await (await cache.match('/models/birds/v4/model.json'))?.text()).toBe(
      body(candidate, 'model.json'),
    );
  });

  it('keeps a new candidate when a stable version it started to download before the candidate completes', async () => {
    const stable = await realEntry('birds', 'v3');
    const candidate = await realEntry('birds', 'v4');
    const rollout = withCandidate(stableManifest(stable), 'birds', 'v4');
    rollout.models.birds!.candidate = { ...rollout.models.birds!.candidate!, ...candidate };
    await cacheManifest(stableManifest(stable));
    for (const path of ['model.json', 'group1-shard1of1.bin']) {
      serve(stable, path);
      await request(stable, path);
    }
    // While the last stable file is being stored, the page reads a manifest with a candidate
    // and starts on its files.
    const stableCache = await storage.open(modelCacheName('birds', 'v3'));
    stableCache.onPut = async (url) => {
      if (!url.endsWith('labels.txt')) return;
      await cacheManifest(rollout);
      serve(candidate, 'model.json');
      await request(candidate, 'model.json');
    };
    serve(stable, 'labels.txt');
    await request(stable, 'labels.txt');
    expect((await storedPaths(stable)).sort()).toEqual([
      'entry.json',
      'group1-shard1of1.bin',
      'labels.txt',
      'model.json',
    ]);
    expect((await storedPaths(candidate)).sort()).toEqual(['entry.json', 'model.json']);
  });

  it('deletes a withdrawn candidate once the stable version is complete', async () => {
    const stable = await realEntry('birds', 'v3');
    const candidate = await realEntry('birds', 'v4');
    const rollout = withCandidate(stableManifest(stable), 'birds', 'v4');
    rollout.models.birds!.candidate = { ...rollout.models.birds!.candidate!, ...candidate };
    await cacheManifest(rollout);
    serve(candidate, 'model.json');
    await request(candidate, 'model.json');
    await cacheManifest(stableManifest(stable));
    for (const path of Object.keys(FILES)) {
      serve(stable, path);
      await request(stable, path);
    }
    expect(await storage.has(modelCacheName('birds', 'v4'))).toBe(false);
    const stored = await (
      await storage.open(modelCacheName('birds', 'v3'))
    ).match(entryPath('birds', 'v3'));
    expect(stored?.headers.get('x-fieldid-completed-at')).toMatch(/^\d+$/);
  });

  it('serves an older version offline after the manifest moved on, checked against its stored entry', async () => {
    const older = await realEntry('birds', 'v2');
    await cacheManifest(stableManifest(older));
    for (const path of Object.keys(FILES)) {
      serve(older, path);
      await request(older, path);
    }
    await cacheManifest(stableManifest(await realEntry('birds', 'v3')));
    network.clear();
    expect(await request(older, 'labels.txt')).toBe(body(older, 'labels.txt'));
    // A stored copy that no longer matches its entry is not served.
    const cache = await storage.open(modelCacheName('birds', 'v2'));
    await cache.put('/models/birds/v2/model.json', new Response('damaged'));
    expect(await request(older, 'model.json')).toBe('');
  });
});
