import type { ModelEntry, ModelManifest } from './model-manifest';
import type { ModelRef } from './model-ref';

/**
 * Naming and housekeeping rules for the model caches, shared by the service worker (which
 * fills them) and the page (which lists, fills and removes offline packs). Each model
 * version has its own cache, so a new version never mixes with the old one's files.
 */

const MODEL_CACHE_PREFIX = 'fieldid-model:';

/** Photos shared to the installed app: the worker parks them here, the page takes them out. */
export const SHARE_TARGET_PATH = '/share-target';
export const SHARE_CACHE = 'fieldid-shared-photos';

export const MODEL_MANIFEST_CACHE = 'fieldid-model-manifest';
export const MODEL_MANIFEST_PATH = '/models/manifest.json';

/** A version's manifest entry, stored in its cache so the version stays usable offline after the manifest moves on. */
export const ENTRY_FILE = 'entry.json';

export function entryPath(id: string, version: string): string {
  return `/models/${id}/${version}/${ENTRY_FILE}`;
}

export function modelCacheName(id: string, version: string): string {
  return `${MODEL_CACHE_PREFIX}${id}@${version}`;
}

/** A cache name is a string by nature: this is the one place that reads a ModelRef out of one. */
export function parseModelCacheName(name: string): ModelRef | null {
  if (!name.startsWith(MODEL_CACHE_PREFIX)) return null;
  const ref = name.slice(MODEL_CACHE_PREFIX.length);
  const at = ref.lastIndexOf('@');
  if (at <= 0 || at === ref.length - 1) return null;
  return { id: ref.slice(0, at), version: ref.slice(at + 1) };
}

export interface ModelFileRoute {
  id: string;
  version: string;
  path: string;
}

/** `/models/<id>/<version>/<file>` → its parts; anything else (the manifest too) → null. */
export function parseModelFilePath(pathname: string): ModelFileRoute | null {
  const match = /^\/models\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(pathname);
  if (!match) return null;
  const [, id, version, path] = match as unknown as [string, string, string, string];
  return { id, version, path };
}

export function findModelFile(
  manifest: ModelManifest,
  route: ModelFileRoute,
): { entry: ModelEntry; bytes: number; sha256: string } | null {
  const entry = manifest.models.find((m) => m.id === route.id && m.version === route.version);
  const file = entry?.files.find((f) => f.path === route.path);
  return entry && file ? { entry, bytes: file.bytes, sha256: file.sha256 } : null;
}

/** A version is offline-ready when every one of its files is in its cache. */
export function isComplete(entry: ModelEntry, cachedPaths: readonly string[]): boolean {
  const have = new Set(cachedPaths);
  return entry.files.every((f) => have.has(f.path));
}

/**
 * Caches to delete: for a model with a complete cached version listed in the manifest,
 * every other version of it (the old one goes only once the new one is ready); and the
 * versions of models the manifest no longer lists. Unknown caches are never touched.
 */
export function staleModelCaches(
  cacheNames: readonly string[],
  manifest: ModelManifest,
  completeCaches: ReadonlySet<string>,
): string[] {
  const parsed = cacheNames
    .map((name) => ({ name, ref: parseModelCacheName(name) }))
    .filter((c): c is { name: string; ref: ModelRef } => c.ref !== null);
  const listed = new Map(manifest.models.map((m) => [m.id, m.version]));
  return parsed
    .filter(({ ref }) => {
      const current = listed.get(ref.id);
      if (current === undefined) return true;
      if (ref.version === current) return false;
      return completeCaches.has(modelCacheName(ref.id, current));
    })
    .map(({ name }) => name);
}

// ---- The offline fallback ---------------------------------------------------------------

/**
 * Set on a version's stored entry once every file of the version is in its cache: epoch
 * ms. Offline the manifest's order is gone, so this is what "newest" means then: the
 * version that became complete last, which is the one the manifest named most recently.
 */
export const COMPLETED_AT_HEADER = 'x-fieldid-completed-at';

export function parseCompletedAt(value: string | null): number | null {
  if (value === null || !/^\d{1,16}$/.test(value)) return null;
  return Number(value);
}

/** A complete version found in the caches, as the page reads it back. */
export interface StoredVersion {
  entry: ModelEntry;
  /** Null for a version stored before completion times were recorded. */
  completedAt: number | null;
}

/**
 * The newest complete version of each model, the most recently completed model first.
 * A version without a completion time counts as older than any with one; between two
 * such versions the order they were found in decides, as it did before times were kept.
 */
export function newestStoredVersions(stored: readonly StoredVersion[]): ModelEntry[] {
  const rank = (v: StoredVersion) => v.completedAt ?? Number.NEGATIVE_INFINITY;
  const newest = new Map<string, StoredVersion>();
  for (const version of stored) {
    const known = newest.get(version.entry.id);
    if (known === undefined || rank(version) > rank(known)) newest.set(version.entry.id, version);
  }
  return [...newest.values()].sort((a, b) => rank(b) - rank(a)).map((v) => v.entry);
}

/** The version of model `id` to run offline when the listed one is not stored, if any. */
export function newestStoredVersion(
  stored: readonly StoredVersion[],
  id: string,
): ModelEntry | null {
  return newestStoredVersions(stored.filter((v) => v.entry.id === id))[0] ?? null;
}
