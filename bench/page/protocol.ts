import type { BackendName } from '../../src/core/backend-choice';

/**
 * What the bench orchestrator (Node, through Playwright's `page.evaluate`) and the
 * diagnostics page `bench.html` exchange. Plain data only, no DOM types, so the Node
 * side can import these types too.
 */

/** One photo as timed on the page. All times in milliseconds. */
export interface PhotoSample {
  /** From handing the photo over to its answer on the page. */
  wallMs: number;
  /** Validation, decoding and pixel extraction (worker) or createImageBitmap + fromPixels (baseline). */
  decodeMs: number;
  /** Inference share of this photo (the micro-batch's time divided by its size), preprocessing included. */
  inferenceMs: number;
  /**
   * The preprocessing alone (pixels to the model's input tensor), where it can be timed: on
   * the page's main thread with a synchronous backend (wasm, cpu). Null in the worker.
   */
  preprocessMs: number | null;
  /** Index of the most probable output, to check the runs agree with each other. */
  topIndex: number | null;
}

/** One request (batch 1: one photo; batch 8: eight photos). */
export interface RequestSample {
  photos: number;
  wallMs: number;
  items: PhotoSample[];
}

export interface WorkerRunPlan {
  backend: BackendName;
  /** Same-origin URLs of the photos to classify; fetched into memory before timing. */
  photoUrls: string[];
  /** Photos classified one request each. */
  batch1Photos: number;
  /** Requests of `batchSize` photos each. */
  batchRequests: number;
  batchSize: number;
}

export type WorkerRunResult =
  | {
      backend: BackendName;
      ok: true;
      /** Download + graph construction, and the first inference on zeros, as the worker reports them. */
      loadMs: number;
      warmUpMs: number;
      /** Wall time of the whole `load` call as seen on the page (worker start included). */
      loadWallMs: number;
      batch1: RequestSample[];
      batched: RequestSample[];
      tensorsAfterLoad: number;
      tensorsAfterRuns: number;
    }
  | { backend: BackendName; ok: false; stage: string; error: string };

export interface BaselinePlan {
  backend: BackendName;
  photoUrls: string[];
  batch1Photos: number;
  batchRequests: number;
  batchSize: number;
}

export type BaselineResult =
  | {
      backend: BackendName;
      ok: true;
      loadMs: number;
      warmUpMs: number;
      batch1: RequestSample[];
      batched: RequestSample[];
      tensorsAfterLoad: number;
      tensorsAfterRuns: number;
      /** TF.js wasm flags, to show the baseline ran with the same SIMD/threads as the worker. */
      flags: Record<string, unknown>;
    }
  | { backend: BackendName; ok: false; stage: string; error: string };

export interface PageFacts {
  userAgent: string;
  hardwareConcurrency: number;
  crossOriginIsolated: boolean;
  /** What the worker's own probe reports. */
  availableBackends: BackendName[];
  model: { id: string; version: string; ref: string };
}

/** Installed on `window.fieldidBench` by bench.html. */
export interface BenchPageApi {
  facts(): Promise<PageFacts>;
  runWorker(plan: WorkerRunPlan): Promise<WorkerRunResult>;
  runBaseline(plan: BaselinePlan): Promise<BaselineResult>;
  /** The worker's own code called on the page's main thread (a diagnostic). */
  runEngineOnMainThread(plan: BaselinePlan): Promise<BaselineResult>;
}

export const BENCH_GLOBAL = 'fieldidBench';
