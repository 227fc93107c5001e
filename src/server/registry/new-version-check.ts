import type { ErrorCode } from '../../core/errors';
import { parseModelCard } from '../../core/model-card';
import { modelEntrySchema } from '../../core/model-manifest';
import {
  entryOf,
  FILE_NAME,
  graphModelSchema,
  LABELS_FILE,
  MODEL_FILE,
  sha256Hex,
  versionOf,
} from '../../node/model-folder';
import type { NewVersion } from './registry';

const ID = modelEntrySchema.shape.id;
const VERSION = modelEntrySchema.shape.version;

/**
 * What would make a version unfit to register, or null. The caller has read the folder
 * (`readModelFolder`) and maybe run the model; this checks what the registry relies on:
 * the version is the content address of exactly these bytes and this card, the graph's
 * shards are among them, and the entry built from it is one a device accepts.
 */
export function newVersionProblem(version: NewVersion): { code: ErrorCode; detail: string } | null {
  const invalid = (detail: string) => ({ code: 'MODEL_INVALID' as const, detail });
  if (!ID.safeParse(version.id).success) return invalid(`"${version.id}" is not a model id`);
  if (!VERSION.safeParse(version.version).success) {
    return invalid(`"${version.version}" is not a version`);
  }
  const paths = new Set<string>();
  for (const file of version.files) {
    if (!FILE_NAME.test(file.path)) return invalid(`"${file.path}" is not a plain file name`);
    if (paths.has(file.path)) return invalid(`${file.path} is listed twice`);
    paths.add(file.path);
    if (file.data.byteLength !== file.bytes || sha256Hex(file.data) !== file.sha256) {
      return invalid(`${file.path}: its bytes do not match its size and sha256`);
    }
  }
  for (const required of [MODEL_FILE, LABELS_FILE]) {
    if (!paths.has(required)) return invalid(`the files have no ${required}`);
  }
  const shards = graphShards(version);
  if (shards === null) return invalid(`${MODEL_FILE} is not a graph model's JSON`);
  const missing = shards.find((path) => !paths.has(path));
  if (missing !== undefined) return invalid(`${MODEL_FILE} names ${missing}, which is not listed`);
  const card = parseModelCard(version.card);
  if (!card.ok) return invalid(`the card: ${card.reason}`);
  const expected = versionOf(version.files, card.card);
  if (expected !== version.version) {
    return invalid(`${version.version} is not the version of these files and card (${expected})`);
  }
  const entry = modelEntrySchema.safeParse(entryOf({ ...version, card: card.card }));
  if (!entry.success) return invalid(`its manifest entry would be invalid: ${entry.error.message}`);
  return null;
}

/** The weight shards model.json names, or null when it is not a graph model's JSON. */
function graphShards(version: NewVersion): string[] | null {
  const model = version.files.find((f) => f.path === MODEL_FILE);
  if (model === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(model.data));
  } catch {
    return null;
  }
  const graph = graphModelSchema.safeParse(value);
  return graph.success ? graph.data.weightsManifest.flatMap((group) => group.paths) : null;
}
