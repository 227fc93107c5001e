import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migratePostgres } from './migrate';
import { inTransaction, pgLockKey } from './pg-transaction';
import { TEST_DATABASE_URL } from '../../test-support/stores';

describe('the advisory lock keys', () => {
  it('are one per schema and purpose; no schema and public are one schema', () => {
    expect(pgLockKey(null, 'registry')).toBe(pgLockKey('public', 'registry'));
    expect(pgLockKey(null, 'migrate')).not.toBe(pgLockKey(null, 'registry'));
    expect(pgLockKey('tenant_a', 'insert')).not.toBe(pgLockKey(null, 'insert'));
    // The keys servers without PG_SCHEMA used before: old and new lock each other out.
    expect(pgLockKey(null, 'migrate')).toBe('fieldid:default:migrate');
    expect(pgLockKey(null, 'insert')).toBe('fieldid:default:insert');
  });
});

describe('migratePostgres', () => {
  it('refuses a schema name that is not a plain identifier before it sends any SQL', async () => {
    // Never connected: a refused name must not reach the server at all.
    const pool = new pg.Pool({ connectionString: 'postgresql://nobody@127.0.0.1:1/none' });
    try {
      for (const schema of ['x; DROP SCHEMA public CASCADE', 'Public', '"quoted"', '']) {
        await expect(migratePostgres(pool, schema)).rejects.toThrow(/invalid schema name/);
      }
      expect(pool.totalCount).toBe(0);
    } finally {
      await pool.end();
    }
  });
});

describe.skipIf(!TEST_DATABASE_URL)('inTransaction on PostgreSQL', () => {
  // Nothing but session state (a temp table, locks): no schema of its own is needed.
  let pool: pg.Pool;
  beforeEach(() => {
    pool = new pg.Pool({ connectionString: TEST_DATABASE_URL ?? '', max: 2 });
  });
  afterEach(() => pool.end());

  it('commits what the work did, and rolls back and discards the client when it fails', async () => {
    const pids = async () =>
      (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    const committed = await inTransaction(pool, {}, async (client) => {
      await client.query('CREATE TEMP TABLE IF NOT EXISTS probe (n INT)');
      return (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    });
    expect(committed).toBeGreaterThan(0);
    expect(pool.totalCount).toBe(1);

    let failedOn: number | undefined;
    await expect(
      inTransaction(pool, {}, async (client) => {
        failedOn = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]
          ?.pid;
        throw new Error('the work failed');
      }),
    ).rejects.toThrow('the work failed');
    // The failed transaction's connection is gone: the next call gets a new one.
    expect(pool.totalCount).toBe(0);
    expect(await pids()).not.toBe(failedOn);
  });

  it('waits for an advisory lock no longer than its timeout (55P03)', async () => {
    const key = pgLockKey('probe', 'registry');
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
      const started = Date.now();
      await expect(
        inTransaction(pool, { lock: { key, timeoutMs: 200 } }, async () => 'never'),
      ).rejects.toMatchObject({ code: '55P03' });
      expect(Date.now() - started).toBeLessThan(5000);
      await holder.query('ROLLBACK');
      expect(await inTransaction(pool, { lock: { key, timeoutMs: 200 } }, async () => 'ran')).toBe(
        'ran',
      );
    } finally {
      holder.release();
    }
  });
});
