import type { BackendName } from '../../core/backend-choice';
import type { AppError, Result } from '../../core/errors';
import type { Label } from '../../core/labels';
import type { ModelEntry } from '../../core/model-manifest';
import type { ModelRef } from '../../core/model-ref';
import type { CascadeSpecialist } from '../../model/cascade';
import type { Classification as EngineClassification, LoadedModel } from '../../model/engine';

export type { ItemTimings, LoadedModel } from '../../model/engine';

/**
 * The typed protocol between the page and the inference worker. Only structured-clone
 * data crosses: Blobs and ImageBitmaps in (bitmaps transferred), plain results out,
 * never a tensor. Expected failures are values with a `code`, never thrown.
 */

export type ImageSource = { kind: 'blob'; blob: Blob } | { kind: 'bitmap'; bitmap: ImageBitmap };

/** What the worker answers per photo: the engine's classification plus the browser-only thumbnail. */
export interface Classification extends EngineClassification {
  /** A small JPEG of the photo, for the results grid and the history. */
  thumbnail: Blob | null;
}

/** The answer for several photos of one animal, and each photo's own, in the order sent. */
export interface AnimalClassification {
  combined: Classification;
  photos: Classification[];
}

export interface ClassifyItem {
  itemId: string;
  name: string;
  source: ImageSource;
}

export interface BenchmarkReport {
  backend: BackendName;
  batchSize: number;
  samplesMs: number[];
  /** Set when the run stopped early because it was clearly slower than `dropAboveMs`. */
  dropped: boolean;
}

export interface WorkerStats {
  backend: BackendName | null;
  numTensors: number;
}

/**
 * Auto mode's specialists for a load: in Auto mode they are downloaded the first time a
 * photo needs one; a specialist chosen by hand (`handChosen`, one specialist) is loaded
 * with the general model, which still runs first to say whether the photo is in its group.
 */
export interface CascadePlan {
  specialists: CascadeSpecialist[];
  handChosen: boolean;
}

/** A specialist's download and load, which happens in the middle of a classification. */
export type SpecialistStatus =
  | {
      modelId: string;
      group: string;
      state: 'downloading';
      loadedBytes: number;
      totalBytes: number;
    }
  | { modelId: string; group: string; state: 'ready' }
  | { modelId: string; group: string; state: 'failed'; error: AppError };

export type WorkerRequest =
  | {
      type: 'load';
      requestId: number;
      entry: ModelEntry;
      backends: BackendName[];
      cascade: CascadePlan;
    }
  | { type: 'classify'; requestId: number; items: ClassifyItem[]; topK: number }
  /** Photos the user says show the same animal: one combined answer and each photo's own. */
  | { type: 'classify-animal'; requestId: number; items: ClassifyItem[]; topK: number }
  /** Fire and forget: the bridge settles the cancelled call itself. */
  | { type: 'cancel'; targetId: number }
  | {
      type: 'benchmark';
      requestId: number;
      runs: number;
      batchSize: number;
      dropAboveMs: number | null;
    }
  | { type: 'set-backend'; requestId: number; backend: BackendName }
  | { type: 'available-backends'; requestId: number }
  | { type: 'stats'; requestId: number }
  /** The labels of a loaded model: the general one, or any specialist the worker holds. */
  | { type: 'labels'; requestId: number; model: ModelRef | null };

export type WorkerEvent =
  | { type: 'progress'; requestId: number; loadedBytes: number; totalBytes: number }
  | { type: 'item'; requestId: number; itemId: string; result: Result<Classification> }
  | { type: 'reply'; requestId: number; result: Result<unknown> }
  /** Not tied to one request: a specialist is loaded for whichever photos need it. */
  | { type: 'specialist'; status: SpecialistStatus };

/** Replies per request type, so the bridge's `call` is typed end to end. */
export interface ReplyTypes {
  load: LoadedModel;
  classify: { completed: true };
  'classify-animal': AnimalClassification;
  benchmark: BenchmarkReport;
  'set-backend': LoadedModel;
  'available-backends': BackendName[];
  stats: WorkerStats;
  labels: { model: ModelRef; labels: Label[] } | null;
}

export type CallType = keyof ReplyTypes;

export type RequestOf<T extends CallType> = Omit<Extract<WorkerRequest, { type: T }>, 'requestId'>;

export type ItemResult = Result<Classification>;
