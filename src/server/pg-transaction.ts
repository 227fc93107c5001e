import type pg from 'pg';
import { PG_SCHEMA_NAME } from './config';

/**
 * What every module that opens the PostgreSQL database on a pool of its own (the feedback
 * store, the model registry, the migrations) shares: the schema check, the advisory lock
 * keys and the one way a transaction is run.
 */

/** Throws unless `schema` is null or an identifier that is safe to splice into SQL unquoted. */
export function checkSchemaName(schema: string | null): void {
  if (schema !== null && !PG_SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid schema name ${schema}`);
  }
}

/** What an advisory lock serialises; each is taken by every process that writes it. */
export type LockPurpose = 'migrate' | 'insert' | 'registry';

/**
 * The advisory lock key of `purpose` in `schema`, for every process and module alike. No
 * schema means the connection's default, `public`, so both give one key (the one servers
 * without PG_SCHEMA have always used).
 */
export function pgLockKey(schema: string | null, purpose: LockPurpose): string {
  return `fieldid:${schema === null || schema === 'public' ? 'default' : schema}:${purpose}`;
}

export interface TransactionOptions {
  /** The statement that opens it; `BEGIN` when not given. */
  begin?: string;
  /** A transaction-scoped advisory lock, taken first and held until the end. */
  lock?: { key: string; timeoutMs?: number };
}

/** Whether a statement failed for waiting longer than lock_timeout for a lock. */
export function isLockTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '55P03';
}

/**
 * Runs `work` in one transaction on a client of `pool`, and commits; rolls back and rethrows
 * if anything fails.
 *
 * While a client is checked out, pg-pool does not listen to its 'error' events: a backend
 * that dies between two statements (a restart, pg_terminate_backend, a network cut) would
 * emit an 'error' nobody handles, and Node ends the process. The statement in flight, or
 * the next one, fails anyway, so the listener only has to keep the event from crashing.
 * After a failure the client is handed back with the error, so that the pool discards it
 * rather than lend out a dead connection.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  options: TransactionOptions,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  const ignore = () => {};
  client.on('error', ignore);
  let failure: Error | null = null;
  try {
    await client.query(options.begin ?? 'BEGIN');
    const { lock } = options;
    if (lock !== undefined) {
      if (lock.timeoutMs !== undefined) {
        await client.query("SELECT set_config('lock_timeout', $1, true)", [`${lock.timeoutMs}ms`]);
      }
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lock.key]);
    }
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release(failure ?? undefined);
    client.off('error', ignore);
  }
}
