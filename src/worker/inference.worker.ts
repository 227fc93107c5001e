/// <reference lib="webworker" />
import { fail, ok, type Result } from '../core/errors';
import type { ModelEntry } from '../core/model-manifest';
import { sameModel } from '../core/model-ref';
import { summariserFor } from '../core/taxonomy-answer';
import { activateBrowserBackend } from './backend-activation';
import { probeBackends } from './browser-backends';
import { decodePhoto } from './decode-image';
import { createCascade, type Cascade, type CascadeSpecialist } from '../model/cascade';
import { createEngine, MICRO_BATCH, type Engine } from '../model/engine';
import { httpFileReader } from './model-files';
import type { CascadePlan, WorkerEvent, WorkerRequest } from './api/protocol';
import { createWorkQueue } from './work-queue';

/**
 * The inference worker: a message loop around the engines. Work that touches a model
 * (load, backend switch, classification batches, benchmarks) goes through the work queue
 * (work-queue.ts), strictly one at a time; cancel and stats are answered immediately.
 * Auto mode's specialists get engines of their own on the one backend of the worker.
 */
declare const self: DedicatedWorkerGlobalScope;

const engineDeps = {
  activateBackend: activateBrowserBackend,
  fileReader: httpFileReader,
  summariser: summariserFor,
};
const engine = createEngine(engineDeps);
let cascade: Cascade | null = null;

const post = (event: WorkerEvent) => self.postMessage(event);

/** A specialist's engine on the general model's backend, its download reported as it goes. */
async function openSpecialist({ group, entry }: CascadeSpecialist): Promise<Result<Engine>> {
  const backend = engine.backend();
  if (backend === null) return fail('MODEL_LOAD_FAILED', 'no model loaded');
  const specialist = createEngine(engineDeps);
  const modelId = entry.id;
  post({
    type: 'specialist',
    status: { modelId, group, state: 'downloading', loadedBytes: 0, totalBytes: entry.totalBytes },
  });
  let loaded: Result<unknown>;
  try {
    loaded = await specialist.load(entry, [backend], (progress) =>
      post({ type: 'specialist', status: { modelId, group, state: 'downloading', ...progress } }),
    );
  } catch (error) {
    // Whatever went wrong, the page must hear that the download ended.
    specialist.unload();
    loaded = fail('MODEL_LOAD_FAILED', String(error));
  }
  post({
    type: 'specialist',
    status: loaded.ok
      ? { modelId, group, state: 'ready' }
      : { modelId, group, state: 'failed', error: loaded.error },
  });
  return loaded.ok ? ok(specialist) : loaded;
}

/** Frees every specialist: after a new load or a backend switch they load again on need. */
function dropCascade() {
  for (const loaded of cascade?.loadedEngines().slice(1) ?? []) loaded.unload();
  cascade = null;
}

/** The general model's entry and its specialists, as the last load asked for them. */
let loadedPlan: { entry: ModelEntry; plan: CascadePlan } | null = null;

async function buildCascade(): Promise<Result<void>> {
  dropCascade();
  // Built with no specialists too: several photos of one animal go through it either way.
  if (loadedPlan === null) return ok(undefined);
  const { entry, plan } = loadedPlan;
  // A specialist chosen by hand answers every photo of its group: load it now, so that a
  // model that cannot be loaded says so at once, as the general model would.
  const preloaded = new Map<string, Engine>();
  if (plan.handChosen) {
    for (const specialist of plan.specialists) {
      const opened = await openSpecialist(specialist);
      if (!opened.ok) return opened;
      preloaded.set(specialist.entry.id, opened.value);
    }
  }
  const built = createCascade({
    general: engine,
    generalEntry: entry,
    specialists: plan.specialists,
    handChosen: plan.handChosen,
    openSpecialist,
    preloaded,
  });
  if (!built.ok) {
    for (const loaded of preloaded.values()) loaded.unload();
    return built;
  }
  cascade = built.value;
  return ok(undefined);
}

const queue = createWorkQueue({
  engine: {
    classify: (photos, k) => (cascade ?? engine).classify(photos, k),
    classifyAnimal: (photos, k) =>
      cascade === null
        ? Promise.resolve(fail('MODEL_LOAD_FAILED', 'no model loaded'))
        : cascade.classifyAnimal(photos, k),
    inputSize: () => engine.inputSize(),
  },
  decode: decodePhoto,
  post,
  microBatch: MICRO_BATCH,
});
const { modelWork, reply } = queue;

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const message = event.data;
  switch (message.type) {
    case 'load':
      modelWork(message.requestId, 'MODEL_LOAD_FAILED', async () => {
        dropCascade();
        loadedPlan = null;
        const result = await engine.load(message.entry, message.backends, (progress) =>
          post({ type: 'progress', requestId: message.requestId, ...progress }),
        );
        if (result.ok) {
          loadedPlan = { entry: message.entry, plan: message.cascade };
          const built = await buildCascade();
          if (!built.ok) {
            // No model at all rather than the general one answering for a specialist the
            // user chose: the page shows the failure, and queued photos fail with it.
            engine.unload();
            loadedPlan = null;
            reply(message.requestId, built);
            return;
          }
        }
        reply(message.requestId, result);
      });
      break;
    case 'set-backend':
      modelWork(message.requestId, 'BACKEND_UNAVAILABLE', async () => {
        const previous = engine.backend();
        const switched = await engine.switchBackend(message.backend);
        // Specialists follow the general model onto the new backend (Auto's when next needed).
        if (switched.ok && cascade !== null) {
          const built = await buildCascade();
          if (!built.ok) {
            // The page keeps the backend it had on a failed switch: so does the worker.
            if (previous !== null) await engine.switchBackend(previous);
            await buildCascade();
            reply(message.requestId, built);
            return;
          }
        }
        reply(message.requestId, switched);
      });
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
    case 'classify-animal':
      queue.classifyAnimal(message.requestId, message.items, message.topK);
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
    case 'labels': {
      const engines = cascade?.loadedEngines() ?? [engine];
      const wanted = message.model;
      const found = engines
        .map((e) => e.labels())
        .find((l) => l !== null && (wanted === null || sameModel(l.model, wanted)));
      reply(message.requestId, ok(found ?? null));
      break;
    }
  }
};
