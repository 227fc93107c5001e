import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrateSqlite } from '../migrate';
import {
  registryBusy,
  WRITE_LOCK_WAIT_MS,
  type ChannelsRow,
  type LogRow,
  type RegistryDb,
  type RegistryTx,
  type VersionRow,
} from './registry-db';
import { serialQueue } from './serial-queue';

/**
 * better-sqlite3 waits for a lock synchronously, with the whole process stopped: so once
 * open, each try waits only this long, and the waits between tries are timers.
 */
const BUSY_TIMEOUT_MS = 20;
/** Doubling, until WRITE_LOCK_WAIT_MS has passed. */
const FIRST_RETRY_MS = 10;

interface VersionRecord {
  model_id: string;
  version: string;
  card: string;
  card_sha256: string;
  files: string;
  total_bytes: number;
  registered_at: string;
  note: string | null;
}

interface ChannelsRecord {
  model_id: string;
  stable_version: string;
  candidate_version: string | null;
  candidate_percent: number | null;
  candidate_salt: string | null;
  candidate_shadow_rate: number | null;
  candidate_since: string | null;
  changed_at: string;
}

interface LogRecord {
  seq: number;
  model_id: string;
  at: string;
  actor: string;
  action: string;
  version: string | null;
  note: string | null;
  details: string;
}

/**
 * The registry's tables in the server's SQLite file, on a connection of its own (WAL, so
 * the servers' polls never wait for a writer). A change is one IMMEDIATE transaction,
 * committed with synchronous=FULL: the CLI and the servers can write the same file at once.
 * A writer that finds the file locked by another tries again on a timer, then gives up
 * with REGISTRY_BUSY rather than hold the event loop.
 */
export function openSqliteRegistryDb(path: string): RegistryDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // Opening may wait longer: nothing is served before the registry is open.
    db.pragma('busy_timeout = 5000');
    // The channels' references to versions are foreign keys: a version in use stays.
    db.pragma('foreign_keys = ON');
    migrateSqlite(db);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  } catch (error) {
    db.close();
    throw error;
  }

  const statements = {
    version: db.prepare('SELECT * FROM model_versions WHERE model_id = ? AND version = ?'),
    versionsOf: db.prepare('SELECT * FROM model_versions WHERE model_id = ? ORDER BY seq'),
    allVersions: db.prepare('SELECT * FROM model_versions ORDER BY seq'),
    insertVersion: db.prepare(
      `INSERT INTO model_versions
         (model_id, version, card, card_sha256, files, total_bytes, registered_at, note)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    deleteVersion: db.prepare('DELETE FROM model_versions WHERE model_id = ? AND version = ?'),
    channels: db.prepare('SELECT * FROM model_channels WHERE model_id = ?'),
    allChannels: db.prepare('SELECT * FROM model_channels'),
    putChannels: db.prepare(
      `INSERT OR REPLACE INTO model_channels
         (model_id, stable_version, candidate_version, candidate_percent, candidate_salt,
          candidate_shadow_rate, candidate_since, changed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    appendLog: db.prepare(
      `INSERT INTO model_log (model_id, at, actor, action, version, note, details)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    log: db.prepare('SELECT * FROM model_log WHERE model_id = ? ORDER BY seq'),
    revision: db.prepare('SELECT coalesce(max(seq), 0) FROM model_log').pluck(),
  };

  const tx: RegistryTx = {
    async version(modelId, version) {
      const row = statements.version.get(modelId, version) as VersionRecord | undefined;
      return row === undefined ? null : toVersion(row);
    },
    async versions(modelId) {
      const rows = (
        modelId === null ? statements.allVersions.all() : statements.versionsOf.all(modelId)
      ) as VersionRecord[];
      return rows.map(toVersion);
    },
    async insertVersion(row) {
      statements.insertVersion.run(
        row.modelId,
        row.version,
        row.cardJson,
        row.cardSha256,
        row.filesJson,
        row.totalBytes,
        row.registeredAt,
        row.note,
      );
    },
    async deleteVersion(modelId, version) {
      statements.deleteVersion.run(modelId, version);
    },
    async channels(modelId) {
      const row = statements.channels.get(modelId) as ChannelsRecord | undefined;
      return row === undefined ? null : toChannels(row);
    },
    async allChannels() {
      return (statements.allChannels.all() as ChannelsRecord[]).map(toChannels);
    },
    async putChannels({ modelId, stable, candidate, changedAt }) {
      statements.putChannels.run(
        modelId,
        stable,
        candidate?.version ?? null,
        candidate?.percent ?? null,
        candidate?.salt ?? null,
        candidate?.shadowRate ?? null,
        candidate?.since ?? null,
        changedAt,
      );
    },
    async appendLog(entry) {
      statements.appendLog.run(
        entry.modelId,
        entry.at,
        entry.actor,
        entry.action,
        entry.version,
        entry.note,
        entry.detailsJson,
      );
    },
    async log(modelId) {
      return (statements.log.all(modelId) as LogRecord[]).map(toLog);
    },
  };

  const queue = serialQueue();
  /** Runs `work` in the transaction just begun: committed, or rolled back if it throws. */
  const inTransaction = async <T>(work: (tx: RegistryTx) => Promise<T>) => {
    try {
      const result = await work(tx);
      db.exec('COMMIT');
      return result;
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  };
  /** BEGIN IMMEDIATE, tried again on a timer while another connection holds the write lock. */
  const beginImmediate = async (): Promise<boolean> => {
    const started = Date.now();
    for (let waitMs = FIRST_RETRY_MS; ; waitMs *= 2) {
      try {
        db.exec('BEGIN IMMEDIATE');
        return true;
      } catch (error) {
        if (!isBusy(error)) throw error;
      }
      const left = WRITE_LOCK_WAIT_MS - (Date.now() - started);
      if (left <= 0) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, left)));
    }
  };

  return {
    kind: 'sqlite',
    write: (work) =>
      queue(async () =>
        (await beginImmediate())
          ? inTransaction(work)
          : registryBusy(
              `another connection held the write lock for over ${WRITE_LOCK_WAIT_MS} ms`,
            ),
      ),
    // A deferred transaction reads one snapshot of the WAL from its first statement on.
    read: (work) =>
      queue(async () => {
        db.exec('BEGIN');
        return inTransaction(work);
      }),
    revision: () => queue(async () => Number(statements.revision.get())),
    close: () =>
      queue(async () => {
        if (db.open) db.close();
      }),
  };
}

function toVersion(row: VersionRecord): VersionRow {
  return {
    modelId: row.model_id,
    version: row.version,
    cardJson: row.card,
    cardSha256: row.card_sha256,
    filesJson: row.files,
    totalBytes: row.total_bytes,
    registeredAt: row.registered_at,
    note: row.note,
  };
}

function toChannels(row: ChannelsRecord): ChannelsRow {
  const {
    candidate_version: version,
    candidate_percent: percent,
    candidate_salt: salt,
    candidate_shadow_rate: shadowRate,
    candidate_since: since,
  } = row;
  return {
    modelId: row.model_id,
    stable: row.stable_version,
    candidate:
      version === null || percent === null || salt === null || shadowRate === null || since === null
        ? null
        : { version, percent, salt, shadowRate, since },
    changedAt: row.changed_at,
  };
}

function toLog(row: LogRecord): LogRow {
  return {
    seq: row.seq,
    modelId: row.model_id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    version: row.version,
    note: row.note,
    detailsJson: row.details,
  };
}

/** SQLITE_BUSY and its extended codes (SQLITE_BUSY_RECOVERY, …): another connection holds the lock. */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
