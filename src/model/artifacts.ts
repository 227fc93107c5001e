import type { io } from '@tensorflow/tfjs-core';
import { matchesFile } from '../core/digest';
import { fail, ok, type Result } from '../core/errors';
import type { ModelEntry } from '../core/model-manifest';

/**
 * Reading a model version's files and checking them against the manifest before TF.js
 * sees a byte. The reader is injected: the browser passes fetch (through the service
 * worker's cache), Node passes the file system, tests pass memory.
 */
export type FileReader = (path: string, onBytes: (bytes: number) => void) => Promise<ArrayBuffer>;

export interface ModelArtifactsBundle {
  artifacts: io.ModelArtifacts;
  labelsText: string;
}

export interface DownloadProgress {
  loadedBytes: number;
  totalBytes: number;
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: io.WeightsManifestEntry[] }[];
  signature?: object;
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
}

export async function loadModelArtifacts(
  entry: ModelEntry,
  readFile: FileReader,
  onProgress: (progress: DownloadProgress) => void = () => {},
): Promise<Result<ModelArtifactsBundle>> {
  const loaded = new Map<string, number>();
  const report = () =>
    onProgress({
      loadedBytes: [...loaded.values()].reduce((a, b) => a + b, 0),
      totalBytes: entry.totalBytes,
    });

  const contents = new Map<string, ArrayBuffer>();
  try {
    // All files in parallel: the shard dominates, and small files should not wait for it.
    await Promise.all(
      entry.files.map(async (file) => {
        const data = await readFile(file.path, (bytes) => {
          loaded.set(file.path, bytes);
          report();
        });
        contents.set(file.path, data);
      }),
    );
  } catch (error) {
    return fail('MODEL_LOAD_FAILED', String(error));
  }

  for (const file of entry.files) {
    if (!(await matchesFile(contents.get(file.path)!, file))) {
      return fail('MODEL_INTEGRITY_FAILED', file.path);
    }
  }

  let modelJson: ModelJson;
  try {
    modelJson = JSON.parse(new TextDecoder().decode(contents.get(entry.modelFile)));
  } catch (error) {
    return fail('MODEL_LOAD_FAILED', `model.json: ${String(error)}`);
  }
  const group = modelJson.weightsManifest?.[0];
  if (modelJson.weightsManifest?.length !== 1 || !group) {
    return fail('MODEL_LOAD_FAILED', 'expected exactly one weights group');
  }
  const shards = group.paths.map((p) => contents.get(p));
  if (shards.some((s) => s === undefined)) {
    return fail('MODEL_LOAD_FAILED', 'a weight shard is missing from the manifest');
  }
  return ok({
    artifacts: {
      modelTopology: modelJson.modelTopology,
      weightSpecs: group.weights,
      weightData: shards as ArrayBuffer[],
      format: modelJson.format,
      generatedBy: modelJson.generatedBy,
      convertedBy: modelJson.convertedBy,
      signature: modelJson.signature,
    },
    labelsText: new TextDecoder().decode(contents.get(entry.labelsFile)),
  });
}
