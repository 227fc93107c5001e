import pg from 'pg';
import {
  insertOutcome,
  pagedExport,
  parseLabelLines,
  type FeedbackStore,
  type StoredFeedback,
} from './feedback-store';
import { migratePostgres } from './migrate';
import { checkSchemaName, inTransaction, pgLockKey } from './pg-transaction';

export interface PostgresStoreOptions {
  connectionString: string;
  /** Tables go in this schema (created if missing); the connection's default otherwise. */
  schema: string | null;
  poolSize?: number;
}

interface Row {
  seq: string;
  record: string;
  has_photo: boolean;
  photo: Buffer | null;
}

/**
 * PostgreSQL through `pg`, for several stateless servers sharing one database.
 *
 * Inserts take a transaction-scoped advisory lock, so batches commit one at a time and
 * `seq` (an identity column) grows in commit order: an export that resumes after the last
 * `seq` it saw can then never skip a row that committed late. Feedback arrives at human
 * pace, so serialising the writes costs nothing that matters (see the bench).
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<FeedbackStore> {
  const { schema } = options;
  checkSchemaName(schema);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    statement_timeout: 30_000,
    // The schema is a checked identifier, so it can go into the startup options.
    ...(schema === null ? {} : { options: `-c search_path=${schema}` }),
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const insertLock = { key: pgLockKey(schema, 'insert') };

  try {
    await migratePostgres(pool, schema);
  } catch (error) {
    await pool.end();
    throw error;
  }

  return {
    kind: 'postgres',
    async insertMany(items) {
      if (items.length === 0) return [];
      const ids = items.map((item) => item.id);
      return inTransaction(pool, { lock: insertLock }, async (client) => {
        const inserted = await client.query<{ id: string }>(
          `INSERT INTO feedback (id, payload_sha256, model_id, model_version, verdict, day, record, photo)
           SELECT id, payload_sha256, model_id, model_version, verdict, day, record, photo
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::date[],
                       $7::jsonb[], $8::bytea[])
             WITH ORDINALITY AS t(id, payload_sha256, model_id, model_version, verdict, day,
                                  record, photo, n)
           ORDER BY n
           ON CONFLICT (id) DO NOTHING
           RETURNING id::text`,
          [
            ids,
            items.map((item) => item.payloadSha256),
            items.map((item) => item.modelId),
            items.map((item) => item.modelVersion),
            items.map((item) => item.verdict),
            items.map((item) => item.day),
            items.map((item) => item.recordJson),
            items.map((item) => (item.photo === null ? null : Buffer.from(item.photo))),
          ],
        );
        const accepted = new Set(inserted.rows.map((row) => row.id));
        const others = ids.filter((id) => !accepted.has(id));
        const stored = new Map<string, string>();
        if (others.length > 0) {
          const found = await client.query<{ id: string; payload_sha256: string }>(
            'SELECT id::text, payload_sha256 FROM feedback WHERE id = ANY($1::uuid[])',
            [others],
          );
          for (const row of found.rows) stored.set(row.id, row.payload_sha256);
        }
        return items.map((item) =>
          insertOutcome(item, accepted.has(item.id), () => stored.get(item.id)),
        );
      });
    },
    async count() {
      const result = await pool.query<{ n: string }>('SELECT count(*) AS n FROM feedback');
      return Number(result.rows[0]?.n ?? 0);
    },
    async rememberModels(models) {
      if (models.length === 0) return;
      // Rows go in key order: two servers starting together would otherwise wait on each
      // other's uncommitted keys in opposite orders, which PostgreSQL ends as a deadlock.
      await pool.query(
        `INSERT INTO served_models (model_id, model_version, labels)
         SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS t(model_id, model_version, labels)
         ORDER BY model_id, model_version
         ON CONFLICT (model_id, model_version) DO NOTHING`,
        [
          models.map((model) => model.id),
          models.map((model) => model.version),
          models.map((model) => JSON.stringify(model.labels)),
        ],
      );
    },
    async servedModelLabels(id, version) {
      const result = await pool.query<{ labels: unknown }>(
        'SELECT labels FROM served_models WHERE model_id = $1 AND model_version = $2',
        [id, version],
      );
      const row = result.rows[0];
      return row === undefined ? null : parseLabelLines(row.labels);
    },
    exportRecords(options = {}) {
      return pagedExport(options, {
        async lastSeq() {
          const { rows } = await pool.query<{ last: string }>(
            'SELECT coalesce(max(seq), 0) AS last FROM feedback',
          );
          return Number(rows[0]?.last ?? 0);
        },
        async page({ after, last, limit, photos }) {
          // `feedback.seq`: a bare `seq` in ORDER BY would sort by the text column of the same name.
          const { rows } = await pool.query<Row>(
            `SELECT seq::text, record::text, photo IS NOT NULL AS has_photo,
                    ${photos ? 'photo' : 'NULL::bytea AS photo'}
             FROM feedback WHERE seq > $1 AND seq <= $2 ORDER BY feedback.seq LIMIT $3`,
            [after, last, limit],
          );
          return rows.map(toStored);
        },
      });
    },
    async health() {
      await pool.query('SELECT 1 FROM schema_migrations LIMIT 1');
    },
    async close() {
      if (!pool.ended) await pool.end();
    },
  };
}

function toStored(row: Row): StoredFeedback {
  return {
    seq: Number(row.seq),
    recordJson: row.record,
    hasPhoto: row.has_photo,
    photo: row.photo === null ? null : new Uint8Array(row.photo),
  };
}
