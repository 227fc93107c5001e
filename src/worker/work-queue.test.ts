import { describe, expect, it, vi } from 'vitest';
import { fail, ok, type Result } from '../core/errors';
import type { Classification as EngineClassification, PreparedPhoto } from '../model/engine';
import type { ClassifyItem, ImageSource, WorkerEvent } from './api/protocol';
import type { DecodedPhoto } from './decode-image';
import { createWorkQueue } from './work-queue';

/**
 * The queue with a fake engine and decoder: what is under test is the order of work,
 * batching, cancellation and failure handling, not decoding or the model.
 */

const MICRO_BATCH = 3;

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function classification(name: string, model: string): EngineClassification {
  return {
    answer: { kind: 'not-sure', top: [] },
    rawTop: [],
    model: { id: model, version: '1' },
    backend: 'cpu',
    timings: { decodeMs: 0, inferenceMs: 0, batchSize: 1 },
    warnings: [],
    width: 1,
    height: 1,
    // The fake engine tells which photo it saw through the file name it was given.
    ...{ name },
  } as EngineClassification;
}

function photoNamed(name: string): ClassifyItem {
  return { itemId: name, name, source: { kind: 'blob', blob: new Blob([name]) } };
}

function harness() {
  const log: string[] = [];
  const events: WorkerEvent[] = [];
  let model = 'm0';
  const decodeGates = new Map<string, Promise<void>>();
  const decodeStarted = new Map<string, () => void>();
  const failingDecodes = new Set<string>();
  let engineThrowsOnce = false;

  const decode = vi.fn(async (source: ImageSource): Promise<Result<DecodedPhoto>> => {
    const name = source.kind === 'blob' ? await source.blob.text() : 'bitmap';
    decodeStarted.get(name)?.();
    await decodeGates.get(name);
    log.push(`decode ${name}`);
    if (failingDecodes.has(name)) return fail('DECODE_FAILED', name);
    return ok({
      image: { data: new Uint8ClampedArray([name.length]), width: 1, height: 1 },
      width: 1,
      height: 1,
      warnings: [],
      thumbnail: Promise.resolve(null),
      ...{ name },
    } as DecodedPhoto);
  });
  const engine = {
    inputSize: () => 224,
    classify: vi.fn(async (photos: PreparedPhoto[]): Promise<Result<EngineClassification[]>> => {
      const names = photos.map((p) => (p as PreparedPhoto & { name: string }).name);
      log.push(`classify ${names.join(',')} on ${model}`);
      if (engineThrowsOnce) {
        engineThrowsOnce = false;
        throw new Error('engine fault');
      }
      return ok(names.map((name) => classification(name, model)));
    }),
  };
  const queue = createWorkQueue({
    engine,
    decode,
    post: (event) => events.push(event),
    microBatch: MICRO_BATCH,
    now: () => 0,
    logFailure: () => {},
  });

  /** Model work that swaps the model, as a load would. */
  function load(requestId: number, next: string, gate?: Promise<void>) {
    queue.modelWork(requestId, 'MODEL_LOAD_FAILED', async () => {
      await gate;
      log.push(`load ${next}`);
      model = next;
      queue.reply(requestId, ok(null));
    });
  }

  const idle = () =>
    new Promise<void>((resolve) => queue.modelWork(-1, 'CANCELLED', async () => resolve()));
  const itemsOf = (requestId: number) =>
    events.filter((e) => e.type === 'item' && e.requestId === requestId);
  const repliesOf = (requestId: number) =>
    events.filter((e) => e.type === 'reply' && e.requestId === requestId);

  return {
    queue,
    log,
    events,
    load,
    idle,
    itemsOf,
    repliesOf,
    decodeGates,
    /** Resolves when the decoder starts on `name`. */
    decodeOf: (name: string) => new Promise<void>((resolve) => decodeStarted.set(name, resolve)),
    failingDecodes,
    failEngineOnce: () => (engineThrowsOnce = true),
  };
}

describe('worker work queue', () => {
  it('runs photos after the model work sent before them, and before the model work sent after', async () => {
    const h = harness();
    const slowLoad = deferred();
    h.load(1, 'm1', slowLoad.promise);
    h.queue.classify(2, [photoNamed('a')], 5);
    h.load(3, 'm2');
    h.queue.classify(4, [photoNamed('b')], 5);
    slowLoad.resolve();
    await h.idle();
    expect(h.log).toEqual([
      'load m1',
      'decode a',
      'classify a on m1',
      'load m2',
      'decode b',
      'classify b on m2',
    ]);
    expect(h.repliesOf(2)).toHaveLength(1);
    expect(h.repliesOf(4)).toHaveLength(1);
  });

  it(`classifies in micro-batches of at most ${MICRO_BATCH}, in order`, async () => {
    const h = harness();
    h.queue.classify(1, ['a', 'b', 'c', 'd', 'e'].map(photoNamed), 5);
    h.queue.classify(2, [photoNamed('f')], 5);
    await h.idle();
    expect(h.log.filter((line) => line.startsWith('classify'))).toEqual([
      'classify a,b,c on m0',
      'classify d,e,f on m0',
    ]);
    expect(h.itemsOf(1).map((e) => e.type === 'item' && e.itemId)).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
    ]);
    expect(h.repliesOf(1)).toEqual([
      { type: 'reply', requestId: 1, result: ok({ completed: true }) },
    ]);
  });

  it('answers nothing for a request cancelled while its photos are decoding', async () => {
    const h = harness();
    const decoding = deferred();
    h.decodeGates.set('a', decoding.promise);
    const decodingA = h.decodeOf('a');
    h.queue.classify(1, [photoNamed('a'), photoNamed('b')], 5);
    h.queue.classify(2, [photoNamed('c')], 5);
    await decodingA;
    h.queue.cancel(1);
    decoding.resolve();
    await h.idle();
    expect(h.itemsOf(1)).toEqual([]);
    expect(h.repliesOf(1)).toEqual([]);
    // No inference for it either; the other request in the same micro-batch goes on.
    expect(h.log.filter((line) => line.startsWith('classify'))).toEqual(['classify c on m0']);
    expect(h.repliesOf(2)).toHaveLength(1);
  });

  it('drops photos of a request cancelled while queued, closing their bitmaps', async () => {
    const h = harness();
    const slowLoad = deferred();
    h.load(1, 'm1', slowLoad.promise);
    const close = vi.fn();
    const bitmap = { close } as unknown as ImageBitmap;
    h.queue.classify(2, [{ itemId: 'x', name: 'x', source: { kind: 'bitmap', bitmap } }], 5);
    h.queue.cancel(2);
    slowLoad.resolve();
    await h.idle();
    expect(close).toHaveBeenCalledOnce();
    expect(h.events.filter((e) => 'requestId' in e && e.requestId === 2)).toEqual([]);
  });

  it('goes on after a failing job: a throwing load, a bad photo, an engine fault', async () => {
    const h = harness();
    h.queue.modelWork(1, 'MODEL_LOAD_FAILED', async () => {
      throw new Error('no such model');
    });
    h.failingDecodes.add('bad');
    h.queue.classify(2, [photoNamed('bad'), photoNamed('good')], 5);
    h.failEngineOnce();
    h.load(3, 'm1');
    h.queue.classify(4, [photoNamed('later')], 5);
    await h.idle();

    const [loadReply] = h.repliesOf(1);
    expect(loadReply).toMatchObject({
      result: { ok: false, error: { code: 'MODEL_LOAD_FAILED' } },
    });
    const codes = h.itemsOf(2).map((e) => e.type === 'item' && !e.result.ok && e.result.error.code);
    // The bad photo fails on its own; the engine fault then fails its batch, not the queue.
    expect(codes).toEqual(['DECODE_FAILED', 'INFERENCE_FAILED']);
    expect(h.repliesOf(2)).toHaveLength(1);
    expect(h.repliesOf(3)).toHaveLength(1);
    expect(h.itemsOf(4)).toMatchObject([{ result: { ok: true, value: { model: { id: 'm1' } } } }]);
  });
});
