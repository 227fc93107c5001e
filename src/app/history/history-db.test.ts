import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EMPTY_PRUNE_PLAN,
  createObservation,
  type HistoryLimits,
  type ObservationRecord,
  type PrunePlan,
} from '../../core/history-policy';
import { createHistoryDb, HISTORY_DB_VERSION, type HistoryDb } from './history-db';
import type { AnswerSummary } from '../../core/taxonomy-answer';
import type { HistoryRecord } from './history-record';

/** The real idb code against fake-indexeddb, a complete IndexedDB in memory. */

let dbCount = 0;
const opened: HistoryDb[] = [];

function freshDb(limits?: Partial<HistoryLimits>): { db: HistoryDb; name: string } {
  const name = `history-test-${++dbCount}`;
  const db = createHistoryDb({
    name,
    limits: { maxThumbnails: 1000, maxEntries: 10_000, maxThumbnailBytes: 64 * 1024, ...limits },
  });
  opened.push(db);
  return { db, name };
}

afterEach(() => {
  for (const db of opened.splice(0)) db.close();
});

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const T0 = 1_750_000_000_000;

/** A record as an older version of the app wrote it: no batch, no answer summary. */
function legacyObservation(n: number): ObservationRecord {
  const record: Partial<HistoryRecord> = { ...observation(n) };
  delete record.batchId;
  delete record.summary;
  delete record.via;
  return record as ObservationRecord;
}

function observation(n: number, overrides: Partial<HistoryRecord> = {}): HistoryRecord {
  return {
    batchId: null,
    summary: null,
    via: null,
    ...createObservation({
      id: uuid(n),
      createdAt: T0 + n * 1000,
      fileName: `photo-${n}.jpg`,
      answer: {
        kind: 'animal',
        top: [
          {
            index: n,
            label: `species ${n}`,
            name: `species ${n}`,
            scientificName: null,
            probability: 0.8,
          },
        ],
      },
      model: { id: 'test-model', version: '1' },
      backend: 'cpu',
      location: null,
    }),
    ...overrides,
  };
}

const jpeg = (bytes = 100) => new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' });

async function addMany(db: HistoryDb, from: number, to: number, thumbnail = true) {
  const plans: PrunePlan[] = [];
  for (let n = from; n <= to; n++) {
    plans.push((await db.addObservation(observation(n), thumbnail ? jpeg() : null)).pruned);
  }
  return plans;
}

async function allIds(db: HistoryDb): Promise<string[]> {
  return (await db.exportAll()).map((r) => r.id);
}

async function thumbnailIds(db: HistoryDb, ids: string[]): Promise<string[]> {
  return [...(await db.getThumbnails(ids)).keys()];
}

describe('history database', () => {
  it('adds, reads back and lists newest first', async () => {
    const { db } = freshDb();
    await addMany(db, 1, 3);
    const page = await db.listObservations({ limit: 10 });
    expect(page.items.map((r) => r.id)).toEqual([uuid(3), uuid(2), uuid(1)]);
    expect(page.next).toBeNull();
    expect(await db.getObservation(uuid(2))).toEqual(observation(2));
    expect(await db.getObservation(uuid(99))).toBeNull();
    const thumbnail = await db.getThumbnail(uuid(2));
    expect(thumbnail).toBeInstanceOf(Blob);
    expect(thumbnail!.size).toBe(100);
    expect(await db.stats()).toEqual({ entries: 3, thumbnails: 3, thumbnailBytes: 300 });
  });

  it('pages with a cursor, also through records with the same time', async () => {
    const { db } = freshDb();
    const sameTime = [5, 6, 7, 8, 9].map((n) => observation(n, { createdAt: T0 }));
    await db.addObservations(sameTime.map((record) => ({ record, thumbnail: null })));
    await addMany(db, 20, 21, false);
    const seen: string[] = [];
    let page = await db.listObservations({ limit: 2 });
    seen.push(...page.items.map((r) => r.id));
    while (page.next) {
      page = await db.listObservations({ after: page.next, limit: 2 });
      seen.push(...page.items.map((r) => r.id));
    }
    expect(seen).toEqual([uuid(21), uuid(20), uuid(9), uuid(8), uuid(7), uuid(6), uuid(5)]);
  });

  it('filters while listing and exporting', async () => {
    const { db } = freshDb();
    await addMany(db, 1, 12, false);
    await db.addObservation(observation(13, { answerKind: 'no-animal' }), null);
    const page = await db.listObservations({
      limit: 5,
      filter: { text: 'species 1', show: 'all' },
    });
    expect(page.items.map((r) => r.fileName)).toEqual([
      'photo-13.jpg',
      'photo-12.jpg',
      'photo-11.jpg',
      'photo-10.jpg',
      'photo-1.jpg',
    ]);
    const noAnimal = await db.exportAll({ text: '', show: 'no-animal' });
    expect(noAnimal.map((r) => r.id)).toEqual([uuid(13)]);
  });

  it('deletes one observation with its thumbnail, and clears everything', async () => {
    const { db } = freshDb();
    await addMany(db, 1, 3);
    await db.deleteObservation(uuid(2));
    expect(await allIds(db)).toEqual([uuid(3), uuid(1)]);
    expect(await db.getThumbnail(uuid(2))).toBeNull();
    await db.clearHistory();
    expect(await allIds(db)).toEqual([]);
    expect(await db.stats()).toEqual({ entries: 0, thumbnails: 0, thumbnailBytes: 0 });
  });

  it('drops the oldest thumbnails first when over the thumbnail limit', async () => {
    const { db } = freshDb({ maxThumbnails: 3, maxEntries: 100 });
    expect(await addMany(db, 1, 3)).toEqual([EMPTY_PRUNE_PLAN, EMPTY_PRUNE_PLAN, EMPTY_PRUNE_PLAN]);
    const outcome = await db.addObservations(
      [4, 5].map((n) => ({ record: observation(n), thumbnail: jpeg() })),
    );
    expect(outcome.pruned.dropThumbnails).toEqual([uuid(1), uuid(2)]);
    expect(outcome.pruned.deleteEntries).toEqual([]);
    // The observations stay; only their images are gone.
    expect(await allIds(db)).toEqual([5, 4, 3, 2, 1].map(uuid));
    expect(await thumbnailIds(db, [1, 2, 3, 4, 5].map(uuid))).toEqual([3, 4, 5].map(uuid));
  });

  it('then deletes the oldest observations over the entry limit', async () => {
    const { db } = freshDb({ maxThumbnails: 2, maxEntries: 4 });
    await addMany(db, 1, 4);
    expect(await thumbnailIds(db, [1, 2, 3, 4].map(uuid))).toEqual([3, 4].map(uuid));
    const outcome = await db.addObservation(observation(5), jpeg());
    expect(outcome.pruned).toEqual({
      deleteEntries: [uuid(1)],
      dropThumbnails: [uuid(3)],
      freedBytes: 100,
    });
    expect(await allIds(db)).toEqual([5, 4, 3, 2].map(uuid));
    expect(await thumbnailIds(db, [1, 2, 3, 4, 5].map(uuid))).toEqual([4, 5].map(uuid));
    expect(await db.stats()).toEqual({ entries: 4, thumbnails: 2, thumbnailBytes: 200 });
  });

  it('stays exactly at the caps over many adds', async () => {
    const { db } = freshDb({ maxThumbnails: 5, maxEntries: 8 });
    for (let n = 1; n <= 30; n += 3) {
      await db.addObservations(
        [n, n + 1, n + 2].map((k) => ({ record: observation(k), thumbnail: jpeg() })),
      );
    }
    const stats = await db.stats();
    expect(stats.entries).toBe(8);
    expect(stats.thumbnails).toBe(5);
    expect(await allIds(db)).toEqual([30, 29, 28, 27, 26, 25, 24, 23].map(uuid));
    expect(await thumbnailIds(db, (await allIds(db)).slice())).toEqual(
      [30, 29, 28, 27, 26].map(uuid),
    );
  });

  it('refuses thumbnails over the size limit but keeps the observation', async () => {
    const { db } = freshDb({ maxThumbnailBytes: 1000 });
    const outcome = await db.addObservation(observation(1), jpeg(1001));
    expect(outcome.thumbnailsRefused).toEqual([uuid(1)]);
    expect(await allIds(db)).toEqual([uuid(1)]);
    expect(await db.getThumbnail(uuid(1))).toBeNull();
  });

  it('refuses records that break the schema', async () => {
    const { db } = freshDb();
    const bad = { ...observation(1), createdAt: -5 };
    const outcome = await db.addObservations([
      { record: bad, thumbnail: null },
      { record: observation(2), thumbnail: null },
    ]);
    expect(outcome.added.map((r) => r.id)).toEqual([uuid(2)]);
    expect(await allIds(db)).toEqual([uuid(2)]);
  });

  it('restores damaged and older rows, and skips rows it cannot use', async () => {
    const { db, name } = freshDb();
    await addMany(db, 1, 2);
    const raw = await openDB(name, HISTORY_DB_VERSION);
    await raw.put('observations', {
      id: 'legacy-row',
      createdAt: T0 + 5000,
      top: [{ label: 'tench', probability: 3 }],
      answerKind: 'whatever',
      location: { lat: 51.50735, lon: -0.12776 },
    });
    await raw.put('observations', { id: 'bad-top', createdAt: T0 + 500, top: 'nope' });
    await raw.put('observations', { id: 77, createdAt: T0 + 6000 });
    await raw.put('thumbnails', {
      id: uuid(1),
      createdAt: T0 + 1000,
      bytes: 3,
      blob: 'not a blob',
    });
    raw.close();

    const page = await db.listObservations({ limit: 10 });
    expect(page.unreadable).toBe(1);
    expect(page.items.map((r) => r.id)).toEqual(['legacy-row', uuid(2), uuid(1), 'bad-top']);
    expect(page.items[0]).toMatchObject({
      fileName: '',
      top: [{ label: 'tench', name: 'tench', scientificName: null, probability: 1 }],
      answerKind: 'not-sure',
      verdict: null,
      location: { lat: 51.5, lon: -0.1 },
    });
    expect(page.items[3]).toMatchObject({ top: [], model: null });
    expect(await db.getThumbnail(uuid(1))).toBeNull();
    expect(await db.getObservation('legacy-row')).toMatchObject({ answerKind: 'not-sure' });
    expect((await db.exportAll()).map((r) => r.id)).toEqual([
      'legacy-row',
      uuid(2),
      uuid(1),
      'bad-top',
    ]);
    // "Delete all" also removes what could not be read.
    await db.clearHistory();
    expect((await db.stats()).entries).toBe(0);
  });

  it('sets, replaces and clears a verdict', async () => {
    const { db } = freshDb();
    await addMany(db, 1, 1);
    const correct = await db.updateVerdict(uuid(1), { kind: 'correct', decidedAt: T0 + 10 });
    expect(correct?.verdict).toEqual({ kind: 'correct', decidedAt: T0 + 10 });
    await db.updateVerdict(uuid(1), {
      kind: 'corrected',
      correctedLabel: 'species 7',
      decidedAt: T0 + 20,
    });
    expect((await db.getObservation(uuid(1)))?.verdict).toEqual({
      kind: 'corrected',
      correctedLabel: 'species 7',
      decidedAt: T0 + 20,
    });
    expect((await db.exportAll({ text: '', show: 'corrected' })).length).toBe(1);
    await db.updateVerdict(uuid(1), null);
    expect((await db.getObservation(uuid(1)))?.verdict).toBeNull();
    expect(await db.updateVerdict(uuid(9), { kind: 'correct', decidedAt: 1 })).toBeNull();
    await expect(
      db.updateVerdict(uuid(1), { kind: 'corrected', correctedLabel: '', decidedAt: 1 }),
    ).rejects.toThrow();
  });

  it('reads rows written by version 1 of the record, whose model was "id@version"', async () => {
    const { db, name } = freshDb();
    await db.stats(); // creates the stores
    const raw = await openDB(name, HISTORY_DB_VERSION);
    await raw.put('observations', {
      ...observation(1),
      schemaVersion: 1,
      model: 'imagenet-mobilenet-v2@8cb85feddc',
    });
    raw.close();
    const [row] = (await db.listObservations({ limit: 10 })).items;
    expect(row).toEqual({
      ...observation(1),
      model: { id: 'imagenet-mobilenet-v2', version: '8cb85feddc' },
    });
    // Updating such a row stores it in the current shape.
    await db.updateVerdict(uuid(1), { kind: 'correct', decidedAt: T0 });
    const reread = await openDB(name, HISTORY_DB_VERSION);
    expect(await reread.get('observations', uuid(1))).toMatchObject({
      schemaVersion: 2,
      model: { id: 'imagenet-mobilenet-v2', version: '8cb85feddc' },
    });
    reread.close();
  });

  it('adds a location, rounded, to records written without one, and to no others', async () => {
    const { db } = freshDb();
    await addMany(db, 1, 2);
    await db.addObservation(observation(3, { location: { lat: 1, lon: 2 } }), null);
    const updated = await db.addLocation([uuid(1), uuid(3), uuid(9)], {
      lat: 48.8566,
      lon: 2.3522,
    });
    expect(updated.map((r) => r.id)).toEqual([uuid(1)]);
    expect((await db.getObservation(uuid(1)))?.location).toEqual({ lat: 48.9, lon: 2.4 });
    expect((await db.getObservation(uuid(2)))?.location).toBeNull();
    expect((await db.getObservation(uuid(3)))?.location).toEqual({ lat: 1, lon: 2 });
  });

  it('keeps everything across a close and reopen (a page reload)', async () => {
    const { db, name } = freshDb();
    await addMany(db, 1, 2);
    db.close();
    const again = createHistoryDb({ name });
    opened.push(again);
    expect(await allIds(again)).toEqual([uuid(2), uuid(1)]);
    expect(await again.getThumbnail(uuid(1))).toBeInstanceOf(Blob);
  });
});

describe('batches in the history database', () => {
  const BATCH = '00000000-0000-4000-8000-0000000000b1';
  const OTHER = '00000000-0000-4000-8000-0000000000b2';
  const inBatch = (n: number, batchId = BATCH) => observation(n, { batchId });

  async function addBatch(db: HistoryDb, ns: number[], batchId = BATCH) {
    await db.addObservations(ns.map((n) => ({ record: inBatch(n, batchId), thumbnail: jpeg() })));
  }

  it('upgrades a version 1 database: its rows read back as single photos, new ones join batches', async () => {
    const name = `history-test-${++dbCount}`;
    // The database as version 1 of the app left it, written without this module.
    const v1 = await openDB(name, 1, {
      upgrade(raw) {
        raw
          .createObjectStore('observations', { keyPath: 'id' })
          .createIndex('by-time', ['createdAt', 'id']);
        raw
          .createObjectStore('thumbnails', { keyPath: 'id' })
          .createIndex('by-time', ['createdAt', 'id']);
      },
    });
    await v1.put('observations', legacyObservation(1));
    await v1.put('observations', {
      ...legacyObservation(2),
      schemaVersion: 1,
      model: 'test-model@1',
    });
    v1.close();

    const db = createHistoryDb({ name });
    opened.push(db);
    await addBatch(db, [3, 4]);
    const { items } = await db.listObservations({ limit: 10 });
    expect(items.map((r) => [r.id, r.batchId])).toEqual([
      [uuid(4), BATCH],
      [uuid(3), BATCH],
      [uuid(2), null],
      [uuid(1), null],
    ]);
    expect(items[3]).toEqual(observation(1));
    expect(await db.batchInfo([BATCH])).toEqual(
      new Map([[BATCH, { count: 2, firstAt: T0 + 3000, lastAt: T0 + 4000 }]]),
    );
    const upgraded = await openDB(name);
    expect(upgraded.version).toBe(HISTORY_DB_VERSION);
    expect([...upgraded.transaction('observations').store.indexNames]).toContain('by-batch');
    upgraded.close();
  });

  it('stores the answer and routing with the record, and checks them on the way in', async () => {
    const { db } = freshDb();
    const summary: AnswerSummary = {
      kind: 'group',
      name: 'finch',
      scientificName: null,
      path: ['animal', 'bird', 'finch'],
      probability: 1.0000002,
    };
    const via = { model: { id: 'general', version: '1' }, group: 'bird', probability: 0.9 };
    const outcome = await db.addObservation({ ...inBatch(1), summary, via }, null);
    const expected = { ...inBatch(1), summary: { ...summary, probability: 1 }, via };
    expect(outcome.added).toEqual([expected]);
    expect(await db.getObservation(uuid(1))).toEqual(expected);
    expect(await db.exportAll()).toEqual([expected]);
    // A record handed in without context is a single photo.
    await db.addObservation(legacyObservation(2), null);
    expect(await db.getObservation(uuid(2))).toEqual(observation(2));
  });

  it('counts each batch as stored and leaves out the ones that are gone', async () => {
    const { db } = freshDb();
    await addBatch(db, [1, 2, 3]);
    await addBatch(db, [4], OTHER);
    await addMany(db, 5, 6);
    const info = await db.batchInfo([BATCH, OTHER, BATCH, uuid(99)]);
    expect(info).toEqual(
      new Map([
        [BATCH, { count: 3, firstAt: T0 + 1000, lastAt: T0 + 3000 }],
        [OTHER, { count: 1, firstAt: T0 + 4000, lastAt: T0 + 4000 }],
      ]),
    );
    expect(await db.batchInfo([])).toEqual(new Map());
  });

  it('removes a whole batch with its thumbnails, and nothing else', async () => {
    const { db } = freshDb();
    await addMany(db, 1, 1);
    await addBatch(db, [2, 3, 4]);
    await addBatch(db, [5], OTHER);
    await addMany(db, 6, 6);
    const removed = await db.deleteBatch(BATCH);
    expect(removed.sort()).toEqual([2, 3, 4].map(uuid));
    expect(await allIds(db)).toEqual([6, 5, 1].map(uuid));
    expect(await thumbnailIds(db, [1, 2, 3, 4, 5, 6].map(uuid))).toEqual([1, 5, 6].map(uuid));
    expect(await db.stats()).toMatchObject({ entries: 3, thumbnails: 3 });
    expect(await db.batchInfo([BATCH])).toEqual(new Map());
    expect(await db.deleteBatch(BATCH)).toEqual([]);
  });

  it('never ends a page inside a batch, so a batch is listed whole', async () => {
    const { db } = freshDb();
    await addMany(db, 1, 2, false);
    await addBatch(db, [3, 4, 5, 6]);
    await addMany(db, 7, 7, false);
    const first = await db.listObservations({ limit: 2 });
    // The page is full after uuid(6), the batch's newest; its other records come along.
    expect(first.items.map((r) => r.id)).toEqual([7, 6, 5, 4, 3].map(uuid));
    const second = await db.listObservations({ after: first.next, limit: 2 });
    expect(second.items.map((r) => r.id)).toEqual([2, 1].map(uuid));
    // Pages of single photos end where they always did.
    const singles = await db.listObservations({ after: first.next, limit: 1 });
    expect(singles.items.map((r) => r.id)).toEqual([uuid(2)]);
    expect(singles.next).not.toBeNull();
  });

  it('lists the whole batch only as far as the filter lets it through', async () => {
    const { db } = freshDb();
    await addBatch(db, [1, 2, 3]);
    await db.addObservation(inBatch(4), null);
    await db.addObservation(observation(5, { batchId: BATCH, answerKind: 'no-animal' }), null);
    await addMany(db, 6, 6, false);
    const page = await db.listObservations({
      limit: 2,
      filter: { text: '', show: 'animal' },
    });
    expect(page.items.map((r) => r.id)).toEqual([6, 4, 3, 2, 1].map(uuid));
    expect(page.next).toBeNull();
  });
});
