import { join } from 'node:path';
import type { LabelIndex } from '../core/feedback';
import { DEFAULT_MODEL_ID } from '../core/model-catalog';
import {
  parseModelManifest,
  type ModelEntry,
  type ModelFile,
  type ModelManifest,
} from '../core/model-manifest';
import { entryOf, findModelFolders, MODEL_FILE, readModelFolder } from './model-folder';

export interface ServedFile extends ModelFile {
  absolutePath: string;
}

export interface ModelRegistry extends LabelIndex {
  manifest: ModelManifest;
  /** A file listed in the manifest, or null for any other (id, version, path). */
  findFile(id: string, version: string, path: string): ServedFile | null;
  resolveFile(id: string, version: string, path: string): string | null;
}

/** Reads and hashes every model in `modelsDir`; throws with the folder's name if one is inconsistent. */
export async function loadModelRegistry(modelsDir: string): Promise<ModelRegistry> {
  const ids = await findModelFolders(modelsDir);
  if (ids.length === 0)
    throw new Error(`no model folder (one holding ${MODEL_FILE}) in ${modelsDir}`);

  const loaded = new Map<
    string,
    { version: string; files: Map<string, ServedFile>; labels: ReadonlySet<string> }
  >();
  const models: ModelEntry[] = [];
  for (const id of ids) {
    const { entry, files, labels } = await loadModel(join(modelsDir, id), id).catch(
      (error: unknown) => {
        throw new Error(`model ${id}: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
    models.push(entry);
    loaded.set(id, {
      version: entry.version,
      files: new Map(files.map((f) => [f.path, f])),
      labels,
    });
  }

  const parsed = parseModelManifest({
    schemaVersion: 1,
    generatedAt: new Date().toISOString(),
    defaultModel: ids.includes(DEFAULT_MODEL_ID) ? DEFAULT_MODEL_ID : ids[0],
    models,
  });
  if (!parsed.ok) throw new Error(`invalid model manifest for ${modelsDir}:\n${parsed.reason}`);

  const findFile = (id: string, version: string, path: string): ServedFile | null => {
    const model = loaded.get(id);
    return model?.version === version ? (model.files.get(path) ?? null) : null;
  };
  return {
    manifest: parsed.manifest,
    findFile,
    resolveFile: (id, version, path) => findFile(id, version, path)?.absolutePath ?? null,
    labels: (id, version) => {
      const model = loaded.get(id);
      return model?.version === version ? model.labels : null;
    },
  };
}

async function loadModel(
  dir: string,
  id: string,
): Promise<{ entry: ModelEntry; files: ServedFile[]; labels: ReadonlySet<string> }> {
  const folder = await readModelFolder(dir, id);
  if (!folder.ok) throw new Error(folder.error.detail ?? folder.error.message);
  const { files, labelLines } = folder.value;
  const entry = entryOf(folder.value);
  const served = files.map(({ path, bytes, sha256 }) => ({
    path,
    bytes,
    sha256,
    absolutePath: join(dir, path),
  }));
  // Feedback names classes by label line, as the client parses them (core/labels.ts).
  return { entry, files: served, labels: new Set(labelLines) };
}
