import { z } from 'zod';
import { DEFAULT_TOP_K, type Answer, type AnswerKind } from './answer';
import type { ModelRef } from './model-ref';

/**
 * The on-device history of identifications: what one observation record holds, how a
 * record read back from storage is checked and repaired, and how storage stays bounded
 * (thumbnails of the oldest observations go first, then the oldest observations).
 * Pure: the IndexedDB code in src/app/history applies what this decides.
 */

// ---- Limits and pruning ---------------------------------------------------------------

export interface HistoryLimits {
  /** Observations that keep their thumbnail; older ones keep their text only. */
  maxThumbnails: number;
  /** Observations in all; the oldest beyond this are deleted. */
  maxEntries: number;
  /**
   * A larger thumbnail is not stored at all, so that `maxThumbnails` also bounds the
   * bytes (the worker's thumbnails are small JPEGs, a few kB each).
   */
  maxThumbnailBytes: number;
}

/**
 * A thousand thumbnails are about 10 MB: small next to one model, and enough to recognise
 * the last few weeks of field work. Ten thousand records without thumbnails are a few MB.
 */
export const DEFAULT_HISTORY_LIMITS: Readonly<HistoryLimits> = Object.freeze({
  maxThumbnails: 1000,
  maxEntries: 10_000,
  maxThumbnailBytes: 64 * 1024,
});

/** What the pruning needs to know about one stored observation. */
export interface PruneCandidate {
  id: string;
  createdAt: number;
  hasThumbnail: boolean;
  /** Bytes of its thumbnail (0 without one). */
  thumbnailBytes: number;
}

export interface HistoryTotals {
  entries: number;
  thumbnails: number;
}

export interface PrunePlan {
  /** Observations that lose their thumbnail but stay, oldest first. */
  dropThumbnails: string[];
  /** Observations deleted with their thumbnail, oldest first. */
  deleteEntries: string[];
  /** Thumbnail bytes given back by both. */
  freedBytes: number;
}

export const EMPTY_PRUNE_PLAN: Readonly<PrunePlan> = Object.freeze({
  dropThumbnails: [],
  deleteEntries: [],
  freedBytes: 0,
});

function normalizedLimits(limits: HistoryLimits): HistoryLimits {
  const whole = (n: number) => (Number.isFinite(n) ? Math.max(0, Math.floor(n)) : 0);
  return {
    maxThumbnails: whole(limits.maxThumbnails),
    maxEntries: whole(limits.maxEntries),
    maxThumbnailBytes: whole(limits.maxThumbnailBytes),
  };
}

/**
 * How many of the oldest observations and of the oldest thumbnails `planPrune` has to see
 * to decide correctly; zero and zero means nothing is over a limit. Storage code reads
 * only this many instead of every record: at the cap, each new photo needs one look.
 */
export function pruneWindow(
  totals: HistoryTotals,
  limits: HistoryLimits = DEFAULT_HISTORY_LIMITS,
): HistoryTotals {
  const { maxEntries, maxThumbnails } = normalizedLimits(limits);
  const entries = Math.max(0, totals.entries - maxEntries);
  // Deleting an old observation may take one of the excess thumbnails with it, so the
  // thumbnail window also covers the thumbnails of the deleted observations.
  const thumbnails = entries + Math.max(0, totals.thumbnails - maxThumbnails);
  return { entries, thumbnails };
}

/** Oldest first; equal times by id, the order IndexedDB keeps for [createdAt, id] keys. */
export function compareOldestFirst(
  a: Pick<PruneCandidate, 'createdAt' | 'id'>,
  b: Pick<PruneCandidate, 'createdAt' | 'id'>,
): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Decides what to remove so that at most `maxEntries` observations remain, of which at
 * most `maxThumbnails` keep a thumbnail: the oldest observations beyond `maxEntries` are
 * deleted, then the oldest remaining thumbnails are dropped.
 *
 * `candidates` may be every stored observation, or only the oldest ones with `totals`
 * giving the real counts; it must then hold at least the oldest `pruneWindow(totals)`
 * observations and thumbnails. Duplicated ids (one list per object store) are merged.
 */
export function planPrune(
  candidates: readonly PruneCandidate[],
  limits: HistoryLimits = DEFAULT_HISTORY_LIMITS,
  totals?: HistoryTotals,
): PrunePlan {
  const merged = new Map<string, PruneCandidate>();
  for (const candidate of candidates) {
    const seen = merged.get(candidate.id);
    merged.set(
      candidate.id,
      seen === undefined
        ? candidate
        : {
            ...seen,
            hasThumbnail: seen.hasThumbnail || candidate.hasThumbnail,
            thumbnailBytes: Math.max(seen.thumbnailBytes, candidate.thumbnailBytes),
          },
    );
  }
  const oldestFirst = [...merged.values()].sort(compareOldestFirst);
  const counts = totals ?? {
    entries: oldestFirst.length,
    thumbnails: oldestFirst.filter((c) => c.hasThumbnail).length,
  };
  const { maxEntries, maxThumbnails } = normalizedLimits(limits);

  const deleted = oldestFirst.slice(0, Math.max(0, counts.entries - maxEntries));
  const thumbnailsLeft = counts.thumbnails - deleted.filter((c) => c.hasThumbnail).length;
  let excessThumbnails = Math.max(0, thumbnailsLeft - maxThumbnails);
  const dropped: PruneCandidate[] = [];
  for (const candidate of oldestFirst.slice(deleted.length)) {
    if (excessThumbnails === 0) break;
    if (!candidate.hasThumbnail) continue;
    dropped.push(candidate);
    excessThumbnails--;
  }
  const bytesOf = (list: PruneCandidate[]) =>
    list.reduce((sum, c) => sum + (c.hasThumbnail ? Math.max(0, c.thumbnailBytes) : 0), 0);
  return {
    dropThumbnails: dropped.map((c) => c.id),
    deleteEntries: deleted.map((c) => c.id),
    freedBytes: bytesOf(dropped) + bytesOf(deleted),
  };
}

export interface PruneCounts {
  thumbnailsDropped: number;
  entriesDeleted: number;
}

export function pruneCounts(plan: PrunePlan): PruneCounts {
  return {
    thumbnailsDropped: plan.dropThumbnails.length,
    entriesDeleted: plan.deleteEntries.length,
  };
}

export function addPruneCounts(a: PruneCounts, b: PruneCounts): PruneCounts {
  return {
    thumbnailsDropped: a.thumbnailsDropped + b.thumbnailsDropped,
    entriesDeleted: a.entriesDeleted + b.entriesDeleted,
  };
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * What the user is told after pruning, or null when nothing was removed. Counts from
 * several prunings (a batch writes in chunks) are added up first, so the user reads one
 * sentence rather than one per chunk.
 */
export function pruneNotice({ thumbnailsDropped, entriesDeleted }: PruneCounts): string | null {
  const reason = 'to stay within storage limits.';
  if (entriesDeleted > 0 && thumbnailsDropped > 0) {
    const deleted =
      entriesDeleted === 1
        ? 'The oldest observation was deleted'
        : `The ${count(entriesDeleted)} oldest observations were deleted`;
    const next =
      thumbnailsDropped === 1
        ? 'the thumbnail of the next one was removed'
        : `the thumbnails of the next ${count(thumbnailsDropped)} were removed`;
    return `${deleted} and ${next} ${reason}`;
  }
  if (entriesDeleted > 0) {
    return entriesDeleted === 1
      ? `The oldest observation was deleted ${reason}`
      : `The ${count(entriesDeleted)} oldest observations were deleted ${reason}`;
  }
  if (thumbnailsDropped > 0) {
    return thumbnailsDropped === 1
      ? `The thumbnail of the oldest observation was removed ${reason}`
      : `Thumbnails of the ${count(thumbnailsDropped)} oldest observations were removed ${reason}`;
  }
  return null;
}

// ---- The observation record -----------------------------------------------------------

/** 2: the model became `{ id, version }` (it was the "id@version" text in 1). */
export const OBSERVATION_SCHEMA_VERSION = 2;
/** At most this many candidates are kept per observation: the ones the user was shown. */
export const MAX_STORED_PREDICTIONS = DEFAULT_TOP_K;
const MAX_FILE_NAME_CHARS = 500;
const MAX_LABEL_CHARS = 500;
/** Per part of the model's id and version. */
const MAX_MODEL_CHARS = 200;
const MAX_BACKEND_CHARS = 32;
const MAX_FREE_TEXT_CHARS = 200;
/** Record ids are the IndexedDB keys; a repaired record keeps its key even if it is no UUID. */
const MAX_ID_CHARS = 200;

export const ANSWER_KINDS = [
  'animal',
  'not-sure',
  'no-animal',
] as const satisfies readonly AnswerKind[];
export const VERDICT_KINDS = ['correct', 'corrected', 'not-an-animal', 'unknown-species'] as const;
export type VerdictKind = (typeof VERDICT_KINDS)[number];

export const storedPredictionSchema = z.object({
  /** The label line exactly as in labels.txt. */
  label: z.string().min(1).max(MAX_LABEL_CHARS),
  name: z.string().max(MAX_LABEL_CHARS),
  scientificName: z.string().max(MAX_LABEL_CHARS).nullable(),
  probability: z.number().min(0).max(1),
});
export type StoredPrediction = z.infer<typeof storedPredictionSchema>;

const epochMs = z.number().int().nonnegative();

/** The user's judgement of an identification (set by the feedback screen). */
export const verdictSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('correct'), decidedAt: epochMs }),
  z.object({
    kind: z.literal('corrected'),
    /** The label line of the species the user chose instead. */
    correctedLabel: z.string().min(1).max(MAX_LABEL_CHARS),
    decidedAt: epochMs,
  }),
  z.object({ kind: z.literal('not-an-animal'), decidedAt: epochMs }),
  z.object({
    kind: z.literal('unknown-species'),
    /** What the user thinks it is, in their words, when the model does not know it. */
    freeTextName: z.string().max(MAX_FREE_TEXT_CHARS).nullable(),
    decidedAt: epochMs,
  }),
]);
export type Verdict = z.infer<typeof verdictSchema>;

/** Degrees are rounded to tenths (about 11 km of latitude) before anything is stored. */
const LOCATION_STEPS_PER_DEGREE = 10;
export const LOCATION_STEP_DEGREES = 1 / LOCATION_STEPS_PER_DEGREE;

export const coarseLocationSchema = z.object({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
});
export type CoarseLocation = z.infer<typeof coarseLocationSchema>;

const storedModelSchema = z.object({
  id: z.string().min(1).max(MAX_MODEL_CHARS),
  version: z.string().min(1).max(MAX_MODEL_CHARS),
});

export const observationSchema = z.object({
  schemaVersion: z.literal(OBSERVATION_SCHEMA_VERSION),
  id: z.uuid(),
  /** Epoch milliseconds of the identification. */
  createdAt: epochMs,
  fileName: z.string().max(MAX_FILE_NAME_CHARS),
  /** Best first, as the user saw them. */
  top: z.array(storedPredictionSchema).max(MAX_STORED_PREDICTIONS),
  answerKind: z.enum(ANSWER_KINDS),
  /** Null only for an old row whose model could not be read back. */
  model: storedModelSchema.nullable(),
  backend: z.string().max(MAX_BACKEND_CHARS),
  verdict: verdictSchema.nullable(),
  /** Only when the user allowed it, and always rounded with `coarsenLocation`. */
  location: coarseLocationSchema.nullable(),
});
export type ObservationRecord = z.infer<typeof observationSchema>;

function roundToStep(degrees: number): number {
  // Multiplying by the whole number avoids float steps such as 0.15 / 0.1 = 1.4999….
  const rounded = Math.round(degrees * LOCATION_STEPS_PER_DEGREE) / LOCATION_STEPS_PER_DEGREE;
  return rounded === 0 ? 0 : rounded; // no "-0" in exports
}

/** A position rounded to 0.1°, or null when it is not a position on Earth. */
export function coarsenLocation(lat: unknown, lon: unknown): CoarseLocation | null {
  if (typeof lat !== 'number' || typeof lon !== 'number') return null;
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) return null;
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  return { lat: roundToStep(lat), lon: roundToStep(lon) };
}

export interface NewObservationInput {
  id: string;
  createdAt: number;
  fileName: string;
  answer: Answer;
  model: ModelRef;
  backend: string;
  location: CoarseLocation | null;
}

/** The record for a fresh identification; long texts are cut to what the schema allows. */
export function createObservation(input: NewObservationInput): ObservationRecord {
  return {
    schemaVersion: OBSERVATION_SCHEMA_VERSION,
    id: input.id,
    createdAt: Math.max(0, Math.floor(input.createdAt)),
    fileName: input.fileName.slice(0, MAX_FILE_NAME_CHARS),
    top: input.answer.top
      .slice(0, MAX_STORED_PREDICTIONS)
      .flatMap((p) => restorePrediction(p) ?? []),
    answerKind: input.answer.kind,
    model: restoreModel(input.model),
    backend: input.backend.slice(0, MAX_BACKEND_CHARS),
    verdict: null,
    location: input.location && coarsenLocation(input.location.lat, input.location.lon),
  };
}

/** A version 4 UUID from 16 random bytes (for pages where crypto.randomUUID is missing). */
export function uuidFromBytes(bytes: Uint8Array): string {
  if (bytes.length < 16) throw new RangeError('a UUID needs 16 random bytes');
  const b = Array.from(bytes.subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The parts of Web Crypto an id needs; `randomUUID` is absent outside secure contexts. */
export interface UuidSource {
  randomUUID?: () => string;
  getRandomValues(array: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer>;
}

/**
 * A new version 4 UUID. crypto.randomUUID exists only in secure contexts, and a phone on
 * plain http over the LAN is not one; getRandomValues is available everywhere.
 */
export function newUuid(source: UuidSource = globalThis.crypto): string {
  return typeof source.randomUUID === 'function'
    ? source.randomUUID()
    : uuidFromBytes(source.getRandomValues(new Uint8Array(16)));
}

// ---- Restoring what was read back -----------------------------------------------------

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown, maxChars: number, fallback: string): string {
  return typeof value === 'string' ? value.slice(0, maxChars) : fallback;
}

function restorePrediction(value: unknown): StoredPrediction | null {
  if (!isObject(value)) return null;
  const label = text(value.label, MAX_LABEL_CHARS, '');
  const { probability } = value;
  if (label === '' || typeof probability !== 'number' || Number.isNaN(probability)) return null;
  return {
    label,
    name: text(value.name, MAX_LABEL_CHARS, label),
    scientificName:
      typeof value.scientificName === 'string'
        ? value.scientificName.slice(0, MAX_LABEL_CHARS)
        : null,
    probability: Math.min(1, Math.max(0, probability)),
  };
}

/**
 * The model of a stored row: `{ id, version }` since version 2 of the record, the text
 * "id@version" in version 1 rows, which this is the one place to read.
 */
function restoreModel(value: unknown): ModelRef | null {
  if (typeof value === 'string') {
    const at = value.lastIndexOf('@');
    if (at <= 0 || at === value.length - 1) return null;
    value = { id: value.slice(0, at), version: value.slice(at + 1) };
  }
  if (!isObject(value) || typeof value.id !== 'string' || typeof value.version !== 'string') {
    return null;
  }
  const ref = {
    id: value.id.slice(0, MAX_MODEL_CHARS),
    version: value.version.slice(0, MAX_MODEL_CHARS),
  };
  return ref.id !== '' && ref.version !== '' ? ref : null;
}

/**
 * Checks a record read back from storage and repairs what can be repaired, field by
 * field: rows written by an older version, or damaged, must never crash the app. Only a
 * row without a usable id is given up (null), since nothing could show or delete it.
 * A location is rounded again, so that no finer position survives in any case.
 */
export function restoreObservation(raw: unknown): ObservationRecord | null {
  const parsed = observationSchema.safeParse(raw);
  if (parsed.success) {
    const { location } = parsed.data;
    return location === null
      ? parsed.data
      : { ...parsed.data, location: coarsenLocation(location.lat, location.lon) };
  }
  if (!isObject(raw)) return null;
  const { id } = raw;
  if (typeof id !== 'string' || id === '' || id.length > MAX_ID_CHARS) return null;

  const createdAt =
    typeof raw.createdAt === 'number' && Number.isFinite(raw.createdAt) && raw.createdAt >= 0
      ? Math.floor(raw.createdAt)
      : 0;
  const top = Array.isArray(raw.top)
    ? raw.top.flatMap((p: unknown) => restorePrediction(p) ?? []).slice(0, MAX_STORED_PREDICTIONS)
    : [];
  const answerKind = ANSWER_KINDS.find((kind) => kind === raw.answerKind) ?? 'not-sure';
  const verdict = verdictSchema.safeParse(raw.verdict);
  const location = isObject(raw.location)
    ? coarsenLocation(raw.location.lat, raw.location.lon)
    : null;
  return {
    schemaVersion: OBSERVATION_SCHEMA_VERSION,
    id,
    createdAt,
    fileName: text(raw.fileName, MAX_FILE_NAME_CHARS, ''),
    top,
    answerKind,
    model: restoreModel(raw.model),
    backend: text(raw.backend, MAX_BACKEND_CHARS, ''),
    verdict: verdict.success ? verdict.data : null,
    location,
  };
}

// ---- Filtering ------------------------------------------------------------------------

/** One select covers both what the model answered and what the user judged. */
export type HistoryShow = 'all' | AnswerKind | VerdictKind | 'no-verdict';

export interface HistoryFilter {
  /** Matched, case-insensitively, against the file name and the species names. */
  text: string;
  show: HistoryShow;
}

export const NO_HISTORY_FILTER: Readonly<HistoryFilter> = Object.freeze({ text: '', show: 'all' });

export function isFilterActive(filter: HistoryFilter): boolean {
  return filter.text.trim() !== '' || filter.show !== 'all';
}

export function observationMatches(record: ObservationRecord, filter: HistoryFilter): boolean {
  const { show } = filter;
  if (show !== 'all') {
    if (show === 'no-verdict') {
      if (record.verdict !== null) return false;
    } else if ((ANSWER_KINDS as readonly string[]).includes(show)) {
      if (record.answerKind !== show) return false;
    } else if (record.verdict?.kind !== show) return false;
  }
  const query = filter.text.trim().toLowerCase();
  if (query === '') return true;
  const best = record.top[0];
  const verdict = record.verdict;
  const haystack = [
    record.fileName,
    best?.label,
    best?.name,
    best?.scientificName,
    verdict?.kind === 'corrected' ? verdict.correctedLabel : null,
    verdict?.kind === 'unknown-species' ? verdict.freeTextName : null,
  ];
  return haystack.some((value) => typeof value === 'string' && value.toLowerCase().includes(query));
}
