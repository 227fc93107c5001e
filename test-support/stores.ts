import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import type { FeedbackConfig } from '../src/server/config';
import type { FeedbackStore } from '../src/server/feedback-store';
import { openFeedbackStore } from '../src/server/open-store';
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
