/// <reference lib="webworker" />
import type { PluginState, WorkboxPlugin } from 'workbox-core';
import { CacheFirst } from 'workbox-strategies';
import {
  COMPLETED_AT_HEADER,
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
import { matchesFile } from '../core/digest';
import { listedEntries, parseChannelManifest, type ChannelManifest } from '../core/model-channels';
import { modelEntrySchema, type ModelEntry } from '../core/model-manifest';

/**
 * Model files: one cache per model version, filled on first use, every file checked
 * against the manifest's sha256 both before it is stored and before a stored copy is
 * served. A corrupt or partial copy is dropped and fetched again. The worker reads the
 * manifest as published, with every channel: which version a device runs is the page's
 * choice (it holds the installation's secret), so any listed version is checked and kept.
 * A file that no manifest entry describes is neither stored nor served from the cache.
 */

async function currentManifest(): Promise<ChannelManifest | null> {
  let response = await caches.match(MODEL_MANIFEST_PATH, { cacheName: MODEL_MANIFEST_CACHE });
  if (!response) {
    // First visit: the page read the manifest before this worker was in control.
    response = await fetch(MODEL_MANIFEST_PATH, { cache: 'no-cache' }).catch(() => undefined);
    if (!response?.ok) return null;
    await (await caches.open(MODEL_MANIFEST_CACHE)).put(MODEL_MANIFEST_PATH, response.clone());
  }
  const parsed = parseChannelManifest(await response.json().catch(() => null));
  return parsed.ok ? parsed.manifest : null;
}

/**
 * Read and parsed once per request, not once per callback: a stored file otherwise costs
 * three cache reads and zod parses. Workbox gives each request its own plugin `state`.
 */
function manifestFor(state: PluginState | undefined): Promise<ChannelManifest | null> {
  if (state === undefined) return currentManifest();
  state.manifest ??= currentManifest();
  return state.manifest as Promise<ChannelManifest | null>;
}

type ExpectedFile = { entry: ModelEntry; bytes: number; sha256: string };

/**
 * What a route's file must be: as the request's copy of the manifest lists it; else as the
 * current manifest does (a manifest with a new candidate can land while a long download
 * runs, after the request read its copy); else as the version's own stored entry does (an
 * older version that runs offline after the manifest moved on). Null when nothing lists it.
 */
async function expectedFile(
  route: ModelFileRoute,
  state: PluginState | undefined,
): Promise<ExpectedFile | null> {
  const known = await manifestFor(state);
  const listed = known && findModelFile(known, route);
  if (listed) return listed;
  const current = await currentManifest();
  const now = current && findModelFile(current, route);
  if (now) {
    if (state !== undefined) state.manifest = Promise.resolve(current);
    return now;
  }
  return storedFile(route);
}

async function storedFile(route: ModelFileRoute): Promise<ExpectedFile | null> {
  const name = modelCacheName(route.id, route.version);
  if (!(await caches.has(name))) return null;
  const stored = await (await caches.open(name)).match(entryPath(route.id, route.version));
  const parsed = modelEntrySchema.safeParse(await stored?.json().catch(() => null));
  if (!parsed.success) return null;
  const file = parsed.data.files.find((f) => f.path === route.path);
  return file ? { entry: parsed.data, bytes: file.bytes, sha256: file.sha256 } : null;
}

async function matchesManifest(
  response: Response,
  route: ModelFileRoute,
  state: PluginState | undefined,
): Promise<boolean> {
  const expected = await expectedFile(route, state);
  // Nothing to check it against: not kept, and a stored copy not trusted (the worker that
  // loads the model checks what it receives again in any case).
  if (!expected) return false;
  return matchesFile(await response.clone().arrayBuffer(), expected);
}

function integrityPlugin(route: ModelFileRoute): WorkboxPlugin {
  return {
    cachedResponseWillBeUsed: async ({ cachedResponse, state }) =>
      cachedResponse && (await matchesManifest(cachedResponse, route, state))
        ? cachedResponse
        : null,
    cacheWillUpdate: async ({ response, state }) =>
      response.ok && (await matchesManifest(response, route, state)) ? response : null,
    cacheDidUpdate: async ({ state }) => {
      const found = await expectedFile(route, state);
      if (!found) return;
      const cache = await caches.open(modelCacheName(route.id, route.version));
      const complete = isComplete(found.entry, await cachedPaths(cache));
      await oneAtATime(entryPath(route.id, route.version), () =>
        recordEntry(cache, route, found.entry, complete),
      );
      // Only a version that has just become complete can make another one stale.
      if (complete) await removeStaleVersions();
    },
  };
}

/**
 * Entry writes run one at a time per version: its files are stored in parallel, and a plain
 * write that landed after the stamped one would erase the version's completion time.
 */
const entryWrites = new Map<string, Promise<void>>();

function oneAtATime(key: string, job: () => Promise<void>): Promise<void> {
  const next = (entryWrites.get(key) ?? Promise.resolve()).then(job, job);
  const settled = next.catch(() => {});
  entryWrites.set(key, settled);
  void settled.then(() => {
    if (entryWrites.get(key) === settled) entryWrites.delete(key);
  });
  return next;
}

/**
 * Writes the manifest entry of a version into its cache with its first file, and again,
 * stamped with the time, when its last file makes it complete: the offline fallback
 * takes the version completed last.
 */
async function recordEntry(
  cache: Cache,
  route: ModelFileRoute,
  entry: ModelEntry,
  complete: boolean,
): Promise<void> {
  const url = entryPath(route.id, route.version);
  const stored = await cache.match(url);
  if (stored && (!complete || stored.headers.has(COMPLETED_AT_HEADER))) return;
  const headers: Record<string, string> = complete
    ? { [COMPLETED_AT_HEADER]: String(Date.now()) }
    : {};
  await cache.put(url, Response.json(entry, { headers }));
}

async function cachedPaths(cache: Cache): Promise<string[]> {
  const keys = await cache.keys();
  return keys.map((request) => new URL(request.url).pathname.split('/').pop() ?? '');
}

/**
 * Deletes the caches the current manifest makes stale. Always read afresh, never a copy a
 * request took at its start: a download that ends long after a manifest with a new
 * candidate arrived would otherwise delete the candidate's first files.
 */
export async function removeStaleVersions(): Promise<void> {
  const manifest = await currentManifest();
  if (manifest === null) return; // offline with nothing to compare: delete nothing
  const names = await caches.keys();
  const complete = new Set<string>();
  for (const entry of listedEntries(manifest)) {
    const name = modelCacheName(entry.id, entry.version);
    if (!names.includes(name)) continue;
    if (isComplete(entry, await cachedPaths(await caches.open(name)))) complete.add(name);
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

export async function handleModelFile(event: FetchEvent, url: URL): Promise<Response> {
  const route = parseModelFilePath(url.pathname)!;
  const [response, done] = strategyFor(route).handleAll({ event, request: event.request });
  // Settled either way: a failed store must not fail a response that was already good.
  const settled = done.then(
    () => undefined,
    () => undefined,
  );
  return endAfter(await response, settled);
}

/**
 * The body still streams as it arrives (download progress), but ends only once the file
 * is verified and stored or refused. A page that has read a model file to the end can then
 * tell from the cache alone whether it was kept, so offline packs neither hash nor store
 * it a second time.
 */
function endAfter(response: Response, settled: Promise<void>): Response {
  if (response.body === null) return response;
  return new Response(response.body.pipeThrough(new TransformStream({ flush: () => settled })), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
