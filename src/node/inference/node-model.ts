import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { BackendName } from '../../core/backend-choice';
import { fail, ok, type Result } from '../../core/errors';
import { summariserFor } from '../../core/taxonomy-answer';
import type { ModelEntry } from '../../core/model-manifest';
import type { FileReader } from '../../model/artifacts';
import { activateBackend } from '../../model/backend';
import { createEngine, type Engine } from '../../model/engine';
import { loadModelRegistry, type ModelRegistry } from '../model-registry';

/**
 * The Node side of the shared model code: the same engine, artifacts check and
 * preprocessing as the browser worker, on TF.js's wasm backend, reading MODELS_DIR.
 */
const require = createRequire(import.meta.url);
const WASM_DIR =
  path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) +
  path.sep;

/** Backend activation with the wasm binaries read from the installed package. */
export function activateNodeBackend(name: BackendName): Promise<boolean> {
  return activateBackend(name, WASM_DIR);
}

/** Reads a model's files through the registry, so only files its manifest lists are read. */
export function diskReader(registry: ModelRegistry, entry: ModelEntry): FileReader {
  return async (file, onBytes) => {
    const absolute = registry.resolveFile(entry.id, entry.version, file);
    if (absolute === null) throw new Error(`${file} is not part of ${entry.id}`);
    const data = await readFile(absolute);
    onBytes(data.byteLength);
    return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  };
}

export interface NodeModel {
  engine: Engine;
  entry: ModelEntry;
}

/**
 * Opens `modelId` (or the default model) from a models folder, or from a registry the
 * caller already loaded: loading one reads and hashes every model, which a caller that
 * serves the same folder should not pay twice.
 */
export async function openNodeModel(
  models: string | ModelRegistry,
  modelId: string | null,
): Promise<Result<NodeModel>> {
  let registry: ModelRegistry;
  try {
    registry = typeof models === 'string' ? await loadModelRegistry(models) : models;
  } catch (error) {
    return fail('MODEL_LOAD_FAILED', String(error));
  }
  const id = modelId ?? registry.manifest.defaultModel;
  const entry = registry.manifest.models.find((m) => m.id === id);
  if (entry === undefined) {
    const known = registry.manifest.models.map((m) => m.id).join(', ');
    return fail('MODEL_LOAD_FAILED', `unknown model "${id}"; known: ${known}`);
  }
  const engine = createEngine({
    activateBackend: activateNodeBackend,
    fileReader: (e) => diskReader(registry, e),
    summariser: summariserFor,
  });
  const loaded = await engine.load(entry, ['wasm', 'cpu']);
  return loaded.ok ? ok({ engine, entry }) : loaded;
}
