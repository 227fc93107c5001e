import { create } from 'zustand';
import type { BackendMeasurement, BackendName } from '../../core/backend-choice';
import type { AppError } from '../../core/errors';
import type { ChannelChoice, ChannelManifest } from '../../core/model-channels';
import type { ModelEntry, ModelManifest } from '../../core/model-manifest';
import type { ModelRef } from '../../core/model-ref';
import type { LoadedModel, SpecialistStatus } from '../../worker/api/protocol';

/** One state at a time, never a set of booleans that can contradict each other. */
export type ModelStatus =
  | { kind: 'idle' }
  | { kind: 'loading'; model: ModelRef; loadedBytes: number; totalBytes: number }
  | { kind: 'ready'; model: ModelRef; backend: BackendName; loadMs: number; warmUpMs: number }
  | { kind: 'error'; model: ModelRef | null; error: AppError };

export type BackendTrial =
  | { kind: 'not-started' }
  | { kind: 'skipped'; reason: 'override' | 'remembered' }
  | { kind: 'running'; candidate: BackendName; measurements: BackendMeasurement[] }
  | { kind: 'done'; measurements: BackendMeasurement[]; chosen: BackendName };

/** A backend the user asked for that would not start; the model runs on as before. */
export interface BackendSwitchFailure {
  requested: BackendName;
  error: AppError;
}

export interface ModelState {
  /** One entry per model: the versions this installation uses (see ../channels/device-manifest). */
  manifest: ModelManifest | null;
  /**
   * The manifest as published, kept to resolve again when the user's rollout setting changes.
   * Null when the manifest was rebuilt offline from the stored versions.
   */
  published: ChannelManifest | null;
  /** Per model, the channel this installation is on; empty when `published` is null. */
  choices: ChannelChoice[];
  /** The general model given to the worker: offline it may be an older stored version. */
  entry: ModelEntry | null;
  /**
   * Every version given to the worker, the general model first, then Auto's specialists:
   * what answers the photos, which offline may differ from what `manifest` lists.
   */
  loadedVersions: ModelRef[];
  status: ModelStatus;
  trial: BackendTrial;
  switchFailure: BackendSwitchFailure | null;
  /** Calls in flight in the worker: "classifying" is derived from this, not stored twice. */
  activeCalls: number;
  /** Auto mode's specialists the worker has downloaded, is downloading or failed to load, by id. */
  specialists: Record<string, SpecialistStatus>;
}

export const useModelStore = create<ModelState>()(() => ({
  manifest: null,
  published: null,
  choices: [],
  entry: null,
  loadedVersions: [],
  status: { kind: 'idle' },
  trial: { kind: 'not-started' },
  switchFailure: null,
  activeCalls: 0,
  specialists: {},
}));

const { setState } = useModelStore;

/**
 * The resolved manifest is stored rather than derived in render: resolving hashes the secret
 * (asynchronous), and every reader wants the same answer as the worker was given.
 */
export function manifestLoaded(
  manifest: ModelManifest,
  channels: { published: ChannelManifest; choices: ChannelChoice[] } | null,
): void {
  setState({ manifest, published: channels?.published ?? null, choices: channels?.choices ?? [] });
}

/**
 * A model starts loading: it is the current entry from now on, with `loadedVersions` (its
 * own first) the versions the worker runs. A notice of an earlier failed backend switch no
 * longer describes what runs, so it goes.
 */
export function modelLoading(entry: ModelEntry, model: ModelRef, loadedVersions: ModelRef[]): void {
  setState({
    entry,
    loadedVersions,
    specialists: {},
    status: { kind: 'loading', model, loadedBytes: 0, totalBytes: entry.totalBytes },
    switchFailure: null,
  });
}

export function loadProgressed(model: ModelRef, loadedBytes: number, totalBytes: number): void {
  setState({ status: { kind: 'loading', model, loadedBytes, totalBytes } });
}

export function modelReady(loaded: LoadedModel): void {
  setState({ status: { kind: 'ready', ...loaded } });
}

export function modelFailed(model: ModelRef | null, error: AppError): void {
  setState({ status: { kind: 'error', model, error } });
}

/** The backend the user chose runs the model now. */
export function backendSwitched(loaded: LoadedModel): void {
  setState({ status: { kind: 'ready', ...loaded }, switchFailure: null });
}

/** The status stays as it was: the previous backend still answers. */
export function backendSwitchFailed(requested: BackendName, error: AppError): void {
  setState({ switchFailure: { requested, error } });
}

/** A new backend choice starts: the notice about the previous one is out of date. */
export function switchNoticeCleared(): void {
  setState({ switchFailure: null });
}

export function trialChanged(trial: BackendTrial): void {
  setState({ trial });
}

export function callStarted(): void {
  setState((s) => ({ activeCalls: s.activeCalls + 1 }));
}

export function callEnded(): void {
  setState((s) => ({ activeCalls: s.activeCalls - 1 }));
}

export function specialistChanged(status: SpecialistStatus): void {
  setState((s) => ({ specialists: { ...s.specialists, [status.modelId]: status } }));
}
