import { z } from 'zod';

/**
 * Where feedback records live. Two adapters behind one interface, one test suite for both
 * (`feedback-store.test.ts`): SQLite for one machine, PostgreSQL for several stateless
 * servers sharing one database.
 */

export type InsertOutcome = 'accepted' | 'duplicate' | 'conflict';

/** A validated record, ready to store. */
export interface NewFeedback {
  id: string;
  /** SHA-256 of the canonical JSON of the whole record, photo included. */
  payloadSha256: string;
  modelId: string;
  modelVersion: string;
  verdict: string;
  day: string;
  /** Canonical JSON of the record without its photo. */
  recordJson: string;
  photo: Uint8Array | null;
}

export interface StoredFeedback {
  /** Insertion order, starting at 1; the export cursor. */
  seq: number;
  recordJson: string;
  hasPhoto: boolean;
  /** Only when the export asked for photos. */
  photo: Uint8Array | null;
}

export interface ExportOptions {
  /** Only records after this `seq`. */
  since?: number;
  photos?: boolean;
  limit?: number;
}

/** A model version as the server served it: its label lines, as the client parses them. */
export interface ServedModel {
  id: string;
  version: string;
  labels: readonly string[];
}

export interface FeedbackStore {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Inserts each record unless its id is already stored, in one transaction, and says per
   * record what happened: `duplicate` when the stored payload hash is the same, `conflict`
   * when it differs. Ids must be unique within one call. Resolves only once durable.
   */
  insertMany(items: readonly NewFeedback[]): Promise<InsertOutcome[]>;
  count(): Promise<number>;
  /**
   * Remembers model versions as served, each with its label lines. Idempotent: a version
   * already remembered keeps what was stored first (a version is a hash of its files, so
   * its labels cannot change). Several servers may call it at once.
   */
  rememberModels(models: readonly ServedModel[]): Promise<void>;
  /** The label lines of a version some start of some server remembered; null if none did. */
  servedModelLabels(id: string, version: string): Promise<string[] | null>;
  /**
   * Records in insertion order, read page by page (so inserts go on meanwhile); stops at
   * the last record that existed when it started.
   */
  exportRecords(options?: ExportOptions): AsyncIterable<StoredFeedback>;
  /** Throws when the database cannot be reached. */
  health(): Promise<void>;
  close(): Promise<void>;
}

const labelLinesSchema = z.array(z.string());

/** Label lines as read back from the database: anything else is damage, not "unknown". */
export function parseLabelLines(value: unknown): string[] {
  return labelLinesSchema.parse(typeof value === 'string' ? JSON.parse(value) : value);
}

/**
 * What `insertMany` says about one record. `storedSha256` is asked only when the insert
 * was skipped, i.e. the id was already stored.
 */
export function insertOutcome(
  item: Pick<NewFeedback, 'payloadSha256'>,
  inserted: boolean,
  storedSha256: () => unknown,
): InsertOutcome {
  if (inserted) return 'accepted';
  return storedSha256() === item.payloadSha256 ? 'duplicate' : 'conflict';
}

/** Rows per page of an export: smaller with photos, which are up to 256 KiB each. */
const exportPageSize = (photos: boolean) => (photos ? 20 : 500);

/** One page of an export: rows with `after < seq <= last`, in `seq` order, at most `limit`. */
export interface ExportPageQuery {
  after: number;
  last: number;
  limit: number;
  photos: boolean;
}

/**
 * `exportRecords` for a store that can say its highest `seq` and read one page: the end
 * is fixed when the export starts, so records inserted meanwhile do not keep it going.
 */
export async function* pagedExport(
  options: ExportOptions,
  queries: {
    lastSeq(): number | Promise<number>;
    page(query: ExportPageQuery): StoredFeedback[] | Promise<StoredFeedback[]>;
  },
): AsyncGenerator<StoredFeedback> {
  const photos = options.photos ?? false;
  const last = await queries.lastSeq();
  let after = options.since ?? 0;
  let left = options.limit ?? Number.POSITIVE_INFINITY;
  while (left > 0) {
    const limit = Math.min(left, exportPageSize(photos));
    const rows = await queries.page({ after, last, limit, photos });
    yield* rows;
    const lastRow = rows.at(-1);
    if (lastRow === undefined) return;
    after = lastRow.seq;
    left -= rows.length;
  }
}
