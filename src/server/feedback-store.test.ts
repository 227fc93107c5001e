import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FeedbackStore, NewFeedback, StoredFeedback } from './feedback-store';
import { LATEST_VERSION, MIGRATIONS, pendingMigrations } from './migrations';
import { makeTestDatabase, STORE_KINDS, type TestDatabase } from '../../test-support/stores';

function item(overrides: Partial<NewFeedback> = {}): NewFeedback {
  const id = overrides.id ?? randomUUID();
  return {
    id,
    payloadSha256: 'a'.repeat(64),
    modelId: 'inat-birds-mobilenet-v2',
    modelVersion: 'abc123',
    verdict: 'corrected',
    day: '2026-05-01',
    recordJson: JSON.stringify({ id, verdict: 'corrected', note: 'Grüße, 鳥' }),
    photo: null,
    ...overrides,
  };
}

async function all(iterable: AsyncIterable<StoredFeedback>): Promise<StoredFeedback[]> {
  const out: StoredFeedback[] = [];
  for await (const row of iterable) out.push(row);
  return out;
}

describe('migrations', () => {
  it('are numbered 1, 2, ... and refuse a database newer than the code', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(pendingMigrations(0)).toHaveLength(MIGRATIONS.length);
    expect(pendingMigrations(LATEST_VERSION)).toHaveLength(0);
    expect(() => pendingMigrations(LATEST_VERSION + 1)).toThrow(/newer/);
  });
});

// One suite, every adapter: what passes here on SQLite must pass on PostgreSQL.
describe.each(STORE_KINDS)('FeedbackStore on %s', (kind) => {
  let database: TestDatabase;
  let store: FeedbackStore;
  beforeAll(async () => {
    database = await makeTestDatabase(kind);
  });
  afterAll(() => database.remove());
  afterEach(() => store?.close());

  it('starts empty and healthy, and migrates once however often it is opened', async () => {
    store = await database.open();
    expect(store.kind).toBe(kind);
    expect(await store.count()).toBe(0);
    await expect(store.health()).resolves.toBeUndefined();
    await store.close();
    const [a, b] = await Promise.all([database.open(), database.open()]);
    expect(await a.count()).toBe(0);
    await a.close();
    store = b;
  });

  it('inserts if absent: accepted, then duplicate (same hash) or conflict (other hash)', async () => {
    store = await database.open();
    const first = item();
    const second = item({ photo: Uint8Array.from([0xff, 0xd8, 0xff, 0xd9]) });
    expect(await store.insertMany([first, second])).toEqual(['accepted', 'accepted']);
    expect(await store.insertMany([first])).toEqual(['duplicate']);
    expect(await store.insertMany([{ ...first, payloadSha256: 'b'.repeat(64) }])).toEqual([
      'conflict',
    ]);
    const third = item();
    expect(await store.insertMany([second, third, first])).toEqual([
      'duplicate',
      'accepted',
      'duplicate',
    ]);
    expect(await store.insertMany([])).toEqual([]);
    expect(await store.count()).toBe(3);
  });

  it('keeps records across reopening, in insertion order, with their photos on request', async () => {
    store = await database.open();
    const before = await store.count();
    const photo = Uint8Array.from({ length: 3000 }, (_, i) => i % 256);
    const items = [item(), item({ photo }), item()];
    for (const one of items) await store.insertMany([one]);
    await store.close();

    store = await database.open();
    expect(await store.count()).toBe(before + 3);
    const rows = await all(store.exportRecords());
    expect(rows).toHaveLength(before + 3);
    const seqs = rows.map((row) => row.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    const last = rows.slice(-3);
    expect(last.map((row) => JSON.parse(row.recordJson))).toEqual(
      items.map((one) => JSON.parse(one.recordJson)),
    );
    expect(last.map((row) => row.hasPhoto)).toEqual([false, true, false]);
    expect(last.every((row) => row.photo === null)).toBe(true);

    const withPhotos = await all(store.exportRecords({ photos: true, since: last[0]?.seq }));
    expect(withPhotos).toHaveLength(2);
    expect(Buffer.from(withPhotos[0]?.photo ?? []).equals(Buffer.from(photo))).toBe(true);
    expect(withPhotos[1]?.photo).toBeNull();
  });

  it('exports from a cursor, with a limit, across pages, up to where it started', async () => {
    store = await database.open();
    const items = Array.from({ length: 1200 }, () => item());
    await store.insertMany(items.slice(0, 600));
    await store.insertMany(items.slice(600));
    const rows = await all(store.exportRecords());
    const total = rows.length;
    expect(total).toBe(await store.count());
    expect(new Set(rows.map((row) => row.seq)).size).toBe(total);

    const cursor = rows[total - 1001]?.seq ?? 0;
    const tail = await all(store.exportRecords({ since: cursor }));
    expect(tail).toHaveLength(1000);
    expect(await all(store.exportRecords({ since: cursor, limit: 7 }))).toHaveLength(7);
    expect(await all(store.exportRecords({ since: rows.at(-1)?.seq }))).toHaveLength(0);

    // Records inserted while an export runs belong to the next export.
    const running = store.exportRecords({ since: cursor })[Symbol.asyncIterator]();
    await running.next();
    await store.insertMany([item()]);
    let seen = 1;
    while (!(await running.next()).done) seen++;
    expect(seen).toBe(1000);
  });

  it('answers concurrent writers of the same ids consistently', async () => {
    store = await database.open();
    const other = await database.open();
    try {
      const items = Array.from({ length: 20 }, () => item());
      const [a, b] = await Promise.all([store.insertMany(items), other.insertMany(items)]);
      const outcomes = a.map((outcome, i) => [outcome, b[i]].sort().join('+'));
      expect(new Set(outcomes)).toEqual(new Set(['accepted+duplicate']));
    } finally {
      await other.close();
    }
  });

  it('remembers served model versions with their label lines, once, across reopening', async () => {
    store = await database.open();
    const feedbackBefore = await store.count();
    const birds = 'inat-birds-mobilenet-v2';
    const v1 = { id: birds, version: 'aaaa000001', labels: ['b (B)', 'a', "Grüße (鳥's)", '=x'] };
    const v2 = { id: birds, version: 'aaaa000002', labels: ['a', 'c'] };
    expect(await store.servedModelLabels(birds, v1.version)).toBeNull();

    await store.rememberModels([v1]);
    await store.rememberModels([v1, v2]); // every start remembers what it serves again
    await store.rememberModels([{ ...v1, labels: ['something else'] }]); // the first stays
    await store.rememberModels([]);
    expect(await store.servedModelLabels(birds, v1.version)).toEqual(v1.labels);
    await store.close();

    store = await database.open();
    expect(await store.servedModelLabels(birds, v1.version)).toEqual(v1.labels);
    expect(await store.servedModelLabels(birds, v2.version)).toEqual(['a', 'c']);
    expect(await store.servedModelLabels(birds, 'aaaa000003')).toBeNull();
    expect(await store.servedModelLabels('other-model', v1.version)).toBeNull();
    expect(await store.count()).toBe(feedbackBefore);
  });

  it('lets servers that start together remember the same versions', async () => {
    store = await database.open();
    const other = await database.open();
    try {
      // Opposite orders, fresh versions each round: the case that used to deadlock now and then.
      for (let round = 0; round < 5; round++) {
        const models = Array.from({ length: 40 }, (_, i) => ({
          id: 'inat-insects-mobilenet-v2',
          version: `b${round}${String(i).padStart(8, '0')}`,
          labels: [`label ${i}`],
        }));
        const reversed = [...models].reverse();
        await Promise.all([store.rememberModels(models), other.rememberModels(reversed)]);
        for (const model of models) {
          expect(await other.servedModelLabels(model.id, model.version)).toEqual(model.labels);
        }
      }
    } finally {
      await other.close();
    }
  });

  it('reports an unhealthy database once closed', async () => {
    store = await database.open();
    await store.close();
    await expect(store.health()).rejects.toThrow();
  });
});
