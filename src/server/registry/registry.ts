import type { Result } from '../../core/errors';
import type { ModelCard } from '../../core/model-card';
import type { ChannelManifest } from '../../core/model-channels';
import type { ModelFile } from '../../core/model-manifest';
import type { FolderFile } from '../../node/model-folder';

/**
 * The model registry: every model id has immutable, content-addressed versions; two
 * channels point at them (`stable`, and `candidate` while a rollout runs); every change is
 * written to an append-only log. State lives in the server's database (SQLite or
 * PostgreSQL, one suite), file contents in a content-addressed store (a folder, or the
 * PostgreSQL database itself). `npm run model` and the server both go through this.
 */

/**
 * A version to register: the files as read once (`readModelFolder`), already validated;
 * `version` is the content address of the files and the card (`versionOf`).
 */
export interface NewVersion {
  id: string;
  version: string;
  files: readonly FolderFile[];
  card: ModelCard;
  note: string | null;
  actor: string;
}

export interface RegisteredVersion {
  id: string;
  version: string;
  card: ModelCard;
  /** model.json first, then the shards, then labels.txt: the order they were registered in. */
  files: ModelFile[];
  totalBytes: number;
  /** ISO date-time of registration. */
  registeredAt: string;
  note: string | null;
  /** Of the card's canonical JSON, as stored: the line of the card in the version's hash (`versionOf`). */
  cardSha256: string;
}

export interface CandidateChannel {
  version: string;
  percent: number;
  salt: string;
  shadowRate: number;
  /** ISO date-time this rollout started (a new salt); raising the percentage keeps it. */
  since: string;
}

export interface ModelState {
  id: string;
  /** Oldest first. */
  versions: RegisteredVersion[];
  stable: string | null;
  candidate: CandidateChannel | null;
}

export type LogAction = 'register' | 'rollout' | 'promote' | 'rollback' | 'remove';

export interface LogEntry {
  seq: number;
  modelId: string;
  /** ISO date-time. */
  at: string;
  /** Who made the change: the CLI's `--by`, else the operating-system user; "server" for the start-up registration. */
  actor: string;
  action: LogAction;
  version: string | null;
  /** Why, in the words of whoever made the change. */
  note: string | null;
  /** The figures of the change: percent, shadow rate, salt, the version replaced. */
  details: Record<string, unknown>;
}

export interface ChangeOptions {
  actor: string;
  note: string | null;
}

export interface RolloutOptions extends ChangeOptions {
  /** 0 to 100 in steps of 0.001. */
  percent: number;
  /** 0 to 1; kept from the running rollout of the same version when not given, else 0. */
  shadowRate?: number;
}

export type RollbackOutcome =
  | { kind: 'withdrew-candidate'; version: string }
  | { kind: 'returned-stable'; from: string; to: string };

export interface RegisterOutcome {
  version: string;
  created: boolean;
  /** Whether this registration made it the stable version (the id's first version). */
  becameStable: boolean;
}

export interface ModelRegistryService {
  /**
   * Stores the files and records the version; registering the same files and card again
   * gives the existing version (`created: false`) after checking that the stored copies
   * still match (another card is another version). A model id's first version becomes its
   * stable version. REGISTRY_BUSY when another change holds the registry for too long, as
   * for every change below.
   */
  register(version: NewVersion): Promise<Result<RegisterOutcome>>;
  list(): Promise<ModelState[]>;
  /** One model, or null when the id was never registered. */
  model(id: string): Promise<ModelState | null>;
  /**
   * Puts `version` on the candidate channel at `percent`. A new candidate (or a candidate
   * rolled out again after a rollback) gets a new salt; changing the percentage or the shadow
   * rate of the running candidate keeps it. Refuses the stable version.
   */
  rollout(id: string, version: string, options: RolloutOptions): Promise<Result<CandidateChannel>>;
  /** Makes `version` stable; the candidate channel is cleared when it pointed there. */
  promote(id: string, version: string, options: ChangeOptions): Promise<Result<void>>;
  /** Withdraws the candidate or, without one, returns stable to the previous stable version. */
  rollback(id: string, options: ChangeOptions): Promise<Result<RollbackOutcome>>;
  /** Oldest first. */
  history(id: string): Promise<LogEntry[]>;
  /** Deletes a version no channel points to (VERSION_IN_USE otherwise). */
  remove(id: string, version: string, options: ChangeOptions): Promise<Result<void>>;
  /** The manifest devices read, as of now: every id with a stable version. */
  manifest(): Promise<ChannelManifest>;
  /**
   * A number that grows with every change of channels or versions, cheap to ask: servers
   * poll it to pick up another server's (or the CLI's) change without a restart.
   */
  revision(): Promise<number>;
  /** A stored file's bytes, checked against the sha256 it was registered with (MODEL_FILE_CHANGED). */
  readFile(id: string, version: string, path: string): Promise<Result<Uint8Array>>;
  close(): Promise<void>;
}
