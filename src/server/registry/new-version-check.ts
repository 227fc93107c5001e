import type { ErrorCode } from '../../core/errors';
import { parseModelCard } from '../../core/model-card';
import { modelEntrySchema } from '../../core/model-manifest';
import { entryOf, LABELS_FILE, MODEL_FILE, sha256Hex, versionOf } from '../../node/model-folder';
import type { NewVersion } from './registry';

/** A file is served as one URL segment, `/models/:id/:version/:file`: a plain name. */
const FILE_NAME = /^[\w-][\w.-]*$/;
const ID = modelEntrySchema.shape.id;
const VERSION = modelEntrySchema.shape.version;

/**
 * What would make a version unfit to register, or null. The caller has read the folder
 * (`readModelFolder`) and maybe run the model; this checks what the registry relies on:
 * the version is the content address of exactly these bytes, and the entry built from it
 * is one a device accepts.
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
  if (versionOf(version.files) !== version.version) {
    return invalid(
      `${version.version} is not the version of these files (${versionOf(version.files)})`,
    );
  }
  const card = parseModelCard(version.card);
  if (!card.ok) return invalid(`the card: ${card.reason}`);
  const entry = modelEntrySchema.safeParse(entryOf({ ...version, card: card.card }));
  if (!entry.success) return invalid(`its manifest entry would be invalid: ${entry.error.message}`);
  return null;
}
