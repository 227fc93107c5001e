import pg from 'pg';
import { migratePostgres } from '../migrate';
import { checkSchemaName, inTransaction, isLockTimeout, pgLockKey } from '../pg-transaction';
import type { FileStore } from './file-store';
import {
  registryBusy,
  WRITE_LOCK_WAIT_MS,
  type ChannelsRow,
  type LogRow,
  type RegistryDb,
  type RegistryTx,
  type VersionRow,
} from './registry-db';

export interface PostgresRegistryOptions {
  connectionString: string;
  /** The feedback store's schema: the registry's tables sit beside its tables. */
  schema: string | null;
}

/** A few connections: the server polls one number, and changes come one at a time. */
const POOL_SIZE = 4;

interface VersionRecord {
  model_id: string;
  version: string;
  card: string;
  card_sha256: string;
  files: string;
  total_bytes: string;
  registered_at: Date;
  note: string | null;
}

interface ChannelsRecord {
  model_id: string;
  stable_version: string;
  candidate_version: string | null;
  candidate_percent: number | null;
  candidate_salt: string | null;
  candidate_shadow_rate: number | null;
  candidate_since: Date | null;
  changed_at: Date;
}

interface LogRecord {
  seq: string;
  model_id: string;
  at: Date;
  actor: string;
  action: string;
  version: string | null;
  note: string | null;
  details: string;
}

/** The card and the files as stored text (a JSON column would come back parsed). */
const VERSION_COLUMNS = `model_id, version, card::text AS card, card_sha256, files::text AS files,
  total_bytes::text AS total_bytes, registered_at, note`;

export interface PostgresRegistryDb extends RegistryDb {
  /** The file store in the database itself (MODEL_STORE=database): one row per sha256. */
  blobs: FileStore;
}

/**
 * The registry's tables in the server's PostgreSQL database, on a pool of its own. Every
 * change takes a transaction-scoped advisory lock, so the servers and the CLI change the
 * registry one at a time and the log's seq grows in commit order (a poll that saw
 * revision N has seen every change up to N).
 */
export async function openPostgresRegistryDb(
  options: PostgresRegistryOptions,
): Promise<PostgresRegistryDb> {
  const { schema } = options;
  checkSchemaName(schema);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: POOL_SIZE,
    connectionTimeoutMillis: 10_000,
    statement_timeout: 30_000,
    ...(schema === null ? {} : { options: `-c search_path=${schema}` }),
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  try {
    await migratePostgres(pool, schema);
  } catch (error) {
    await pool.end();
    throw error;
  }
  const writeLock = { key: pgLockKey(schema, 'registry'), timeoutMs: WRITE_LOCK_WAIT_MS };

  return {
    kind: 'postgres',
    async write(work) {
      try {
        return await inTransaction(pool, { lock: writeLock }, (client) =>
          work(statementsOn(client)),
        );
      } catch (error) {
        if (!isLockTimeout(error)) throw error;
        return registryBusy(
          `another change held the registry's lock for over ${WRITE_LOCK_WAIT_MS} ms`,
        );
      }
    },
    read: (work) =>
      inTransaction(pool, { begin: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' }, (client) =>
        work(statementsOn(client)),
      ),
    async revision() {
      const { rows } = await pool.query<{ seq: string }>(
        'SELECT coalesce(max(seq), 0)::text AS seq FROM model_log',
      );
      return Number(rows[0]?.seq ?? 0);
    },
    blobs: {
      kind: 'database',
      async read(sha256) {
        const { rows } = await pool.query<{ data: Buffer }>(
          'SELECT data FROM model_blobs WHERE sha256 = $1',
          [sha256],
        );
        const data = rows[0]?.data;
        return data === undefined
          ? null
          : new Uint8Array(data.buffer, data.byteOffset, data.length);
      },
      async write(sha256, data) {
        // Two writers of the same file: the second waits for the first's commit, then skips.
        await pool.query(
          `INSERT INTO model_blobs (sha256, bytes, data) VALUES ($1, $2, $3)
           ON CONFLICT (sha256) DO NOTHING`,
          [sha256, data.byteLength, Buffer.from(data.buffer, data.byteOffset, data.byteLength)],
        );
      },
    },
    async close() {
      if (!pool.ended) await pool.end();
    },
  };
}

function statementsOn(client: pg.PoolClient): RegistryTx {
  return {
    async version(modelId, version) {
      const { rows } = await client.query<VersionRecord>(
        `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model_id = $1 AND version = $2`,
        [modelId, version],
      );
      return rows[0] === undefined ? null : toVersion(rows[0]);
    },
    async versions(modelId) {
      const { rows } =
        modelId === null
          ? await client.query<VersionRecord>(
              `SELECT ${VERSION_COLUMNS} FROM model_versions ORDER BY seq`,
            )
          : await client.query<VersionRecord>(
              `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model_id = $1 ORDER BY seq`,
              [modelId],
            );
      return rows.map(toVersion);
    },
    async insertVersion(row) {
      await client.query(
        `INSERT INTO model_versions
           (model_id, version, card, card_sha256, files, total_bytes, registered_at, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          row.modelId,
          row.version,
          row.cardJson,
          row.cardSha256,
          row.filesJson,
          row.totalBytes,
          row.registeredAt,
          row.note,
        ],
      );
    },
    async deleteVersion(modelId, version) {
      await client.query('DELETE FROM model_versions WHERE model_id = $1 AND version = $2', [
        modelId,
        version,
      ]);
    },
    async channels(modelId) {
      const { rows } = await client.query<ChannelsRecord>(
        'SELECT * FROM model_channels WHERE model_id = $1',
        [modelId],
      );
      return rows[0] === undefined ? null : toChannels(rows[0]);
    },
    async allChannels() {
      const { rows } = await client.query<ChannelsRecord>('SELECT * FROM model_channels');
      return rows.map(toChannels);
    },
    async putChannels({ modelId, stable, candidate, changedAt }) {
      await client.query(
        `INSERT INTO model_channels
           (model_id, stable_version, candidate_version, candidate_percent, candidate_salt,
            candidate_shadow_rate, candidate_since, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (model_id) DO UPDATE SET
           stable_version = excluded.stable_version,
           candidate_version = excluded.candidate_version,
           candidate_percent = excluded.candidate_percent,
           candidate_salt = excluded.candidate_salt,
           candidate_shadow_rate = excluded.candidate_shadow_rate,
           candidate_since = excluded.candidate_since,
           changed_at = excluded.changed_at`,
        [
          modelId,
          stable,
          candidate?.version ?? null,
          candidate?.percent ?? null,
          candidate?.salt ?? null,
          candidate?.shadowRate ?? null,
          candidate?.since ?? null,
          changedAt,
        ],
      );
    },
    async appendLog(entry) {
      await client.query(
        `INSERT INTO model_log (model_id, at, actor, action, version, note, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          entry.modelId,
          entry.at,
          entry.actor,
          entry.action,
          entry.version,
          entry.note,
          entry.detailsJson,
        ],
      );
    },
    async log(modelId) {
      const { rows } = await client.query<LogRecord>(
        `SELECT seq::text AS seq, model_id, at, actor, action, version, note, details::text AS details
         FROM model_log WHERE model_id = $1 ORDER BY model_log.seq`,
        [modelId],
      );
      return rows.map(toLog);
    },
  };
}

function toVersion(row: VersionRecord): VersionRow {
  return {
    modelId: row.model_id,
    version: row.version,
    cardJson: row.card,
    cardSha256: row.card_sha256,
    filesJson: row.files,
    totalBytes: Number(row.total_bytes),
    registeredAt: row.registered_at.toISOString(),
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
        : { version, percent, salt, shadowRate, since: since.toISOString() },
    changedAt: row.changed_at.toISOString(),
  };
}

function toLog(row: LogRecord): LogRow {
  return {
    seq: Number(row.seq),
    modelId: row.model_id,
    at: row.at.toISOString(),
    actor: row.actor,
    action: row.action,
    version: row.version,
    note: row.note,
    detailsJson: row.details,
  };
}
