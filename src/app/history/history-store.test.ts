import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Answer } from '../../core/answer';
import {
  createObservation,
  EMPTY_PRUNE_PLAN,
  type ObservationRecord,
} from '../../core/history-policy';
import { historyDb } from './history-db';
import type { HistoryRecord } from './history-record';
import {
  closeHistory,
  deleteAllHistory,
  deleteBatch,
  deleteObservation,
  historyLocated,
  historyRecorded,
  loadMoreHistory,
  openHistory,
  requestThumbnail,
  setHistoryFilter,
  setObservationVerdict,
  useHistoryStore,
  HISTORY_PAGE_SIZE,
} from './history-store';

/** The store's actions on the app's own history database, in fake-indexeddb. */

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const T0 = 1_750_000_000_000;

function observation(
  n: number,
  kind: 'animal' | 'no-animal' = 'animal',
  batchId: string | null = null,
): HistoryRecord {
  return { ...plainObservation(n, kind), batchId, summary: null, via: null };
}

function plainObservation(n: number, kind: 'animal' | 'no-animal'): ObservationRecord {
  return createObservation({
    id: uuid(n),
    createdAt: T0 + n * 1000,
    fileName: `photo-${n}.jpg`,
    answer: {
      kind,
      top: [
        {
          index: n,
          label: `species ${n}`,
          name: `species ${n}`,
          scientificName: null,
          probability: 0.8,
        },
      ],
    } as Answer,
    model: { id: 'm', version: '1' },
    backend: 'cpu',
    location: null,
  });
}

const jpeg = () => new Blob([new Uint8Array(10)], { type: 'image/jpeg' });

/** Resolves once the store has left its loading states. */
function settled(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      const { load, stats } = useHistoryStore.getState();
      return (load.kind === 'ready' || load.kind === 'error') && stats !== null;
    };
    if (done()) return resolve();
    const unsubscribe = useHistoryStore.subscribe(() => {
      if (!done()) return;
      unsubscribe();
      resolve();
    });
  });
}

async function open(): Promise<void> {
  openHistory();
  await settled();
}

beforeEach(async () => {
  closeHistory();
  await deleteAllHistory();
  useHistoryStore.setState(useHistoryStore.getInitialState(), true);
});

describe('history store', () => {
  it('opens on the newest page, with the storage figures, and loads more on request', async () => {
    for (let n = 1; n <= HISTORY_PAGE_SIZE + 2; n++)
      await historyDb.addObservation(observation(n), jpeg());
    await open();
    const first = useHistoryStore.getState();
    expect(first.items).toHaveLength(HISTORY_PAGE_SIZE);
    expect(first.items[0]!.id).toBe(uuid(HISTORY_PAGE_SIZE + 2));
    expect(first.load).toEqual({ kind: 'ready', complete: false });
    expect(first.stats).toEqual({
      entries: HISTORY_PAGE_SIZE + 2,
      thumbnails: HISTORY_PAGE_SIZE + 2,
      thumbnailBytes: (HISTORY_PAGE_SIZE + 2) * 10,
    });
    await loadMoreHistory();
    const more = useHistoryStore.getState();
    expect(more.items.map((r) => r.id).slice(-2)).toEqual([uuid(2), uuid(1)]);
    expect(more.load).toEqual({ kind: 'ready', complete: true });
  });

  it('reads the thumbnails asked for in one go and keeps the blobs, not URLs', async () => {
    await historyDb.addObservation(observation(1), jpeg());
    await historyDb.addObservation(observation(2), null);
    await open();
    requestThumbnail(uuid(1));
    requestThumbnail(uuid(2));
    await new Promise<void>((resolve) => {
      const unsubscribe = useHistoryStore.subscribe((s) => {
        if (Object.keys(s.thumbnails).length < 2) return;
        unsubscribe();
        resolve();
      });
    });
    const { thumbnails } = useHistoryStore.getState();
    expect(thumbnails[uuid(1)]).toBeInstanceOf(Blob);
    expect(thumbnails[uuid(1)]!.size).toBe(10);
    expect(thumbnails[uuid(2)]).toBeNull();
    closeHistory();
    expect(useHistoryStore.getState()).toMatchObject({
      items: [],
      thumbnails: {},
      load: { kind: 'idle' },
    });
  });

  it('filters by reading the list again', async () => {
    await historyDb.addObservation(observation(1, 'no-animal'), null);
    await historyDb.addObservation(observation(2), null);
    await open();
    setHistoryFilter({ show: 'no-animal' });
    await settled();
    expect(useHistoryStore.getState().items.map((r) => r.id)).toEqual([uuid(1)]);
  });

  it('puts fresh records on top, takes pruned ones out and counts what pruning removed', async () => {
    await historyDb.addObservation(observation(1), null);
    await open();
    const fresh = observation(3);
    historyRecorded({
      added: [fresh],
      thumbnailsRefused: [],
      pruned: { ...EMPTY_PRUNE_PLAN, deleteEntries: [uuid(1)] },
    });
    const state = useHistoryStore.getState();
    expect(state.items.map((r) => r.id)).toEqual([uuid(3)]);
    expect(state.pruned).toEqual({ thumbnailsDropped: 0, entriesDeleted: 1 });
    historyLocated([{ ...fresh, location: { lat: 1, lon: 2 } }]);
    expect(useHistoryStore.getState().items[0]!.location).toEqual({ lat: 1, lon: 2 });
  });

  it('records a verdict in the database and in the list, and deletes an observation', async () => {
    await historyDb.addObservation(observation(1), null);
    await historyDb.addObservation(observation(2), null);
    await open();
    expect(await setObservationVerdict(uuid(1), { kind: 'correct', decidedAt: T0 })).toBe(true);
    expect(useHistoryStore.getState().items.find((r) => r.id === uuid(1))!.verdict).toEqual({
      kind: 'correct',
      decidedAt: T0,
    });
    expect((await historyDb.getObservation(uuid(1)))!.verdict?.kind).toBe('correct');
    expect(await setObservationVerdict(uuid(9), { kind: 'correct', decidedAt: T0 })).toBe(false);

    await deleteObservation(uuid(2));
    expect(useHistoryStore.getState().items.map((r) => r.id)).toEqual([uuid(1)]);
    expect(await historyDb.getObservation(uuid(2))).toBeNull();
  });

  it('removes a whole batch, also the records a filter hides, and counts each batch as stored', async () => {
    const batch = '00000000-0000-4000-8000-0000000000b1';
    await historyDb.addObservation(observation(1), null);
    for (const n of [2, 3, 4])
      await historyDb.addObservation(observation(n, 'animal', batch), jpeg());
    await historyDb.addObservation(observation(5, 'no-animal', batch), null);
    await historyDb.addObservation(observation(6), null);
    setHistoryFilter({ show: 'animal' });
    await open();
    await until(() => batch in useHistoryStore.getState().batches);
    const listed = useHistoryStore.getState();
    expect(listed.items.map((r) => r.id)).toEqual([6, 4, 3, 2, 1].map(uuid));
    expect(listed.batches[batch]).toEqual({ count: 4, firstAt: T0 + 2000, lastAt: T0 + 5000 });

    expect(await deleteBatch(batch)).toBe(4);
    const after = useHistoryStore.getState();
    expect(after.items.map((r) => r.id)).toEqual([6, 1].map(uuid));
    expect(after.batches).toEqual({});
    setHistoryFilter({ show: 'all' });
    await settled();
    expect(useHistoryStore.getState().items.map((r) => r.id)).toEqual([6, 1].map(uuid));
    expect(await historyDb.getThumbnails([2, 3, 4].map(uuid))).toEqual(new Map());
  });

  it('keeps the listed context when a located record comes back without it', async () => {
    const batch = '00000000-0000-4000-8000-0000000000b1';
    await historyDb.addObservation(observation(1, 'animal', batch), null);
    await open();
    historyLocated([{ ...plainObservation(1, 'animal'), location: { lat: 1, lon: 2 } }]);
    expect(useHistoryStore.getState().items[0]).toMatchObject({
      batchId: batch,
      location: { lat: 1, lon: 2 },
    });
  });
});

/** Resolves once `done` holds for the store. */
function until(done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (done()) return resolve();
    const unsubscribe = useHistoryStore.subscribe(() => {
      if (!done()) return;
      unsubscribe();
      resolve();
    });
  });
}
