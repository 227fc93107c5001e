import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { FeedbackConfig, ModelStoreConfig } from '../src/server/config';
import type { FeedbackStore } from '../src/server/feedback-store';
import { openFeedbackStore } from '../src/server/open-store';
import { openModelRegistry, type RegistryOptions } from '../src/server/registry/open-registry';
import type { ModelRegistryService } from '../src/server/registry/registry';
import { makeTempDir } from './helpers';

/**
 * The databases every storage and API test runs against: a real SQLite file in a temp
 * dir, and the real PostgreSQL server at TEST_DATABASE_URL (`. .ci/postgres.sh` starts
 * one; `.ci/run` does so before `npm test`). In CI a missing PostgreSQL is an error, never
 * a silent skip.
 */

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || null;

if (process.env.CI && !TEST_DATABASE_URL) {
  throw new Error('TEST_DATABASE_URL is not set: .ci/run must start PostgreSQL (.ci/postgres.sh)');
}

export type StoreKind = FeedbackStore['kind'];

/** `describe.each(STORE_KINDS)`: PostgreSQL only where a server is available. */
export const STORE_KINDS: StoreKind[] = TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestDatabase {
  config: FeedbackConfig['store'];
  open(): Promise<FeedbackStore>;
  /** Drops the schema or deletes the file. */
  remove(): Promise<void>;
}

/** A fresh, empty database: its own temp file, or its own schema in the PostgreSQL database. */
export async function makeTestDatabase(kind: StoreKind): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const temp = await makeTempDir('db');
    const config = { kind, path: join(temp.path, 'data', 'feedback.sqlite') } as const;
    return { config, open: () => openFeedbackStore(config), remove: temp.remove };
  }
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const connectionString = TEST_DATABASE_URL;
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const config = { kind, connectionString, schema } as const;
  return {
    config,
    open: () => openFeedbackStore(config),
    remove: async () => {
      const client = new pg.Client({ connectionString });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Where a test registry keeps its files: a folder on either database, or PostgreSQL itself. */
export type RegistrySetup = { database: StoreKind; files: ModelStoreConfig['kind'] };

/** `describe.each(REGISTRY_SETUPS)`: every database with a folder, and PostgreSQL with its blob table. */
export const REGISTRY_SETUPS: RegistrySetup[] = STORE_KINDS.flatMap((database): RegistrySetup[] =>
  database === 'postgres'
    ? [
        { database, files: 'folder' },
        { database, files: 'database' },
      ]
    : [{ database, files: 'folder' }],
);

export interface TestRegistry {
  database: TestDatabase;
  options: RegistryOptions;
  /** The folder store's directory, or null when the files are in the database. */
  storeDir: string | null;
  /** Another connection to the same registry (as another server or the CLI would open). */
  open(now?: () => number): Promise<ModelRegistryService>;
  remove(): Promise<void>;
}

/** A fresh, empty registry: a fresh database (makeTestDatabase) and, for a folder store, a temp folder. */
export async function makeTestRegistry({
  database: kind,
  files,
}: RegistrySetup): Promise<TestRegistry> {
  const database = await makeTestDatabase(kind);
  const temp = files === 'folder' ? await makeTempDir('model-store') : null;
  const options: RegistryOptions = {
    database: database.config,
    files: temp === null ? { kind: 'database' } : { kind: 'folder', dir: temp.path },
  };
  return {
    database,
    options,
    storeDir: temp?.path ?? null,
    open: (now) => openModelRegistry({ ...options, ...(now === undefined ? {} : { now }) }),
    remove: async () => {
      await database.remove();
      await temp?.remove();
    },
  };
}

/**
 * Runs `work` on a connection of its own to a PostgreSQL test database, with the name of
 * its schema: for a test that reaches behind the code under test.
 */
export async function onPostgres<T>(
  database: TestDatabase,
  work: (client: pg.Client, schema: string) => Promise<T>,
): Promise<T> {
  const { config } = database;
  if (config.kind !== 'postgres' || config.schema === null) throw new Error('not PostgreSQL');
  const client = new pg.Client({ connectionString: config.connectionString });
  await client.connect();
  try {
    return await work(client, config.schema);
  } finally {
    await client.end();
  }
}

/**
 * Flips the first byte of the stored file with this sha256, behind the registry's back, as
 * a disk fault or a careless hand would: in the folder store or in the database.
 */
export async function alterStored(registry: TestRegistry, sha256: string): Promise<void> {
  if (registry.storeDir !== null) {
    const path = storedPath(registry.storeDir, sha256);
    const data = await readFile(path);
    data[0] = data[0]! ^ 0xff;
    await writeFile(path, data);
    return;
  }
  const { rowCount } = await onPostgres(registry.database, (client, schema) =>
    client.query(
      `UPDATE ${schema}.model_blobs SET data = set_byte(data, 0, get_byte(data, 0) # 255)
         WHERE sha256 = $1`,
      [sha256],
    ),
  );
  if (rowCount !== 1) throw new Error(`no stored file ${sha256}`);
}

/** Deletes the stored file with this sha256, behind the registry's back. */
export async function removeStored(registry: TestRegistry, sha256: string): Promise<void> {
  if (registry.storeDir !== null) {
    await rm(storedPath(registry.storeDir, sha256));
    return;
  }
  await onPostgres(registry.database, (client, schema) =>
    client.query(`DELETE FROM ${schema}.model_blobs WHERE sha256 = $1`, [sha256]),
  );
}

/** Where the folder store keeps a file (registry/folder-file-store.ts). */
function storedPath(storeDir: string, sha256: string): string {
  return join(storeDir, sha256.slice(0, 2), sha256);
}
