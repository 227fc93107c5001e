import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrateSqlite } from '../migrate';
import type { ChannelsRow, LogRow, RegistryDb, RegistryTx, VersionRow } from './registry-db';
import { serialQueue } from './serial-queue';

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
 */
export function openSqliteRegistryDb(path: string): RegistryDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    // The channels' references to versions are foreign keys: a version in use stays.
    db.pragma('foreign_keys = ON');
    migrateSqlite(db);
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
    allChannels: db.prepare('SELECT * FROM model_channels ORDER BY model_id'),
    putChannels: db.prepare(
      `INSERT OR REPLACE INTO model_channels
         (model_id, stable_version, candidate_version, candidate_percent, candidate_salt,
          candidate_shadow_rate, candidate_since)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    appendLog: db.prepare(
      `INSERT INTO model_log (model_id, at, actor, action, version, note, details)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    log: db.prepare('SELECT * FROM model_log WHERE model_id = ? ORDER BY seq'),
    lastChange: db.prepare('SELECT seq, at FROM model_log ORDER BY seq DESC LIMIT 1'),
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
    async putChannels({ modelId, stable, candidate }) {
      statements.putChannels.run(
        modelId,
        stable,
        candidate?.version ?? null,
        candidate?.percent ?? null,
        candidate?.salt ?? null,
        candidate?.shadowRate ?? null,
        candidate?.since ?? null,
      );
    },
    async appendLog(entry) {
      const { lastInsertRowid } = statements.appendLog.run(
        entry.modelId,
        entry.at,
        entry.actor,
        entry.action,
        entry.version,
        entry.note,
        entry.detailsJson,
      );
      return Number(lastInsertRowid);
    },
    async log(modelId) {
      return (statements.log.all(modelId) as LogRecord[]).map(toLog);
    },
    async lastChange() {
      const row = statements.lastChange.get() as { seq: number; at: string } | undefined;
      return row ?? null;
    },
  };

  const queue = serialQueue();
  const transaction = <T>(begin: string, work: (tx: RegistryTx) => Promise<T>) =>
    queue(async () => {
      db.exec(begin);
      try {
        const result = await work(tx);
        db.exec('COMMIT');
        return result;
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    });

  return {
    kind: 'sqlite',
    write: (work) => transaction('BEGIN IMMEDIATE', work),
    // A deferred transaction reads one snapshot of the WAL from its first statement on.
    read: (work) => transaction('BEGIN', work),
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
