import type Database from 'better-sqlite3';
import type pg from 'pg';
import { pendingMigrations } from './migrations';
import { checkSchemaName, inTransaction, pgLockKey } from './pg-transaction';

/**
 * Applies the pending migrations, for every module that opens the database on a connection
 * of its own: the feedback store and the model registry (which `npm run model` opens
 * alone). Whichever comes first applies a migration, under a lock, and the others find it
 * recorded.
 */

/** In one IMMEDIATE transaction, so two processes starting together cannot both apply one. */
export function migrateSqlite(db: Database.Database): void {
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at TEXT NOT NULL
    )`);
    const applied = Number(
      db.prepare('SELECT coalesce(max(version), 0) FROM schema_migrations').pluck().get(),
    );
    const record = db.prepare(
      'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
    );
    for (const migration of pendingMigrations(applied)) {
      db.exec(migration.sqlite);
      record.run(migration.version, migration.name, new Date().toISOString());
    }
  }).immediate();
}

/**
 * Under the migration's advisory lock, so that servers starting together apply each
 * migration once. `schema` is checked here too: it goes into the SQL unquoted.
 */
export async function migratePostgres(pool: pg.Pool, schema: string | null): Promise<void> {
  checkSchemaName(schema);
  await inTransaction(pool, { lock: { key: pgLockKey(schema, 'migrate') } }, async (client) => {
    if (schema !== null) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`);
    const applied = await client.query<{ v: number }>(
      'SELECT coalesce(max(version), 0)::int AS v FROM schema_migrations',
    );
    for (const migration of pendingMigrations(applied.rows[0]?.v ?? 0)) {
      await client.query(migration.postgres);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
    }
  });
}
