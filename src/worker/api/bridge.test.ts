// The bridge is page code (DOM Worker, ImageBitmap); this test runs in Node with a fake worker.
import { describe, expect, it, vi } from 'vitest';
import type { BackendName } from '../../core/backend-choice';
import { fail, ok } from '../../core/errors';
import type { ModelEntry } from '../../core/model-manifest';
import { createInferenceBridge } from './bridge';
import type { ClassifyItem, LoadedModel, WorkerEvent, WorkerRequest } from './protocol';

/** Records what the bridge posts and lets the test answer as the worker would. */
class FakeWorker extends EventTarget {
  readonly sent: { message: WorkerRequest; transfer: Transferable[] }[] = [];
  terminated = false;
  /** Set to make the next postMessage throw, as a DataCloneError would. */
  throwOnPost: Error | null = null;

  postMessage(message: WorkerRequest, transfer: Transferable[] = []) {
    if (this.throwOnPost !== null) throw this.throwOnPost;
    this.sent.push({ message, transfer });
  }

  terminate() {
    this.terminated = true;
  }

  messages(): WorkerRequest[] {
    return this.sent.map((s) => s.message);
  }

  /** The request id of the last message of this type. */
  idOf(type: Exclude<WorkerRequest['type'], 'cancel'>): number {
    const found = this.messages().findLast((m) => m.type === type);
    if (found === undefined || !('requestId' in found)) throw new Error(`no ${type} sent`);
    return found.requestId;
  }

  emit(event: WorkerEvent) {
    this.dispatchEvent(new MessageEvent('message', { data: event }));
  }

  reply(requestId: number, result: Extract<WorkerEvent, { type: 'reply' }>['result']) {
    this.emit({ type: 'reply', requestId, result });
  }

  fail(message: string): Event {
    const event = Object.assign(new Event('error', { cancelable: true }), { message });
    this.dispatchEvent(event);
    return event;
  }
}

function setup() {
  const workers: FakeWorker[] = [];
  const factory = vi.fn(() => {
    const worker = new FakeWorker();
    workers.push(worker);
    return worker as unknown as Worker;
  });
  const bridge = createInferenceBridge(factory);
  const last = () => {
    const worker = workers.at(-1);
    if (worker === undefined) throw new Error('no worker started');
    return worker;
  };
  return { bridge, factory, workers, last };
}

const entry = {
  id: 'test-model',
  version: '1',
  name: 'Test model',
  description: '',
  baseUrl: '/models/test-model/1/',
  modelFile: 'model.json',
  labelsFile: 'labels.txt',
  files: [{ path: 'model.json', bytes: 10, sha256: '0'.repeat(64) }],
  totalBytes: 10,
  input: { name: 'input', size: 224, channels: 3, range: [0, 1] },
  output: { classes: 2, isProbability: true },
  labels: { format: 'plain', count: 2, backgroundIndex: null, animalRanges: null },
} satisfies ModelEntry;

const loaded: LoadedModel = {
  model: { id: 'test-model', version: '1' },
  backend: 'wasm',
  loadMs: 5,
  warmUpMs: 7,
};

function blobItem(itemId: string): ClassifyItem {
  return { itemId, name: `${itemId}.jpg`, source: { kind: 'blob', blob: new Blob(['x']) } };
}

function bitmapItem(itemId: string): { item: ClassifyItem; bitmap: ImageBitmap } {
  const bitmap = { width: 4, height: 3, close: () => {} } as ImageBitmap;
  return { item: { itemId, name: `${itemId}.png`, source: { kind: 'bitmap', bitmap } }, bitmap };
}

/** Lets promise callbacks run, to observe whether a promise has settled. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, 0));
  return settled;
}

describe('createInferenceBridge', () => {
  it('does not start the worker until the first call', async () => {
    const { bridge, factory, last } = setup();
    expect(factory).not.toHaveBeenCalled();
    expect(bridge.busy()).toBe(0);

    const stats = bridge.stats();
    expect(factory).toHaveBeenCalledTimes(1);
    last().reply(last().idOf('stats'), ok({ backend: null, numTensors: 0 }));
    await expect(stats).resolves.toEqual(ok({ backend: null, numTensors: 0 }));

    const backends = bridge.availableBackends();
    expect(factory).toHaveBeenCalledTimes(1); // reused, not restarted
    last().reply(last().idOf('available-backends'), ok(['wasm', 'cpu']));
    await expect(backends).resolves.toEqual(ok(['wasm', 'cpu']));
  });

  it('gives each request its own id and settles the call the reply names', async () => {
    const { bridge, last } = setup();
    const stats = bridge.stats();
    const backends = bridge.availableBackends();
    const bench = bridge.benchmark(3, 1, null);
    const ids = last()
      .messages()
      .map((m) => ('requestId' in m ? m.requestId : null));
    expect(new Set(ids).size).toBe(3);
    expect(ids).not.toContain(null);
    expect(last().messages()[2]).toMatchObject({
      type: 'benchmark',
      runs: 3,
      batchSize: 1,
      dropAboveMs: null,
    });

    // Replies out of order still reach the right callers.
    const report = { backend: 'wasm' as const, batchSize: 1, samplesMs: [1, 2, 3], dropped: false };
    last().reply(last().idOf('benchmark'), ok(report));
    last().reply(last().idOf('stats'), ok({ backend: 'wasm', numTensors: 3 }));
    last().reply(last().idOf('available-backends'), fail('BACKEND_UNAVAILABLE'));

    await expect(bench).resolves.toEqual(ok(report));
    await expect(stats).resolves.toEqual(ok({ backend: 'wasm', numTensors: 3 }));
    await expect(backends).resolves.toEqual(fail('BACKEND_UNAVAILABLE'));
  });

  it('counts pending calls in busy()', async () => {
    const { bridge, last } = setup();
    const stats = bridge.stats();
    const backends = bridge.availableBackends();
    expect(bridge.busy()).toBe(2);
    last().reply(last().idOf('stats'), ok({ backend: null, numTensors: 0 }));
    await stats;
    expect(bridge.busy()).toBe(1);
    last().reply(last().idOf('available-backends'), ok(['cpu']));
    await backends;
    expect(bridge.busy()).toBe(0);
  });

  it('reports load progress through onProgress and settles on the reply', async () => {
    const { bridge, last } = setup();
    const onProgress = vi.fn();
    const result = bridge.load(entry, ['wasm', 'cpu'], onProgress);
    expect(last().messages()).toEqual([
      {
        type: 'load',
        requestId: last().idOf('load'),
        entry,
        backends: ['wasm', 'cpu'],
        cascade: { specialists: [], handChosen: false },
      },
    ]);
    const id = last().idOf('load');
    last().emit({ type: 'progress', requestId: id, loadedBytes: 4, totalBytes: 10 });
    last().emit({ type: 'progress', requestId: id, loadedBytes: 10, totalBytes: 10 });
    expect(onProgress.mock.calls).toEqual([
      [4, 10],
      [10, 10],
    ]);
    last().reply(id, ok(loaded));
    await expect(result).resolves.toEqual(ok(loaded));
  });

  it('hands item events to onItem and settles when the worker says the batch is done', async () => {
    const { bridge, last } = setup();
    const onItem = vi.fn();
    const result = bridge.classify([blobItem('a'), blobItem('b')], { topK: 3, onItem });
    const id = last().idOf('classify');
    expect(last().messages()[0]).toMatchObject({ type: 'classify', topK: 3 });

    last().emit({ type: 'item', requestId: id, itemId: 'b', result: fail('DECODE_FAILED') });
    expect(onItem).toHaveBeenCalledWith('b', fail('DECODE_FAILED'));
    expect(await isSettled(result)).toBe(false);

    last().reply(id, ok({ completed: true }));
    await expect(result).resolves.toEqual(ok({ completed: true }));
    expect(onItem).toHaveBeenCalledTimes(1);
  });

  it('ignores events and replies for unknown or already settled ids', async () => {
    const { bridge, last } = setup();
    const onProgress = vi.fn();
    const result = bridge.load(entry, ['wasm'], onProgress);
    const id = last().idOf('load');
    last().emit({ type: 'progress', requestId: id + 100, loadedBytes: 1, totalBytes: 2 });
    last().reply(id + 100, ok(loaded));
    expect(onProgress).not.toHaveBeenCalled();
    expect(bridge.busy()).toBe(1);

    last().reply(id, ok(loaded));
    await expect(result).resolves.toEqual(ok(loaded));
    // Late traffic for the settled call changes nothing and does not throw.
    last().emit({ type: 'progress', requestId: id, loadedBytes: 2, totalBytes: 2 });
    last().reply(id, fail('MODEL_LOAD_FAILED'));
    expect(onProgress).not.toHaveBeenCalled();
    expect(bridge.busy()).toBe(0);
  });

  it('transfers bitmaps, not blobs', () => {
    const { bridge, last } = setup();
    const first = bitmapItem('a');
    const second = bitmapItem('c');
    void bridge.classify([first.item, blobItem('b'), second.item], { topK: 5 });
    const [sent] = last().sent;
    expect(sent?.transfer).toHaveLength(2);
    expect(sent?.transfer[0]).toBe(first.bitmap);
    expect(sent?.transfer[1]).toBe(second.bitmap);
  });

  it('sends nothing and reports CANCELLED when aborted before the call', async () => {
    const { bridge, factory } = setup();
    const abort = new AbortController();
    abort.abort();
    const result = await bridge.classify([blobItem('a')], { topK: 5, signal: abort.signal });
    expect(result).toEqual(fail('CANCELLED'));
    expect(factory).not.toHaveBeenCalled();
    expect(bridge.busy()).toBe(0);
  });

  it('tells the worker to cancel, settles CANCELLED once, and drops the late reply', async () => {
    const { bridge, last } = setup();
    const abort = new AbortController();
    const onItem = vi.fn();
    const settled = vi.fn();
    const result = bridge.classify([blobItem('a'), blobItem('b')], {
      topK: 5,
      signal: abort.signal,
      onItem,
    });
    void result.then(settled);
    const id = last().idOf('classify');

    abort.abort();
    abort.abort(); // a second abort is a no-op
    expect(last().messages().slice(1)).toEqual([{ type: 'cancel', targetId: id }]);
    await expect(result).resolves.toEqual(fail('CANCELLED'));
    expect(bridge.busy()).toBe(0);

    last().emit({ type: 'item', requestId: id, itemId: 'a', result: fail('DECODE_FAILED') });
    last().reply(id, ok({ completed: true }));
    await isSettled(result);
    expect(settled).toHaveBeenCalledTimes(1);
    expect(onItem).not.toHaveBeenCalled();
    expect(last().messages()).toHaveLength(2);
  });

  it('does not send a cancel for a call that has already settled', async () => {
    const { bridge, last } = setup();
    const abort = new AbortController();
    const result = bridge.classify([blobItem('a')], { topK: 5, signal: abort.signal });
    last().reply(last().idOf('classify'), ok({ completed: true }));
    await expect(result).resolves.toEqual(ok({ completed: true }));
    abort.abort();
    expect(
      last()
        .messages()
        .map((m) => m.type),
    ).toEqual(['classify']);
  });

  it('on a worker error fails every pending call, then restarts with the last load replayed', async () => {
    const { bridge, factory, workers, last } = setup();
    const load = bridge.load(entry, ['webgl', 'wasm']);
    last().reply(last().idOf('load'), ok(loaded));
    await load;

    const classify = bridge.classify([blobItem('a')], { topK: 5 });
    const stats = bridge.stats();
    const crashed = workers[0]!;
    const event = crashed.fail('out of memory');

    expect(event.defaultPrevented).toBe(true);
    expect(crashed.terminated).toBe(true);
    const expected = fail('WORKER_CRASHED', 'out of memory');
    await expect(classify).resolves.toEqual(expected);
    await expect(stats).resolves.toEqual(expected);
    expect(bridge.busy()).toBe(0);
    expect(factory).toHaveBeenCalledTimes(1); // not restarted until needed

    const again = bridge.classify([blobItem('b')], { topK: 5 });
    expect(factory).toHaveBeenCalledTimes(2);
    const fresh = last();
    expect(fresh).not.toBe(crashed);
    const [replay, next] = fresh.messages();
    expect(replay).toMatchObject({ type: 'load', entry, backends: ['webgl', 'wasm'] });
    expect(next).toMatchObject({ type: 'classify', items: [blobItem('b')] });
    expect(bridge.busy()).toBe(1); // the replayed load is not a caller's call

    // The replay's reply settles nobody; the new call still settles on its own reply.
    fresh.reply(fresh.idOf('load'), ok(loaded));
    expect(bridge.busy()).toBe(1);
    fresh.reply(fresh.idOf('classify'), ok({ completed: true }));
    await expect(again).resolves.toEqual(ok({ completed: true }));
  });

  it('treats a messageerror as a crash', async () => {
    const { bridge, last } = setup();
    const stats = bridge.stats();
    last().dispatchEvent(new Event('messageerror'));
    expect(last().terminated).toBe(true);
    await expect(stats).resolves.toMatchObject({ ok: false, error: { code: 'WORKER_CRASHED' } });
  });

  it('does not replay anything after a crash if no model was ever loaded', () => {
    const { bridge, last } = setup();
    void bridge.stats();
    last().fail('boom');
    void bridge.stats();
    expect(
      last()
        .messages()
        .map((m) => m.type),
    ).toEqual(['stats']);
  });

  it('replays the backend chosen by setBackend, without duplicates', async () => {
    const { bridge, last } = setup();
    const load = bridge.load(entry, ['wasm', 'cpu']);
    last().reply(last().idOf('load'), ok(loaded));
    await load;
    for (const backend of ['webgl', 'wasm', 'webgl'] as BackendName[]) {
      const switched = bridge.setBackend(backend);
      expect(last().messages().at(-1)).toMatchObject({ type: 'set-backend', backend });
      last().reply(last().idOf('set-backend'), ok({ ...loaded, backend }));
      await switched;
    }
    last().fail('lost context');
    void bridge.stats();
    expect(last().messages()[0]).toMatchObject({
      type: 'load',
      backends: ['webgl', 'wasm', 'cpu'],
    });
  });

  it('keeps a backend that failed to start out of the front of the replayed load', async () => {
    const { bridge, last } = setup();
    const load = bridge.load(entry, ['wasm', 'cpu']);
    last().reply(last().idOf('load'), ok(loaded));
    await load;
    const switched = bridge.setBackend('webgpu');
    last().reply(last().idOf('set-backend'), fail('BACKEND_UNAVAILABLE', 'no adapter'));
    await expect(switched).resolves.toMatchObject({ ok: false });
    last().fail('lost context');
    void bridge.stats();
    expect(last().messages()[0]).toMatchObject({ type: 'load', backends: ['wasm', 'cpu'] });
  });

  it('does not replay the old model when the call after a crash is itself a load', async () => {
    const { bridge, last } = setup();
    const first = bridge.load(entry, ['wasm']);
    last().fail('boom');
    await expect(first).resolves.toMatchObject({ ok: false, error: { code: 'WORKER_CRASHED' } });

    const other = { ...entry, id: 'other-model' };
    const second = bridge.load(other, ['cpu']);
    expect(last().messages()).toEqual([
      {
        type: 'load',
        requestId: last().idOf('load'),
        entry: other,
        backends: ['cpu'],
        cascade: { specialists: [], handChosen: false },
      },
    ]);
    last().reply(last().idOf('load'), ok(loaded));
    await expect(second).resolves.toEqual(ok(loaded));
  });

  it('ignores events from a worker that has already been replaced', async () => {
    const { bridge, workers, last } = setup();
    void bridge.stats();
    workers[0]!.fail('boom');
    const stats = bridge.stats();
    const fresh = last();
    workers[0]!.fail('late error from the old worker');
    workers[0]!.reply(fresh.idOf('stats'), fail('INFERENCE_FAILED'));
    expect(fresh.terminated).toBe(false);
    expect(await isSettled(stats)).toBe(false);
    fresh.reply(fresh.idOf('stats'), ok({ backend: 'cpu', numTensors: 1 }));
    await expect(stats).resolves.toEqual(ok({ backend: 'cpu', numTensors: 1 }));
  });

  it('terminate() cancels pending calls and forgets the model', async () => {
    const { bridge, factory, workers, last } = setup();
    const load = bridge.load(entry, ['wasm']);
    last().reply(last().idOf('load'), ok(loaded));
    await load;
    const abort = new AbortController();
    const classify = bridge.classify([blobItem('a')], { topK: 5, signal: abort.signal });
    const stats = bridge.stats();

    bridge.terminate();
    expect(workers[0]!.terminated).toBe(true);
    await expect(classify).resolves.toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
    await expect(stats).resolves.toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
    expect(bridge.busy()).toBe(0);
    abort.abort(); // already settled: no cancel goes anywhere
    expect(workers[0]!.messages().map((m) => m.type)).toEqual(['load', 'classify', 'stats']);

    void bridge.stats();
    expect(factory).toHaveBeenCalledTimes(2);
    expect(
      last()
        .messages()
        .map((m) => m.type),
    ).toEqual(['stats']);
  });

  it('terminate() before any call starts nothing', () => {
    const { bridge, factory } = setup();
    bridge.terminate();
    expect(factory).not.toHaveBeenCalled();
  });

  it('settles a call whose message cannot be posted instead of throwing or hanging', async () => {
    const { bridge, last } = setup();
    void bridge.stats();
    last().throwOnPost = new Error('DataCloneError: detached ImageBitmap');
    const result = bridge.classify([bitmapItem('a').item], { topK: 5 });
    await expect(result).resolves.toMatchObject({ ok: false, error: { code: 'INFERENCE_FAILED' } });
    expect(bridge.busy()).toBe(1); // only the stats call is still pending
  });
});
