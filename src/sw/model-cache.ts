/// <reference lib="webworker" />
import type { WorkboxPlugin } from 'workbox-core';
import { CacheFirst } from 'workbox-strategies';
import {
  entryPath,
  MODEL_MANIFEST_CACHE,
  MODEL_MANIFEST_PATH,
  findModelFile,
  isComplete,
  modelCacheName,
  parseModelFilePath,
  staleModelCaches,
  type ModelFileRoute,
} from '../core/cache-policy';
import { sha256Hex } from '../core/digest';
import { parseModelManifest, type ModelManifest } from '../core/model-manifest';

/**
 * Model files: one cache per model version, filled on first use, every file checked
 * against the manifest's sha256 both before it is stored and before a stored copy is
 * served. A corrupt or partial copy is dropped and fetched again.
 */

async function currentManifest(): Promise<ModelManifest | null> {
  let response = await caches.match(MODEL_MANIFEST_PATH, { cacheName: MODEL_MANIFEST_CACHE });
  if (!response) {
    // First visit: the page read the manifest before this worker was in control.
    response = await fetch(MODEL_MANIFEST_PATH, { cache: 'no-cache' }).catch(() => undefined);
    if (!response?.ok) return null;
    await (await caches.open(MODEL_MANIFEST_CACHE)).put(MODEL_MANIFEST_PATH, response.clone());
  }
  const parsed = parseModelManifest(await response.json().catch(() => null));
  return parsed.ok ? parsed.manifest : null;
}

async function matchesManifest(response: Response, route: ModelFileRoute): Promise<boolean> {
  const manifest = await currentManifest();
  const expected = manifest && findModelFile(manifest, route);
  // Without a manifest entry there is nothing to check against; the worker checks again.
  if (!expected) return true;
  const body = await response.clone().arrayBuffer();
  return body.byteLength === expected.bytes && (await sha256Hex(body)) === expected.sha256;
}

function integrityPlugin(route: ModelFileRoute): WorkboxPlugin {
  return {
    cachedResponseWillBeUsed: async ({ cachedResponse }) =>
      cachedResponse && (await matchesManifest(cachedResponse, route)) ? cachedResponse : null,
    cacheWillUpdate: async ({ response }) =>
      response.ok && (await matchesManifest(response, route)) ? response : null,
    cacheDidUpdate: async () => {
      await recordEntry(route);
      await removeStaleVersions();
    },
  };
}

/** Writes the manifest entry of a version into its cache, once. */
async function recordEntry(route: ModelFileRoute): Promise<void> {
  const manifest = await currentManifest();
  const found = manifest && findModelFile(manifest, route);
  if (!found) return;
  const cache = await caches.open(modelCacheName(route.id, route.version));
  const url = entryPath(route.id, route.version);
  if (await cache.match(url)) return;
  await cache.put(url, Response.json(found.entry));
}

export async function removeStaleVersions(): Promise<void> {
  const manifest = await currentManifest();
  if (manifest === null) return; // offline with nothing to compare: delete nothing
  const names = await caches.keys();
  const complete = new Set<string>();
  for (const entry of manifest.models) {
    const name = modelCacheName(entry.id, entry.version);
    if (!names.includes(name)) continue;
    const keys = await (await caches.open(name)).keys();
    const paths = keys.map((request) => new URL(request.url).pathname.split('/').pop() ?? '');
    if (isComplete(entry, paths)) complete.add(name);
  }
  await Promise.all(staleModelCaches(names, manifest, complete).map((name) => caches.delete(name)));
}

const strategies = new Map<string, CacheFirst>();

function strategyFor(route: ModelFileRoute): CacheFirst {
  const key = `${route.id}@${route.version}/${route.path}`;
  let strategy = strategies.get(key);
  if (!strategy) {
    strategy = new CacheFirst({
      cacheName: modelCacheName(route.id, route.version),
      // The HTTP cache may answer: version URLs are immutable, and on the first visit it
      // already holds the files the worker fetched before this worker was in control.
      plugins: [integrityPlugin(route)],
    });
    strategies.set(key, strategy);
  }
  return strategy;
}

export function isModelFile(url: URL): boolean {
  return url.origin === self.location.origin && parseModelFilePath(url.pathname) !== null;
}

export function handleModelFile(event: FetchEvent, url: URL): Promise<Response> {
  const route = parseModelFilePath(url.pathname)!;
  return strategyFor(route).handle({ event, request: event.request });
}
