import { fail, ok, type Result } from '../core/errors';
import type { ModelEntry } from '../core/model-manifest';
import type { FileReader } from '../model/artifacts';
import { createEngine, type PreparedPhoto } from '../model/engine';
import type { RgbaImage } from '../model/preprocess';
import { activateNodeBackend } from '../node/inference/node-model';
import {
  entryOf,
  LABELS_FILE,
  readModelFolder,
  type FolderFile,
  type ModelFolder,
} from '../node/model-folder';
import { checkGraph } from './graph-checks';

/**
 * The check `npm run model -- add` makes before it registers anything: the folder is read
 * once, its model.json is compared with its card, and the graph is loaded from those very
 * bytes and run once, so what is registered is exactly what was seen to work.
 */

/**
 * How far from 1 a probability output may sum: float32 rounding over a few thousand classes
 * stays far inside it, while logits or a missing softmax land far outside.
 */
const PROBABILITY_SUM_TOLERANCE = 0.01;

/** Reads the folder's files from memory, never from disk again. */
export function memoryReader(files: readonly FolderFile[]): FileReader {
  const byPath = new Map(files.map((file) => [file.path, file.data]));
  return async (path, onBytes) => {
    const data = byPath.get(path);
    if (data === undefined) throw new Error(`${path} is not in the folder`);
    onBytes(data.byteLength);
    return data.slice().buffer as ArrayBuffer;
  };
}

/** A photo that is neither blank nor uniform, so the graph computes something real. */
export function syntheticPhoto(size: number): PreparedPhoto {
  const data = new Uint8ClampedArray(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      data[i] = (x * 255) / size;
      data[i + 1] = (y * 255) / size;
      data[i + 2] = ((x + y) * 127) / size;
      data[i + 3] = 255;
    }
  }
  const image: RgbaImage = { data, width: size, height: size };
  return { image, width: size, height: size, warnings: [], decodeMs: 0 };
}

/** The entry to load for the smoke run: the outputs as the graph gives them, before any calibration. */
function uncalibratedEntry(folder: ModelFolder): ModelEntry {
  const entry = entryOf(folder);
  const labels: ModelEntry['labels'] = { ...entry.labels };
  delete labels.temperature;
  return { ...entry, labels };
}

/** Whether one output of the smoke run is what the card and the labels promise. */
export function checkSmokeOutput(output: Float32Array, folder: ModelFolder): Result<void> {
  const { card, labelLines } = folder;
  if (output.length !== labelLines.length || output.length !== card.output.classes) {
    return fail(
      'MODEL_LABELS_MISMATCH',
      `the smoke inference gave ${output.length} values, ${LABELS_FILE} has ${labelLines.length} lines and the card ${card.output.classes} classes`,
    );
  }
  const bad = output.findIndex((value) => !Number.isFinite(value));
  if (bad !== -1) {
    return fail('MODEL_INVALID', `the smoke inference gave ${output[bad]} at output ${bad}`);
  }
  if (!card.output.isProbability) return ok(undefined);
  const negative = output.findIndex((value) => value < 0);
  if (negative !== -1) {
    return fail(
      'MODEL_INVALID',
      `the card says probabilities, the smoke inference gave ${output[negative]} at output ${negative}`,
    );
  }
  const sum = output.reduce((total, value) => total + value, 0);
  if (Math.abs(sum - 1) > PROBABILITY_SUM_TOLERANCE) {
    return fail(
      'MODEL_INVALID',
      `the card says probabilities, the smoke inference's outputs sum to ${sum.toFixed(4)}`,
    );
  }
  return ok(undefined);
}

export async function validateModelFolder(dir: string, id: string): Promise<Result<ModelFolder>> {
  const read = await readModelFolder(dir, id);
  if (!read.ok) return read;
  const folder = read.value;
  const graph = checkGraph(folder);
  if (!graph.ok) return fail(graph.error.code, `${id}: ${graph.error.detail}`);
  const smoke = await smokeRun(folder);
  return smoke.ok ? ok(folder) : fail(smoke.error.code, `${id}: ${smoke.error.detail}`);
}

/** Loads the graph from memory on wasm and runs one photo of the card's input size through it. */
async function smokeRun(folder: ModelFolder): Promise<Result<void>> {
  // Started alone first, so that a backend that cannot start is not blamed on the folder.
  if (!(await activateNodeBackend('wasm'))) {
    return fail('BACKEND_UNAVAILABLE', 'the wasm backend did not start');
  }
  const engine = createEngine({
    activateBackend: activateNodeBackend,
    fileReader: () => memoryReader(folder.files),
  });
  try {
    const loaded = await engine.load(uncalibratedEntry(folder), ['wasm']);
    if (!loaded.ok) {
      // The engine gives up on a backend without saying why: a graph TF.js cannot build or run.
      const detail =
        loaded.error.code === 'BACKEND_UNAVAILABLE'
          ? 'TF.js could not build or run the graph of model.json with its weights'
          : (loaded.error.detail ?? loaded.error.message);
      return fail('MODEL_LOAD_FAILED', detail);
    }
    const inferred = await engine.infer([syntheticPhoto(folder.card.input.size)]);
    if (!inferred.ok) {
      return fail('MODEL_LOAD_FAILED', `the smoke inference failed: ${inferred.error.detail}`);
    }
    return checkSmokeOutput(inferred.value.outputs[0]!, folder);
  } finally {
    engine.unload();
  }
}
