import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fail, ok, type Result } from '../../core/errors';
import type { Classification } from '../../worker/api/protocol';
import { classifyMany } from '../inference/inference';
import { startBatch } from './batch-flow';
import { batchItemState, countAnswered, useBatchStore } from './batch-store';

// The worker is not under test here: only how the batch flow keeps the store.
vi.mock('../inference/inference', () => {
  let next = 0;
  return {
    classifyMany: vi.fn(),
    identify: vi.fn(),
    newItemId: () => `item-${next++}`,
  };
});
vi.mock('../history/recording', () => ({ recordIdentification: vi.fn(() => null) }));

type ClassifyMany = typeof classifyMany;
const classify = vi.mocked(classifyMany);

const photos = (...names: string[]) => names.map((name) => new File([new Uint8Array(4)], name));

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('batch flow', () => {
  beforeEach(() => {
    classify.mockReset();
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
    expect(items.map((item) => item.row?.errorCode)).toEqual([
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
    expect(items[0]!.row).toMatchObject({ status: 'animal', model: 'm@7', ms: 3 });
    expect(items[1]!.thumbnail).toBeNull();
  });
});
