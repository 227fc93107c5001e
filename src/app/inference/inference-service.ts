import { DEFAULT_TOP_K } from '../../core/answer';
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
import {
  fallbackOrder,
  offlineModels,
  offlineVersion,
  type StoredVersion,
} from '../../core/cache-policy';
import { cascadeChoiceFor } from '../../core/cascade';
import { fail, type Result } from '../../core/errors';
import type { Label } from '../../core/labels';
import { withdrawnCandidates, type ChannelManifest } from '../../core/model-channels';
import { modelRefOf, type ModelEntry, type ModelManifest } from '../../core/model-manifest';
import { sameModel, type ModelRef } from '../../core/model-ref';
import type { InferenceBridge } from '../../worker/api/bridge';
import type {
  AnimalClassification,
  Classification,
  ClassifyItem,
  ImageSource,
  ItemResult,
} from '../../worker/api/protocol';
import type { DeviceManifest } from '../channels/device-manifest';
import type { FormerCandidates } from '../channels/former-candidates';
import type { BackendMemory } from './backend-memory';
import {
  backendSwitchFailed,
  backendSwitched,
  callEnded,
  callStarted,
  loadProgressed,
  manifestLoaded,
  modelFailed,
  modelLoading,
  modelReady,
  specialistChanged,
  switchNoticeCleared,
  trialChanged,
  useModelStore,
} from './model-store';

/**
 * The page side of inference: owns the worker bridge, loads the chosen model, and picks
 * the backend by measurement without ever making the user wait for the measurement.
 * Every change of model state goes through the model store's actions.
 */

/** Quiet time after the last photo before idle-time backend trials start. */
export const TRIAL_IDLE_DELAY_MS = 3000;

/**
 * A page that becomes visible checks the manifest again once this long has passed since the
 * last check: an app left open for days picks up a rollout, and switching tabs back and
 * forth does not fetch the manifest each time.
 */
export const MANIFEST_RECHECK_MS = 10 * 60 * 1000;

export interface InferenceDeps {
  bridge: InferenceBridge;
  /** A throw-away worker per trial candidate. */
  createTrialBridge(): InferenceBridge;
  /** The manifest as published, with its channels (offline: the service worker's copy). */
  fetchManifest(): Promise<Result<ChannelManifest>>;
  /** The versions this installation uses of a published manifest; its secret is bound in. */
  resolveForDevice(published: ChannelManifest, tryCandidates: boolean): Promise<DeviceManifest>;
  /** The versions seen as candidates and not as stable since, kept across reloads. */
  formerCandidates: FormerCandidates;
  isPackComplete(entry: ModelEntry): Promise<boolean>;
  storedVersions(): Promise<StoredVersion[]>;
  /** Deletes a stored version's files (a withdrawn candidate). */
  removeStoredVersion(model: ModelRef): Promise<void>;
  backendMemory: BackendMemory;
  isOnline(): boolean;
  settings(): {
    modelId: string | null;
    backendPreference: BackendPreference;
    tryCandidates: boolean;
  };
  saveBackendPreference(preference: BackendPreference): void;
  saveTryCandidates(on: boolean): void;
  /** Calls `listener` whenever the network comes back (the browser's "online" event). */
  onOnline?(listener: () => void): void;
  /** Calls `listener` whenever the page becomes visible again. */
  onVisible?(listener: () => void): void;
  /** Epoch ms; injectable so that tests need not wait. */
  now?(): number;
}

export interface InferenceService {
  startModel(): Promise<void>;
  /** Switches the running model to the user's chosen backend, or back to automatic. */
  applyBackendPreference(preference: BackendPreference): Promise<void>;
  /**
   * Fetches the manifest again and resolves it; when the versions in use change (a rollout
   * reached this device, a candidate was rolled back or promoted) the model is reloaded.
   */
  checkManifest(): Promise<void>;
  /** Takes part in rollouts or not, at once: the model is reloaded if its version changes. */
  applyCandidatePreference(tryCandidates: boolean): Promise<void>;
  /**
   * Holds every reload a manifest check asks for until the returned function is called: a
   * live session (the camera) is a series of separate calls, with the worker idle between
   * frames, and must not change version under the user's eyes.
   */
  holdReloads(): () => void;
  identify(source: ImageSource, name: string): Promise<ItemResult>;
  /** Several photos of one animal: the combined answer and each photo's own. */
  identifyAnimal(
    photos: { source: ImageSource; name: string }[],
  ): Promise<Result<AnimalClassification>>;
  classifyMany(
    items: ClassifyItem[],
    options: {
      signal: AbortSignal;
      onItem: (itemId: string, result: Result<Classification>) => void;
    },
  ): Promise<Result<{ completed: true }>>;
  /** The labels of the model running in the worker, if it is `model`. */
  loadedLabels(model: ModelRef): Promise<Label[] | null>;
  newItemId(): string;
}

export function createInferenceService(deps: InferenceDeps): InferenceService {
  const { bridge, backendMemory } = deps;
  const now = deps.now ?? Date.now;
  bridge.onSpecialist(specialistChanged);
  let loadGeneration = 0;
  /** Bumped by each check and each resolution, so that only the newest answer is applied. */
  let checkGeneration = 0;
  let resolveGeneration = 0;
  let lastCheckAtMs = Number.NEGATIVE_INFINITY;
  /** A version change found while the worker was busy or held: applied once it is neither. */
  let reloadWhenIdle = false;
  /** Live sessions running: while there is one, reloads wait (see `holdReloads`). */
  let holds = 0;
  /**
   * The published manifest most recently fetched, as soon as its fetch returns: a change of
   * the rollout setting resolves it, never an older one that a check in flight replaces.
   */
  let latestPublished: ChannelManifest | null = null;
  let nextItemId = 1;
  let trialTimer: ReturnType<typeof setTimeout> | undefined;
  let trialAbort: AbortController | null = null;

  // Back online, the manifest is checked again: a model that could not be loaded (most often:
  // no network on a first visit) is tried again without the user having to reload, and one
  // that runs is reloaded only if the manifest moved this device to another version.
  deps.onOnline?.(() => void checkManifest());
  deps.onVisible?.(() => {
    if (now() - lastCheckAtMs >= MANIFEST_RECHECK_MS) void checkManifest();
  });

  /** Backends to start on, best guess first; the worker takes the first that works. */
  function startingBackends(preference: BackendPreference, model: ModelRef): BackendName[] {
    const fallback: BackendName[] = ['wasm', 'cpu'];
    if (preference !== 'auto') return [preference, ...fallback.filter((b) => b !== preference)];
    const remembered = backendMemory.recall(model)?.backend;
    // wasm answers first everywhere (fast start, no shader compilation); GPUs are tried in idle time.
    return remembered ? [remembered, ...fallback.filter((b) => b !== remembered)] : fallback;
  }

  /**
   * The listed version, unless we are offline and it is not stored: then another stored
   * version of the same model, rather than no model at all, in the order the cached
   * published manifest gives for this device (see `fallbackOrder`).
   */
  async function usableEntry(listed: ModelEntry): Promise<ModelEntry> {
    if (deps.isOnline() || (await deps.isPackComplete(listed))) return listed;
    const { published, choices } = useModelStore.getState();
    const order = fallbackOrder(
      published,
      listed.id,
      choices.find((c) => c.id === listed.id),
      deps.formerCandidates.list(),
    );
    return offlineVersion(await deps.storedVersions(), listed.id, order) ?? listed;
  }

  /** What a load of `manifest` gives the worker now: the usable entries of the cascade. */
  async function plannedLoad(manifest: ModelManifest) {
    const choice = cascadeChoiceFor(manifest, deps.settings().modelId);
    const entry = await usableEntry(choice.general);
    const specialists = await Promise.all(
      choice.specialists.map(async ({ group, entry: listed }) => ({
        group,
        entry: await usableEntry(listed),
      })),
    );
    return { entry, specialists, handChosen: choice.handChosen };
  }

  /** The manifest, or offline without one, a manifest of the complete versions stored. */
  async function manifestOrStored(): Promise<ModelManifest | null> {
    const known = useModelStore.getState().manifest;
    if (known !== null) return known;
    lastCheckAtMs = now();
    const fetched = await deps.fetchManifest();
    if (fetched.ok) {
      latestPublished = fetched.value;
      const resolved = await resolve(fetched.value);
      applyPublished(fetched.value, resolved);
      return resolved.manifest;
    }
    const stored = offlineModels(await deps.storedVersions(), deps.formerCandidates.list());
    if (stored.length === 0) {
      modelFailed(null, fetched.error);
      return null;
    }
    const manifest: ModelManifest = {
      schemaVersion: 1,
      generatedAt: '',
      defaultModel: stored[0]!.id,
      models: stored,
    };
    manifestLoaded(manifest, null);
    return manifest;
  }

  function resolve(published: ChannelManifest): Promise<DeviceManifest> {
    return deps.resolveForDevice(published, deps.settings().tryCandidates);
  }

  /** A published manifest, resolved for this device, becomes the one in use. */
  function applyPublished(published: ChannelManifest, resolved: DeviceManifest): void {
    deps.formerCandidates.note(published);
    manifestLoaded(resolved.manifest, { published, choices: resolved.choices });
    void dropWithdrawn(published);
  }

  /**
   * Deletes the stored files of a candidate the manifest withdrew, once the stable version
   * of its model is stored: until then the withdrawn one may be all that runs offline (it
   * runs only if nothing else is stored). The service worker deletes it too once stable
   * becomes complete; this covers a stable version that was complete before the rollback.
   */
  async function dropWithdrawn(published: ChannelManifest): Promise<void> {
    for (const withdrawn of withdrawnCandidates(published, deps.formerCandidates.list())) {
      const stable = published.models[withdrawn.id]?.stable;
      if (stable !== undefined && (await deps.isPackComplete(stable))) {
        await deps.removeStoredVersion(withdrawn);
      }
    }
  }

  async function checkManifest(): Promise<void> {
    const failed = () => useModelStore.getState().status.kind === 'error';
    // Before the first manifest, starting the model is the check.
    if (useModelStore.getState().manifest === null) {
      if (failed()) await startModel();
      return;
    }
    lastCheckAtMs = now();
    const generation = ++checkGeneration;
    const fetched = await deps.fetchManifest();
    if (generation !== checkGeneration) return;
    // Not reachable: the versions in use stay; a model that had failed is tried again anyway.
    if (fetched.ok) {
      latestPublished = fetched.value;
      await adopt(fetched.value);
    } else if (failed()) await startModel();
  }

  async function applyCandidatePreference(tryCandidates: boolean): Promise<void> {
    deps.saveTryCandidates(tryCandidates);
    // Rebuilt offline from stored versions: the next manifest check resolves with the new setting.
    if (latestPublished !== null) await adopt(latestPublished);
  }

  /**
   * Resolves `published` for this installation, and reloads the model when what a load would
   * give the worker now differs from what it runs: a rollout reached this device, a
   * candidate was rolled back or promoted, or the network is back and the listed version
   * can replace the stored one that ran offline.
   */
  async function adopt(published: ChannelManifest): Promise<void> {
    const generation = ++resolveGeneration;
    const resolved = await resolve(published);
    if (generation !== resolveGeneration) return;
    applyPublished(published, resolved);
    const planned = await plannedLoad(resolved.manifest);
    if (generation !== resolveGeneration) return;
    const { status, loadedVersions } = useModelStore.getState();
    if (status.kind === 'error') {
      void startModel();
      return;
    }
    if (sameVersions(versionsOf(planned), loadedVersions)) {
      reloadWhenIdle = false; // a change found while busy was undone before it was applied
      return;
    }
    // The batch or photo in the worker, or the live session, finishes on the version it started with.
    reloadWhenIdle = true;
    reloadIfIdle();
  }

  function reloadIfIdle(): void {
    if (reloadWhenIdle && holds === 0 && useModelStore.getState().activeCalls === 0) {
      void startModel();
    }
  }

  function holdReloads(): () => void {
    holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      holds--;
      reloadIfIdle();
    };
  }

  async function startModel(): Promise<void> {
    const generation = ++loadGeneration;
    reloadWhenIdle = false;
    cancelTrials();
    const manifest = await manifestOrStored();
    if (manifest === null || generation !== loadGeneration) return;
    const { backendPreference } = deps.settings();
    const planned = await plannedLoad(manifest);
    if (generation !== loadGeneration) return;
    const { entry, specialists, handChosen } = planned;
    const model = modelRefOf(entry);
    modelLoading(entry, model, versionsOf(planned));
    const loaded = await bridge.load(
      entry,
      startingBackends(backendPreference, model),
      (loadedBytes, totalBytes) => {
        if (generation === loadGeneration) loadProgressed(model, loadedBytes, totalBytes);
      },
      { specialists, handChosen },
    );
    if (generation !== loadGeneration) return;
    if (!loaded.ok) {
      modelFailed(model, loaded.error);
      return;
    }
    modelReady(loaded.value);
    if (backendPreference !== 'auto') trialChanged({ kind: 'skipped', reason: 'override' });
    else if (backendMemory.recall(model) !== null) {
      trialChanged({ kind: 'skipped', reason: 'remembered' });
    } else scheduleTrials(entry);
  }

  async function applyBackendPreference(preference: BackendPreference): Promise<void> {
    switchNoticeCleared();
    const previous = deps.settings().backendPreference;
    const trialBefore = useModelStore.getState().trial;
    deps.saveBackendPreference(preference);
    const { entry } = useModelStore.getState();
    if (entry === null) return;
    const target =
      preference === 'auto' ? backendMemory.recall(modelRefOf(entry))?.backend : preference;
    if (target === undefined) {
      await startModel();
      return;
    }
    // The user's choice wins over the idle-time trial: cancel it, and mark it skipped before
    // `tracked` looks at the trial state, so that it is not scheduled again.
    cancelTrials();
    trialChanged(
      preference === 'auto'
        ? { kind: 'skipped', reason: 'remembered' }
        : { kind: 'skipped', reason: 'override' },
    );
    const switched = await tracked(() => bridge.setBackend(target));
    if (switched.ok) {
      backendSwitched(switched.value);
      return;
    }
    // The worker keeps the backend it had: so does the status, with a notice of the failure.
    backendSwitchFailed(target, switched.error);
    // The preference goes back to what it was, rather than staying on the backend that failed:
    // the app really runs as before, so Settings show that (the notice says what was refused),
    // and later loads do not try the failed backend first. Unless another choice came since.
    if (deps.settings().backendPreference !== preference) return;
    deps.saveBackendPreference(previous);
    if (
      previous === 'auto' &&
      (trialBefore.kind === 'not-started' || trialBefore.kind === 'running')
    ) {
      trialChanged({ kind: 'not-started' });
      scheduleTrials(entry);
    } else trialChanged(trialBefore);
  }

  async function tracked<T>(work: () => Promise<T>): Promise<T> {
    cancelTrials();
    callStarted();
    try {
      return await work();
    } finally {
      callEnded();
      const { entry, trial } = useModelStore.getState();
      if (reloadWhenIdle) reloadIfIdle();
      else if (
        entry !== null &&
        deps.settings().backendPreference === 'auto' &&
        (trial.kind === 'not-started' || trial.kind === 'running')
      ) {
        scheduleTrials(entry);
      }
    }
  }

  function newItemId(): string {
    return `item-${nextItemId++}`;
  }

  async function identify(source: ImageSource, name: string): Promise<ItemResult> {
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

  function identifyAnimal(
    photos: { source: ImageSource; name: string }[],
  ): Promise<Result<AnimalClassification>> {
    const items = photos.map(({ source, name }) => ({ itemId: newItemId(), name, source }));
    return tracked(() => bridge.classifyAnimal(items, DEFAULT_TOP_K));
  }

  function classifyMany(
    items: ClassifyItem[],
    options: {
      signal: AbortSignal;
      onItem: (itemId: string, result: Result<Classification>) => void;
    },
  ): Promise<Result<{ completed: true }>> {
    return tracked(() => bridge.classify(items, { topK: DEFAULT_TOP_K, ...options }));
  }

  async function loadedLabels(model: ModelRef): Promise<Label[] | null> {
    const reply = await bridge.labels(model);
    return reply.ok && reply.value !== null && sameModel(reply.value.model, model)
      ? reply.value.labels
      : null;
  }

  // ---- Backend trials in idle time --------------------------------------------------

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
    // Only Automatic lets a measurement pick the backend; a backend the user chose stays.
    if (
      status.kind !== 'ready' ||
      activeCalls > 0 ||
      deps.settings().backendPreference !== 'auto'
    ) {
      return;
    }
    const abort = new AbortController();
    trialAbort = abort;
    const available = await bridge.availableBackends();
    if (!available.ok || abort.signal.aborted) return;
    const current = status.backend;
    const measurements: BackendMeasurement[] = [];
    for (const candidate of [current, ...trialOrder(available.value, current)]) {
      if (abort.signal.aborted) return;
      trialChanged({ kind: 'running', candidate, measurements: [...measurements] });
      const best = bestMedian(measurements);
      measurements.push(await measureInTrialWorker(entry, candidate, best, abort.signal));
    }
    if (abort.signal.aborted || deps.settings().backendPreference !== 'auto') return;
    const chosen = pickBackend(measurements, current).backend;
    backendMemory.remember(
      modelRefOf(entry),
      chosen,
      Object.fromEntries(measurements.map((m) => [m.backend, medianOf(m)])),
    );
    trialChanged({ kind: 'done', measurements, chosen });
    if (chosen !== current) {
      const switched = await tracked(() => bridge.setBackend(chosen));
      if (switched.ok) backendSwitched(switched.value);
    }
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
    const trial = deps.createTrialBridge();
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
      if (!timed.ok) {
        return {
          backend,
          samplesMs: [],
          warmUpMs: loaded.value.warmUpMs,
          failure: timed.error.code,
        };
      }
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

  return {
    startModel,
    applyBackendPreference,
    checkManifest,
    applyCandidatePreference,
    holdReloads,
    identify,
    identifyAnimal,
    classifyMany,
    loadedLabels,
    newItemId,
  };
}

/** The versions a load gives the worker: the general model first, then the specialists. */
function versionsOf(load: { entry: ModelEntry; specialists: { entry: ModelEntry }[] }): ModelRef[] {
  return [load.entry, ...load.specialists.map((s) => s.entry)].map(modelRefOf);
}

function sameVersions(a: readonly ModelRef[], b: readonly ModelRef[]): boolean {
  return a.length === b.length && a.every((ref, i) => sameModel(ref, b[i]!));
}

function bestMedian(measurements: BackendMeasurement[]): number | null {
  const medians = measurements.map(medianOf).filter((m): m is number => m !== null);
  return medians.length === 0 ? null : Math.min(...medians);
}
