import { describe, expect, it } from 'vitest';
import { loadRealModel, outputVector } from '../../test-support/real-models';
import { NOT_SURE_BELOW } from './answer';
import type { LabelSpec } from './model-manifest';
import { describeAnswer, ROLL_UP_AT, type AnswerSummary } from './taxonomy-answer';
import { taxonomyFor, type ModelTaxonomy } from './taxonomy';

const general = loadRealModel('imagenet-mobilenet-v2');
const birds = loadRealModel('inat-birds-mobilenet-v2');
const generalTaxonomy = taxonomyFor('imagenet-mobilenet-v2', general.labels, general.spec);
const birdTaxonomy = taxonomyFor('inat-birds-mobilenet-v2', birds.labels, birds.spec);

/** General model outputs (ImageNet index + 1). */
const OUT = {
  goldfinch: 12,
  brambling: 11,
  houseFinch: 13,
  junco: 14,
  tabby: 282,
  tigerCat: 283,
  persian: 284,
  egyptianCat: 286,
  lynx: 288,
  lion: 292,
  chihuahua: 152,
  toyTerrier: 159,
  polecat: 359,
  abacus: 399,
};

function summarise(
  entries: Record<number, number>,
  taxonomy: ModelTaxonomy = generalTaxonomy,
  spec: LabelSpec = general.spec,
): AnswerSummary {
  const result = describeAnswer(outputVector(spec.count, entries), taxonomy, spec);
  if (!result.ok) throw new Error(result.error.detail);
  return result.value;
}

describe('describeAnswer', () => {
  it('names a species that is certain enough, with its groups and scientific name', () => {
    expect(summarise({ [OUT.lion]: 0.9, [OUT.tabby]: 0.05 })).toEqual({
      kind: 'species',
      name: 'lion',
      scientificName: 'Panthera leo',
      path: ['animal', 'mammal', 'cat family', 'big cat'],
      probability: expect.closeTo(0.9, 6),
    });
    // The app's threshold: at it, still the species.
    expect(summarise({ [OUT.goldfinch]: NOT_SURE_BELOW, [OUT.brambling]: 0.25 }).kind).toBe(
      'species',
    );
  });

  it('rolls up to "cat" when house cats hold the mass but no breed is certain', () => {
    const answer = summarise({
      [OUT.tabby]: 0.25,
      [OUT.tigerCat]: 0.24,
      [OUT.egyptianCat]: 0.2,
      [OUT.persian]: 0.1,
      [OUT.lynx]: 0.05,
    });
    expect(answer).toEqual({
      kind: 'group',
      name: 'cat',
      scientificName: null,
      path: ['animal', 'mammal', 'cat family', 'cat'],
      probability: expect.closeTo(0.79, 6),
    });
  });

  it('stops a level higher when the deeper group falls short of the threshold', () => {
    // House cats hold under ROLL_UP_AT of the candidates; cats of every kind hold more.
    const cats = ROLL_UP_AT - 0.1;
    const answer = summarise({
      [OUT.tabby]: cats / 3,
      [OUT.tigerCat]: cats / 3,
      [OUT.persian]: cats / 3,
      [OUT.lynx]: 0.1,
      [OUT.lion]: 0.15,
    });
    expect(answer).toMatchObject({ kind: 'group', name: 'cat family' });
    expect(answer.path).toEqual(['animal', 'mammal', 'cat family']);
  });

  it('normalises over the top candidates: a long tail of tiny classes does not matter', () => {
    const tail = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [30 + i, 0.0005]));
    const answer = summarise({
      ...tail,
      [OUT.goldfinch]: 0.2,
      [OUT.brambling]: 0.2,
      [OUT.houseFinch]: 0.15,
      [OUT.junco]: 0.1,
    });
    expect(answer).toMatchObject({
      kind: 'group',
      name: 'finch',
      path: ['animal', 'bird', 'finch'],
    });
  });

  it('is "not sure" when the candidates spread over the animal kingdom', () => {
    const answer = summarise({
      [OUT.tabby]: 0.2,
      [OUT.chihuahua]: 0.2,
      [OUT.goldfinch]: 0.2,
      [OUT.polecat]: 0.2,
    });
    expect(answer).toEqual({
      kind: 'not-sure',
      name: null,
      scientificName: null,
      path: ['animal'],
      probability: expect.closeTo(0.8, 6),
    });
  });

  it('is "no animal" only when the non-animal mass outweighs the animal mass', () => {
    expect(summarise({ [OUT.abacus]: 0.6, [OUT.tabby]: 0.2, [OUT.tigerCat]: 0.2 })).toEqual({
      kind: 'no-animal',
      name: null,
      scientificName: null,
      path: [],
      probability: expect.closeTo(0.6, 6),
    });
    // Even split: the cats win, and roll up.
    expect(summarise({ [OUT.abacus]: 0.4, [OUT.tabby]: 0.2, [OUT.tigerCat]: 0.2 }).kind).toBe(
      'group',
    );
  });

  it('rolls the birds model up to a genus, named by its Latin name', () => {
    const index = (scientific: string) =>
      birds.labels.find((l) => l.scientificName === scientific)!.index;
    const answer = summarise(
      {
        [index('Setophaga petechia')]: 0.28,
        [index('Setophaga coronata')]: 0.27,
        [index('Setophaga palmarum')]: 0.25,
        [index('Spinus tristis')]: 0.1,
      },
      birdTaxonomy,
      birds.spec,
    );
    expect(answer).toEqual({
      kind: 'group',
      name: 'Setophaga',
      scientificName: 'Setophaga',
      path: ['animal', 'bird', 'Setophaga'],
      probability: expect.closeTo(0.8, 6),
    });
    // "bird" is no news from the birds model: spread over genera, it is not sure.
    const spread = summarise(
      { [index('Setophaga petechia')]: 0.25, [index('Spinus tristis')]: 0.25 },
      birdTaxonomy,
      birds.spec,
    );
    expect(spread).toMatchObject({ kind: 'not-sure', path: ['animal', 'bird'] });
    expect(summarise({ [birds.spec.backgroundIndex!]: 0.9 }, birdTaxonomy, birds.spec).kind).toBe(
      'no-animal',
    );
  });

  it('is "not sure" for an all-zero or all-NaN output, and refuses the wrong length', () => {
    expect(summarise({}).kind).toBe('not-sure');
    const nan = new Float32Array(general.spec.count).fill(Number.NaN);
    const result = describeAnswer(nan, generalTaxonomy, general.spec);
    expect(result.ok && result.value.kind).toBe('not-sure');
    const short = describeAnswer(new Float32Array(10), generalTaxonomy, general.spec);
    expect(short.ok ? null : short.error.code).toBe('INFERENCE_FAILED');
    const wrong = describeAnswer(outputVector(general.spec.count, {}), birdTaxonomy, general.spec);
    expect(wrong.ok ? null : wrong.error.code).toBe('MODEL_LOAD_FAILED');
  });
});
