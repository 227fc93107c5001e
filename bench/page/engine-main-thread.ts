import { DEFAULT_TOP_K } from '../../src/core/answer';
import type { ModelEntry } from '../../src/core/model-manifest';
import { tensorCount } from '../../src/model/backend';
import { createEngine, type Engine, type PreparedPhoto } from '../../src/model/engine';
import { activateBrowserBackend } from '../../src/worker/backend-activation';
import { decodePhoto } from '../../src/worker/decode-image';
import { httpFileReader } from '../../src/worker/model-files';
import { toModelInput } from '../../src/model/preprocess';
import { pickFlags, syncBackend } from './baseline';
import { fetchPhotos, progress, requestsOf, type HeldPhoto } from './photos';
import type { BaselinePlan, BaselineResult, PhotoSample, RequestSample } from './protocol';

/**
 * A diagnostic between the baseline and the worker: the worker's own code (validation,
 * canvas decode with thumbnail, backend activation with its wasm binaries, the shared
 * engine and preprocessing) called directly on this page's main thread. Baseline -> this isolates the cost of the app's pipeline;
 * this -> the worker isolates the cost of the worker and its messaging.
 */
export async function runEngineOnMainThread(
  entry: ModelEntry,
  plan: BaselinePlan,
): Promise<BaselineResult> {
  const { backend } = plan;
  const failed = (stage: string, error: string): BaselineResult => ({
    backend,
    ok: false,
    stage,
    error,
  });
  const photos = await fetchPhotos(plan.photoUrls);
  const engine = createEngine({
    activateBackend: activateBrowserBackend,
    fileReader: httpFileReader,
  });
  progress(`engine on main thread ${backend}: loading`);
  const loaded = await engine.load(entry, [backend]);
  if (!loaded.ok) return failed('load', `${loaded.error.code}: ${loaded.error.detail ?? ''}`);
  if (loaded.value.backend !== backend)
    return failed('load', `fell back to ${loaded.value.backend}`);
  const tensorsAfterLoad = tensorCount();
  try {
    const batch1: RequestSample[] = [];
    for (const request of requestsOf(photos, plan.batch1Photos, 1)) {
      batch1.push(await classify(engine, entry, request));
    }
    const batched: RequestSample[] = [];
    for (const request of requestsOf(photos, plan.batchRequests, plan.batchSize)) {
      batched.push(await classify(engine, entry, request));
    }
    progress(`engine on main thread ${backend}: done`);
    return {
      backend,
      ok: true,
      loadMs: loaded.value.loadMs,
      warmUpMs: loaded.value.warmUpMs,
      batch1,
      batched,
      tensorsAfterLoad,
      tensorsAfterRuns: tensorCount(),
      flags: pickFlags(),
    };
  } catch (error) {
    return failed('classify', String(error));
  }
}

/** What the worker does for one micro-batch: decode each photo, then classify them together. */
async function classify(
  engine: Engine,
  entry: ModelEntry,
  photos: HeldPhoto[],
): Promise<RequestSample> {
  const started = performance.now();
  const prepared: PreparedPhoto[] = [];
  for (const photo of photos) {
    const decodeStarted = performance.now();
    const decoded = await decodePhoto({ kind: 'blob', blob: photo.blob }, entry.input.size);
    if (!decoded.ok) throw new Error(`${photo.name}: ${decoded.error.code}`);
    const { image, width, height, warnings } = decoded.value;
    prepared.push({ image, width, height, warnings, decodeMs: performance.now() - decodeStarted });
  }
  const results = await engine.classify(prepared, DEFAULT_TOP_K);
  if (!results.ok) throw new Error(results.error.code);
  const wallMs = performance.now() - started;
  // The engine does not time its preprocessing apart: do it once more, outside the wall time.
  const preprocessMs = prepared.map((photo) => {
    if (!syncBackend()) return null;
    const before = performance.now();
    toModelInput(photo.image, entry.input).dispose();
    return performance.now() - before;
  });
  const items: PhotoSample[] = results.value.map((result, i) => ({
    wallMs,
    decodeMs: prepared[i]!.decodeMs,
    inferenceMs: result.timings.inferenceMs,
    preprocessMs: preprocessMs[i] ?? null,
    topIndex: result.rawTop[0]?.index ?? null,
  }));
  return { photos: photos.length, wallMs, items };
}
