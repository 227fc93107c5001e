/// <reference lib="webworker" />
import { fail, ok, type Result } from '../core/errors';
import { activateBrowserBackend, probeBackends } from './browser-backends';
import { decodePhoto } from './decode-image';
import { createEngine, type PreparedPhoto } from '../model/engine';
import { httpFileReader } from './model-files';
import type { ClassifyItem, WorkerEvent, WorkerRequest } from './protocol';

/**
 * The inference worker: a message loop around the engine. Work that touches the model
 * (load, backend switch, classification batches, benchmarks) runs strictly one at a
 * time; cancel and stats are answered immediately.
 */
declare const self: DedicatedWorkerGlobalScope;

/** Photos per inference call: bigger batches amortise per-call overhead, smaller ones answer sooner. */
const MAX_MICRO_BATCH = 8;

const engine = createEngine({
  activateBackend: activateBrowserBackend,
  fileReader: httpFileReader,
});

interface PendingItem {
  requestId: number;
  item: ClassifyItem;
  topK: number;
}

const pending: PendingItem[] = [];
const remainingPerRequest = new Map<number, number>();
let serial: Promise<void> = Promise.resolve();
let drainScheduled = false;

function post(event: WorkerEvent) {
  self.postMessage(event);
}

function reply(requestId: number, result: Result<unknown>) {
  post({ type: 'reply', requestId, result });
}

/** Model work runs one job at a time, in arrival order. */
function exclusive(job: () => Promise<void>) {
  serial = serial.then(job, job);
}

function closeSource(item: ClassifyItem) {
  if (item.source.kind === 'bitmap') item.source.bitmap.close();
}

function itemDone(requestId: number) {
  const left = (remainingPerRequest.get(requestId) ?? 1) - 1;
  if (left > 0) {
    remainingPerRequest.set(requestId, left);
    return;
  }
  remainingPerRequest.delete(requestId);
  reply(requestId, ok({ completed: true }));
}

async function drain() {
  drainScheduled = false;
  while (pending.length > 0) {
    const size = engine.inputSize();
    const batch = pending.splice(0, MAX_MICRO_BATCH);
    if (size === null) {
      for (const p of batch) {
        closeSource(p.item);
        post({
          type: 'item',
          requestId: p.requestId,
          itemId: p.item.itemId,
          result: fail('MODEL_LOAD_FAILED', 'no model loaded'),
        });
        itemDone(p.requestId);
      }
      continue;
    }
    const ready: { p: PendingItem; photo: PreparedPhoto }[] = [];
    for (const p of batch) {
      if (!remainingPerRequest.has(p.requestId)) {
        closeSource(p.item); // cancelled while queued
        continue;
      }
      const started = performance.now();
      const decoded = await decodePhoto(p.item.source, size);
      if (!decoded.ok) {
        post({ type: 'item', requestId: p.requestId, itemId: p.item.itemId, result: decoded });
        itemDone(p.requestId);
        continue;
      }
      ready.push({ p, photo: { ...decoded.value, decodeMs: performance.now() - started } });
    }
    const live = ready.filter((r) => remainingPerRequest.has(r.p.requestId));
    if (live.length === 0) continue;
    const k = Math.max(...live.map((r) => r.p.topK));
    const results = await engine.classify(
      live.map((r) => r.photo),
      k,
    );
    for (const [i, { p }] of live.entries()) {
      const result = results.ok ? ok(results.value[i]!) : results;
      post({ type: 'item', requestId: p.requestId, itemId: p.item.itemId, result });
      itemDone(p.requestId);
    }
  }
}

function scheduleDrain() {
  if (drainScheduled) return;
  drainScheduled = true;
  exclusive(drain);
}

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const message = event.data;
  switch (message.type) {
    case 'load':
      exclusive(async () => {
        const result = await engine.load(message.entry, message.backends, (progress) =>
          post({ type: 'progress', requestId: message.requestId, ...progress }),
        );
        reply(message.requestId, result);
      });
      break;
    case 'set-backend':
      exclusive(async () => reply(message.requestId, await engine.switchBackend(message.backend)));
      break;
    case 'benchmark':
      exclusive(async () => {
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
        pending.push({ requestId: message.requestId, item, topK: message.topK });
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
      void probeBackends().then((list) => reply(message.requestId, ok(list)));
      break;
    case 'stats':
      reply(message.requestId, ok({ backend: engine.backend(), numTensors: engine.numTensors() }));
      break;
  }
};
