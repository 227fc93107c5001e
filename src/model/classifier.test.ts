import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePhotoBytes } from '../cli/decode-node';
import { loadModelRegistry, type ModelRegistry } from '../server/model-registry';
import { loadModelArtifacts, type FileReader } from './artifacts';
import { activateBackend, tensorCount } from './backend';
import { createClassifier } from './classifier';
import type { RgbaImage } from './preprocess';
import { DATA_DIR, DEFAULT_MODELS_DIR } from '../node/shared-paths';

/** Each of the three real models, loaded from disk onto the wasm backend as the CLI does. */
const MODELS_DIR = DEFAULT_MODELS_DIR;
const require = createRequire(import.meta.url);
const WASM_DIR =
  path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) +
  path.sep;

const PHOTOS = [
  'imagenet-animals/n01440764_tench.JPEG',
  'birds-cub/American_Goldfinch/American_Goldfinch_0017_32272.jpg',
  'butterflies-leeds/001_Monarch/0010001.jpg',
];

const EXPECTED_CLASSES: Record<string, number> = {
  'imagenet-mobilenet-v2': 1001,
  'inat-birds-mobilenet-v2': 965,
  'inat-insects-mobilenet-v2': 1022,
};

let registry: ModelRegistry;
let images: RgbaImage[];

beforeAll(async () => {
  expect(await activateBackend('wasm', WASM_DIR)).toBe(true);
  registry = await loadModelRegistry(MODELS_DIR);
  images = await Promise.all(
    PHOTOS.map(async (file) => {
      const bytes = new Uint8Array(await readFile(path.join(DATA_DIR, file)));
      const decoded = await decodePhotoBytes(bytes, 224);
      if (!decoded.ok) throw new Error(`${file}: ${decoded.error.code}`);
      return decoded.value.image;
    }),
  );
});

afterAll(() => {
  // Every model below was disposed: nothing is left on the backend.
  expect(tensorCount()).toBe(0);
});

function diskReader(id: string, version: string): FileReader {
  return async (file, onBytes) => {
    const absolute = registry.resolveFile(id, version, file);
    if (absolute === null) throw new Error(`${file} is not part of ${id}`);
    const data = await readFile(absolute);
    onBytes(data.byteLength);
    return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  };
}

describe.each(Object.keys(EXPECTED_CLASSES))('the real %s model', (id) => {
  it('outputs one probability vector per image, each of its class count, summing to 1', async () => {
    const entry = registry.manifest.models.find((m) => m.id === id)!;
    expect(entry.output.classes).toBe(EXPECTED_CLASSES[id]);
    expect(entry.labels.count).toBe(entry.output.classes);

    const bundle = await loadModelArtifacts(entry, diskReader(entry.id, entry.version));
    if (!bundle.ok) throw new Error(bundle.error.code);
    const before = tensorCount();
    const classifier = await createClassifier(entry, bundle.value);
    try {
      expect(await classifier.warmUp(2)).toBeGreaterThan(0);
      const outputs = await classifier.classify(images);
      expect(outputs).toHaveLength(images.length);
      for (const probabilities of outputs) {
        expect(probabilities).toBeInstanceOf(Float32Array);
        expect(probabilities).toHaveLength(entry.output.classes);
        let sum = 0;
        for (const p of probabilities) {
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(1);
          sum += p;
        }
        expect(sum).toBeCloseTo(1, 3);
      }
      expect(await classifier.classify([])).toEqual([]);
    } finally {
      classifier.dispose();
    }
    expect(tensorCount()).toBe(before);
  });
});
