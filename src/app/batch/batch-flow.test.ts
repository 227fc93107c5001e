import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fail, ok, type Result } from '../../core/errors';
import type { Classification } from '../../worker/api/protocol';
import { recordIdentification } from '../history/recording';
import { classifyMany } from '../inference/inference';
import { startBatch } from './batch-flow';
import {
  batchItemState,
  batchRow,
  batchRows,
  batchVerdictGiven,
  countAnswered,
  useBatchStore,
} from './batch-store';

// The worker is not under test here: only how the batch flow keeps the store.
vi.mock('../inference/inference', () => {
  let next = 0;
  return {
    classifyMany: vi.fn(),
    identify: vi.fn(),
    newItemId: () => `item-${next++}`,
  };
});
vi.mock('../history/recording', () => {
  let next = 0;
  return { recordIdentification: vi.fn(() => `observation-${next++}`) };
});

type ClassifyMany = typeof classifyMany;
const classify = vi.mocked(classifyMany);
const recorded = vi.mocked(recordIdentification);

const photos = (...names: string[]) => names.map((name) => new File([new Uint8Array(4)], name));

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('batch flow', () => {
  beforeEach(() => {
    classify.mockReset();
    recorded.mockClear();
    useBatchStore.setState(useBatchStore.getInitialState(), true);
  });

  it('counts the photos a crashed worker never answered as answered (with an error)', async () => {
    classify.mockImplementationOnce((async (items, { onItem }) => {
      onItem(items[0]!.itemId, fail('INFERENCE_FAILED'));
      return fail('WORKER_CRASHED');
    }) satisfies ClassifyMany);
    await startBatch(photos('a.jpg', 'b.jpg', 'c.jpg'));
    const { run, items } = useBatchStore.getState();
    expect(items.map(batchItemState)).toEqual(['error', 'error', 'error']);
    expect(items.map((item) => batchRow(item)?.errorCode)).toEqual([
      'INFERENCE_FAILED',
      'WORKER_CRASHED',
      'WORKER_CRASHED',
    ]);
    expect(countAnswered(items)).toBe(3);
    expect(run).toMatchObject({ kind: 'finished', cancelled: false });
  });

  it('leaves a restarted batch alone when the replaced run ends', async () => {
    const first = deferred<Result<{ completed: true }>>();
    classify
      .mockImplementationOnce(((items, { onItem }) => {
        onItem(items[0]!.itemId, fail('INFERENCE_FAILED'));
        return first.promise;
      }) satisfies ClassifyMany)
      .mockImplementationOnce((() => new Promise(() => {})) satisfies ClassifyMany);
    const firstRun = startBatch(photos('a.jpg', 'b.jpg'));
    void startBatch(photos('c.jpg', 'd.jpg', 'e.jpg'));
    const restarted = useBatchStore.getState();
    first.resolve(fail('CANCELLED'));
    await firstRun;
    expect(useBatchStore.getState()).toBe(restarted);
    expect(countAnswered(restarted.items)).toBe(0);
    expect(restarted.run.kind).toBe('running');
  });

  it('derives each state from its row and keeps the thumbnail as data, not a URL', async () => {
    const thumbnail = new Blob([new Uint8Array(3)], { type: 'image/jpeg' });
    const identified: Classification = {
      answer: {
        kind: 'animal',
        top: [{ index: 1, label: 'fox', name: 'fox', scientificName: null, probability: 0.9 }],
      },
      rawTop: [],
      model: { id: 'm', version: '7' },
      backend: 'wasm',
      timings: { decodeMs: 1, inferenceMs: 2, batchSize: 2 },
      warnings: [],
      width: 1,
      height: 1,
      thumbnail,
    };
    classify.mockImplementationOnce((async (items, { onItem }) => {
      onItem(items[0]!.itemId, ok(identified));
      onItem(items[1]!.itemId, fail('DECODE_FAILED'));
      return ok({ completed: true });
    }) satisfies ClassifyMany);
    const running = startBatch(photos('a.jpg', 'b.jpg', 'c.jpg'));
    expect(useBatchStore.getState().items.map(batchItemState)).toEqual([
      'queued',
      'queued',
      'queued',
    ]);
    await running;
    const { items } = useBatchStore.getState();
    expect(items.map(batchItemState)).toEqual(['done', 'error', 'queued']);
    expect(items[0]!.thumbnail).toBe(thumbnail);
    expect(batchRow(items[0]!)).toMatchObject({ status: 'animal', model: 'm@7', ms: 3 });
    expect(items[1]!.thumbnail).toBeNull();
  });

  it('records the photos of a batch with one batch id, and a new batch with another', async () => {
    classify.mockImplementation((async (items, { onItem }) => {
      for (const item of items) onItem(item.itemId, ok(routedJay));
      return ok({ completed: true });
    }) satisfies ClassifyMany);
    await startBatch(photos('a.jpg', 'b.jpg'));
    await startBatch(photos('c.jpg'));
    const batchIds = recorded.mock.calls.map(([, , options]) => options?.batchId);
    expect(recorded.mock.calls.map(([name]) => name)).toEqual(['a.jpg', 'b.jpg', 'c.jpg']);
    expect(batchIds[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(batchIds[1]).toBe(batchIds[0]);
    expect(batchIds[2]).not.toBe(batchIds[0]);
    // Each card knows its history entry, which its verdict updates.
    const { items } = useBatchStore.getState();
    expect(
      items.map((item) => item.outcome?.kind === 'identified' && item.outcome.observationId),
    ).toEqual([recorded.mock.results[2]!.value]);
  });

  it('exports the top five, the answer, both models of a routed photo and the verdict given', async () => {
    classify.mockImplementationOnce((async (items, { onItem }) => {
      onItem(items[0]!.itemId, ok(routedJay));
      return ok({ completed: true });
    }) satisfies ClassifyMany);
    await startBatch(photos('jay.jpg'));
    const [item] = useBatchStore.getState().items;
    batchVerdictGiven(item!.id, {
      kind: 'corrected',
      correctedLabel: 'Aphelocoma californica (California Scrub-Jay)',
      decidedAt: 1,
    });
    const [row] = batchRows(useBatchStore.getState().items);
    expect(row).toMatchObject({
      file: 'jay.jpg',
      status: 'animal',
      label: routedJay.answer.top[0]!.label,
      model: 'inat-birds-mobilenet-v2@b1',
      answer: routedJay.summary,
      via: { model: 'imagenet-mobilenet-v2@g1', group: 'bird', probability: 0.93 },
      verdict: 'corrected',
      correctedLabel: 'Aphelocoma californica (California Scrub-Jay)',
      freeTextName: null,
    });
    expect(row!.top.map((c) => c.label)).toEqual(
      routedJay.answer.top.slice(0, 5).map((c) => c.label),
    );
    expect(row!.top[0]).toEqual({
      label: 'Cyanocitta cristata (Blue Jay)',
      name: 'Blue Jay',
      scientificName: 'Cyanocitta cristata',
      probability: 0.6,
    });
  });
});

/** A bird the general model handed to the birds model (Auto mode), with six candidates. */
const routedJay: Classification = {
  answer: {
    kind: 'animal',
    top: [
      ['Cyanocitta cristata (Blue Jay)', 'Blue Jay', 'Cyanocitta cristata', 0.6],
      ['Aphelocoma californica (California Scrub-Jay)', 'California Scrub-Jay', null, 0.2],
      ['Sialia sialis (Eastern Bluebird)', 'Eastern Bluebird', 'Sialia sialis', 0.1],
      ['Passerina cyanea (Indigo Bunting)', 'Indigo Bunting', 'Passerina cyanea', 0.05],
      ['Pica pica (Eurasian Magpie)', 'Eurasian Magpie', 'Pica pica', 0.03],
      ['Corvus corax (Common Raven)', 'Common Raven', 'Corvus corax', 0.02],
    ].map(([label, name, scientificName, probability], index) => ({
      index,
      label: label as string,
      name: name as string,
      scientificName: scientificName as string | null,
      probability: probability as number,
    })),
  },
  summary: {
    kind: 'species',
    name: 'Blue Jay',
    scientificName: 'Cyanocitta cristata',
    path: ['animal', 'bird', 'Cyanocitta'],
    probability: 0.6,
  },
  routing: {
    via: {
      model: { id: 'imagenet-mobilenet-v2', version: 'g1' },
      group: 'bird',
      probability: 0.93,
    },
    outsideGroup: null,
    missing: null,
  },
  rawTop: [],
  model: { id: 'inat-birds-mobilenet-v2', version: 'b1' },
  backend: 'wasm',
  timings: { decodeMs: 1, inferenceMs: 2, batchSize: 1 },
  warnings: [],
  width: 1,
  height: 1,
  thumbnail: null,
};
