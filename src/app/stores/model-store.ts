import { create } from 'zustand';
import type { BackendMeasurement, BackendName } from '../../core/backend-choice';
import type { AppError } from '../../core/errors';
import type { ModelEntry, ModelManifest } from '../../core/model-manifest';

/** One state at a time, never a set of booleans that can contradict each other. */
export type ModelStatus =
  | { kind: 'idle' }
  | { kind: 'loading'; model: string; loadedBytes: number; totalBytes: number }
  | { kind: 'ready'; model: string; backend: BackendName; loadMs: number; warmUpMs: number }
  | { kind: 'error'; model: string | null; error: AppError };

export type BackendTrial =
  | { kind: 'not-started' }
  | { kind: 'skipped'; reason: 'override' | 'remembered' }
  | { kind: 'running'; candidate: BackendName; measurements: BackendMeasurement[] }
  | { kind: 'done'; measurements: BackendMeasurement[]; chosen: BackendName };

export interface ModelState {
  manifest: ModelManifest | null;
  entry: ModelEntry | null;
  status: ModelStatus;
  trial: BackendTrial;
  /** Calls in flight in the worker: "classifying" is derived from this, not stored twice. */
  activeCalls: number;
}

export const useModelStore = create<ModelState>()(() => ({
  manifest: null,
  entry: null,
  status: { kind: 'idle' },
  trial: { kind: 'not-started' },
  activeCalls: 0,
}));
