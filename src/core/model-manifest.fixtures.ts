import type { ModelEntry, ModelManifest } from './model-manifest';

/** A small, valid manifest entry for tests of code around models (caches, the page's service). */
export function fakeModelEntry(id: string, version: string): ModelEntry {
  return {
    id,
    version,
    name: id,
    description: '',
    baseUrl: `/models/${id}/${version}/`,
    modelFile: 'model.json',
    labelsFile: 'labels.txt',
    files: [
      { path: 'model.json', bytes: 10, sha256: 'a'.repeat(64) },
      { path: 'group1-shard1of1.bin', bytes: 20, sha256: 'b'.repeat(64) },
      { path: 'labels.txt', bytes: 5, sha256: 'c'.repeat(64) },
    ],
    totalBytes: 35,
    input: { name: 'input', size: 224, channels: 3, range: [-1, 1] },
    output: { classes: 3, isProbability: true },
    labels: { format: 'plain', count: 3, backgroundIndex: null, animalRanges: null },
  };
}

export function fakeManifest(...models: ModelEntry[]): ModelManifest {
  return { schemaVersion: 1, generatedAt: '', defaultModel: models[0]!.id, models };
}
