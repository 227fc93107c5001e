import {
  TRIAL_RUNS,
  dropAboveMs,
  medianOf,
  pickBackend,
  trialOrder,
  warmUpBudgetMs,
  type BackendMeasurement,
  type BackendName,
  type BackendPreference,
} from '../../core/backend-choice';
import { DEFAULT_TOP_K } from '../../core/answer';
import { fail, type Result } from '../../core/errors';
import { modelRef, type ModelEntry } from '../../core/model-manifest';
import { createInferenceBridge, type InferenceBridge } from '../../worker/bridge';
import type { ClassifyItem, ImageSource, ItemResult } from '../../worker/protocol';
import type { Classification } from '../../worker/protocol';
import { useModelStore } from '../stores/model-store';
import { useSettingsStore } from '../stores/settings-store';
import { recallBackend, rememberBackend } from './backend-memory';
import { fetchModelManifest } from './manifest';
import { cachedEntries, packStatus } from './offline-packs';
import type { Label } from '../../core/labels';

/**
 * The page side of inference: owns the worker bridge, loads the chosen model, and picks
 * the backend by measurement without ever making the user wait for the measurement.
 */

/** Quiet time after the last photo before idle-time backend trials start. */
const TRIAL_IDLE_DELAY_MS = 3000;

const bridge: InferenceBridge = createInferenceBridge();
let loadGeneration = 0;
let nextItemId = 1;

const setModelState = useModelStore.setState;

/** Backends to start on, best guess first; the worker takes the first that works. */
function startingBackends(preference: BackendPreference, modelName: string): BackendName[] {
  const fallback: BackendName[] = ['wasm', 'cpu'];
  if (preference !== 'auto') return [preference, ...fallback.filter((b) => b !== preference)];
  const remembered = recallBackend(modelName)?.backend;
  // wasm answers first everywhere (fast start, no shader compilation); GPUs are tried in idle time.
  return remembered ? [remembered, ...fallback.filter((b) => b !== remembered)] : fallback;
}

/**
 * The listed version, unless we are offline and only an older version of the same model is
 * stored: then that one, rather than no model at all.
 */
async function usableEntry(listed: ModelEntry): Promise<ModelEntry> {
  if (navigator.onLine || (await packStatus(listed)).complete) return listed;
  return (await cachedEntries()).find((e) => e.id === listed.id) ?? listed;
}

export async function startModel(): Promise<void> {
  const generation = ++loadGeneration;
  cancelTrials();
  let { manifest } = useModelStore.getState();
  if (manifest === null) {
    const fetched = await fetchModelManifest();
    if (!fetched.ok) {
      // Offline without a cached manifest: whatever complete model packs are stored still work.
      const stored = await cachedEntries();
      if (stored.length === 0) {
        setModelState({ status: { kind: 'error', model: null, error: fetched.error } });
        return;
      }
      manifest = { schemaVersion: 1, generatedAt: '', defaultModel: stored[0]!.id, models: stored };
    } else manifest = fetched.value;
    setModelState({ manifest });
  }
  const { modelId, backendPreference } = useSettingsStore.getState();
  const listed =
    manifest.models.find((m) => m.id === modelId) ??
    manifest.models.find((m) => m.id === manifest.defaultModel)!;
  const entry = await usableEntry(listed);
  const name = modelRef(entry);
  setModelState({
    entry,
    status: { kind: 'loading', model: name, loadedBytes: 0, totalBytes: entry.totalBytes },
  });
  const loaded = await bridge.load(
    entry,
    startingBackends(backendPreference, name),
    (loadedBytes, totalBytes) => {
      if (generation === loadGeneration) {
        setModelState({ status: { kind: 'loading', model: name, loadedBytes, totalBytes } });
      }
    },
  );
  if (generation !== loadGeneration) return;
  if (!loaded.ok) {
    setModelState({ status: { kind: 'error', model: name, error: loaded.error } });
    return;
  }
  setModelState({ status: { kind: 'ready', ...loaded.value } });
  if (backendPreference !== 'auto')
    setModelState({ trial: { kind: 'skipped', reason: 'override' } });
  else if (recallBackend(name) !== null) {
    setModelState({ trial: { kind: 'skipped', reason: 'remembered' } });
  } else scheduleTrials(entry);
}

/** Switches the running model to the user's chosen backend, or back to automatic. */
export async function applyBackendPreference(preference: BackendPreference): Promise<void> {
  useSettingsStore.getState().setBackendPreference(preference);
  const { entry } = useModelStore.getState();
  if (entry === null) return;
  const target = preference === 'auto' ? recallBackend(modelRef(entry))?.backend : preference;
  if (target === undefined) {
    await startModel();
    return;
  }
  const switched = await tracked(() => bridge.setBackend(target));
  if (switched.ok) setModelState({ status: { kind: 'ready', ...switched.value } });
  else setModelState({ status: { kind: 'error', model: modelRef(entry), error: switched.error } });
}

async function tracked<T>(work: () => Promise<T>): Promise<T> {
  cancelTrials();
  setModelState((s) => ({ activeCalls: s.activeCalls + 1 }));
  try {
    return await work();
  } finally {
    setModelState((s) => ({ activeCalls: s.activeCalls - 1 }));
    const { entry, trial } = useModelStore.getState();
    if (entry !== null && (trial.kind === 'not-started' || trial.kind === 'running')) {
      scheduleTrials(entry);
    }
  }
}

export function newItemId(): string {
  return `item-${nextItemId++}`;
}

export async function identify(source: ImageSource, name: string): Promise<ItemResult> {
  const itemId = newItemId();
  let item: ItemResult = fail('INFERENCE_FAILED', 'no result');
  const done = await tracked(() =>
    bridge.classify([{ itemId, name, source }], {
      topK: DEFAULT_TOP_K,
      onItem: (_id, result) => (item = result),
    }),
  );
  return done.ok ? item : done;
}

export function classifyMany(
  items: ClassifyItem[],
  options: {
    signal: AbortSignal;
    onItem: (itemId: string, result: Result<Classification>) => void;
  },
): Promise<Result<{ completed: true }>> {
  return tracked(() => bridge.classify(items, { topK: DEFAULT_TOP_K, ...options }));
}

/** The labels of the model running in the worker, if it is `model` ("id@version"). */
export async function loadedLabels(model: string): Promise<Label[] | null> {
  const reply = await bridge.labels();
  return reply.ok && reply.value?.model === model ? reply.value.labels : null;
}

// ---- Backend trials in idle time ----------------------------------------------------

let trialTimer: ReturnType<typeof setTimeout> | undefined;
let trialAbort: AbortController | null = null;

function cancelTrials() {
  clearTimeout(trialTimer);
  trialAbort?.abort();
  trialAbort = null;
}

function scheduleTrials(entry: ModelEntry) {
  clearTimeout(trialTimer);
  trialTimer = setTimeout(() => void runTrials(entry), TRIAL_IDLE_DELAY_MS);
}

async function runTrials(entry: ModelEntry): Promise<void> {
  const { status, activeCalls } = useModelStore.getState();
  if (status.kind !== 'ready' || activeCalls > 0) return;
  const abort = new AbortController();
  trialAbort = abort;
  const available = await bridge.availableBackends();
  if (!available.ok || abort.signal.aborted) return;
  const current = status.backend;
  const measurements: BackendMeasurement[] = [];
  for (const candidate of [current, ...trialOrder(available.value, current)]) {
    if (abort.signal.aborted) return;
    setModelState({ trial: { kind: 'running', candidate, measurements: [...measurements] } });
    const best = bestMedian(measurements);
    measurements.push(await measureInTrialWorker(entry, candidate, best, abort.signal));
  }
  if (abort.signal.aborted) return;
  const chosen = pickBackend(measurements, current).backend;
  rememberBackend(
    modelRef(entry),
    chosen,
    Object.fromEntries(measurements.map((m) => [m.backend, medianOf(m)])),
  );
  setModelState({ trial: { kind: 'done', measurements, chosen } });
  if (chosen !== current) {
    const switched = await tracked(() => bridge.setBackend(chosen));
    if (switched.ok) setModelState({ status: { kind: 'ready', ...switched.value } });
  }
}

function bestMedian(measurements: BackendMeasurement[]): number | null {
  const medians = measurements.map(medianOf).filter((m): m is number => m !== null);
  return medians.length === 0 ? null : Math.min(...medians);
}

/**
 * Each candidate runs in its own short-lived worker, so a slow shader compilation never
 * blocks the worker that answers the user; it is terminated on abort or overrun.
 */
async function measureInTrialWorker(
  entry: ModelEntry,
  backend: BackendName,
  bestMs: number | null,
  signal: AbortSignal,
): Promise<BackendMeasurement> {
  const trial = createInferenceBridge();
  const stop = () => trial.terminate();
  const timer = setTimeout(stop, warmUpBudgetMs(bestMs));
  signal.addEventListener('abort', stop, { once: true });
  try {
    const loaded = await trial.load(entry, [backend]);
    if (!loaded.ok || loaded.value.backend !== backend) {
      return {
        backend,
        samplesMs: [],
        warmUpMs: null,
        failure: loaded.ok ? 'fell back' : loaded.error.code,
      };
    }
    const timed = await trial.benchmark(TRIAL_RUNS, 1, dropAboveMs(bestMs));
    if (!timed.ok)
      return { backend, samplesMs: [], warmUpMs: loaded.value.warmUpMs, failure: timed.error.code };
    return {
      backend,
      samplesMs: timed.value.samplesMs,
      warmUpMs: loaded.value.warmUpMs,
      failure: timed.value.dropped ? 'clearly slower' : null,
    };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', stop);
    trial.terminate();
  }
}
