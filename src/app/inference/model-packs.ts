import {
  COMPLETED_AT_HEADER,
  entryPath,
  isComplete,
  modelCacheName,
  parseCompletedAt,
  parseModelCacheName,
  type StoredVersion,
} from '../../core/cache-policy';
import { matchesFile } from '../../core/digest';
import { readBody } from '../../core/read-body';
import { fail, ok, type Result } from '../../core/errors';
import { fileUrl, modelEntrySchema, type ModelEntry } from '../../core/model-manifest';
import type { ModelRef } from '../../core/model-ref';
import type { ModelChoice } from '../settings/model-choice';
import { useModelStore } from './model-store';

/**
 * Offline model packs, seen from the page: which versions are complete in their caches,
 * downloading one with progress (each file checked against its sha256 before it is
 * stored), removing one, and the storage the browser grants.
 */

export interface PackStatus {
  complete: boolean;
  cachedBytes: number;
}

const hasCaches = () => typeof caches !== 'undefined';

async function cachedPaths(entry: ModelEntry): Promise<string[]> {
  const name = modelCacheName(entry.id, entry.version);
  if (!hasCaches() || !(await caches.has(name))) return [];
  const keys = await (await caches.open(name)).keys();
  return keys.map((request) => new URL(request.url).pathname.split('/').pop() ?? '');
}

/**
 * Why a model is in use under the model setting: Auto uses the general model and every
 * specialist; a model chosen by hand is in use, and with a specialist, the general model
 * that checks each photo is of its group. A model missing from the map is not in use.
 */
export type ModelUse =
  | { kind: 'auto-general' }
  | { kind: 'auto-specialist'; group: string }
  | { kind: 'chosen' }
  | { kind: 'checks-group'; group: string; specialist: ModelEntry };

export function modelUses(choice: ModelChoice): Map<string, ModelUse> {
  const uses = new Map<string, ModelUse>();
  if (choice.kind === 'auto') {
    uses.set(choice.general.id, { kind: 'auto-general' });
    for (const { entry, group } of choice.specialists) {
      uses.set(entry.id, { kind: 'auto-specialist', group });
    }
    return uses;
  }
  uses.set(choice.entry.id, { kind: 'chosen' });
  if (choice.specialism !== null) {
    const { general, group } = choice.specialism;
    uses.set(general.id, { kind: 'checks-group', group, specialist: choice.entry });
  }
  return uses;
}

export async function packStatus(entry: ModelEntry): Promise<PackStatus> {
  const paths = new Set(await cachedPaths(entry));
  const cachedBytes = entry.files
    .filter((f) => paths.has(f.path))
    .reduce((sum, f) => sum + f.bytes, 0);
  return { complete: isComplete(entry, [...paths]), cachedBytes };
}

export async function makeAvailableOffline(
  entry: ModelEntry,
  onProgress: (loadedBytes: number, totalBytes: number) => void = () => {},
): Promise<Result<null>> {
  if (!hasCaches()) return fail('MODEL_LOAD_FAILED', 'this browser has no Cache Storage');
  const cache = await caches.open(modelCacheName(entry.id, entry.version));
  // Under a service worker every model fetch already passes its integrity check and is
  // stored by it (src/sw/model-cache.ts); hashing and storing here too would do it twice.
  const workerStores = typeof navigator !== 'undefined' && !!navigator.serviceWorker?.controller;
  let done = 0;
  for (const file of entry.files) {
    const url = fileUrl(entry, file.path);
    if (await cache.match(url)) {
      done += file.bytes;
      onProgress(done, entry.totalBytes);
      continue;
    }
    let body: ArrayBuffer | null;
    try {
      const response = await fetch(url);
      if (!response.ok) return fail('MODEL_LOAD_FAILED', `${file.path}: HTTP ${response.status}`);
      const progress = (bytes: number) => onProgress(done + bytes, entry.totalBytes);
      body = workerStores
        ? await readForProgress(response, progress)
        : await readBody(response, progress);
    } catch (error) {
      const online = typeof navigator === 'undefined' || navigator.onLine;
      return fail(online ? 'MODEL_LOAD_FAILED' : 'OFFLINE', `${file.path}: ${String(error)}`);
    }
    if (body === null) {
      // The worker ends the body only after it has kept or refused the file, so a file
      // missing now is one it refused: not what the manifest describes.
      if (!(await cache.match(url))) return fail('MODEL_INTEGRITY_FAILED', file.path);
    } else {
      if (!(await matchesFile(body, file))) return fail('MODEL_INTEGRITY_FAILED', file.path);
      await cache.put(
        url,
        new Response(body, { headers: { 'content-length': String(body.byteLength) } }),
      );
    }
    done += file.bytes;
    onProgress(done, entry.totalBytes);
  }
  // The worker records the entry, stamped once complete, with the files it stores;
  // written here only if it did not.
  const entryUrl = entryPath(entry.id, entry.version);
  const stored = await cache.match(entryUrl);
  if (!stored?.headers.has(COMPLETED_AT_HEADER)) {
    const headers = { [COMPLETED_AT_HEADER]: String(Date.now()) };
    await cache.put(entryUrl, Response.json(entry, { headers }));
  }
  return ok(null);
}

/** Reads a body only to report its progress; the bytes are the worker's to check and keep. */
async function readForProgress(
  response: Response,
  onBytes: (received: number) => void,
): Promise<null> {
  if (response.body === null) {
    onBytes((await response.arrayBuffer()).byteLength);
    return null;
  }
  const reader = response.body.getReader();
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return null;
    received += value.byteLength;
    onBytes(received);
  }
}

export async function removePack(model: ModelRef): Promise<void> {
  if (hasCaches()) await caches.delete(modelCacheName(model.id, model.version));
}

/** After the first install: the model fetched before the service worker was in control is stored now. */
export async function cacheCurrentModel(): Promise<void> {
  const { entry } = useModelStore.getState();
  if (entry !== null) await makeAvailableOffline(entry);
}

/**
 * Complete cached versions with their stored entries and when they became complete: what
 * can run offline when the manifest names a version that was never downloaded.
 */
export async function storedVersions(): Promise<StoredVersion[]> {
  if (!hasCaches()) return [];
  const versions: StoredVersion[] = [];
  for (const name of await caches.keys()) {
    const ref = parseModelCacheName(name);
    if (ref === null) continue;
    const stored = await (await caches.open(name)).match(entryPath(ref.id, ref.version));
    if (!stored) continue;
    const completedAt = parseCompletedAt(stored.headers.get(COMPLETED_AT_HEADER));
    const parsed = modelEntrySchema.safeParse(await stored.json().catch(() => null));
    if (parsed.success && (await packStatus(parsed.data)).complete) {
      versions.push({ entry: parsed.data, completedAt });
    }
  }
  return versions;
}

export async function storageEstimate(): Promise<{ usage: number; quota: number } | null> {
  if (!navigator.storage?.estimate) return null;
  const { usage = 0, quota = 0 } = await navigator.storage.estimate();
  return { usage, quota };
}

/** Asks once for persistent storage, so the browser does not evict offline models under pressure. */
export async function requestPersistence(): Promise<boolean | null> {
  if (!navigator.storage?.persist) return null;
  if (await navigator.storage.persisted()) return true;
  return navigator.storage.persist();
}
