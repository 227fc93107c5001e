import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { fail, ok, type ErrorCode, type Result } from '../core/errors';
import { canonicalJson } from '../core/feedback';
import { splitLabelLines } from '../core/labels';
import { catalogTemperature, describeModel } from '../core/model-catalog';
import { parseModelCard, type ModelCard } from '../core/model-card';
import type { ModelEntry, ModelFile } from '../core/model-manifest';

/**
 * A model folder read once into memory: what is hashed is what is validated, stored and
 * served, so a file that changes while it is being registered cannot slip in between. The
 * folder holds `model.json`, its weight shards and `labels.txt` (the files a device
 * downloads), and says what it is in `card.json` or, for the models of MODELS_DIR, in
 * `source.json` plus the model catalogue.
 */

export const MODEL_FILE = 'model.json';
export const LABELS_FILE = 'labels.txt';
const SOURCE_FILE = 'source.json';
const CARD_FILE = 'card.json';
/** Short enough to read in the UI; a collision would need two versions of one model. */
const VERSION_HEX_CHARS = 10;

export interface FolderFile extends ModelFile {
  data: Uint8Array;
}

export interface ModelFolder {
  id: string;
  /** The content address of the downloaded files and the card (`versionOf`). */
  version: string;
  /** model.json first, then the shards, then labels.txt. */
  files: FolderFile[];
  labelLines: string[];
  card: ModelCard;
}

const sourceSchema = z.object({
  source: z.string().optional(),
  inputSize: z.number().int().positive(),
  inputRange: z.tuple([z.number(), z.number()]),
  outputShape: z.array(z.number().int()).min(1),
  outputIsProb: z.boolean(),
});

/**
 * A file of a version is a plain file name beside model.json, served as one URL segment
 * (`/models/:id/:version/:file`): nothing that could point outside the folder.
 */
export const FILE_NAME = /^[\w-][\w.-]*$/;

export const graphModelSchema = z.object({
  weightsManifest: z.array(z.object({ paths: z.array(z.string().regex(FILE_NAME)).min(1) })).min(1),
  signature: z.object({ inputs: z.record(z.string(), z.unknown()) }).optional(),
});

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The sha256 of the card's canonical JSON: the same card gives the same digest, however its keys are ordered. */
export function cardSha256(card: ModelCard): string {
  return sha256Hex(canonicalJson(card));
}

/**
 * The version of a model: the content address of the files a device downloads and of the
 * card, which says how to read them (a new calibration temperature or label meaning is a
 * new version that devices fetch). The same files and card give the same version, any
 * changed byte or card field another. The card's line cannot be taken for a file's: `#` is
 * not in FILE_NAME.
 */
export function versionOf(
  files: readonly Pick<ModelFile, 'path' | 'sha256'>[],
  card: ModelCard,
): string {
  const lines = [...files.map((f) => `${f.path} ${f.sha256}`), `#card ${cardSha256(card)}`].sort();
  return sha256Hex(lines.join('\n')).slice(0, VERSION_HEX_CHARS);
}

/** The folders of `modelsDir` that hold a model.json, in name order; throws if it cannot be read. */
export async function findModelFolders(modelsDir: string): Promise<string[]> {
  const names = (await readdir(modelsDir)).filter((name) => !name.startsWith('.')).sort();
  const hasModel = await Promise.all(
    names.map((name) => exists(join(modelsDir, name, MODEL_FILE))),
  );
  return names.filter((_, i) => hasModel[i]);
}

class FolderError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

async function readBytes(dir: string, path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(join(dir, path)));
  } catch (error) {
    throw new FolderError('MODEL_INVALID', `cannot read ${path}: ${(error as Error).message}`);
  }
}

function parseJson<T>(path: string, data: Uint8Array, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(data));
  } catch {
    throw new FolderError('MODEL_INVALID', `${path} is not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new FolderError('MODEL_INVALID', `${path}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/**
 * Reads and checks a model folder: the graph's shards exist, the label count matches the
 * output size the card (or source.json) states, and a card.json is a valid card. The
 * model itself is not run here (that needs a runtime; `npm run model -- add` does it).
 */
export async function readModelFolder(dir: string, id: string): Promise<Result<ModelFolder>> {
  try {
    return ok(await readFolder(dir, id));
  } catch (error) {
    if (error instanceof FolderError) return fail(error.code, `${id}: ${error.message}`);
    return fail(
      'MODEL_INVALID',
      `${id}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

async function readFolder(dir: string, id: string): Promise<ModelFolder> {
  const modelData = await readBytes(dir, MODEL_FILE);
  const graph = parseJson(MODEL_FILE, modelData, graphModelSchema);
  const labelsData = await readBytes(dir, LABELS_FILE);
  const labelLines = splitLabelLines(new TextDecoder().decode(labelsData));
  const shards = [...new Set(graph.weightsManifest.flatMap((group) => group.paths))];
  const shardData = await Promise.all(shards.map((path) => readBytes(dir, path)));

  const card = (await exists(join(dir, CARD_FILE)))
    ? cardFromFile(await readBytes(dir, CARD_FILE))
    : await cardFromSource(dir, id, labelLines, modelData);
  if (labelLines.length !== card.output.classes) {
    throw new FolderError(
      'MODEL_LABELS_MISMATCH',
      `${LABELS_FILE} has ${labelLines.length} lines, the model outputs ${card.output.classes}`,
    );
  }
  if (card.labels.count !== labelLines.length) {
    throw new FolderError(
      'MODEL_LABELS_MISMATCH',
      `the card says ${card.labels.count} labels, ${LABELS_FILE} has ${labelLines.length}`,
    );
  }
  const inputName = Object.keys(graph.signature?.inputs ?? {})[0];
  if (inputName !== undefined && inputName !== card.input.name) {
    throw new FolderError(
      'MODEL_INVALID',
      `the card names input "${card.input.name}", ${MODEL_FILE} has "${inputName}"`,
    );
  }

  const named: [string, Uint8Array][] = [
    [MODEL_FILE, modelData],
    ...shards.map((path, i): [string, Uint8Array] => [path, shardData[i]!]),
    [LABELS_FILE, labelsData],
  ];
  const files = named.map(([path, data]) => ({
    path,
    data,
    bytes: data.byteLength,
    sha256: sha256Hex(data),
  }));
  return { id, version: versionOf(files, card), files, labelLines, card };
}

function cardFromFile(data: Uint8Array): ModelCard {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(data));
  } catch {
    throw new FolderError('MODEL_INVALID', `${CARD_FILE} is not JSON`);
  }
  const parsed = parseModelCard(value);
  if (!parsed.ok) throw new FolderError('MODEL_INVALID', `${CARD_FILE}: ${parsed.reason}`);
  return parsed.card;
}

/**
 * The card of a folder without one: source.json's facts and the catalogue's meaning of the
 * labels. Made of the folder's contents only (no file time, no absolute path), so that
 * every clone of the folder gives the same card, hence the same version.
 */
async function cardFromSource(
  dir: string,
  id: string,
  labelLines: readonly string[],
  modelData: Uint8Array,
): Promise<ModelCard> {
  const source = parseJson(SOURCE_FILE, await readBytes(dir, SOURCE_FILE), sourceSchema);
  const graph = parseJson(MODEL_FILE, modelData, graphModelSchema);
  let description: ReturnType<typeof describeModel>;
  try {
    description = describeModel(id, labelLines);
  } catch (error) {
    throw new FolderError('MODEL_INVALID', (error as Error).message);
  }
  // The temperature goes in the card's calibration, where the served entry takes it from.
  const labels: Partial<typeof description.labels> = { ...description.labels };
  delete labels.temperature;
  const temperature = catalogTemperature(id);
  return {
    name: description.name,
    description: description.description,
    source: source.source === undefined ? `the folder ${id}` : `converted from ${source.source}`,
    license: null,
    labels: labels as ModelCard['labels'],
    input: {
      name: Object.keys(graph.signature?.inputs ?? {})[0] ?? 'input',
      size: source.inputSize,
      channels: 3,
      range: source.inputRange,
    },
    output: { classes: source.outputShape.at(-1) ?? 0, isProbability: source.outputIsProb },
    calibration:
      temperature === 1
        ? null
        : { temperature, fittedOn: 'the fit half of its shared photo set (npm run calibrate)' },
    evaluation: [],
    // Unknown: a file's time differs from clone to clone.
    created: null,
    parent: null,
    notes: '',
  };
}

/** The manifest entry of a version: its card's facts, its files, served under `baseUrl`. */
export function entryOf(
  version: { id: string; version: string; files: readonly ModelFile[]; card: ModelCard },
  baseUrl = `/models/${version.id}/${version.version}/`,
): ModelEntry {
  const { card } = version;
  return {
    id: version.id,
    version: version.version,
    name: card.name,
    description: card.description,
    baseUrl,
    modelFile: MODEL_FILE,
    labelsFile: LABELS_FILE,
    files: version.files.map(({ path, bytes, sha256 }) => ({ path, bytes, sha256 })),
    totalBytes: version.files.reduce((sum, f) => sum + f.bytes, 0),
    input: card.input,
    output: card.output,
    labels:
      card.calibration === null
        ? card.labels
        : { ...card.labels, temperature: card.calibration.temperature },
  };
}
