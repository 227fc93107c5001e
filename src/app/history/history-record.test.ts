import { describe, expect, it } from 'vitest';
import { createObservation, type ObservationRecord } from '../../core/history-policy';
import type { AnswerSummary } from '../../core/taxonomy-answer';
import {
  groupByBatch,
  restoreContext,
  restoreHistoryRecord,
  toStoredRecord,
  type HistoryRecord,
} from './history-record';

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const BATCH = '00000000-0000-4000-8000-0000000000b1';

function observation(n: number): ObservationRecord {
  return createObservation({
    id: uuid(n),
    createdAt: 1_750_000_000_000 + n,
    fileName: `photo-${n}.jpg`,
    answer: {
      kind: 'animal',
      top: [
        { index: 0, label: 'Blue Jay', name: 'Blue Jay', scientificName: null, probability: 0.8 },
      ],
    },
    model: { id: 'inat-birds-mobilenet-v2', version: 'abc' },
    backend: 'wasm',
    location: null,
  });
}

const summary: AnswerSummary = {
  kind: 'species',
  name: 'Blue Jay',
  scientificName: 'Cyanocitta cristata',
  path: ['animal', 'bird', 'Cyanocitta'],
  probability: 0.8,
};
const via = {
  model: { id: 'imagenet-mobilenet-v2', version: '1' },
  group: 'bird',
  probability: 0.97,
};

const record = (n: number, batchId: string | null): HistoryRecord => ({
  ...observation(n),
  batchId,
  summary: null,
  via: null,
});

describe('history record', () => {
  it('reads a row written before the context was kept as a photo on its own', () => {
    expect(restoreHistoryRecord(observation(1))).toEqual({
      ...observation(1),
      batchId: null,
      summary: null,
      via: null,
    });
  });

  it('reads back what it stores', () => {
    const stored = toStoredRecord({ ...observation(1), batchId: BATCH, summary, via });
    expect(restoreHistoryRecord(structuredClone(stored))).toEqual(stored);
    expect(stored).toMatchObject({ batchId: BATCH, summary, via });
  });

  it('completes a record handed in without context', () => {
    expect(toStoredRecord(observation(2))).toMatchObject({
      batchId: null,
      summary: null,
      via: null,
    });
  });

  it('drops a damaged part of the context and keeps the rest', () => {
    expect(
      restoreContext({ batchId: 42, summary: { ...summary, kind: 'genus' }, via: { ...via } }),
    ).toEqual({ batchId: null, summary: null, via });
    expect(
      restoreContext({ batchId: BATCH, summary, via: { ...via, model: 'imagenet@1' } }),
    ).toEqual({ batchId: BATCH, summary, via: null });
    expect(restoreContext({ batchId: '', summary: { ...summary, path: 'animal' } })).toEqual({
      batchId: null,
      summary: null,
      via: null,
    });
    expect(restoreContext(null)).toEqual({ batchId: null, summary: null, via: null });
  });

  it('bounds what it keeps: probabilities, path entries, long texts', () => {
    const { summary: repaired, via: routed } = restoreContext({
      summary: {
        ...summary,
        name: 'x'.repeat(2000),
        path: ['animal', 7, '', 'bird'],
        probability: 1.0000001,
      },
      via: { ...via, probability: -0.1 },
    });
    expect(repaired).toMatchObject({ path: ['animal', 'bird'], probability: 1 });
    expect(repaired!.name!.length).toBeLessThan(2000);
    expect(routed!.probability).toBe(0);
    expect(restoreContext({ batchId: 'b'.repeat(201) }).batchId).toBeNull();
  });

  it('gives up only a row without a usable id, as the record itself does', () => {
    expect(restoreHistoryRecord({ batchId: BATCH })).toBeNull();
    expect(restoreHistoryRecord({ id: 'legacy', batchId: BATCH })).toMatchObject({
      id: 'legacy',
      batchId: BATCH,
      top: [],
    });
  });
});

describe('groupByBatch', () => {
  it('lists a batch as one row where its newest record is, and single photos as they are', () => {
    const other = '00000000-0000-4000-8000-0000000000b2';
    const rows = groupByBatch([
      record(9, null),
      record(8, BATCH),
      record(7, BATCH),
      // Identified on its own while the batch ran.
      record(6, null),
      record(5, BATCH),
      record(4, other),
      record(3, null),
    ]);
    expect(
      rows.map((row) =>
        row.kind === 'single'
          ? row.record.id
          : `${row.batchId}: ${row.records.map((r) => r.id).join(' ')}`,
      ),
    ).toEqual([
      uuid(9),
      `${BATCH}: ${uuid(8)} ${uuid(7)} ${uuid(5)}`,
      uuid(6),
      `${other}: ${uuid(4)}`,
      uuid(3),
    ]);
  });

  it('gives nothing for nothing', () => {
    expect(groupByBatch([])).toEqual([]);
  });
});
