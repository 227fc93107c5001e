import {
  listedEntries,
  withdrawnCandidates,
  type ChannelChoice,
  type ChannelManifest,
} from './model-channels';
import type { ModelEntry } from './model-manifest';
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

/**
 * The file among every version the manifest lists, stable and candidate: which of them this
 * device runs is the page's choice, and the worker checks whichever it is asked for.
 */
export function findModelFile(
  manifest: ChannelManifest,
  route: ModelFileRoute,
): { entry: ModelEntry; bytes: number; sha256: string } | null {
  const entry = listedEntries(manifest).find(
    (m) => m.id === route.id && m.version === route.version,
  );
  const file = entry?.files.find((f) => f.path === route.path);
  return entry && file ? { entry, bytes: file.bytes, sha256: file.sha256 } : null;
}

/** A version is offline-ready when every one of its files is in its cache. */
export function isComplete(entry: ModelEntry, cachedPaths: readonly string[]): boolean {
  const have = new Set(cachedPaths);
  return entry.files.every((f) => have.has(f.path));
}

/**
 * Caches to delete: a version the manifest no longer lists, once a listed version of the same
 * model is complete (until then it is what works offline); and the versions of models the
 * manifest no longer lists at all. A listed version, stable or candidate, always stays: a
 * device may be moved onto either at its next manifest check. Unknown caches are never
 * touched.
 */
export function staleModelCaches(
  cacheNames: readonly string[],
  manifest: ChannelManifest,
  completeCaches: ReadonlySet<string>,
): string[] {
  const listed = new Map<string, string[]>();
  for (const { id, version } of listedEntries(manifest)) {
    listed.set(id, [...(listed.get(id) ?? []), version]);
  }
  return cacheNames
    .map((name) => ({ name, ref: parseModelCacheName(name) }))
    .filter((c): c is { name: string; ref: ModelRef } => c.ref !== null)
    .filter(({ ref }) => {
      const versions = listed.get(ref.id);
      if (versions === undefined) return true;
      if (versions.includes(ref.version)) return false;
      return versions.some((version) => completeCaches.has(modelCacheName(ref.id, version)));
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
 * Which stored versions of one model may stand in, offline, for the version the device
 * resolved when that one is not stored. `preferred` are the versions the cached manifest
 * lists for this device, best first; `demoted` run only when no other version is stored:
 * a withdrawn candidate, or a candidate this device is not on (its bucket is outside, or
 * the user opted out). A version in neither list is one the manifest no longer names, an
 * older stable version most likely: it ranks between the two.
 */
export interface FallbackOrder {
  preferred: readonly string[];
  demoted: readonly string[];
}

/**
 * The fallback order of model `id` on a device that resolved `published` to `choice`:
 * the version it resolved, then, when that is a candidate, the stable version. Null
 * `published` is a manifest rebuilt from the stored versions: only the former candidates
 * are known then, and they go last.
 */
export function fallbackOrder(
  published: ChannelManifest | null,
  id: string,
  choice: ChannelChoice | undefined,
  formerCandidates: readonly ModelRef[],
): FallbackOrder {
  const withdrawn = (
    published === null ? formerCandidates : withdrawnCandidates(published, formerCandidates)
  )
    .filter((ref) => ref.id === id)
    .map((ref) => ref.version);
  const channels = published?.models[id];
  if (channels === undefined) return { preferred: [], demoted: withdrawn };
  const { stable, candidate } = channels;
  if (candidate !== undefined && choice?.channel === 'candidate') {
    return { preferred: [candidate.version, stable.version], demoted: withdrawn };
  }
  return {
    preferred: [stable.version],
    demoted: candidate === undefined ? withdrawn : [...withdrawn, candidate.version],
  };
}

/**
 * `versions` (of one model) best first by `order`; within a rank the version completed
 * last first (offline the manifest's order is gone, and the version completed last is the
 * one it named most recently), a version without a completion time after any with one,
 * and between two such the order they were found in, as before times were kept.
 */
function ranked(versions: readonly StoredVersion[], order: FallbackOrder): StoredVersion[] {
  const rank = ({ entry }: StoredVersion) => {
    const preferred = order.preferred.indexOf(entry.version);
    if (preferred !== -1) return preferred;
    return order.preferred.length + (order.demoted.includes(entry.version) ? 1 : 0);
  };
  const completed = (v: StoredVersion) => v.completedAt ?? Number.NEGATIVE_INFINITY;
  return versions
    .map((version, found) => ({ version, found }))
    .sort(
      (a, b) =>
        rank(a.version) - rank(b.version) ||
        completed(b.version) - completed(a.version) ||
        a.found - b.found,
    )
    .map(({ version }) => version);
}

/** The stored version of model `id` to run offline when the resolved one is not stored, if any. */
export function offlineVersion(
  stored: readonly StoredVersion[],
  id: string,
  order: FallbackOrder,
): ModelEntry | null {
  return (
    ranked(
      stored.filter((v) => v.entry.id === id),
      order,
    )[0]?.entry ?? null
  );
}

/**
 * Offline without any manifest: one stored version per model, a former candidate only
 * when nothing else of its model is stored, the model completed most recently first.
 */
export function offlineModels(
  stored: readonly StoredVersion[],
  formerCandidates: readonly ModelRef[],
): ModelEntry[] {
  const ids = [...new Set(stored.map((v) => v.entry.id))];
  const best = ids.map((id) => {
    const order = fallbackOrder(null, id, undefined, formerCandidates);
    return ranked(
      stored.filter((v) => v.entry.id === id),
      order,
    )[0]!;
  });
  const completed = (v: StoredVersion) => v.completedAt ?? Number.NEGATIVE_INFINITY;
  return best
    .map((version, found) => ({ version, found }))
    .sort((a, b) => completed(b.version) - completed(a.version) || a.found - b.found)
    .map(({ version }) => version.entry);
}
