/// <reference lib="webworker" />
import { fail, ok, type ErrorCode, type Result } from '../core/errors';
import { activateBrowserBackend } from './backend-activation';
import { probeBackends } from './browser-backends';
import { decodePhoto, type DecodedPhoto } from './decode-image';
import { createEngine, MICRO_BATCH, type PreparedPhoto } from '../model/engine';
import { httpFileReader } from './model-files';
import type { Classification, ClassifyItem, WorkerEvent, WorkerRequest } from './protocol';

/**
 * The inference worker: a message loop around the engine. Work that touches the model
 * (load, backend switch, classification batches, benchmarks) runs strictly one at a
 * time; cancel and stats are answered immediately.
 */
declare const self: DedicatedWorkerGlobalScope;

const engine = createEngine({
  activateBackend: activateBrowserBackend,
  fileReader: httpFileReader,
});

interface PendingItem {
  requestId: number;
  item: ClassifyItem;
  topK: number;
  /** Photos only run in the drain of their epoch, so never before earlier model work. */
  epoch: number;
  answered?: boolean;
}

const pending: PendingItem[] = [];
const remainingPerRequest = new Map<number, number>();
let serial: Promise<void> = Promise.resolve();
/** Bumped whenever model work (load, backend switch, benchmark) is queued. */
let epoch = 0;
/** The epoch of the drain that is queued or running, if any. */
let drainEpoch: number | null = null;

function post(event: WorkerEvent) {
  self.postMessage(event);
}

function reply(requestId: number, result: Result<unknown>) {
  post({ type: 'reply', requestId, result });
}

function logFailure(error: unknown) {
  console.error('inference worker: job failed', error);
}

/**
 * Model work runs one job at a time, in arrival order. A job that throws answers through
 * `onError`, and the chain always resolves so the next job still runs.
 */
function exclusive(job: () => Promise<void>, onError: (error: unknown) => void = logFailure) {
  serial = serial.then(job).catch(onError).catch(logFailure);
}

/** Model work queued behind the photos received so far; photos sent later wait for it. */
function modelWork(requestId: number, onThrow: ErrorCode, job: () => Promise<void>) {
  epoch++;
  exclusive(job, (error) => reply(requestId, fail(onThrow, String(error))));
}

function closeSource(item: ClassifyItem) {
  if (item.source.kind === 'bitmap') item.source.bitmap.close();
}

/** Answers one photo once, unless its request was cancelled (the bridge settled it). */
function finishItem(p: PendingItem, result: Result<Classification>) {
  if (p.answered) return;
  p.answered = true;
  const left = remainingPerRequest.get(p.requestId);
  if (left === undefined) return;
  post({ type: 'item', requestId: p.requestId, itemId: p.item.itemId, result });
  if (left > 1) {
    remainingPerRequest.set(p.requestId, left - 1);
    return;
  }
  remainingPerRequest.delete(p.requestId);
  reply(p.requestId, ok({ completed: true }));
}

async function runBatch(batch: PendingItem[], size: number) {
  const ready: { p: PendingItem; photo: PreparedPhoto; thumbnail: Promise<Blob | null> }[] = [];
  for (const p of batch) {
    if (!remainingPerRequest.has(p.requestId)) {
      closeSource(p.item); // cancelled while queued
      continue;
    }
    const started = performance.now();
    let decoded: Result<DecodedPhoto>;
    try {
      decoded = await decodePhoto(p.item.source, size);
    } catch (error) {
      closeSource(p.item);
      decoded = fail('DECODE_FAILED', String(error));
    }
    if (decoded.ok) {
      const { thumbnail, ...photo } = decoded.value;
      ready.push({
        p,
        photo: { ...photo, decodeMs: performance.now() - started },
        thumbnail,
      });
    } else finishItem(p, decoded);
  }
  // Requests cancelled while their photos were decoding get no inference.
  const live = ready.filter((r) => remainingPerRequest.has(r.p.requestId));
  if (live.length === 0) return;
  const k = Math.max(...live.map((r) => r.p.topK));
  const results = await engine.classify(
    live.map((r) => r.photo),
    k,
  );
  for (const [i, { p, thumbnail }] of live.entries()) {
    const result = results.ok ? results.value[i] : undefined;
    if (!results.ok) finishItem(p, results);
    else if (result === undefined) finishItem(p, fail('INFERENCE_FAILED'));
    else finishItem(p, ok({ ...result, thumbnail: await thumbnail }));
  }
}

/** Classifies the queued photos of `ownEpoch`, including any that arrive while it runs. */
async function drain(ownEpoch: number) {
  while (pending[0]?.epoch === ownEpoch) {
    const batch: PendingItem[] = [];
    while (batch.length < MICRO_BATCH && pending[0]?.epoch === ownEpoch) {
      batch.push(pending.shift()!);
    }
    try {
      const size = engine.inputSize();
      if (size === null) {
        for (const p of batch) {
          closeSource(p.item);
          finishItem(p, fail('MODEL_LOAD_FAILED', 'no model loaded'));
        }
      } else {
        await runBatch(batch, size);
      }
    } catch (error) {
      // One bad photo or an engine fault fails this batch, never the queue.
      for (const p of batch) {
        closeSource(p.item);
        finishItem(p, fail('INFERENCE_FAILED', String(error)));
      }
    }
  }
}

function scheduleDrain() {
  if (drainEpoch === epoch) return; // the queued or running drain will take these photos
  const ownEpoch = epoch;
  drainEpoch = ownEpoch;
  exclusive(async () => {
    try {
      await drain(ownEpoch);
    } finally {
      if (drainEpoch === ownEpoch) drainEpoch = null;
    }
  });
}

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const message = event.data;
  switch (message.type) {
    case 'load':
      modelWork(message.requestId, 'MODEL_LOAD_FAILED', async () => {
        const result = await engine.load(message.entry, message.backends, (progress) =>
          post({ type: 'progress', requestId: message.requestId, ...progress }),
        );
        reply(message.requestId, result);
      });
      break;
    case 'set-backend':
      modelWork(message.requestId, 'BACKEND_UNAVAILABLE', async () =>
        reply(message.requestId, await engine.switchBackend(message.backend)),
      );
      break;
    case 'benchmark':
      modelWork(message.requestId, 'INFERENCE_FAILED', async () => {
        const result = await engine.benchmark(message.runs, message.batchSize, message.dropAboveMs);
        reply(
          message.requestId,
          result.ok
            ? ok({ backend: engine.backend()!, batchSize: message.batchSize, ...result.value })
            : result,
        );
      });
      break;
    case 'classify':
      if (message.items.length === 0) {
        reply(message.requestId, ok({ completed: true }));
        break;
      }
      remainingPerRequest.set(message.requestId, message.items.length);
      for (const item of message.items) {
        pending.push({ requestId: message.requestId, item, topK: message.topK, epoch });
      }
      scheduleDrain();
      break;
    case 'cancel': {
      remainingPerRequest.delete(message.targetId);
      for (let i = pending.length - 1; i >= 0; i--) {
        if (pending[i]!.requestId === message.targetId) {
          closeSource(pending[i]!.item);
          pending.splice(i, 1);
        }
      }
      break;
    }
    case 'available-backends':
      probeBackends().then(
        (list) => reply(message.requestId, ok(list)),
        (error) => reply(message.requestId, fail('BACKEND_UNAVAILABLE', String(error))),
      );
      break;
    case 'stats':
      reply(message.requestId, ok({ backend: engine.backend(), numTensors: engine.numTensors() }));
      break;
    case 'labels':
      reply(message.requestId, ok(engine.labels()));
      break;
  }
};
