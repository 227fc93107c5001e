import { median, percentile } from '../src/core/stats';
import type { BackendName } from '../src/core/backend-choice';
import type { BaselineResult, PageFacts, RequestSample, WorkerRunResult } from './page/protocol';
import type { FeedbackBenchReport } from './bench-feedback';
import type { OfflineReport } from './bench-offline';

/**
 * The report `npm run bench` prints, and the pure summarising that turns raw samples into
 * it. No I/O here, so it can be unit-tested. All times in milliseconds unless the name
 * says otherwise; ratios are plain numbers. Targets are stated beside the measured
 * values and never asserted: a benchmark reports, it does not pass or fail.
 */

export interface Summary {
  n: number;
  median: number;
  p95: number;
  min: number;
  max: number;
}

/** Rounded for reading; the precision of a wall clock on a busy 2-core machine is no better. */
export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function summarise(values: readonly number[]): Summary | null {
  if (values.length === 0) return null;
  return {
    n: values.length,
    median: round(median(values)),
    p95: round(percentile(values, 95)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
  };
}

export function ratio(
  numerator: number | null | undefined,
  denominator: number | null | undefined,
) {
  if (numerator == null || denominator == null || !(denominator > 0)) return null;
  return round(numerator / denominator, 3);
}

/** Timings of requests that each held one photo. */
export interface Batch1Summary {
  photos: number;
  /** Per photo, from handing it over to its answer: what a user waits. */
  latencyMs: Summary | null;
  decodeMs: Summary | null;
  inferenceMs: Summary | null;
  /** Part of inferenceMs: pixels to input tensor. Only where it can be timed (main thread, wasm/cpu). */
  preprocessMs: Summary | null;
  photosPerSecond: number | null;
}

/** Timings of requests of several photos each. */
export interface BatchedSummary extends Batch1Summary {
  requests: number;
  batchSize: number;
  /** Each request's wall time divided by its photos: the cost of a photo inside a batch. */
  perPhotoMs: Summary | null;
  requestMs: Summary | null;
}

function photosPerSecond(requests: RequestSample[]): number | null {
  const photos = requests.reduce((sum, r) => sum + r.photos, 0);
  const ms = requests.reduce((sum, r) => sum + r.wallMs, 0);
  return ms > 0 ? round((photos * 1000) / ms, 2) : null;
}

export function summariseBatch1(requests: RequestSample[]): Batch1Summary {
  const items = requests.flatMap((r) => r.items);
  return {
    photos: items.length,
    latencyMs: summarise(items.map((i) => i.wallMs)),
    decodeMs: summarise(items.map((i) => i.decodeMs)),
    inferenceMs: summarise(items.map((i) => i.inferenceMs)),
    preprocessMs: summarise(
      items.flatMap((i) => (i.preprocessMs === null ? [] : [i.preprocessMs])),
    ),
    photosPerSecond: photosPerSecond(requests),
  };
}

export function summariseBatched(requests: RequestSample[]): BatchedSummary {
  return {
    ...summariseBatch1(requests),
    requests: requests.length,
    batchSize: requests[0]?.photos ?? 0,
    perPhotoMs: summarise(requests.map((r) => r.wallMs / r.photos)),
    requestMs: summarise(requests.map((r) => r.wallMs)),
  };
}

export type BackendReport =
  | {
      backend: BackendName;
      status: 'ok';
      loadMs: number;
      warmUpMs: number;
      /** The whole load call seen from the page, worker start-up included. */
      loadWallMs: number;
      batch1: Batch1Summary;
      batch8: BatchedSummary;
      tensors: { afterLoad: number; afterRuns: number };
    }
  | { backend: BackendName; status: 'failed'; stage: string; error: string };

export function summariseWorkerRun(run: WorkerRunResult): BackendReport {
  if (!run.ok)
    return { backend: run.backend, status: 'failed', stage: run.stage, error: run.error };
  return {
    backend: run.backend,
    status: 'ok',
    loadMs: round(run.loadMs),
    warmUpMs: round(run.warmUpMs),
    loadWallMs: round(run.loadWallMs),
    batch1: summariseBatch1(run.batch1),
    batch8: summariseBatched(run.batched),
    tensors: { afterLoad: run.tensorsAfterLoad, afterRuns: run.tensorsAfterRuns },
  };
}

export type BaselineKind = 'plain-tfjs-main-thread' | 'app-engine-main-thread';

export const BASELINE_HOW: Record<BaselineKind, string> = {
  'plain-tfjs-main-thread':
    'The baseline. Plain TF.js on the page main thread: loadGraphModel(model.json URL), ' +
    'createImageBitmap + tf.browser.fromPixels, centre crop, resizeBilinear, normalise, ' +
    'predict, await data().',
  'app-engine-main-thread':
    "Diagnostic. The worker's own code (validation, canvas decode with thumbnail, the shared " +
    'engine and preprocessing) called directly on the page main thread, without the worker.',
};

export type BaselineReport =
  | {
      kind: BaselineKind;
      backend: BackendName;
      status: 'ok';
      how: string;
      loadMs: number;
      warmUpMs: number;
      batch1: Batch1Summary;
      batch8: BatchedSummary;
      tensors: { afterLoad: number; afterRuns: number };
      flags: Record<string, unknown>;
      /** The worker run on the same backend against this one (worker ÷ this), same photos. */
      workerVsThis: {
        batch1Latency: number | null;
        batch1Inference: number | null;
        batch8PerPhoto: number | null;
        /** Photos whose top-1 class is the same in both runs (same photos, same order). */
        top1Agreement: { same: number; compared: number };
      } | null;
    }
  | { kind: BaselineKind; backend: BackendName; status: 'failed'; stage: string; error: string };

export function summariseBaseline(
  kind: BaselineKind,
  baseline: BaselineResult,
  worker: WorkerRunResult | undefined,
): BaselineReport {
  if (!baseline.ok) {
    return {
      kind,
      backend: baseline.backend,
      status: 'failed',
      stage: baseline.stage,
      error: baseline.error,
    };
  }
  const mine = {
    batch1: summariseBatch1(baseline.batch1),
    batch8: summariseBatched(baseline.batched),
  };
  let workerVsThis = null;
  if (worker?.ok) {
    const theirs = {
      batch1: summariseBatch1(worker.batch1),
      batch8: summariseBatched(worker.batched),
    };
    workerVsThis = {
      batch1Latency: ratio(theirs.batch1.latencyMs?.median, mine.batch1.latencyMs?.median),
      batch1Inference: ratio(theirs.batch1.inferenceMs?.median, mine.batch1.inferenceMs?.median),
      batch8PerPhoto: ratio(theirs.batch8.perPhotoMs?.median, mine.batch8.perPhotoMs?.median),
      top1Agreement: top1Agreement(
        [...worker.batch1, ...worker.batched],
        [...baseline.batch1, ...baseline.batched],
      ),
    };
  }
  return {
    kind,
    backend: baseline.backend,
    status: 'ok',
    how: BASELINE_HOW[kind],
    loadMs: round(baseline.loadMs),
    warmUpMs: round(baseline.warmUpMs),
    ...mine,
    tensors: { afterLoad: baseline.tensorsAfterLoad, afterRuns: baseline.tensorsAfterRuns },
    flags: baseline.flags,
    workerVsThis,
  };
}

export function top1Agreement(
  a: RequestSample[],
  b: RequestSample[],
): { same: number; compared: number } {
  const left = a.flatMap((r) => r.items.map((i) => i.topIndex));
  const right = b.flatMap((r) => r.items.map((i) => i.topIndex));
  const compared = Math.min(left.length, right.length);
  let same = 0;
  for (let i = 0; i < compared; i++) if (left[i] !== null && left[i] === right[i]) same++;
  return { same, compared };
}

/** One photo chosen in the real app: what `data-total-ms` says, and the worker's own share. */
export interface EndToEndSample {
  file: string;
  totalMs: number;
  /** decode + inference as the result shows it, when it could be read. */
  workerMs: number | null;
}

export interface EndToEndReport {
  backend: BackendName;
  photos: number;
  /** The first photo after the model was ready, not in the figures below. */
  firstPhotoMs: number | null;
  totalMs: Summary | null;
  workerMs: Summary | null;
  /** total - worker per photo: messaging, React, the wait for the next frame. */
  outsideWorkerMs: Summary | null;
  rawCallMs: number | null;
  ratio: number | null;
}

export function summariseEndToEnd(
  backend: BackendName,
  first: EndToEndSample | null,
  samples: EndToEndSample[],
  rawCallMs: number | null,
): EndToEndReport {
  const total = summarise(samples.map((s) => s.totalMs));
  const split = samples.filter((s) => s.workerMs !== null);
  return {
    backend,
    photos: samples.length,
    firstPhotoMs: first === null ? null : round(first.totalMs),
    totalMs: total,
    workerMs: summarise(split.map((s) => s.workerMs!)),
    outsideWorkerMs: summarise(split.map((s) => s.totalMs - s.workerMs!)),
    rawCallMs: rawCallMs === null ? null : round(rawCallMs),
    ratio: ratio(total?.median, rawCallMs),
  };
}

/** Medians at batch 1 over the same photos (the end-to-end set), one step at a time. */
export interface StepMedians {
  latencyMs: number | null;
  decodeMs: number | null;
  inferenceMs: number | null;
  preprocessMs: number | null;
}

export interface TimeBreakdown {
  backend: BackendName;
  photos: number;
  plainTfjsMainThread: StepMedians | null;
  appEngineMainThread: StepMedians | null;
  appEngineInWorker: StepMedians | null;
  appEndToEnd: { totalMs: number | null; workerShownMs: number | null } | null;
  /** Differences of the medians above: what each layer adds. */
  addedMs: {
    appPipelineOverPlainTfjs: number | null;
    /** The part of the line above that is preprocessing (pixels to input tensor). */
    appPreprocessingOverPlainTfjs: number | null;
    workerOverMainThread: number | null;
    pageOverWorker: number | null;
  };
}

function stepMedians(requests: RequestSample[] | undefined, photos: number): StepMedians | null {
  if (requests === undefined) return null;
  const items = requests.slice(0, photos).flatMap((r) => r.items);
  const mid = (values: number[]) => (values.length === 0 ? null : round(median(values)));
  return {
    latencyMs: mid(items.map((i) => i.wallMs)),
    decodeMs: mid(items.map((i) => i.decodeMs)),
    inferenceMs: mid(items.map((i) => i.inferenceMs)),
    preprocessMs: mid(items.flatMap((i) => (i.preprocessMs === null ? [] : [i.preprocessMs]))),
  };
}

export function breakDownTime(
  backend: BackendName,
  photos: number,
  runs: {
    plain: BaselineResult | undefined;
    engine: BaselineResult | undefined;
    worker: WorkerRunResult | undefined;
    endToEnd: EndToEndReport | null;
  },
): TimeBreakdown {
  const plain = stepMedians(runs.plain?.ok ? runs.plain.batch1 : undefined, photos);
  const engine = stepMedians(runs.engine?.ok ? runs.engine.batch1 : undefined, photos);
  const worker = stepMedians(runs.worker?.ok ? runs.worker.batch1 : undefined, photos);
  const endToEnd = runs.endToEnd
    ? {
        totalMs: runs.endToEnd.totalMs?.median ?? null,
        workerShownMs: runs.endToEnd.workerMs?.median ?? null,
      }
    : null;
  const minus = (a: number | null | undefined, b: number | null | undefined) =>
    a == null || b == null ? null : round(a - b);
  return {
    backend,
    photos,
    plainTfjsMainThread: plain,
    appEngineMainThread: engine,
    appEngineInWorker: worker,
    appEndToEnd: endToEnd,
    addedMs: {
      appPipelineOverPlainTfjs: minus(engine?.latencyMs, plain?.latencyMs),
      appPreprocessingOverPlainTfjs: minus(engine?.preprocessMs, plain?.preprocessMs),
      workerOverMainThread: minus(worker?.latencyMs, engine?.latencyMs),
      pageOverWorker: minus(endToEnd?.totalMs, worker?.latencyMs),
    },
  };
}

export interface LongTask {
  startTime: number;
  duration: number;
}

export interface LongTaskReport {
  backend: BackendName;
  photos: number;
  batchMs: number;
  photosPerSecond: number;
  count: number;
  longestMs: number | null;
  over50Ms: number;
  totalMs: number;
  /** The longest few, in order of time, for finding them again in a trace. */
  longest: LongTask[];
}

/** Tasks that started inside the batch; `longtask` entries are 50 ms or more by definition. */
export function summariseLongTasks(
  backend: BackendName,
  photos: number,
  batch: { startedAt: number; finishedAt: number },
  tasks: LongTask[],
): LongTaskReport {
  const inside = tasks.filter(
    (t) => t.startTime >= batch.startedAt && t.startTime <= batch.finishedAt,
  );
  const batchMs = batch.finishedAt - batch.startedAt;
  return {
    backend,
    photos,
    batchMs: round(batchMs),
    photosPerSecond: round((photos * 1000) / batchMs, 2),
    count: inside.length,
    longestMs: inside.length === 0 ? null : round(Math.max(...inside.map((t) => t.duration))),
    over50Ms: inside.filter((t) => t.duration > 50).length,
    totalMs: round(inside.reduce((sum, t) => sum + t.duration, 0)),
    longest: [...inside]
      .sort((a, b) => b.duration - a.duration)
      .slice(0, 5)
      .sort((a, b) => a.startTime - b.startTime)
      .map((t) => ({ startTime: round(t.startTime), duration: round(t.duration) })),
  };
}

/** A memory reading taken on the app page, once idle. */
export interface MemoryReading {
  afterClassifications: number;
  /** performance.memory (page main thread only), after a forced GC. */
  mainThreadUsedJsHeapBytes: number | null;
  /** performance.measureUserAgentSpecificMemory(): the page and its workers, wasm memory included. */
  userAgentSpecific: {
    totalBytes: number;
    byScope: Record<string, number>;
    byType: Record<string, number>;
  } | null;
  workerTensors: number | null;
  workerTensorBytes: number | null;
  /** The worker's wasm memory: it grows to the largest batch seen and never shrinks. */
  workerWasmHeapBytes: number | null;
}

export interface MemoryReport {
  backend: BackendName;
  classifications: number;
  batchMs: number;
  readings: MemoryReading[];
  /** From the first reading to the last. */
  growth: {
    workerTensors: number | null;
    mainThreadHeapBytes: number | null;
    userAgentSpecificBytes: number | null;
    workerWasmHeapBytes: number | null;
  };
  /** From the second reading to the last: what keeps growing once every buffer has its size. */
  growthAfterFirstBatch: MemoryReport['growth'] | null;
}

function memoryGrowth(from: MemoryReading, to: MemoryReading): MemoryReport['growth'] {
  const diff = (a: number | null | undefined, b: number | null | undefined) =>
    a == null || b == null ? null : b - a;
  return {
    workerTensors: diff(from.workerTensors, to.workerTensors),
    mainThreadHeapBytes: diff(from.mainThreadUsedJsHeapBytes, to.mainThreadUsedJsHeapBytes),
    userAgentSpecificBytes: diff(
      from.userAgentSpecific?.totalBytes,
      to.userAgentSpecific?.totalBytes,
    ),
    workerWasmHeapBytes: diff(from.workerWasmHeapBytes, to.workerWasmHeapBytes),
  };
}

export function summariseMemory(
  backend: BackendName,
  batchMs: number,
  readings: MemoryReading[],
): MemoryReport {
  const first = readings[0]!;
  const last = readings.at(-1)!;
  return {
    backend,
    classifications: last.afterClassifications,
    batchMs: round(batchMs),
    readings,
    growth: memoryGrowth(first, last),
    growthAfterFirstBatch: readings.length > 2 ? memoryGrowth(readings[1]!, last) : null,
  };
}

export interface AutomaticChoiceReport {
  chosen: BackendName | null;
  /** What the app's own idle-time trial measured (warm inference on zeros, batch 1). */
  trialMediansMs: Record<string, number | null> | null;
  /** Batch-1 latency medians measured by this benchmark, per backend. */
  measuredMediansMs: Record<string, number | null>;
  best: BackendName | null;
  bestMs: number | null;
  chosenMs: number | null;
  /** best ÷ chosen: 1 when the choice is the fastest measured here. */
  ratio: number | null;
  /** From the first result on screen to the trial's figures in Settings. */
  trialMs: number | null;
  activeBackendAfter: string | null;
  error: string | null;
}

export function summariseAutomaticChoice(
  chosen: BackendName | null,
  trialMediansMs: Record<string, number | null> | null,
  backends: BackendReport[],
  extra: { trialMs: number | null; activeBackendAfter: string | null; error: string | null },
): AutomaticChoiceReport {
  const measured: Record<string, number | null> = {};
  for (const b of backends) {
    measured[b.backend] = b.status === 'ok' ? (b.batch1.latencyMs?.median ?? null) : null;
  }
  const timed = Object.entries(measured).filter((e): e is [string, number] => e[1] !== null);
  const best = timed.reduce<[string, number] | null>(
    (a, b) => (a === null || b[1] < a[1] ? b : a),
    null,
  );
  const chosenMs = chosen === null ? null : (measured[chosen] ?? null);
  return {
    chosen,
    trialMediansMs:
      trialMediansMs === null
        ? null
        : Object.fromEntries(
            Object.entries(trialMediansMs).map(([b, ms]) => [b, ms === null ? null : round(ms)]),
          ),
    measuredMediansMs: measured,
    best: (best?.[0] as BackendName | undefined) ?? null,
    bestMs: best?.[1] ?? null,
    chosenMs,
    ratio: ratio(best?.[1], chosenMs),
    ...extra,
    trialMs: extra.trialMs === null ? null : round(extra.trialMs),
  };
}

export interface NodeRunReport {
  batchSize: number;
  photos: number;
  failed: number;
  seconds: number;
  photosPerSecond: number;
  /** Per photo as the CLI prints it (decode + its share of the batch's inference). */
  msPerPhoto: Summary | null;
  /** The machine's 1-minute load average when the run started. */
  loadAverage1m: number;
}

export interface NodeReport {
  backend: string;
  photoSet: string;
  /** openNodeModel: wasm start, reading and checking the files, graph, warm-up. */
  openMs: number;
  inProcess: NodeRunReport[];
  /** `npm run classify` as a user runs it (node + tsx start-up, model load included). */
  command: {
    argv: string[];
    batchSize: number;
    photos: number;
    seconds: number;
    photosPerSecond: number;
    exitCode: number | null;
    loadAverage1m: number;
  } | null;
}

export interface Phase {
  name: string;
  startedAtSeconds: number;
  seconds: number;
  loadAverage1m: number;
}

export interface Target {
  what: string;
  target: string;
  measured: number | null;
  /** Informational only: nothing fails on it. */
  met: boolean | null;
}

export function targets(
  endToEnd: EndToEndReport | null,
  choice: AutomaticChoiceReport | null,
  longTasks: LongTaskReport | null,
): Target[] {
  const check = (value: number | null | undefined, ok: (v: number) => boolean) =>
    value == null ? null : ok(value);
  return [
    {
      what: 'end-to-end time ÷ raw model call on the same backend (medians, wasm)',
      target: '<= 1.1',
      measured: endToEnd?.ratio ?? null,
      met: check(endToEnd?.ratio, (v) => v <= 1.1),
    },
    {
      what: 'automatic choice speed ÷ best backend measured here (best ms ÷ chosen ms)',
      target: '>= 0.95',
      measured: choice?.ratio ?? null,
      met: check(choice?.ratio, (v) => v >= 0.95),
    },
    {
      what: 'main-thread long tasks over 50 ms during a batch',
      target: '0',
      measured: longTasks?.over50Ms ?? null,
      met: check(longTasks?.over50Ms, (v) => v === 0),
    },
  ];
}

export interface BenchReport {
  schema: 'fieldid-bench/1';
  date: string;
  durationSeconds: number;
  machine: {
    cpu: string;
    cores: number;
    memoryGiB: number;
    platform: string;
    node: string;
    /** 1, 5 and 15-minute load averages: above the core count, other work competed. */
    loadAverage: { start: number[]; end: number[] };
    chromium: string | null;
    page: Omit<PageFacts, 'model'> | null;
  };
  model: PageFacts['model'] | null;
  targets: Target[];
  browser: {
    availableBackends: BackendName[];
    /** How many photos each backend got, and why so few on the slow ones. */
    plan: Record<string, { batch1Photos: number; batch8Requests: number }>;
    backends: BackendReport[];
    baselines: BaselineReport[];
    endToEnd: EndToEndReport | null;
    whereTheTimeGoes: TimeBreakdown | null;
    automaticChoice: AutomaticChoiceReport | null;
    longTasks: LongTaskReport | null;
    memory: MemoryReport | null;
    /** The app's service worker when the app runs started ('none' when the build has none). */
    appServiceWorker: string | null;
    /** Each phase with the machine's 1-minute load average when it started (noise on a shared box). */
    phases: Phase[];
    errors: string[];
  };
  node: NodeReport | null;
  offline: OfflineReport | null;
  feedback: FeedbackBenchReport | null;
  notes: string[];
}

/**
 * JSON with every object or array that fits on one line written on one line, so a summary
 * like {"n","median","p95","min","max"} reads at a glance. Parses to the same value as
 * JSON.stringify's output.
 */
export function formatReport(value: unknown, indent = '', keyLength = 0): string {
  const flat = JSON.stringify(value) ?? 'null';
  const fits = indent.length + keyLength + flat.length <= REPORT_LINE_WIDTH;
  if (value === null || typeof value !== 'object' || fits) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    const items = value.map((item) => inner + formatReport(item, inner));
    return `[\n${items.join(',\n')}\n${indent}]`;
  }
  const fields = Object.entries(value)
    .filter(([, field]) => field !== undefined)
    .map(([key, field]) => {
      const head = `${JSON.stringify(key)}: `;
      return inner + head + formatReport(field, inner, head.length);
    });
  return `{\n${fields.join(',\n')}\n${indent}}`;
}

const REPORT_LINE_WIDTH = 100;
