import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fail, type Result } from '../../core/errors';
import { countAnswered, useBatchStore } from '../stores/batch-store';
import { classifyMany } from './inference';
import { startBatch } from './photo-flow';

// The worker is not under test here: only how the batch flow keeps the store.
vi.mock('./inference', () => {
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
    useBatchStore.setState({ run: { kind: 'idle' }, items: [] });
  });

  it('counts the photos a crashed worker never answered as answered (with an error)', async () => {
    classify.mockImplementationOnce((async (items, { onItem }) => {
      onItem(items[0]!.itemId, fail('INFERENCE_FAILED'));
      return fail('WORKER_CRASHED');
    }) satisfies ClassifyMany);
    await startBatch(photos('a.jpg', 'b.jpg', 'c.jpg'));
    const { run, items } = useBatchStore.getState();
    expect(items.map((item) => item.state)).toEqual(['error', 'error', 'error']);
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
});
