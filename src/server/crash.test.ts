import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedbackReplySchema, type FeedbackRecordInput } from '../core/feedback';
import { startServer, waitForUrl } from '../../test-support/server-process';
import { makeRecord, testModel, type TestModel } from '../../test-support/feedback';
import { makeTempDir } from '../../test-support/helpers';

/**
 * The real server process on a SQLite file, killed with SIGKILL in the middle of a stream
 * of writes: whatever it acknowledged must be on disk after a restart, exactly once, and
 * re-sending everything must not duplicate anything.
 */

const WRITERS = 4;
const RECORDS_PER_BATCH = 5;
const ACKED_BEFORE_KILL = 60;

function start(sqlitePath: string): ChildProcess {
  return startServer(
    {
      SQLITE_PATH: sqlitePath,
      RATE_LIMIT_BURST: '1000000',
      RATE_LIMIT_PER_MINUTE: '1000000',
    },
    { stderr: 'inherit' },
  );
}

async function post(origin: string, records: FeedbackRecordInput[]) {
  const res = await fetch(`${origin}/api/v1/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ records }),
  });
  return { status: res.status, body: feedbackReplySchema.parse(await res.json()) };
}

describe('a server killed mid-stream', () => {
  let model: TestModel;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  beforeAll(async () => {
    model = await testModel();
    temp = await makeTempDir('crash');
  });
  afterAll(() => temp.remove());

  it('keeps every acknowledged record exactly once, and re-sending duplicates nothing', async () => {
    const sqlitePath = join(temp.path, 'feedback.sqlite');
    const sent: FeedbackRecordInput[][] = [];
    const acked = new Set<string>();
    let failedRequests = 0;
    let inFlight = 0;

    const first = start(sqlitePath);
    const exited = once(first, 'exit');
    try {
      const origin = await waitForUrl(first);
      let killed = false;
      const writer = async () => {
        while (!killed) {
          const batch = Array.from({ length: RECORDS_PER_BATCH }, () => makeRecord(model));
          sent.push(batch);
          inFlight++;
          try {
            const { status, body } = await post(origin, batch);
            inFlight--;
            expect(status).toBe(200);
            for (const result of body.results) {
              expect(result.status).toBe('accepted');
              acked.add(result.id);
            }
            // Only while another writer's request is on its way: a kill between requests
            // (which a loaded machine makes likely) would test a clean stop, not a crash.
            if (acked.size >= ACKED_BEFORE_KILL && inFlight > 0 && !killed) {
              killed = true;
              first.kill('SIGKILL');
            }
          } catch (error) {
            inFlight--;
            if (!killed) throw error;
            failedRequests++;
          }
        }
      };
      await Promise.all(Array.from({ length: WRITERS }, writer));
      await exited;
    } finally {
      if (first.exitCode === null && first.signalCode === null) first.kill('SIGKILL');
    }
    expect(first.signalCode).toBe('SIGKILL');
    expect(failedRequests).toBeGreaterThan(0);

    // Straight from the file, as the killed process left it (WAL included).
    const allIds = sent.flat().map((r) => r.id);
    const db = new Database(sqlitePath, { readonly: true });
    try {
      const stored = db.prepare('SELECT id FROM feedback').pluck().all() as string[];
      expect(new Set(stored).size).toBe(stored.length);
      for (const id of acked) expect(stored).toContain(id);
      // Unacknowledged batches may or may not have been committed, but nothing else.
      for (const id of stored) expect(allIds).toContain(id);
    } finally {
      db.close();
    }

    const second = start(sqlitePath);
    try {
      const origin = await waitForUrl(second);
      for (const batch of sent) {
        const { status, body } = await post(origin, batch);
        expect(status).toBe(200);
        for (const result of body.results) {
          if (acked.has(result.id)) expect(result.status).toBe('duplicate');
          else expect(['accepted', 'duplicate']).toContain(result.status);
        }
      }
      const health = await fetch(`${origin}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      second.kill('SIGTERM');
      await once(second, 'exit');
    }
    expect(second.exitCode).toBe(0);

    const reopened = new Database(sqlitePath, { readonly: true });
    try {
      const counts = reopened
        .prepare('SELECT count(*) AS n, count(DISTINCT id) AS ids FROM feedback')
        .get() as { n: number; ids: number };
      expect(counts).toEqual({ n: allIds.length, ids: allIds.length });
      const verdicts = reopened
        .prepare(
          "SELECT count(*) FROM feedback WHERE json_extract(record, '$.verdict') = 'corrected'",
        )
        .pluck()
        .get();
      expect(verdicts).toBe(allIds.length);
    } finally {
      reopened.close();
    }
  });
});
