import { fail, type Result } from '../../core/errors';

/**
 * What the registry keeps in the database, as rows: two adapters (SQLite, PostgreSQL)
 * behind one interface, so that the rules (registry-service.ts) are written once. Rows
 * carry JSON as text; the service parses it (a row is untrusted input like any other).
 */

export interface VersionRow {
  modelId: string;
  version: string;
  /** The card's JSON, exactly the text `cardSha256` was computed from. */
  cardJson: string;
  cardSha256: string;
  /** JSON array of { path, bytes, sha256 }, in registration order. */
  filesJson: string;
  totalBytes: number;
  /** ISO date-time. */
  registeredAt: string;
  note: string | null;
}

export interface CandidateRow {
  version: string;
  percent: number;
  salt: string;
  shadowRate: number;
  /** ISO date-time. */
  since: string;
}

export interface ChannelsRow {
  modelId: string;
  stable: string;
  candidate: CandidateRow | null;
  /** ISO date-time of the last change of this row: what the manifest's generatedAt is made of. */
  changedAt: string;
}

export interface LogRow {
  seq: number;
  modelId: string;
  /** ISO date-time. */
  at: string;
  actor: string;
  action: string;
  version: string | null;
  note: string | null;
  detailsJson: string;
}

/** The statements of one transaction. */
export interface RegistryTx {
  version(modelId: string, version: string): Promise<VersionRow | null>;
  /** Registration order; every model's when `modelId` is null. */
  versions(modelId: string | null): Promise<VersionRow[]>;
  insertVersion(row: VersionRow): Promise<void>;
  deleteVersion(modelId: string, version: string): Promise<void>;
  channels(modelId: string): Promise<ChannelsRow | null>;
  /** In no particular order (the service sorts them, alike on both databases). */
  allChannels(): Promise<ChannelsRow[]>;
  /** Inserts or replaces the model's row. */
  putChannels(row: ChannelsRow): Promise<void>;
  appendLog(entry: Omit<LogRow, 'seq'>): Promise<void>;
  /** Oldest first. */
  log(modelId: string): Promise<LogRow[]>;
}

export interface RegistryDb {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * One write transaction, serialised with every other writer of the database (in this
   * process or another): IMMEDIATE on SQLite, an advisory lock on PostgreSQL. `work` must
   * only run statements: the lock is held while it runs. A writer that cannot have the
   * lock soon (another holds it) gets REGISTRY_BUSY, and nothing of `work` runs.
   */
  write<T>(work: (tx: RegistryTx) => Promise<Result<T>>): Promise<Result<T>>;
  /** One consistent snapshot for several reads. */
  read<T>(work: (tx: RegistryTx) => Promise<T>): Promise<T>;
  /** The log's max(seq): one index lookup. */
  revision(): Promise<number>;
  close(): Promise<void>;
}

/**
 * How long a writer waits for another's change to end: a change is a handful of statements
 * (milliseconds), so a longer wait means a writer stuck or a flood of them, and an answer
 * (try again) serves better than a caller left hanging.
 */
export const WRITE_LOCK_WAIT_MS = 2000;

/** What a writer gets when another change holds the write lock for longer than it waits. */
export function registryBusy<T>(detail: string): Result<T> {
  return fail('REGISTRY_BUSY', detail);
}
