import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePhotoBytes } from '../node/inference/decode-image';
import { activateNodeBackend, diskReader } from '../node/inference/node-model';
import { loadModelRegistry, type ModelRegistry } from '../node/model-registry';
import { loadModelArtifacts } from './artifacts';
import { tensorCount } from './backend';
import { createClassifier } from './classifier';
import type { RgbaImage } from './preprocess';
import { DATA_DIR, DEFAULT_MODELS_DIR } from '../node/shared-paths';

/** Each of the three real models, loaded from disk onto the wasm backend as the CLI does. */
const MODELS_DIR = DEFAULT_MODELS_DIR;

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
  expect(await activateNodeBackend('wasm')).toBe(true);
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

describe.each(Object.keys(EXPECTED_CLASSES))('the real %s model', (id) => {
  it('outputs one probability vector per image, each of its class count, summing to 1', async () => {
    const entry = registry.manifest.models.find((m) => m.id === id)!;
    expect(entry.output.classes).toBe(EXPECTED_CLASSES[id]);
    expect(entry.labels.count).toBe(entry.output.classes);

    const bundle = await loadModelArtifacts(entry, diskReader(registry, entry));
    if (!bundle.ok) throw new Error(bundle.error.code);
    const before = tensorCount();
    const classifier = await createClassifier(entry, bundle.value);
    try {
      // Warm-up at a batch size other than the photos' leaves nothing on the backend.
      const afterLoad = tensorCount();
      expect(await classifier.warmUp(2)).toEqual(expect.any(Number));
      expect(tensorCount()).toBe(afterLoad);
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
