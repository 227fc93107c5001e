/// <reference lib="webworker" />
import { fail, ok } from '../core/errors';
import { activateBrowserBackend } from './backend-activation';
import { probeBackends } from './browser-backends';
import { decodePhoto } from './decode-image';
import { createEngine, MICRO_BATCH } from '../model/engine';
import { httpFileReader } from './model-files';
import type { WorkerEvent, WorkerRequest } from './api/protocol';
import { createWorkQueue } from './work-queue';

/**
 * The inference worker: a message loop around the engine. Work that touches the model
 * (load, backend switch, classification batches, benchmarks) goes through the work queue
 * (work-queue.ts), strictly one at a time; cancel and stats are answered immediately.
 */
declare const self: DedicatedWorkerGlobalScope;

const engine = createEngine({
  activateBackend: activateBrowserBackend,
  fileReader: httpFileReader,
});

const post = (event: WorkerEvent) => self.postMessage(event);
const queue = createWorkQueue({ engine, decode: decodePhoto, post, microBatch: MICRO_BATCH });
const { modelWork, reply } = queue;

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
      queue.classify(message.requestId, message.items, message.topK);
      break;
    case 'cancel':
      queue.cancel(message.targetId);
      break;
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
