import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { fileUrl, type ModelEntry } from '../../src/core/model-manifest';
import { argMax, fetchPhotos, progress, requestsOf, type HeldPhoto } from './photos';
import type { BaselinePlan, BaselineResult, PhotoSample, RequestSample } from './protocol';
import { pointWasmAt } from '../../src/model/backend';
import { WASM_PATHS } from '../../src/worker/backend-activation';

/**
 * The baseline: the same model.json called with plain TF.js on the main thread, the way a
 * tutorial would (loadGraphModel from its URL, createImageBitmap + fromPixels, centre crop,
 * resize, normalise, predict, read back), with none of the app's worker, validation or
 * messaging. The wasm binaries are the same build assets the worker uses.
 */
export async function runBaseline(entry: ModelEntry, plan: BaselinePlan): Promise<BaselineResult> {
  const { backend } = plan;
  const failed = (stage: string, error: string): BaselineResult => ({
    backend,
    ok: false,
    stage,
    error,
  });
  if (backend === 'wasm') pointWasmAt(WASM_PATHS);
  try {
    if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend) {
      return failed('backend', `${backend} did not start`);
    }
    await tf.ready();
  } catch (error) {
    return failed('backend', String(error));
  }
  const photos = await fetchPhotos(plan.photoUrls);
  progress(`baseline ${backend}: loading`);
  let started = performance.now();
  let model: GraphModel;
  try {
    model = await loadGraphModel(fileUrl(entry, entry.modelFile));
  } catch (error) {
    return failed('load', String(error));
  }
  const loadMs = performance.now() - started;
  try {
    const { size } = entry.input;
    started = performance.now();
    const zeros = tf.zeros([1, size, size, 3]);
    const warm = model.predict(zeros) as tf.Tensor;
    await warm.data();
    tf.dispose([zeros, warm]);
    const warmUpMs = performance.now() - started;
    const tensorsAfterLoad = tf.memory().numTensors;
    progress(
      `baseline ${backend}: loaded in ${loadMs.toFixed(0)} ms, warm-up ${warmUpMs.toFixed(0)} ms`,
    );

    const batch1: RequestSample[] = [];
    for (const request of requestsOf(photos, plan.batch1Photos, 1)) {
      batch1.push(await classify(model, entry, request));
    }
    const batched: RequestSample[] = [];
    for (const request of requestsOf(photos, plan.batchRequests, plan.batchSize)) {
      batched.push(await classify(model, entry, request));
    }
    progress(`baseline ${backend}: ${batch1.length} photos at batch 1, ${batched.length} batches`);
    return {
      backend,
      ok: true,
      loadMs,
      warmUpMs,
      batch1,
      batched,
      tensorsAfterLoad,
      tensorsAfterRuns: tf.memory().numTensors,
      flags: pickFlags(),
    };
  } catch (error) {
    return failed('classify', String(error));
  } finally {
    model.dispose();
  }
}

/** Decodes, preprocesses and classifies `photos` as one batch. */
async function classify(
  model: GraphModel,
  entry: ModelEntry,
  photos: HeldPhoto[],
): Promise<RequestSample> {
  const started = performance.now();
  const pixels: tf.Tensor3D[] = [];
  for (const photo of photos) {
    const bitmap = await createImageBitmap(photo.blob, { imageOrientation: 'from-image' });
    pixels.push(tf.browser.fromPixels(bitmap));
    bitmap.close();
  }
  const decoded = performance.now();
  const batch = tf.tidy(() => tf.stack(pixels.map((p) => toInput(p, entry))));
  // wasm and cpu run kernels synchronously, so this is the preprocessing's real cost.
  const preprocessed = performance.now();
  tf.dispose(pixels);
  const output = model.predict(batch) as tf.Tensor2D;
  const values = await output.data();
  tf.dispose([batch, output]);
  const finished = performance.now();
  const classes = entry.output.classes;
  const items: PhotoSample[] = photos.map((_, i) => ({
    wallMs: finished - started,
    decodeMs: (decoded - started) / photos.length,
    inferenceMs: (finished - decoded) / photos.length,
    preprocessMs: syncBackend() ? (preprocessed - decoded) / photos.length : null,
    topIndex: argMax(values.subarray(i * classes, (i + 1) * classes)),
  }));
  return { photos: photos.length, wallMs: finished - started, items };
}

/** Centre square, bilinear resize to the input size, pixel values onto the model card's range. */
function toInput(pixels: tf.Tensor3D, entry: ModelEntry): tf.Tensor3D {
  const [height, width] = pixels.shape;
  const side = Math.min(width, height);
  const top = Math.floor((height - side) / 2);
  const left = Math.floor((width - side) / 2);
  const square = tf.cast(tf.slice(pixels, [top, left, 0], [side, side, 3]), 'float32');
  const { size, range } = entry.input;
  const resized = tf.image.resizeBilinear(square, [size, size]);
  const [low, high] = range;
  return tf.add(tf.mul(resized, (high - low) / 255), low) as tf.Tensor3D;
}

/** Backends whose kernels finish before the call returns, so a wall clock times them. */
export function syncBackend(): boolean {
  return ['wasm', 'cpu'].includes(tf.getBackend());
}

export function pickFlags(): Record<string, unknown> {
  const flags = tf.env().getFlags();
  return Object.fromEntries(Object.entries(flags).filter(([name]) => name.startsWith('WASM')));
}
