import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  animalIndexMask,
  DEFAULT_TOP_K,
  NOT_SURE_BELOW,
  topK,
  toPrediction,
  translateOutput,
  type Answer,
} from './answer';
import type { Label } from './labels';
import type { LabelSpec } from './model-manifest';
import path from 'node:path';
import { DEFAULT_MODELS_DIR } from '../node/shared-paths';
import { realModel, type RealModel, type RealModelId } from './real-models.fixtures';

function loadRealModel(id: RealModelId): RealModel {
  return realModel(id, readFileSync(path.join(DEFAULT_MODELS_DIR, id, 'labels.txt'), 'utf8'));
}

const { spec: IMAGENET, labels: imagenetLabels } = loadRealModel('imagenet-mobilenet-v2');
const { spec: BIRDS, labels: birdLabels } = loadRealModel('inat-birds-mobilenet-v2');

/** A probability vector of `count` zeros with the given entries set. */
function vector(count: number, entries: Record<number, number>): Float32Array {
  const probabilities = new Float32Array(count);
  for (const [index, probability] of Object.entries(entries)) {
    probabilities[Number(index)] = probability;
  }
  return probabilities;
}

function translate(
  probabilities: ArrayLike<number>,
  labels: readonly Label[],
  spec: LabelSpec,
  options?: Parameters<typeof translateOutput>[3],
): Answer {
  const result = translateOutput(probabilities, labels, spec, options);
  if (!result.ok) throw new Error(result.error.detail);
  return result.value;
}

const indices = (answer: Answer): number[] => answer.top.map((prediction) => prediction.index);

describe('topK', () => {
  it('returns the highest values first', () => {
    expect(topK([0.1, 0.5, 0.2, 0.15, 0.05], 3)).toEqual([
      { index: 1, probability: 0.5 },
      { index: 2, probability: 0.2 },
      { index: 3, probability: 0.15 },
    ]);
  });

  it('breaks ties by the lower index', () => {
    expect(topK([0.2, 0.3, 0.2, 0.3, 0.2], 4).map((s) => s.index)).toEqual([1, 3, 0, 2]);
    expect(topK([0, 0, 0, 0], 2).map((s) => s.index)).toEqual([0, 1]);
  });

  it('handles k of zero, negative, fractional and larger than the vector', () => {
    expect(topK([0.5, 0.5], 0)).toEqual([]);
    expect(topK([0.5, 0.5], -3)).toEqual([]);
    expect(topK([0.1, 0.9, 0.5], 2.7).map((s) => s.index)).toEqual([1, 2]);
    expect(topK([0.1, 0.9], 10).map((s) => s.index)).toEqual([1, 0]);
    expect(topK([], 5)).toEqual([]);
  });

  it('treats NaN, infinities and negatives as 0', () => {
    const top = topK([Number.NaN, -1, Number.POSITIVE_INFINITY, 0.1], 4);
    expect(top).toEqual([
      { index: 3, probability: 0.1 },
      { index: 0, probability: 0 },
      { index: 1, probability: 0 },
      { index: 2, probability: 0 },
    ]);
  });

  it('only considers allowed indices', () => {
    const top = topK([0.9, 0.05, 0.8, 0.01], 2, (index) => index % 2 === 1);
    expect(top.map((s) => s.index)).toEqual([1, 3]);
  });

  it('agrees with a full sort on random vectors', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    for (let run = 0; run < 50; run++) {
      // Rounded so that ties are common.
      const values = Array.from({ length: 200 }, () => Math.round(random() * 50) / 50);
      const expected = values
        .map((probability, index) => ({ index, probability }))
        .sort((a, b) => b.probability - a.probability || a.index - b.index)
        .slice(0, 7);
      expect(topK(values, 7)).toEqual(expected);
    }
  });
});

describe('animalIndexMask', () => {
  it('covers the ImageNet animal range and never the background', () => {
    const mask = animalIndexMask(IMAGENET);
    expect(mask).toHaveLength(1001);
    expect([mask[0], mask[1], mask[398], mask[399], mask[1000]]).toEqual([0, 1, 1, 0, 0]);
    expect(mask.reduce((sum, bit) => sum + bit, 0)).toBe(398);
  });

  it('covers every iNaturalist class but the background', () => {
    const mask = animalIndexMask(BIRDS);
    expect(mask.reduce((sum, bit) => sum + bit, 0)).toBe(964);
    expect(mask[964]).toBe(0);
  });

  it('takes several ranges', () => {
    const spec: LabelSpec = {
      format: 'plain',
      count: 6,
      backgroundIndex: 2,
      animalRanges: [
        [0, 2],
        [4, 4],
      ],
    };
    expect(Array.from(animalIndexMask(spec))).toEqual([1, 1, 0, 0, 1, 0]);
  });
});

describe('translateOutput with ImageNet labels', () => {
  it('answers "animal" with the top five animals and their names', () => {
    const answer = translate(
      vector(1001, { 2: 0.8, 1: 0.05, 3: 0.04, 4: 0.03, 5: 0.02, 6: 0.01, 7: 0.005 }),
      imagenetLabels,
      IMAGENET,
    );
    expect(answer.kind).toBe('animal');
    expect(answer.top).toHaveLength(DEFAULT_TOP_K);
    expect(answer.top[0]).toEqual({
      index: 2,
      label: 'goldfish, Carassius auratus',
      name: 'goldfish',
      scientificName: 'Carassius auratus',
      probability: expect.closeTo(0.8, 6),
    });
    expect(indices(answer)).toEqual([2, 1, 3, 4, 5]);
  });

  it('leaves background and non-animal classes out of the candidates', () => {
    const answer = translate(
      vector(1001, { 0: 0.3, 500: 0.35, 399: 0.01, 17: 0.32 }),
      imagenetLabels,
      IMAGENET,
    );
    expect(answer.kind).toBe('animal');
    expect(indices(answer)[0]).toBe(17);
    expect(answer.top.every((p) => p.index >= 1 && p.index <= 398)).toBe(true);
  });

  it('answers "not-sure" when the animal mass is spread thin', () => {
    const spread: Record<number, number> = { 0: 0.05, 700: 0.05 };
    for (let index = 1; index <= 9; index++) spread[index] = 0.1;
    const answer = translate(vector(1001, spread), imagenetLabels, IMAGENET);
    expect(answer.kind).toBe('not-sure');
    expect(indices(answer)).toEqual([1, 2, 3, 4, 5]);
  });

  it('answers "no-animal" when the background outweighs the animals', () => {
    const answer = translate(vector(1001, { 0: 0.7, 5: 0.2, 6: 0.1 }), imagenetLabels, IMAGENET);
    expect(answer).toMatchObject({ kind: 'no-animal', nonAnimalProbability: expect.closeTo(0.7) });
    // The candidates are still given, for a user who sees an animal anyway.
    expect(indices(answer)).toEqual([5, 6, 1, 2, 3]);
  });

  it('answers "no-animal" when non-animal classes outweigh the animals', () => {
    const answer = translate(
      vector(1001, { 600: 0.5, 601: 0.3, 42: 0.2 }),
      imagenetLabels,
      IMAGENET,
    );
    expect(answer).toMatchObject({ kind: 'no-animal', nonAnimalProbability: expect.closeTo(0.8) });
  });

  it('answers "animal" for a clear animal even when most mass is elsewhere', () => {
    const answer = translate(vector(1001, { 600: 0.6, 42: 0.4 }), imagenetLabels, IMAGENET);
    expect(answer.kind).toBe('animal');
  });

  it('puts the threshold itself on the "animal" side', () => {
    const at = translate(vector(1001, { 42: NOT_SURE_BELOW, 43: 0.25 }), imagenetLabels, IMAGENET);
    expect(at.kind).toBe('animal');
    const below = translate(vector(1001, { 42: 0.2999, 43: 0.25 }), imagenetLabels, IMAGENET);
    expect(below.kind).toBe('not-sure');
  });

  it('says "not-sure" when animal and non-animal mass are equal', () => {
    const answer = translate(
      vector(1001, { 0: 0.5, 10: 0.25, 11: 0.25 }),
      imagenetLabels,
      IMAGENET,
    );
    expect(answer.kind).toBe('not-sure');
  });

  it('orders tied animals by index', () => {
    const answer = translate(
      vector(1001, { 300: 0.2, 30: 0.2, 200: 0.2, 100: 0.2, 0: 0.2 }),
      imagenetLabels,
      IMAGENET,
      { topK: 3 },
    );
    expect(indices(answer)).toEqual([30, 100, 200]);
  });

  it('takes a topK option', () => {
    const probabilities = vector(1001, { 42: 0.45, 43: 0.4, 44: 0.15 });
    expect(translate(probabilities, imagenetLabels, IMAGENET, { topK: 2 }).top).toHaveLength(2);
    expect(translate(probabilities, imagenetLabels, IMAGENET, { topK: 0 })).toEqual({
      kind: 'animal',
      top: [],
    });
  });
});

describe('translateOutput with iNaturalist labels', () => {
  it('answers "animal" with names split from the label line', () => {
    const answer = translate(vector(965, { 0: 0.9, 964: 0.1 }), birdLabels, BIRDS);
    expect(answer.kind).toBe('animal');
    expect(answer.top[0]).toMatchObject({
      index: 0,
      label: "Haemorhous cassinii (Cassin's Finch)",
      name: "Cassin's Finch",
      scientificName: 'Haemorhous cassinii',
    });
  });

  it('treats the last index as background, never as a candidate', () => {
    const answer = translate(vector(965, { 964: 0.8, 10: 0.1, 11: 0.1 }), birdLabels, BIRDS);
    expect(answer).toMatchObject({ kind: 'no-animal', nonAnimalProbability: expect.closeTo(0.8) });
    expect(answer.top.some((p) => p.index === 964)).toBe(false);
    expect(indices(answer).slice(0, 2)).toEqual([10, 11]);
  });

  it('answers "not-sure" when the birds share the mass', () => {
    const spread = translate(
      vector(965, { 964: 0.1, 10: 0.29, 11: 0.29, 12: 0.29 }),
      birdLabels,
      BIRDS,
    );
    expect(spread.kind).toBe('not-sure');
    expect(indices(spread).slice(0, 3)).toEqual([10, 11, 12]);
  });
});

describe('translateOutput on bad input', () => {
  it('fails when the output length does not match the labels', () => {
    for (const length of [0, 1000, 1002]) {
      const result = translateOutput(new Float32Array(length), imagenetLabels, IMAGENET);
      expect(result).toMatchObject({ ok: false, error: { code: 'INFERENCE_FAILED' } });
    }
  });

  it('fails when the labels do not match the spec', () => {
    const result = translateOutput(new Float32Array(965), birdLabels.slice(1), BIRDS);
    expect(result).toMatchObject({ ok: false, error: { code: 'MODEL_LOAD_FAILED' } });
  });

  it('fails on an inconsistent spec', () => {
    const spec: LabelSpec = { ...BIRDS, backgroundIndex: 965 };
    const result = translateOutput(new Float32Array(965), birdLabels, spec);
    expect(result).toMatchObject({ ok: false, error: { code: 'MODEL_LOAD_FAILED' } });
  });

  it('counts NaN, infinite and negative values as 0', () => {
    const probabilities = Array.from({ length: 965 }, () => 0);
    probabilities[0] = Number.NaN;
    probabilities[1] = Number.POSITIVE_INFINITY;
    probabilities[2] = -0.5;
    probabilities[3] = 0.6;
    probabilities[964] = Number.NaN;
    const answer = translate(probabilities, birdLabels, BIRDS);
    expect(answer.kind).toBe('animal');
    expect(indices(answer)).toEqual([3, 0, 1, 2, 4]);
    expect(answer.top.every((p) => Number.isFinite(p.probability))).toBe(true);
  });

  it('answers "not-sure" for an output that says nothing', () => {
    const allNaN = new Float32Array(965).fill(Number.NaN);
    const answer = translate(allNaN, birdLabels, BIRDS);
    expect(answer.kind).toBe('not-sure');
    expect(answer.top.map((p) => p.probability)).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('toPrediction', () => {
  it('copies the exact label line and the names', () => {
    const tench = imagenetLabels[1];
    if (tench === undefined) throw new Error('no tench');
    expect(toPrediction(tench, 0.25)).toEqual({
      index: 1,
      label: 'tench, Tinca tinca',
      name: 'tench',
      scientificName: 'Tinca tinca',
      probability: 0.25,
    });
  });
});
