import { DEFAULT_TOP_K } from '../../src/core/answer';
import type { ModelEntry } from '../../src/core/model-manifest';
import { createInferenceBridge, type InferenceBridge } from '../../src/worker/api/bridge';
import type { ClassifyItem, ItemResult } from '../../src/worker/api/protocol';
import { fetchPhotos, progress, requestsOf, type HeldPhoto } from './photos';
import type { PhotoSample, RequestSample, WorkerRunPlan, WorkerRunResult } from './protocol';

/**
 * The worker path exactly as the app uses it: a fresh bridge (and so a fresh worker)
 * pinned to one backend, photos handed over as Blobs, timings read from the replies.
 */
export async function runWorker(entry: ModelEntry, plan: WorkerRunPlan): Promise<WorkerRunResult> {
  const { backend } = plan;
  const failed = (stage: string, error: string): WorkerRunResult => ({
    backend,
    ok: false,
    stage,
    error,
  });
  const photos = await fetchPhotos(plan.photoUrls);
  const bridge = createInferenceBridge();
  try {
    progress(`worker ${backend}: loading`);
    const started = performance.now();
    const loaded = await bridge.load(entry, [backend]);
    const loadWallMs = performance.now() - started;
    if (!loaded.ok) return failed('load', `${loaded.error.code}: ${loaded.error.detail ?? ''}`);
    if (loaded.value.backend !== backend) {
      return failed('load', `fell back to ${loaded.value.backend}`);
    }
    const afterLoad = await bridge.stats();
    progress(
      `worker ${backend}: loaded in ${loaded.value.loadMs.toFixed(0)} ms, warm-up ${loaded.value.warmUpMs.toFixed(0)} ms`,
    );

    const batch1: RequestSample[] = [];
    for (const request of requestsOf(photos, plan.batch1Photos, 1)) {
      batch1.push(await classify(bridge, request));
    }
    progress(`worker ${backend}: ${batch1.length} photos at batch 1`);
    const batched: RequestSample[] = [];
    for (const request of requestsOf(photos, plan.batchRequests, plan.batchSize)) {
      batched.push(await classify(bridge, request));
    }
    progress(`worker ${backend}: ${batched.length} requests of ${plan.batchSize}`);
    const afterRuns = await bridge.stats();
    if (!afterLoad.ok || !afterRuns.ok) return failed('stats', 'no stats reply');
    return {
      backend,
      ok: true,
      loadMs: loaded.value.loadMs,
      warmUpMs: loaded.value.warmUpMs,
      loadWallMs,
      batch1,
      batched,
      tensorsAfterLoad: afterLoad.value.numTensors,
      tensorsAfterRuns: afterRuns.value.numTensors,
    };
  } catch (error) {
    return failed('classify', String(error));
  } finally {
    bridge.terminate();
  }
}

/** One request; each photo's wall time runs from the request to its own answer. */
async function classify(bridge: InferenceBridge, photos: HeldPhoto[]): Promise<RequestSample> {
  const items: ClassifyItem[] = photos.map((photo, i) => ({
    itemId: String(i),
    name: photo.name,
    source: { kind: 'blob', blob: photo.blob },
  }));
  const answers = new Map<string, { result: ItemResult; at: number }>();
  const started = performance.now();
  const done = await bridge.classify(items, {
    topK: DEFAULT_TOP_K,
    onItem: (itemId, result) => answers.set(itemId, { result, at: performance.now() }),
  });
  const wallMs = performance.now() - started;
  if (!done.ok) throw new Error(`${done.error.code}: ${done.error.detail ?? ''}`);
  const samples: PhotoSample[] = items.map((item) => {
    const answer = answers.get(item.itemId);
    if (answer === undefined) throw new Error(`${item.name}: no answer`);
    const { result, at } = answer;
    if (!result.ok) throw new Error(`${item.name}: ${result.error.code}`);
    return {
      wallMs: at - started,
      decodeMs: result.value.timings.decodeMs,
      inferenceMs: result.value.timings.inferenceMs,
      preprocessMs: null,
      topIndex: result.value.rawTop[0]?.index ?? null,
    };
  });
  return { photos: photos.length, wallMs, items: samples };
}
