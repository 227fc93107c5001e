import { fail, ok, type Result } from '../core/errors';
import { splitLabelLines } from '../core/labels';
import type { ModelEntry } from '../core/model-manifest';
import { formatModelRef } from '../core/model-ref';
import type { FileReader } from '../model/artifacts';
import { createEngine, type PreparedPhoto } from '../model/engine';
import type { RgbaImage } from '../model/preprocess';
import { activateNodeBackend } from '../node/inference/node-model';
import {
  entryOf,
  LABELS_FILE,
  MODEL_FILE,
  readModelFolder,
  sha256Hex,
  type FolderFile,
  type ModelFolder,
} from '../node/model-folder';
import type { ModelRegistryService, RegisteredVersion } from '../server/registry/registry';
import { checkGraph, graphOutputNode, withShapeProbe } from './graph-checks';

/**
 * The checks a version passes before it is registered (`npm run model -- add`) and before a
 * channel points at it (`rollout`, `promote`): its model.json is compared with its card, and
 * the graph is loaded from the very bytes that are (or will be) served and run once, so what
 * devices get is exactly what was seen to work. A version the server registered at start
 * from MODELS_DIR was never run (the server has no TF.js): this is where it first is.
 */

/**
 * How far from 1 a probability output may sum: float32 rounding over a few thousand classes
 * stays far inside it, while logits or a missing softmax land far outside.
 */
const PROBABILITY_SUM_TOLERANCE = 0.01;

/** Reads the version's files from memory, never from disk again. */
function memoryReader(files: readonly FolderFile[]): FileReader {
  const byPath = new Map(files.map((file) => [file.path, file.data]));
  return async (path, onBytes) => {
    const data = byPath.get(path);
    if (data === undefined) throw new Error(`${path} is not in the folder`);
    onBytes(data.byteLength);
    return data.slice().buffer as ArrayBuffer;
  };
}

/** A photo that is neither blank nor uniform, so the graph computes something real. */
function syntheticPhoto(size: number): PreparedPhoto {
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

/**
 * Whether the size of the graph's raw output is what the labels and the card promise: the
 * one place the CLI compares them (the card and the labels are compared with each other
 * when the folder is read).
 */
export function checkOutputSize(size: number, folder: ModelFolder): Result<void> {
  const { card, labelLines } = folder;
  if (size === labelLines.length && size === card.output.classes) return ok(undefined);
  return fail(
    'MODEL_LABELS_MISMATCH',
    `the graph outputs ${size} values per photo, ${LABELS_FILE} has ${labelLines.length} lines and the card ${card.output.classes} classes`,
  );
}

/** Whether the values of one output of the smoke run are what the card promises. */
export function checkSmokeOutput(output: Float32Array, folder: ModelFolder): Result<void> {
  const { card } = folder;
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

/** The checks on a version held in memory: graph against card, then one smoke inference. */
async function validateModel(folder: ModelFolder): Promise<Result<ModelFolder>> {
  const graph = checkGraph(folder);
  if (!graph.ok) return fail(graph.error.code, `${folder.id}: ${graph.error.detail}`);
  const smoke = await smokeRun(folder);
  return smoke.ok ? ok(folder) : fail(smoke.error.code, `${folder.id}: ${smoke.error.detail}`);
}

export async function validateModelFolder(dir: string, id: string): Promise<Result<ModelFolder>> {
  const read = await readModelFolder(dir, id);
  return read.ok ? validateModel(read.value) : read;
}

/**
 * The same checks on a registered version, on its files as the registry serves them (each
 * read back against its sha256), before a channel points devices at it.
 */
export async function validateStoredVersion(
  registry: ModelRegistryService,
  version: RegisteredVersion,
): Promise<Result<void>> {
  const files: FolderFile[] = [];
  for (const file of version.files) {
    const read = await registry.readFile(version.id, version.version, file.path);
    if (!read.ok) return read;
    files.push({ ...file, data: read.value });
  }
  const labels = files.find((f) => f.path === LABELS_FILE);
  if (labels === undefined) {
    return fail('MODEL_INVALID', `${formatModelRef(version)} has no ${LABELS_FILE}`);
  }
  const validated = await validateModel({
    id: version.id,
    version: version.version,
    files,
    labelLines: splitLabelLines(new TextDecoder().decode(labels.data)),
    card: version.card,
  });
  return validated.ok ? ok(undefined) : validated;
}

/**
 * Loads the graph from memory on wasm and runs one photo of the card's input size through
 * it. The model code refuses, at its warm-up, an output whose size is not the entry's, and
 * says no more than that the graph did not run; so when loading fails, a probe finds the
 * size the graph really gives, to tell a size that does not match the labels from a graph
 * that cannot run at all.
 */
async function smokeRun(folder: ModelFolder): Promise<Result<void>> {
  // Started alone first, so that a backend that cannot start is not blamed on the folder.
  if (!(await activateNodeBackend('wasm'))) {
    return fail('BACKEND_UNAVAILABLE', 'the wasm backend did not start');
  }
  const entry = uncalibratedEntry(folder);
  const outputs = await inferOnce(entry, folder.files, syntheticPhoto(folder.card.input.size));
  if (!outputs.ok) {
    if (outputs.error.code !== 'BACKEND_UNAVAILABLE') return outputs;
    const size = await rawOutputSize(folder);
    if (size !== null) {
      const sized = checkOutputSize(size, folder);
      if (!sized.ok) return sized;
    }
    return fail('MODEL_LOAD_FAILED', 'TF.js could not build or run the graph of model.json');
  }
  const output = outputs.value[0]!;
  const sized = checkOutputSize(output.length, folder);
  return sized.ok ? checkSmokeOutput(output, folder) : sized;
}

/**
 * Loads `entry` from `files` and runs `photo` through it: the outputs, or why not. A
 * backend that gives up (BACKEND_UNAVAILABLE) means TF.js could not build or run the graph.
 */
async function inferOnce(
  entry: ModelEntry,
  files: readonly FolderFile[],
  photo: PreparedPhoto,
): Promise<Result<Float32Array[]>> {
  const engine = createEngine({
    activateBackend: activateNodeBackend,
    fileReader: () => memoryReader(files),
  });
  try {
    const loaded = await engine.load(entry, ['wasm']);
    if (!loaded.ok) {
      return loaded.error.code === 'BACKEND_UNAVAILABLE'
        ? loaded
        : fail('MODEL_LOAD_FAILED', loaded.error.detail ?? loaded.error.message);
    }
    const inferred = await engine.infer([photo]);
    if (!inferred.ok) {
      return fail('MODEL_LOAD_FAILED', `the smoke inference failed: ${inferred.error.detail}`);
    }
    return ok(inferred.value.outputs);
  } finally {
    engine.unload();
  }
}

/** The probe's two outputs: the batch size and the number of values per photo. */
const PROBE_LABELS = ['batch', 'values'];

/**
 * The number of values the graph gives per photo, found by running it with a probe on its
 * output (see `withShapeProbe`), or null when the graph has no single output to probe or
 * does not run even so.
 */
async function rawOutputSize(folder: ModelFolder): Promise<number | null> {
  const modelFile = folder.files.find((f) => f.path === MODEL_FILE);
  if (modelFile === undefined) return null;
  let graph: unknown;
  try {
    graph = JSON.parse(new TextDecoder().decode(modelFile.data));
  } catch {
    return null;
  }
  const output = graphOutputNode(graph);
  if (output === null) return null;
  const probed = (path: string, data: Uint8Array): FolderFile => ({
    path,
    data,
    bytes: data.byteLength,
    sha256: sha256Hex(data),
  });
  const files = folder.files.map((file) => {
    if (file.path === MODEL_FILE) {
      return probed(
        MODEL_FILE,
        new TextEncoder().encode(JSON.stringify(withShapeProbe(graph, output))),
      );
    }
    if (file.path === LABELS_FILE) {
      return probed(LABELS_FILE, new TextEncoder().encode(`${PROBE_LABELS.join('\n')}\n`));
    }
    return file;
  });
  const entry = uncalibratedEntry({
    ...folder,
    files,
    labelLines: PROBE_LABELS,
    card: {
      ...folder.card,
      labels: {
        format: 'plain',
        count: PROBE_LABELS.length,
        backgroundIndex: null,
        animalRanges: null,
      },
      output: { classes: PROBE_LABELS.length, isProbability: false },
    },
  });
  const shape = await inferOnce(entry, files, syntheticPhoto(folder.card.input.size));
  const values = shape.ok ? shape.value[0]![1] : undefined;
  return values !== undefined && Number.isInteger(values) && values > 0 ? values : null;
}
