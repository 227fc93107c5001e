import { describe, expect, it } from 'vitest';
import type { RequestSample, WorkerRunResult } from './page/protocol';
import {
  formatReport,
  ratio,
  summarise,
  summariseAutomaticChoice,
  summariseBatched,
  summariseLongTasks,
  summariseMemory,
  summariseWorkerRun,
  targets,
  top1Agreement,
  type MemoryReading,
} from './bench-report';

/** The pure summarising behind `npm run bench`, on hand-made samples. */

function request(wallMs: number, items: [number, number, number | null][]): RequestSample {
  return {
    photos: items.length,
    wallMs,
    items: items.map(([decodeMs, inferenceMs, topIndex]) => ({
      wallMs,
      decodeMs,
      inferenceMs,
      preprocessMs: null,
      topIndex,
    })),
  };
}

describe('summarise', () => {
  it('gives median, p95 (linear interpolation), min and max, rounded to 0.1 ms', () => {
    const values = Array.from({ length: 21 }, (_, i) => i * 10 + 0.04);
    expect(summarise(values)).toEqual({ n: 21, median: 100, p95: 190, min: 0, max: 200 });
  });

  it('is null for no samples, so a missing run never reads as 0 ms', () => {
    expect(summarise([])).toBeNull();
  });
});

describe('ratio', () => {
  it('divides, rounded to 3 places, and is null when either side is missing or zero', () => {
    expect(ratio(110, 100)).toBe(1.1);
    expect(ratio(null, 100)).toBeNull();
    expect(ratio(100, 0)).toBeNull();
    expect(ratio(100, undefined)).toBeNull();
  });
});

describe('summariseBatched', () => {
  it('reports each request per photo, and throughput over all of them', () => {
    const summary = summariseBatched([
      request(
        800,
        Array.from({ length: 8 }, () => [10, 90, 1] as [number, number, number]),
      ),
      request(
        1600,
        Array.from({ length: 8 }, () => [10, 190, 1] as [number, number, number]),
      ),
    ]);
    expect(summary.requests).toBe(2);
    expect(summary.batchSize).toBe(8);
    expect(summary.photos).toBe(16);
    expect(summary.perPhotoMs).toMatchObject({ n: 2, min: 100, max: 200, median: 150 });
    expect(summary.photosPerSecond).toBe(6.67);
  });
});

describe('summariseWorkerRun', () => {
  it('passes a failure through with its stage', () => {
    const failed: WorkerRunResult = { backend: 'webgpu', ok: false, stage: 'load', error: 'x' };
    expect(summariseWorkerRun(failed)).toEqual({
      backend: 'webgpu',
      status: 'failed',
      stage: 'load',
      error: 'x',
    });
  });
});

describe('top1Agreement', () => {
  it('compares photo by photo, and an unknown class never agrees', () => {
    const a = [request(1, [[0, 0, 3]]), request(1, [[0, 0, 5]]), request(1, [[0, 0, null]])];
    const b = [request(1, [[0, 0, 3]]), request(1, [[0, 0, 6]]), request(1, [[0, 0, null]])];
    expect(top1Agreement(a, b)).toEqual({ same: 1, compared: 3 });
  });
});

describe('summariseLongTasks', () => {
  it('counts only tasks that started during the batch', () => {
    const report = summariseLongTasks('wasm', 100, { startedAt: 1000, finishedAt: 11_000 }, [
      { startTime: 500, duration: 300 },
      { startTime: 2000, duration: 50 },
      { startTime: 5000, duration: 120.04 },
    ]);
    expect(report).toMatchObject({
      count: 2,
      longestMs: 120,
      over50Ms: 1,
      batchMs: 10_000,
      photosPerSecond: 10,
    });
    expect(report.longest.map((t) => t.startTime)).toEqual([2000, 5000]);
  });
});

describe('summariseMemory', () => {
  const reading = (after: number, tensors: number, wasm: number): MemoryReading => ({
    afterClassifications: after,
    mainThreadUsedJsHeapBytes: 1000 + after,
    userAgentSpecific: null,
    workerTensors: tensors,
    workerTensorBytes: null,
    workerWasmHeapBytes: wasm,
  });

  it('separates the first batch from what keeps growing after it', () => {
    const report = summariseMemory('wasm', 5000, [
      reading(0, 107, 100),
      reading(100, 107, 300),
      reading(500, 107, 300),
    ]);
    expect(report.classifications).toBe(500);
    expect(report.growth).toMatchObject({ workerTensors: 0, workerWasmHeapBytes: 200 });
    expect(report.growthAfterFirstBatch).toMatchObject({
      workerTensors: 0,
      workerWasmHeapBytes: 0,
      mainThreadHeapBytes: 400,
      userAgentSpecificBytes: null,
    });
  });
});

describe('summariseAutomaticChoice and targets', () => {
  it('compares the chosen backend with the fastest measured, and states the targets', () => {
    const backend = (name: 'wasm' | 'webgl', median: number) =>
      summariseWorkerRun({
        backend: name,
        ok: true,
        loadMs: 1,
        warmUpMs: 1,
        loadWallMs: 1,
        batch1: [request(median, [[0, median, 1]])],
        batched: [],
        tensorsAfterLoad: 0,
        tensorsAfterRuns: 0,
      });
    const choice = summariseAutomaticChoice(
      'webgl',
      { wasm: 80, webgl: 90 },
      [backend('wasm', 80), backend('webgl', 100)],
      { trialMs: 1, activeBackendAfter: 'webgl', error: null },
    );
    expect(choice).toMatchObject({ best: 'wasm', bestMs: 80, chosenMs: 100, ratio: 0.8 });
    const stated = targets(null, choice, null);
    expect(stated.map((t) => t.met)).toEqual([null, false, null]);
    expect(stated[1]).toMatchObject({ target: '>= 0.95', measured: 0.8 });
  });
});

describe('formatReport', () => {
  it('keeps short objects on one line and parses back to the same value', () => {
    const report = {
      summary: { n: 3, median: 1.5, p95: 2, min: 1, max: 2 },
      list: Array.from({ length: 30 }, (_, i) => ({ backend: `b${i}`, ms: i })),
      missing: null,
      nan: Number.NaN,
      skipped: undefined,
    };
    const text = formatReport(report);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(report)));
    expect(text).toContain('"summary": {"n":3,"median":1.5,"p95":2,"min":1,"max":2}');
    expect(text.split('\n').every((line) => line.length <= 100)).toBe(true);
  });
});
