import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  EMPTY_PRUNE_PLAN,
  createObservation,
  type CoarseLocation,
  type ObservationRecord,
} from '../../core/history-policy';
import type { AddOutcome, NewObservation } from './history-db';
import { toStoredRecord } from './history-record';
import { createRecorder } from './recorder';

function item(n: number): NewObservation {
  return {
    record: createObservation({
      id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      createdAt: 1_750_000_000_000 + n,
      fileName: `photo-${n}.jpg`,
      answer: { kind: 'not-sure', top: [] },
      model: { id: 'm', version: '1' },
      backend: 'cpu',
      location: null,
    }),
    thumbnail: null,
  };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function harness(
  options: {
    locate?: () => Promise<CoarseLocation | null>;
    location?: CoarseLocation | null;
    failWrites?: number;
  } = {},
) {
  const writes: NewObservation[][] = [];
  const errors: unknown[] = [];
  const written: AddOutcome[] = [];
  const located: { ids: string[]; location: CoarseLocation }[] = [];
  const shownLocated: ObservationRecord[] = [];
  let failures = options.failWrites ?? 0;
  const recorder = createRecorder({
    write: async (items) => {
      if (failures-- > 0) throw new Error('QuotaExceededError');
      writes.push(items);
      return {
        added: items.map((i) => toStoredRecord(i.record)),
        thumbnailsRefused: [],
        pruned: EMPTY_PRUNE_PLAN,
      };
    },
    locate: options.locate ?? (async () => options.location ?? null),
    addLocation: async (ids, location) => {
      located.push({ ids, location });
      return writes
        .flat()
        .filter((w) => ids.includes(w.record.id))
        .map((w) => ({ ...w.record, location }));
    },
    onWritten: (outcome) => written.push(outcome),
    onLocated: (records) => shownLocated.push(...records),
    onError: (error) => errors.push(error),
    flushDelayMs: 20,
    chunkSize: 50,
  });
  return { recorder, writes, errors, written, located, shownLocated };
}

describe('history recorder', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('returns at once and writes a little later', async () => {
    vi.useFakeTimers();
    const { recorder, writes } = harness();
    recorder.record(item(1));
    recorder.record(item(2));
    expect(writes).toHaveLength(0);
    expect(recorder.pending()).toBe(2);
    await vi.advanceTimersByTimeAsync(19);
    expect(writes).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(writes.map((w) => w.length)).toEqual([2]);
    expect(recorder.pending()).toBe(0);
  });

  it('writes a batch of 500 in small transactions', async () => {
    const { recorder, writes } = harness();
    for (let n = 0; n < 500; n++) recorder.record(item(n));
    await recorder.flush();
    expect(writes).toHaveLength(10);
    expect(writes.every((w) => w.length <= 50)).toBe(true);
    expect(writes.flat().map((w) => w.record.fileName)).toEqual(
      Array.from({ length: 500 }, (_, n) => `photo-${n}.jpg`),
    );
  });

  it('also writes what arrives while a write is running', async () => {
    const { recorder, writes } = harness();
    recorder.record(item(1));
    const first = recorder.flush();
    recorder.record(item(2));
    await first;
    expect(writes.flat().map((w) => w.record.fileName)).toEqual(['photo-1.jpg', 'photo-2.jpg']);
  });

  it('adds the coarse location to the written records when there is one', async () => {
    const { recorder, writes, located, shownLocated } = harness({
      location: { lat: 48.9, lon: 2.4 },
    });
    recorder.record(item(1));
    recorder.record(item(2));
    await recorder.settled();
    expect(writes.flat().map((w) => w.record.location)).toEqual([null, null]);
    expect(located).toEqual([
      { ids: [item(1).record.id, item(2).record.id], location: { lat: 48.9, lon: 2.4 } },
    ]);
    expect(shownLocated.map((r) => r.location)).toEqual([
      { lat: 48.9, lon: 2.4 },
      { lat: 48.9, lon: 2.4 },
    ]);
  });

  it('writes at once while the position fix is still on its way', async () => {
    vi.useFakeTimers();
    const fix = deferred<CoarseLocation | null>();
    const { recorder, writes, located } = harness({ locate: () => fix.promise });
    recorder.record(item(1));
    await vi.advanceTimersByTimeAsync(20);
    // Written before any fix: a reload now keeps the observation.
    expect(writes.map((w) => w.length)).toEqual([1]);
    expect(located).toHaveLength(0);
    fix.resolve({ lat: 10, lon: 20 });
    await recorder.settled();
    expect(located).toEqual([{ ids: [item(1).record.id], location: { lat: 10, lon: 20 } }]);
  });

  it('adds nothing when there is no fix, and nothing to a record that failed to write', async () => {
    const none = harness({ location: null });
    none.recorder.record(item(1));
    await none.recorder.settled();
    expect(none.writes).toHaveLength(1);
    expect(none.located).toHaveLength(0);

    const failing = harness({ location: { lat: 1, lon: 1 }, failWrites: 1 });
    failing.recorder.record(item(2));
    await failing.recorder.settled();
    expect(failing.errors).toHaveLength(1);
    expect(failing.located).toHaveLength(0);
  });

  it('reports a failed write and goes on with the next one', async () => {
    const { recorder, writes, errors } = harness({ failWrites: 1 });
    recorder.record(item(1));
    await recorder.flush();
    recorder.record(item(2));
    await recorder.flush();
    expect(errors).toHaveLength(1);
    expect(writes.flat().map((w) => w.record.fileName)).toEqual(['photo-2.jpg']);
  });
});
