import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BackendName, BackendPreference } from '../../core/backend-choice';
import type { StoredVersion } from '../../core/cache-policy';
import { fail, ok, type Result } from '../../core/errors';
import type { ChannelManifest } from '../../core/model-channels';
import { stableManifest, TEST_SALT, withCandidate } from '../../core/model-channels.fixtures';
import type { ModelEntry } from '../../core/model-manifest';
import { fakeModelEntry } from '../../core/model-manifest.fixtures';
import type { ModelRef } from '../../core/model-ref';
import { bucketOf } from '../../core/rollout';
import type { InferenceBridge } from '../../worker/api/bridge';
import type { LoadedModel } from '../../worker/api/protocol';
import { resolveForInstallation } from '../channels/device-manifest';
import { createFormerCandidates } from '../channels/former-candidates';
import { memoryStorage } from '../memory-storage.fixtures';
import type { BackendMemory, RememberedChoice } from './backend-memory';
import {
  createInferenceService,
  MANIFEST_RECHECK_MS,
  TRIAL_IDLE_DELAY_MS,
  type InferenceDeps,
} from './inference-service';
import { useModelStore } from './model-store';

/** The service around a fake bridge: the worker itself is tested in src/worker. */

const BIRDS = fakeModelEntry('birds', 'v3');
const PUBLISHED: ChannelManifest = stableManifest(BIRDS);
const SECRET = '5'.repeat(64);

/** PUBLISHED with birds@v4 rolled out to `percent` of installations. */
function rolloutOf(percent: number): ChannelManifest {
  return withCandidate(PUBLISHED, 'birds', 'v4', { percent });
}

/** A version stored complete in the caches, completed at `completedAt`. */
function stored(version: string, completedAt: number): StoredVersion {
  return { entry: fakeModelEntry('birds', version), completedAt };
}

/** Lets every promise chain the service started without waiting for it run to its end. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function loaded(model: ModelEntry, backend: BackendName): LoadedModel {
  return { model: { id: model.id, version: model.version }, backend, loadMs: 1, warmUpMs: 1 };
}

function fakeBridge(): InferenceBridge & {
  [K in keyof InferenceBridge]: ReturnType<typeof vi.fn>;
} {
  return {
    load: vi.fn(async (e: ModelEntry, backends: BackendName[]) => ok(loaded(e, backends[0]!))),
    classify: vi.fn(async () => ok({ completed: true as const })),
    setBackend: vi.fn(),
    benchmark: vi.fn(),
    availableBackends: vi.fn(async () => ok<BackendName[]>(['wasm', 'cpu'])),
    stats: vi.fn(),
    labels: vi.fn(async () => ok(null)),
    busy: vi.fn(() => 0),
    terminate: vi.fn(),
    onSpecialist: vi.fn(),
  } as never;
}

function harness(options: {
  online?: boolean;
  stored?: StoredVersion[];
  complete?: (e: ModelEntry) => boolean;
  manifest?: Result<ChannelManifest>;
  remembered?: RememberedChoice | null;
  preference?: BackendPreference;
  tryCandidates?: boolean;
  /** The browser profile's localStorage: shared by two harnesses, a reload. */
  storage?: Storage;
  /** Per backend, the time a trial worker measures. */
  trialMediansMs?: Partial<Record<BackendName, number>>;
}) {
  const bridge = fakeBridge();
  const trials: ReturnType<typeof fakeBridge>[] = [];
  let preference: BackendPreference = options.preference ?? 'auto';
  let tryCandidates = options.tryCandidates ?? true;
  let published = options.manifest ?? ok(PUBLISHED);
  let online = options.online ?? true;
  let nowMs = 0;
  const onlineListeners: (() => void)[] = [];
  const visibleListeners: (() => void)[] = [];
  /** The calls in the worker at each load: a reload must wait for them. */
  const activeCallsAtLoad: number[] = [];
  bridge.load.mockImplementation(async (e: ModelEntry, backends: BackendName[]) => {
    activeCallsAtLoad.push(useModelStore.getState().activeCalls);
    return ok(loaded(e, backends[0]!));
  });
  /** Resolutions wait for this while it is set: a test can act while one is in flight. */
  let resolveGate: Promise<void> | null = null;
  const resolvedManifests: ChannelManifest[] = [];
  const memory: BackendMemory = {
    recall: vi.fn(() => options.remembered ?? null),
    remember: vi.fn(),
  };
  const storage = options.storage ?? memoryStorage();
  const deps: InferenceDeps = {
    bridge,
    createTrialBridge: () => {
      const trial = fakeBridge();
      let backend: BackendName = 'cpu';
      trial.load.mockImplementation(async (e: ModelEntry, backends: BackendName[]) => {
        backend = backends[0]!;
        return ok(loaded(e, backend));
      });
      trial.benchmark.mockImplementation(async () =>
        ok({ samplesMs: [options.trialMediansMs?.[backend] ?? 100], dropped: false }),
      );
      trials.push(trial);
      return trial;
    },
    fetchManifest: vi.fn(async () => published),
    resolveForDevice: async (manifest, tryCandidates) => {
      resolvedManifests.push(manifest);
      await resolveGate;
      return resolveForInstallation(manifest, SECRET, tryCandidates);
    },
    formerCandidates: createFormerCandidates(() => storage),
    isPackComplete: async (e) => options.complete?.(e) ?? false,
    storedVersions: async () => options.stored ?? [],
    removeStoredVersion: vi.fn(async () => {}),
    backendMemory: memory,
    isOnline: () => online,
    settings: () => ({ modelId: null, backendPreference: preference, tryCandidates }),
    saveBackendPreference: (p) => (preference = p),
    saveTryCandidates: (on) => (tryCandidates = on),
    onOnline: (listener) => onlineListeners.push(listener),
    onVisible: (listener) => visibleListeners.push(listener),
    now: () => nowMs,
  };
  return {
    service: createInferenceService(deps),
    /** The browser's "online" event: the network is back. */
    comeOnline: () => {
      online = true;
      onlineListeners.forEach((listener) => listener());
    },
    /** The page became visible again, `afterMs` after the previous moment of the test. */
    becomeVisible: (afterMs: number) => {
      nowMs += afterMs;
      visibleListeners.forEach((listener) => listener());
    },
    /** What the server answers to the next manifest requests. */
    publish: (next: Result<ChannelManifest>) => (published = next),
    /** Holds every resolution until the returned function is called. */
    holdResolutions: () => {
      let release!: () => void;
      resolveGate = new Promise((resolve) => (release = resolve));
      return () => {
        resolveGate = null;
        release();
      };
    },
    resolvedManifests,
    fetchManifest: deps.fetchManifest as ReturnType<typeof vi.fn>,
    removeStoredVersion: deps.removeStoredVersion as ReturnType<typeof vi.fn>,
    tryCandidates: () => tryCandidates,
    activeCallsAtLoad,
    storage,
    bridge,
    trials,
    memory,
    preference: () => preference,
  };
}

const REMEMBERED_WASM: RememberedChoice = {
  backend: 'wasm',
  measuredAt: '2026-01-01T00:00:00.000Z',
  mediansMs: { wasm: 40 },
};

beforeEach(() => {
  useModelStore.setState(useModelStore.getInitialState(), true);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('inference service', () => {
  it('loads the listed model on the remembered backend and skips the trial', async () => {
    const { service, bridge } = harness({
      remembered: { ...REMEMBERED_WASM, backend: 'webgl' },
    });
    await service.startModel();
    expect(bridge.load).toHaveBeenCalledWith(
      BIRDS,
      ['webgl', 'wasm', 'cpu'],
      expect.any(Function),
      {
        specialists: [],
        handChosen: false,
      },
    );
    const { status, trial, entry: current } = useModelStore.getState();
    expect(status).toMatchObject({ kind: 'ready', backend: 'webgl', model: { id: 'birds' } });
    expect(trial).toEqual({ kind: 'skipped', reason: 'remembered' });
    expect(current).toBe(BIRDS);
  });

  it('offline, runs the newest stored version of the model when the listed one is not stored', async () => {
    const older = { entry: fakeModelEntry('birds', 'v1'), completedAt: 1_000 };
    const newer = { entry: fakeModelEntry('birds', 'v2'), completedAt: 2_000 };
    const { service, bridge } = harness({ online: false, stored: [older, newer] });
    await service.startModel();
    expect(bridge.load.mock.calls[0]![0]).toBe(newer.entry);
    expect(useModelStore.getState().status).toMatchObject({
      kind: 'ready',
      model: { id: 'birds', version: 'v2' },
    });
  });

  it('offline without a manifest, builds one from the stored versions, newest first', async () => {
    const { service, bridge } = harness({
      online: false,
      manifest: fail('MODEL_LOAD_FAILED', 'offline'),
      stored: [
        { entry: fakeModelEntry('insects', 'i1'), completedAt: 5 },
        { entry: fakeModelEntry('birds', 'b1'), completedAt: 9 },
      ],
      complete: () => true,
    });
    await service.startModel();
    expect(useModelStore.getState().manifest?.defaultModel).toBe('birds');
    expect(bridge.load.mock.calls[0]![0]).toMatchObject({ id: 'birds', version: 'b1' });
  });

  it('says why when there is neither a manifest nor a stored model', async () => {
    const { service, bridge } = harness({ manifest: fail('MODEL_LOAD_FAILED', 'offline') });
    await service.startModel();
    expect(bridge.load).not.toHaveBeenCalled();
    expect(useModelStore.getState().status).toMatchObject({
      kind: 'error',
      model: null,
      error: { code: 'MODEL_LOAD_FAILED' },
    });
  });

  it('tries a model that could not be loaded again when the network returns, and only then', async () => {
    const { service, bridge, comeOnline } = harness({ remembered: REMEMBERED_WASM });
    bridge.load.mockResolvedValueOnce(fail('MODEL_LOAD_FAILED', 'model.json: HTTP 503'));
    await service.startModel();
    expect(useModelStore.getState().status).toMatchObject({
      kind: 'error',
      error: { code: 'MODEL_LOAD_FAILED', detail: 'model.json: HTTP 503' },
    });
    comeOnline();
    await vi.waitFor(() => expect(useModelStore.getState().status.kind).toBe('ready'));
    expect(bridge.load).toHaveBeenCalledTimes(2);
    // A model that runs is not reloaded by the next "online".
    comeOnline();
    await settle();
    expect(bridge.load).toHaveBeenCalledTimes(2);
  });

  it('keeps the running backend ready, with a notice, when a forced switch fails', async () => {
    const { service, bridge } = harness({ remembered: REMEMBERED_WASM });
    await service.startModel();
    bridge.setBackend.mockResolvedValueOnce(fail('BACKEND_UNAVAILABLE', 'no WebGL here'));
    await service.applyBackendPreference('webgl');
    const { status, switchFailure, activeCalls } = useModelStore.getState();
    expect(status).toMatchObject({ kind: 'ready', backend: 'wasm' });
    expect(switchFailure).toMatchObject({
      requested: 'webgl',
      error: { code: 'BACKEND_UNAVAILABLE' },
    });
    expect(activeCalls).toBe(0);

    // A switch that works clears the notice.
    bridge.setBackend.mockResolvedValueOnce(ok(loaded(BIRDS, 'cpu')));
    await service.applyBackendPreference('cpu');
    expect(useModelStore.getState().status).toMatchObject({ kind: 'ready', backend: 'cpu' });
    expect(useModelStore.getState().switchFailure).toBeNull();
  });

  it('ignores a load that a newer start replaced', async () => {
    const { service, bridge } = harness({ remembered: REMEMBERED_WASM });
    let finishFirst!: (result: Result<LoadedModel>) => void;
    const firstLoadStarted = new Promise<void>((started) =>
      bridge.load.mockImplementationOnce(() => {
        started();
        return new Promise((resolve) => (finishFirst = resolve));
      }),
    );
    const first = service.startModel();
    await firstLoadStarted;
    await service.startModel();
    finishFirst(fail('MODEL_LOAD_FAILED', 'late'));
    await first;
    expect(useModelStore.getState().status).toMatchObject({ kind: 'ready', backend: 'wasm' });
  });

  it('returns the answer for one photo and counts the call while it runs', async () => {
    const { service, bridge } = harness({ remembered: REMEMBERED_WASM });
    await service.startModel();
    const answer = ok({ answer: { kind: 'no-animal', top: [] } });
    bridge.classify.mockImplementationOnce(async (items, { onItem }) => {
      expect(useModelStore.getState().activeCalls).toBe(1);
      onItem(items[0].itemId, answer);
      return ok({ completed: true });
    });
    const source = { kind: 'blob' as const, blob: new Blob([]) };
    expect(await service.identify(source, 'a.jpg')).toBe(answer);
    expect(useModelStore.getState().activeCalls).toBe(0);
  });

  it('measures the backends in idle time, remembers the fastest and switches to it', async () => {
    vi.useFakeTimers();
    const { service, bridge, trials, memory } = harness({
      trialMediansMs: { wasm: 50, webgl: 10 },
    });
    await service.startModel();
    expect(useModelStore.getState().trial).toEqual({ kind: 'not-started' });
    bridge.availableBackends.mockResolvedValue(ok(['wasm', 'webgl', 'cpu']));
    bridge.setBackend.mockResolvedValueOnce(ok(loaded(BIRDS, 'webgl')));
    await vi.advanceTimersByTimeAsync(TRIAL_IDLE_DELAY_MS - 1);
    expect(trials).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    // One throw-away worker per candidate, the running backend first.
    expect(trials.map((t) => t.load.mock.calls[0]![1])).toEqual([['wasm'], ['webgl']]);
    expect(useModelStore.getState().trial).toMatchObject({ kind: 'done', chosen: 'webgl' });
    expect(memory.remember).toHaveBeenCalledWith({ id: 'birds', version: 'v3' }, 'webgl', {
      wasm: 50,
      webgl: 10,
    });
    expect(bridge.setBackend).toHaveBeenCalledWith('webgl');
    expect(useModelStore.getState().status).toMatchObject({ kind: 'ready', backend: 'webgl' });
    expect(trials.every((t) => t.terminate.mock.calls.length > 0)).toBe(true);
  });

  it('never lets the idle-time trial override a backend the user forced', async () => {
    vi.useFakeTimers();
    const { service, bridge, trials } = harness({ trialMediansMs: { wasm: 50, webgl: 10 } });
    await service.startModel();
    expect(useModelStore.getState().trial).toEqual({ kind: 'not-started' });
    bridge.availableBackends.mockResolvedValue(ok(['wasm', 'webgl', 'cpu']));
    bridge.setBackend.mockImplementation(async (b: BackendName) => ok(loaded(BIRDS, b)));

    await service.applyBackendPreference('wasm');
    expect(useModelStore.getState().trial).toEqual({ kind: 'skipped', reason: 'override' });
    await vi.advanceTimersByTimeAsync(TRIAL_IDLE_DELAY_MS * 2);
    // Later identifications do not schedule the trial again either.
    await service.identify({ kind: 'blob', blob: new Blob([]) }, 'a.jpg');
    await vi.advanceTimersByTimeAsync(TRIAL_IDLE_DELAY_MS * 2);

    expect(trials).toHaveLength(0);
    expect(bridge.setBackend.mock.calls).toEqual([['wasm']]);
    expect(useModelStore.getState().status).toMatchObject({ kind: 'ready', backend: 'wasm' });
  });

  it('puts the preference back and drops the notice when the next model load starts', async () => {
    vi.useFakeTimers();
    const { service, bridge, preference } = harness({});
    await service.startModel();
    bridge.setBackend.mockResolvedValue(fail('BACKEND_UNAVAILABLE', 'no WebGL here'));

    await service.applyBackendPreference('webgl');
    expect(useModelStore.getState().switchFailure).toMatchObject({ requested: 'webgl' });
    // The app runs on as before, so the saved choice is the previous one, trials included.
    expect(preference()).toBe('auto');
    expect(useModelStore.getState().trial).toEqual({ kind: 'not-started' });

    // Choosing Automatic reloads through startModel: the notice goes.
    await service.applyBackendPreference('auto');
    expect(bridge.load).toHaveBeenCalledTimes(2);
    expect(useModelStore.getState().switchFailure).toBeNull();

    // So it does when another model starts loading.
    await service.applyBackendPreference('webgl');
    expect(useModelStore.getState().switchFailure).not.toBeNull();
    await service.startModel();
    expect(useModelStore.getState().switchFailure).toBeNull();
  });

  it('drops the notice as soon as another backend choice starts', async () => {
    const { service, bridge, preference } = harness({
      remembered: REMEMBERED_WASM,
      preference: 'cpu',
    });
    await service.startModel();
    bridge.setBackend.mockResolvedValueOnce(fail('BACKEND_UNAVAILABLE', 'no WebGL here'));
    await service.applyBackendPreference('webgl');
    expect(preference()).toBe('cpu');
    expect(useModelStore.getState().trial).toEqual({ kind: 'skipped', reason: 'override' });

    let noticeDuringSwitch: unknown = 'unset';
    bridge.setBackend.mockImplementationOnce(async () => {
      noticeDuringSwitch = useModelStore.getState().switchFailure;
      return ok(loaded(BIRDS, 'wasm'));
    });
    await service.applyBackendPreference('wasm');
    expect(noticeDuringSwitch).toBeNull();
    expect(preference()).toBe('wasm');
  });
});

describe('model versions from the manifest channels', () => {
  const loadedVersions = (bridge: ReturnType<typeof fakeBridge>) =>
    bridge.load.mock.calls.map((call) => (call[0] as ModelEntry).version);

  it('starts on the candidate at 100 % and on stable at 0 %, and says which', async () => {
    for (const [percent, version, channel] of [
      [100, 'v4', 'candidate'],
      [0, 'v3', 'stable'],
    ] as const) {
      useModelStore.setState(useModelStore.getInitialState(), true);
      const { service, bridge } = harness({ manifest: ok(rolloutOf(percent)) });
      await service.startModel();
      expect(loadedVersions(bridge), String(percent)).toEqual([version]);
      expect(useModelStore.getState().choices).toEqual([
        { id: 'birds', channel, version, otherVersion: version === 'v4' ? 'v3' : 'v4' },
      ]);
      expect(useModelStore.getState().published).toEqual(rolloutOf(percent));
      expect(useModelStore.getState().loadedVersions).toEqual([{ id: 'birds', version }]);
    }
  });

  it('a check that finds a rollout reaching this device reloads the model; an unchanged one does not', async () => {
    const { service, bridge, publish } = harness({ remembered: REMEMBERED_WASM });
    await service.startModel();
    await service.checkManifest();
    await settle();
    expect(loadedVersions(bridge)).toEqual(['v3']);
    publish(ok(rolloutOf(0)));
    await service.checkManifest();
    await settle();
    expect(loadedVersions(bridge)).toEqual(['v3']);
    publish(ok(rolloutOf(100)));
    await service.checkManifest();
    await vi.waitFor(() =>
      expect(useModelStore.getState().status).toMatchObject({
        kind: 'ready',
        model: { id: 'birds', version: 'v4' },
      }),
    );
    expect(loadedVersions(bridge)).toEqual(['v3', 'v4']);
  });

  it('a candidate rolled back goes back to stable at the next check', async () => {
    const { service, bridge, publish } = harness({ manifest: ok(rolloutOf(100)) });
    await service.startModel();
    publish(ok(PUBLISHED));
    await service.checkManifest();
    await vi.waitFor(() => expect(loadedVersions(bridge)).toEqual(['v4', 'v3']));
    expect(useModelStore.getState().choices[0]).toMatchObject({ channel: 'stable', version: 'v3' });
  });

  it('keeps the versions in use when the manifest cannot be fetched', async () => {
    const { service, bridge, publish } = harness({ manifest: ok(rolloutOf(100)) });
    await service.startModel();
    publish(fail('MODEL_LOAD_FAILED', 'manifest: HTTP 503'));
    await service.checkManifest();
    await settle();
    expect(loadedVersions(bridge)).toEqual(['v4']);
    expect(useModelStore.getState().choices[0]).toMatchObject({ channel: 'candidate' });
  });

  it('opting out puts the device on stable at once, and opting in again back on the candidate', async () => {
    const { service, bridge, tryCandidates, fetchManifest } = harness({
      manifest: ok(rolloutOf(100)),
    });
    await service.startModel();
    await service.applyCandidatePreference(false);
    expect(tryCandidates()).toBe(false);
    await vi.waitFor(() => expect(loadedVersions(bridge)).toEqual(['v4', 'v3']));
    expect(useModelStore.getState().choices[0]).toMatchObject({ channel: 'stable' });
    await service.applyCandidatePreference(true);
    await vi.waitFor(() => expect(loadedVersions(bridge)).toEqual(['v4', 'v3', 'v4']));
    // The setting is applied to the manifest already known: no request is needed for it.
    expect(fetchManifest).toHaveBeenCalledTimes(1);
  });

  it('opting out while on stable reloads nothing', async () => {
    const { service, bridge } = harness({ manifest: ok(rolloutOf(0)) });
    await service.startModel();
    await service.applyCandidatePreference(false);
    await settle();
    expect(loadedVersions(bridge)).toEqual(['v3']);
  });

  it('a change of the setting during a check resolves the manifest that check fetched', async () => {
    const { service, bridge, publish, holdResolutions, resolvedManifests } = harness({
      manifest: ok(rolloutOf(100)),
    });
    await service.startModel();
    // The check has fetched the rolled-back manifest and is resolving it when the box is ticked.
    const release = holdResolutions();
    publish(ok(PUBLISHED));
    const check = service.checkManifest();
    await vi.waitFor(() => expect(resolvedManifests.at(-1)).toEqual(PUBLISHED));
    const ticked = service.applyCandidatePreference(true);
    release();
    await Promise.all([check, ticked]);
    await settle();
    expect(useModelStore.getState().published).toEqual(PUBLISHED);
    expect(loadedVersions(bridge)).toEqual(['v4', 'v3']);
  });

  it('lets the call in the worker finish on its version before reloading', async () => {
    const { service, bridge, publish, activeCallsAtLoad } = harness({
      remembered: REMEMBERED_WASM,
    });
    await service.startModel();
    let finish!: () => void;
    bridge.classify.mockImplementationOnce(
      () => new Promise((resolve) => (finish = () => resolve(ok({ completed: true })))),
    );
    const source = { kind: 'blob' as const, blob: new Blob([]) };
    const answer = service.identify(source, 'a.jpg');
    publish(ok(rolloutOf(100)));
    await service.checkManifest();
    await settle();
    expect(loadedVersions(bridge)).toEqual(['v3']);
    finish();
    await answer;
    await vi.waitFor(() => expect(loadedVersions(bridge)).toEqual(['v3', 'v4']));
    expect(activeCallsAtLoad).toEqual([0, 0]);
  });

  it('holds a version change while a live session runs, and applies it when the session ends', async () => {
    const { service, bridge, publish, activeCallsAtLoad } = harness({
      remembered: REMEMBERED_WASM,
    });
    await service.startModel();
    const release = service.holdReloads();
    const source = { kind: 'blob' as const, blob: new Blob([]) };
    // Frames are single calls: between two of them no call is in the worker.
    await service.identify(source, 'frame 1');
    publish(ok(rolloutOf(100)));
    await service.checkManifest();
    await service.identify(source, 'frame 2');
    await settle();
    expect(loadedVersions(bridge)).toEqual(['v3']);
    release();
    release(); // a second release of the same hold changes nothing
    await vi.waitFor(() => expect(loadedVersions(bridge)).toEqual(['v3', 'v4']));
    expect(activeCallsAtLoad).toEqual([0, 0]);
  });

  it('checks again when the network returns, and when the page is shown after a while', async () => {
    const { service, fetchManifest, comeOnline, becomeVisible } = harness({
      remembered: REMEMBERED_WASM,
    });
    await service.startModel();
    expect(fetchManifest).toHaveBeenCalledTimes(1);
    becomeVisible(MANIFEST_RECHECK_MS - 1);
    expect(fetchManifest).toHaveBeenCalledTimes(1);
    becomeVisible(1);
    expect(fetchManifest).toHaveBeenCalledTimes(2);
    becomeVisible(1);
    expect(fetchManifest).toHaveBeenCalledTimes(2);
    comeOnline();
    expect(fetchManifest).toHaveBeenCalledTimes(3);
  });
});

describe('model versions offline', () => {
  const loadedVersions = (bridge: ReturnType<typeof fakeBridge>) =>
    bridge.load.mock.calls.map((call) => (call[0] as ModelEntry).version);

  it('keeps the version it resolved when the cached manifest is all there is', async () => {
    // A share that just takes this installation's bucket in.
    const percent = ((await bucketOf(SECRET, TEST_SALT)) + 1) / 1000;
    const online = harness({ manifest: ok(rolloutOf(percent)) });
    await online.service.startModel();
    expect(loadedVersions(online.bridge)).toEqual(['v4']);
    // A reload offline: the service worker answers with its copy of the same manifest.
    useModelStore.setState(useModelStore.getInitialState(), true);
    const cachedCopy = JSON.parse(JSON.stringify(rolloutOf(percent))) as ChannelManifest;
    const offline = harness({
      online: false,
      manifest: ok(cachedCopy),
      stored: [stored('v3', 1_000), stored('v4', 2_000)],
      complete: () => true,
    });
    await offline.service.startModel();
    expect(loadedVersions(offline.bridge)).toEqual(['v4']);
  });

  it('loads the listed version when the network returns after a stored one ran offline', async () => {
    const { service, bridge, comeOnline } = harness({
      online: false,
      stored: [stored('v2', 1_000)],
      complete: (e) => e.version === 'v2',
    });
    await service.startModel();
    expect(loadedVersions(bridge)).toEqual(['v2']);
    expect(useModelStore.getState().loadedVersions).toEqual([{ id: 'birds', version: 'v2' }]);
    comeOnline();
    await vi.waitFor(() => expect(loadedVersions(bridge)).toEqual(['v2', 'v3']));
  });

  it('a check offline that changes nothing reloads nothing, even on a stored stand-in', async () => {
    const { service, bridge } = harness({
      online: false,
      stored: [stored('v2', 1_000)],
      complete: (e) => e.version === 'v2',
    });
    await service.startModel();
    await service.checkManifest();
    await settle();
    expect(loadedVersions(bridge)).toEqual(['v2']);
  });

  /** A session on the candidate, then a reload on `next` offline, with `versions` stored. */
  async function afterCandidate(next: ChannelManifest, versions: StoredVersion[], more = {}) {
    const storage = memoryStorage();
    const first = harness({ manifest: ok(rolloutOf(100)), storage });
    await first.service.startModel();
    expect(loadedVersions(first.bridge)).toEqual(['v4']);
    useModelStore.setState(useModelStore.getInitialState(), true);
    const complete = new Set(versions.map((v) => v.entry.version));
    const offline = harness({
      online: false,
      manifest: ok(next),
      stored: versions,
      complete: (e) => complete.has(e.version),
      storage,
      ...more,
    });
    await offline.service.startModel();
    return offline;
  }

  it('after a rollback, runs an older stored version rather than the withdrawn candidate', async () => {
    const { bridge } = await afterCandidate(PUBLISHED, [stored('v2', 1_000), stored('v4', 2_000)]);
    expect(loadedVersions(bridge)).toEqual(['v2']);
  });

  it('after a rollback, runs the withdrawn candidate only when nothing else is stored', async () => {
    const { bridge } = await afterCandidate(PUBLISHED, [stored('v4', 2_000)]);
    expect(loadedVersions(bridge)).toEqual(['v4']);
  });

  it('after opting out, runs an older stored version rather than the candidate', async () => {
    const { bridge } = await afterCandidate(
      rolloutOf(100),
      [stored('v2', 1_000), stored('v4', 2_000)],
      { tryCandidates: false },
    );
    expect(loadedVersions(bridge)).toEqual(['v2']);
  });

  it('on a candidate that is not stored, runs the stable version before any other', async () => {
    const { service, bridge } = harness({
      online: false,
      manifest: ok(rolloutOf(100)),
      stored: [stored('v3', 1_000), stored('v2', 3_000)],
      complete: (e) => e.version !== 'v4',
    });
    await service.startModel();
    expect(loadedVersions(bridge)).toEqual(['v3']);
  });

  it('without any manifest, builds one from the stored versions, a former candidate last', async () => {
    const storage = memoryStorage();
    const first = harness({ manifest: ok(rolloutOf(100)), storage });
    await first.service.startModel();
    useModelStore.setState(useModelStore.getInitialState(), true);
    const { service, bridge } = harness({
      online: false,
      manifest: fail('MODEL_LOAD_FAILED', 'offline'),
      stored: [stored('v3', 1_000), stored('v4', 2_000)],
      complete: () => true,
      storage,
    });
    await service.startModel();
    expect(loadedVersions(bridge)).toEqual(['v3']);
  });

  it('deletes a withdrawn candidate at the check once the stable version is stored, not before', async () => {
    let stableStored = false;
    const { service, publish, removeStoredVersion } = harness({
      manifest: ok(rolloutOf(100)),
      complete: (e) => e.version === 'v4' || (e.version === 'v3' && stableStored),
    });
    await service.startModel();
    publish(ok(PUBLISHED));
    await service.checkManifest();
    await settle();
    expect(removeStoredVersion).not.toHaveBeenCalled();
    stableStored = true;
    await service.checkManifest();
    await settle();
    expect(removeStoredVersion).toHaveBeenCalledWith({
      id: 'birds',
      version: 'v4',
    } satisfies ModelRef);
  });
});
