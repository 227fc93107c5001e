import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { LabelIndex } from '../core/feedback';
import { splitLabelLines } from '../core/labels';
import {
  parseModelManifest,
  type ModelEntry,
  type ModelFile,
  type ModelManifest,
} from '../core/model-manifest';
import { DEFAULT_MODEL_ID, describeModel } from '../core/model-catalog';

const MODEL_FILE = 'model.json';
const LABELS_FILE = 'labels.txt';
const SOURCE_FILE = 'source.json';
/** Short enough to read in the UI; a collision would need two versions of one model. */
const VERSION_HEX_CHARS = 10;

// Only the fields the manifest needs; anything else in these files is ignored.
const sourceSchema = z.object({
  inputSize: z.number().int().positive(),
  inputRange: z.tuple([z.number(), z.number()]),
  outputShape: z.array(z.number().int()).min(1),
  outputIsProb: z.boolean(),
});

/** A shard is a plain file name beside model.json: nothing that could point outside the folder. */
const shardPathSchema = z.string().regex(/^[\w-][\w.-]*$/);

const graphModelSchema = z.object({
  weightsManifest: z.array(z.object({ paths: z.array(shardPathSchema).min(1) })).min(1),
  signature: z.object({ inputs: z.record(z.string(), z.unknown()) }).optional(),
});

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

async function findModelFolders(modelsDir: string): Promise<string[]> {
  const names = (await readdir(modelsDir)).filter((name) => !name.startsWith('.')).sort();
  const hasModel = await Promise.all(
    names.map((name) =>
      stat(join(modelsDir, name, MODEL_FILE)).then(
        (s) => s.isFile(),
        () => false,
      ),
    ),
  );
  return names.filter((_, i) => hasModel[i]);
}

async function loadModel(
  dir: string,
  id: string,
): Promise<{ entry: ModelEntry; files: ServedFile[]; labels: ReadonlySet<string> }> {
  const source = await readJson(join(dir, SOURCE_FILE), sourceSchema);
  const graph = await readJson(join(dir, MODEL_FILE), graphModelSchema);
  const labelsText = await readFile(join(dir, LABELS_FILE), 'utf8');
  const labelLines = splitLabelLines(labelsText);
  const classes = source.outputShape.at(-1) ?? 0;
  if (labelLines.length !== classes) {
    throw new Error(`${LABELS_FILE} has ${labelLines.length} lines, the model outputs ${classes}`);
  }
  const { name, description, labels } = describeModel(id, labelLines);

  const shards = graph.weightsManifest.flatMap((group) => group.paths);
  const files = await Promise.all(
    [MODEL_FILE, ...shards, LABELS_FILE].map((path) => hashFile(dir, path)),
  );
  // Any changed byte in any served file gives a new version, hence new immutable URLs.
  const version = sha256Hex(
    files
      .map((f) => `${f.path} ${f.sha256}`)
      .sort()
      .join('\n'),
  ).slice(0, VERSION_HEX_CHARS);

  const entry: ModelEntry = {
    id,
    version,
    name,
    description,
    baseUrl: `/models/${id}/${version}/`,
    modelFile: MODEL_FILE,
    labelsFile: LABELS_FILE,
    files: files.map(({ path, bytes, sha256 }) => ({ path, bytes, sha256 })),
    totalBytes: files.reduce((sum, f) => sum + f.bytes, 0),
    input: {
      name: Object.keys(graph.signature?.inputs ?? {})[0] ?? 'input',
      size: source.inputSize,
      channels: 3,
      range: source.inputRange,
    },
    output: { classes, isProbability: source.outputIsProb },
    labels,
  };
  // Feedback names classes by label line, as the client parses them (core/labels.ts).
  return { entry, files, labels: new Set(labelLines) };
}

async function readJson<T>(path: string, schema: z.ZodType<T>): Promise<T> {
  const parsed = schema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

async function hashFile(dir: string, path: string): Promise<ServedFile> {
  const absolutePath = join(dir, path);
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(absolutePath) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { path, bytes, sha256: hash.digest('hex'), absolutePath };
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
