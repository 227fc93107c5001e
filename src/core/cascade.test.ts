import { describe, expect, it } from 'vitest';
import { loadRealModel, outputVector } from '../../test-support/real-models';
import {
  cascadeChoiceFor,
  combineOutputs,
  groupMass,
  ROUTE_AT,
  routeOf,
  specialistAnswers,
  specialistsAmong,
} from './cascade';
import { describeAnswer } from './taxonomy-answer';
import { fakeManifest, fakeModelEntry } from './model-manifest.fixtures';
import { taxonomyFor } from './taxonomy';

const general = loadRealModel('imagenet-mobilenet-v2');
const birds = loadRealModel('inat-birds-mobilenet-v2');
const generalTaxonomy = taxonomyFor('imagenet-mobilenet-v2', general.labels, general.spec);
const birdTaxonomy = taxonomyFor('inat-birds-mobilenet-v2', birds.labels, birds.spec);
const GROUPS = ['bird', 'insect'];

/** General model outputs (ImageNet index + 1). */
const OUT = { brambling: 11, goldfinch: 12, junco: 14, lion: 292, tabby: 282, monarch: 324 };

const generalOutput = (entries: Record<number, number>) =>
  outputVector(general.spec.count, entries);

describe('groupMass', () => {
  it('sums every class under the group, over all outputs', () => {
    const output = generalOutput({
      [OUT.brambling]: 0.2,
      [OUT.goldfinch]: 0.25,
      [OUT.junco]: 0.1,
      [OUT.lion]: 0.3,
      [OUT.monarch]: 0.15,
    });
    expect(groupMass(output, generalTaxonomy, 'bird')).toBeCloseTo(0.55, 6);
    expect(groupMass(output, generalTaxonomy, 'insect')).toBeCloseTo(0.15, 6);
    expect(groupMass(output, generalTaxonomy, 'mammal')).toBeCloseTo(0.3, 6);
    expect(groupMass(output, generalTaxonomy, 'no such group')).toBe(0);
  });

  it('ignores values that are no probability', () => {
    const output = generalOutput({ [OUT.goldfinch]: 0.5, [OUT.junco]: -1, [OUT.brambling]: NaN });
    expect(groupMass(output, generalTaxonomy, 'bird')).toBeCloseTo(0.5, 6);
  });
});

describe('routeOf', () => {
  it('routes on the group mass, not on the top-1 class', () => {
    // The lion is the best class, but the photo is mostly bird, split over three finches.
    const output = generalOutput({
      [OUT.lion]: 0.3,
      [OUT.brambling]: 0.2,
      [OUT.goldfinch]: 0.25,
      [OUT.junco]: 0.2,
    });
    const route = routeOf(output, generalTaxonomy, GROUPS);
    expect(route?.group).toBe('bird');
    expect(route?.probability).toBeCloseTo(0.65, 6);
  });

  it('never routes a photo whose best class is a bird when the group holds little mass', () => {
    // "A zebra is never a bird": one bird class on top, the rest spread over mammals.
    const output = generalOutput({
      [OUT.goldfinch]: 0.35,
      [OUT.lion]: 0.33,
      [OUT.tabby]: 0.32,
    });
    expect(routeOf(output, generalTaxonomy, GROUPS)).toBeNull();
  });

  it('routes at the threshold and not below it', () => {
    const at = { bird: 0.5 };
    expect(routeOf(generalOutput({ [OUT.junco]: 0.5 }), generalTaxonomy, GROUPS, at)).toEqual({
      group: 'bird',
      probability: 0.5,
    });
    expect(routeOf(generalOutput({ [OUT.junco]: 0.49 }), generalTaxonomy, GROUPS, at)).toBeNull();
  });

  it('routes only on groups it is given a threshold and a specialist for', () => {
    const insect = generalOutput({ [OUT.monarch]: 0.99 });
    expect(routeOf(insect, generalTaxonomy, GROUPS, { bird: 0.5 })).toBeNull();
    expect(routeOf(insect, generalTaxonomy, ['bird'])).toBeNull();
    expect(routeOf(insect, generalTaxonomy, GROUPS)?.group).toBe('insect');
  });

  it('takes the group with more mass when two clear low thresholds', () => {
    const output = generalOutput({ [OUT.goldfinch]: 0.35, [OUT.monarch]: 0.45 });
    const low = { bird: 0.3, insect: 0.3 };
    expect(routeOf(output, generalTaxonomy, GROUPS, low)?.group).toBe('insect');
  });

  it('has a threshold for each specialist group of the catalogue', () => {
    for (const group of GROUPS) {
      expect(ROUTE_AT[group]).toBeGreaterThan(0);
      expect(ROUTE_AT[group]).toBeLessThan(1);
    }
  });
});

describe('specialistsAmong', () => {
  it('finds the catalogued specialists and the group each knows, in the order given', () => {
    expect(
      specialistsAmong([
        'inat-insects-mobilenet-v2',
        'imagenet-mobilenet-v2',
        'some-other-model',
        'inat-birds-mobilenet-v2',
      ]),
    ).toEqual([
      { modelId: 'inat-insects-mobilenet-v2', group: 'insect' },
      { modelId: 'inat-birds-mobilenet-v2', group: 'bird' },
    ]);
  });
});

describe('specialistAnswers', () => {
  const birdAnswer = (entries: Record<number, number>) => {
    const result = describeAnswer(
      outputVector(birds.spec.count, entries),
      birdTaxonomy,
      birds.spec,
    );
    if (!result.ok) throw new Error(result.error.detail);
    return result.value;
  };
  const background = birds.spec.backgroundIndex!;
  const index = (name: string) => {
    const found = birds.labels.findIndex((label) => label.commonName === name);
    if (found === -1) throw new Error(`no bird called ${name}`);
    return found;
  };

  it('lets a species or a genus answer stand', () => {
    const species = birdAnswer({ [index('Blue Jay')]: 0.9 });
    expect(species.kind).toBe('species');
    expect(specialistAnswers(species)).toBe(true);
    const genus = birdAnswer({
      [index("Steller's Jay")]: 0.2,
      [index('Blue Jay')]: 0.25,
      [background]: 0.05,
    });
    expect(genus.kind).toBe('group');
    expect(genus.path).toEqual(['animal', 'bird', 'Cyanocitta']);
    expect(specialistAnswers(genus)).toBe(true);
  });

  it('falls back on the background ("not a bird it knows") and on "not sure"', () => {
    const none = birdAnswer({ [background]: 0.9, [index('Blue Jay')]: 0.1 });
    expect(none.kind).toBe('no-animal');
    expect(specialistAnswers(none)).toBe(false);
    const spread = birdAnswer({
      [index('Blue Jay')]: 0.1,
      [index('American Crow')]: 0.1,
      [index('Mallard')]: 0.1,
      [index('Wild Turkey')]: 0.1,
      [background]: 0.05,
    });
    expect(spread.kind).toBe('not-sure');
    expect(specialistAnswers(spread)).toBe(false);
  });
});

describe('combineOutputs', () => {
  const close = (actual: Float32Array, expected: number[]) => {
    expect(actual).toHaveLength(expected.length);
    for (const [i, value] of expected.entries()) expect(actual[i]).toBeCloseTo(value, 6);
  };

  it('gives one output back unchanged', () => {
    const output = Float32Array.from([0.7, 0.2, 0.1]);
    expect(combineOutputs([output])).toEqual(output);
    expect(combineOutputs([output])).not.toBe(output);
  });

  it('multiplies the outputs and normalises: the sum of log-probabilities', () => {
    close(
      combineOutputs([
        [0.5, 0.5],
        [0.9, 0.1],
      ]),
      [0.9, 0.1],
    );
    close(
      combineOutputs([
        [0.6, 0.4],
        [0.6, 0.4],
      ]),
      [0.36 / 0.52, 0.16 / 0.52],
    );
    // Two photos that each lean weakly to the same class agree more strongly together.
    const combined = combineOutputs([
      [0.4, 0.35, 0.25],
      [0.45, 0.2, 0.35],
    ]);
    expect(combined[0]).toBeGreaterThan(0.45);
  });

  it('keeps a class one photo rules out exactly available to the others', () => {
    close(
      combineOutputs([
        [1, 0],
        [0, 1],
      ]),
      [0.5, 0.5],
    );
    close(
      combineOutputs([
        [0.8, 0.2, 0],
        [0.8, 0.2, 0],
      ]),
      [0.8 ** 2 / 0.68, 0.2 ** 2 / 0.68, 0],
    );
  });

  it('does not underflow over many photos', () => {
    const photo = [1e-20, 2e-20, 1 - 3e-20];
    const combined = combineOutputs(Array.from({ length: 40 }, () => photo));
    expect(combined.every(Number.isFinite)).toBe(true);
    expect(combined.reduce((sum, p) => sum + p, 0)).toBeCloseTo(1, 6);
    expect(combined[2]).toBeCloseTo(1, 6);
  });

  it('refuses outputs of different lengths; nothing gives nothing', () => {
    expect(() => combineOutputs([[0.5, 0.5], [1]])).toThrow();
    expect(combineOutputs([])).toHaveLength(0);
  });
});

describe('cascadeChoiceFor: what the model setting asks the worker to load', () => {
  const general = fakeModelEntry('imagenet-mobilenet-v2', '1');
  const birds = fakeModelEntry('inat-birds-mobilenet-v2', '1');
  const insects = fakeModelEntry('inat-insects-mobilenet-v2', '1');
  const other = fakeModelEntry('garden-plants', '1');
  const manifest = fakeManifest(general, birds, other, insects);

  it('no choice, or a model the manifest no longer lists, is Auto: the default model and every specialist', () => {
    for (const modelId of [null, 'withdrawn-model']) {
      expect(cascadeChoiceFor(manifest, modelId)).toEqual({
        general,
        specialists: [
          { group: 'bird', entry: birds },
          { group: 'insect', entry: insects },
        ],
        handChosen: false,
      });
    }
  });

  it('a general model chosen by hand answers alone', () => {
    expect(cascadeChoiceFor(manifest, 'garden-plants')).toEqual({
      general: other,
      specialists: [],
      handChosen: false,
    });
    expect(cascadeChoiceFor(manifest, general.id).specialists).toEqual([]);
  });

  it('a specialist chosen by hand keeps the default model in front of it', () => {
    expect(cascadeChoiceFor(manifest, insects.id)).toEqual({
      general,
      specialists: [{ group: 'insect', entry: insects }],
      handChosen: true,
    });
  });
});
