import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { TestRegistry } from '../../test-support/stores';

/**
 * What the release tests need of a test registry (test-support/stores.ts) beyond opening
 * it: the environment a child process opens the same registry with, and a stored file
 * altered behind the registry's back, as a disk fault or a careless hand would.
 */

/** Every variable the server's configuration reads for the registry; empty means unset. */
export function registryEnv(registry: TestRegistry): Record<string, string> {
  const { database, files } = registry.options;
  return {
    ...(database.kind === 'sqlite'
      ? { SQLITE_PATH: database.path, DATABASE_URL: '', PG_SCHEMA: '' }
      : { DATABASE_URL: database.connectionString, PG_SCHEMA: database.schema ?? '' }),
    ...(files.kind === 'folder'
      ? { MODEL_STORE: 'folder', MODEL_STORE_DIR: files.dir }
      : { MODEL_STORE: 'database', MODEL_STORE_DIR: '' }),
  };
}

/** Flips the first byte of the stored file with this sha256, wherever the store keeps it. */
export async function alterStoredFile(registry: TestRegistry, sha256: string): Promise<void> {
  const { database, files } = registry.options;
  if (files.kind === 'folder') {
    const path = join(files.dir, sha256.slice(0, 2), sha256);
    const data = await readFile(path);
    data[0] = data[0]! ^ 0xff;
    await writeFile(path, data);
    return;
  }
  if (database.kind !== 'postgres') throw new Error('files in the database need PostgreSQL');
  const client = new pg.Client({ connectionString: database.connectionString });
  await client.connect();
  try {
    const schema = database.schema === null ? '' : `${database.schema}.`;
    const { rowCount } = await client.query(
      `UPDATE ${schema}model_blobs SET data = set_byte(data, 0, get_byte(data, 0) # 255)
         WHERE sha256 = $1`,
      [sha256],
    );
    if (rowCount !== 1) throw new Error(`no stored file ${sha256}`);
  } finally {
    await client.end();
  }
}
