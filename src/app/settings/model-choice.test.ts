import { describe, expect, it } from 'vitest';
import { fakeManifest, fakeModelEntry } from '../../core/model-manifest.fixtures';
import { modelChoice, orList, plural, withArticle } from './model-choice';

/** The catalogued ids: the specialists are known by their catalogue entries. */
const general = fakeModelEntry('imagenet-mobilenet-v2', 'g1');
const birds = fakeModelEntry('inat-birds-mobilenet-v2', 'b1');
const insects = fakeModelEntry('inat-insects-mobilenet-v2', 'i1');
const other = fakeModelEntry('uncatalogued-model', 'o1');
const manifest = fakeManifest(general, birds, insects, other);

describe('modelChoice', () => {
  it('reads null as Auto: the default model first, then every specialist', () => {
    const choice = modelChoice(manifest, null);
    expect(choice.kind).toBe('auto');
    expect(choice.kind === 'auto' && choice.general.id).toBe(general.id);
    expect(choice.kind === 'auto' && choice.specialists.map((s) => [s.entry.id, s.group])).toEqual([
      [birds.id, 'bird'],
      [insects.id, 'insect'],
    ]);
  });

  it('reads an id the manifest no longer lists as Auto', () => {
    expect(modelChoice(manifest, 'withdrawn-model').kind).toBe('auto');
  });

  it('a specialist chosen by hand keeps the general model to check its group', () => {
    const choice = modelChoice(manifest, birds.id);
    expect(choice).toMatchObject({
      kind: 'chosen',
      entry: { id: birds.id },
      specialism: { group: 'bird', general: { id: general.id } },
    });
    expect(modelChoice(manifest, other.id)).toMatchObject({
      kind: 'chosen',
      entry: { id: other.id },
      specialism: null,
    });
  });

  it('a default that is itself a specialist is not its own specialist', () => {
    const birdsFirst = { ...manifest, defaultModel: birds.id };
    const choice = modelChoice(birdsFirst, null);
    expect(choice.kind === 'auto' && choice.specialists.map((s) => s.entry.id)).toEqual([
      insects.id,
    ]);
  });
});

describe('wording helpers', () => {
  it('builds "a bird or an insect" and "birds or insects"', () => {
    expect(orList(['bird', 'insect'].map(withArticle))).toBe('a bird or an insect');
    expect(orList(['bird', 'insect'].map(plural))).toBe('birds or insects');
    expect(orList(['a', 'b', 'c'])).toBe('a, b or c');
    expect(orList(['bird'])).toBe('bird');
    expect(orList([])).toBe('');
  });
});
