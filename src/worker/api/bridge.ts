import type { BackendName } from '../../core/backend-choice';
import { fail, type Result } from '../../core/errors';
import type { Label } from '../../core/labels';
import type { ModelEntry } from '../../core/model-manifest';
import type { ModelRef } from '../../core/model-ref';
import type {
  AnimalClassification,
  BenchmarkReport,
  CallType,
  CascadePlan,
  ClassifyItem,
  ItemResult,
  LoadedModel,
  ReplyTypes,
  RequestOf,
  SpecialistStatus,
  WorkerEvent,
  WorkerRequest,
  WorkerStats,
} from './protocol';

/**
 * The page's only door to the inference worker. Starts the worker lazily, settles every
 * call exactly once (reply, cancellation or crash), and after a crash starts a fresh
 * worker on the next call, reloading the last model first.
 */
export interface InferenceBridge {
  load(
    entry: ModelEntry,
    backends: BackendName[],
    onProgress?: (loadedBytes: number, totalBytes: number) => void,
    cascade?: CascadePlan,
  ): Promise<Result<LoadedModel>>;
  /** Every change of a specialist's download or load; replaces the previous listener. */
  onSpecialist(listener: ((status: SpecialistStatus) => void) | null): void;
  /** Results arrive per photo through `onItem`; the promise settles when all are done. */
  classify(
    items: ClassifyItem[],
    options: {
      topK: number;
      signal?: AbortSignal;
      onItem?: (itemId: string, result: ItemResult) => void;
    },
  ): Promise<Result<{ completed: true }>>;
  /** Photos of one animal: their combined answer and each one's own. */
  classifyAnimal(items: ClassifyItem[], topK: number): Promise<Result<AnimalClassification>>;
  setBackend(backend: BackendName): Promise<Result<LoadedModel>>;
  benchmark(
    runs: number,
    batchSize: number,
    dropAboveMs: number | null,
  ): Promise<Result<BenchmarkReport>>;
  availableBackends(): Promise<Result<BackendName[]>>;
  stats(): Promise<Result<WorkerStats>>;
  /** The labels of `model` if the worker holds it (the general model when null). */
  labels(model?: ModelRef | null): Promise<Result<{ model: ModelRef; labels: Label[] } | null>>;
  /** Number of calls not yet settled. */
  busy(): number;
  terminate(): void;
}

export type WorkerFactory = () => Worker;

interface PendingCall {
  settle(result: Result<unknown>): void;
  onEvent?(event: WorkerEvent): void;
}

export const createModuleWorker: WorkerFactory = () =>
  new Worker(new URL('../inference.worker.ts', import.meta.url), {
    type: 'module',
    name: 'inference',
  });

export function createInferenceBridge(
  createWorker: WorkerFactory = createModuleWorker,
): InferenceBridge {
  let worker: Worker | null = null;
  let nextId = 1;
  const calls = new Map<number, PendingCall>();
  /** Replayed into a restarted worker so a crash does not leave it without a model. */
  let lastLoad: { entry: ModelEntry; backends: BackendName[]; cascade: CascadePlan } | null = null;
  let specialistListener: ((status: SpecialistStatus) => void) | null = null;

  /** Ends the current worker and settles every pending call with `reason`. */
  function stop(reason: Result<never>) {
    worker?.terminate();
    worker = null;
    const settled = [...calls.values()];
    calls.clear();
    for (const call of settled) call.settle(reason);
  }

  function crash(detail: string) {
    stop(fail('WORKER_CRASHED', detail));
  }

  /** `replay` is false for a `load`, which is about to load a model anyway. */
  function ensureWorker(replay: boolean): Worker {
    if (worker !== null) return worker;
    const started = createWorker();
    // A worker that was already replaced must not settle or crash the new one's calls.
    const current = () => worker === started;
    started.addEventListener('message', (event: MessageEvent<WorkerEvent>) => {
      if (!current()) return;
      const message = event.data;
      if (message.type === 'specialist') {
        specialistListener?.(message.status);
        return;
      }
      const call = calls.get(message.requestId);
      if (call === undefined) return; // cancelled: late events are dropped
      if (message.type === 'reply') {
        calls.delete(message.requestId);
        call.settle(message.result);
      } else {
        call.onEvent?.(message);
      }
    });
    started.addEventListener('error', (event) => {
      event.preventDefault();
      if (current()) crash(event.message || 'worker error');
    });
    started.addEventListener('messageerror', () => {
      if (current()) crash('message could not be deserialised');
    });
    worker = started;
    if (replay && lastLoad !== null) {
      // Calls sent after this one queue behind it inside the worker.
      const id = nextId++;
      started.postMessage({ type: 'load', requestId: id, ...lastLoad } satisfies WorkerRequest);
    }
    return started;
  }

  function call<T extends CallType>(
    request: RequestOf<T>,
    options: { onEvent?: (event: WorkerEvent) => void; transfer?: Transferable[] } = {},
  ): { id: number; promise: Promise<Result<ReplyTypes[T]>> } {
    const target = ensureWorker(request.type !== 'load');
    const id = nextId++;
    let settle: (result: Result<unknown>) => void = () => {};
    const promise = new Promise<Result<ReplyTypes[T]>>((resolve) => {
      settle = (result) => resolve(result as Result<ReplyTypes[T]>);
    });
    calls.set(id, { settle, onEvent: options.onEvent });
    try {
      target.postMessage({ ...request, requestId: id } as WorkerRequest, options.transfer ?? []);
    } catch (error) {
      // e.g. a DataCloneError for a detached bitmap: fail this call, never throw or hang.
      calls.delete(id);
      settle(fail('INFERENCE_FAILED', String(error)));
    }
    return { id, promise };
  }

  return {
    load(entry, backends, onProgress, cascade = { specialists: [], handChosen: false }) {
      lastLoad = { entry, backends, cascade };
      return call<'load'>(
        { type: 'load', entry, backends, cascade },
        {
          onEvent: (event) => {
            if (event.type === 'progress') onProgress?.(event.loadedBytes, event.totalBytes);
          },
        },
      ).promise;
    },

    classify(items, { topK, signal, onItem }) {
      if (signal?.aborted) return Promise.resolve(fail('CANCELLED'));
      const transfer = items.flatMap((i) => (i.source.kind === 'bitmap' ? [i.source.bitmap] : []));
      const { id, promise } = call<'classify'>(
        { type: 'classify', items, topK },
        {
          transfer,
          onEvent: (event) => {
            if (event.type === 'item') onItem?.(event.itemId, event.result);
          },
        },
      );
      if (signal === undefined) return promise;
      const onAbort = () => {
        const pending = calls.get(id);
        if (pending === undefined) return;
        calls.delete(id);
        worker?.postMessage({ type: 'cancel', targetId: id } satisfies WorkerRequest);
        pending.settle(fail('CANCELLED'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      return promise.finally(() => signal.removeEventListener('abort', onAbort));
    },

    classifyAnimal(items, topK) {
      const transfer = items.flatMap((i) => (i.source.kind === 'bitmap' ? [i.source.bitmap] : []));
      return call<'classify-animal'>({ type: 'classify-animal', items, topK }, { transfer })
        .promise;
    },

    async setBackend(backend) {
      const result = await call<'set-backend'>({ type: 'set-backend', backend }).promise;
      // Only a backend that started goes first in the load replayed after a crash: a failed
      // one would make the restarted worker try it again before the one that works.
      if (result.ok && lastLoad !== null) {
        const others = lastLoad.backends.filter((b) => b !== backend);
        lastLoad = { ...lastLoad, backends: [backend, ...others] };
      }
      return result;
    },

    benchmark(runs, batchSize, dropAboveMs) {
      return call<'benchmark'>({ type: 'benchmark', runs, batchSize, dropAboveMs }).promise;
    },

    availableBackends() {
      return call<'available-backends'>({ type: 'available-backends' }).promise;
    },

    labels(model = null) {
      return call<'labels'>({ type: 'labels', model }).promise;
    },

    onSpecialist(listener) {
      specialistListener = listener;
    },

    stats() {
      return call<'stats'>({ type: 'stats' }).promise;
    },

    busy: () => calls.size,

    terminate() {
      lastLoad = null;
      stop(fail('CANCELLED', 'terminated'));
    },
  };
}
