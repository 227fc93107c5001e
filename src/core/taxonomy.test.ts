import { describe, expect, it } from 'vitest';
import { loadRealModel } from '../../test-support/real-models';
import {
  genusOf,
  groupPath,
  IMAGENET_TAXONOMY,
  namedGroupPath,
  searchTerms,
  taxonomyFor,
} from './taxonomy';

const general = loadRealModel('imagenet-mobilenet-v2');
const birds = loadRealModel('inat-birds-mobilenet-v2');
const insects = loadRealModel('inat-insects-mobilenet-v2');
const generalTaxonomy = taxonomyFor('imagenet-mobilenet-v2', general.labels, general.spec);

/** ImageNet index i is output i + 1 of the general model. */
const pathOf = (imagenetIndex: number) => generalTaxonomy.taxa[imagenetIndex + 1]!.path;
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('the ImageNet taxonomy table', () => {
  const { classes } = IMAGENET_TAXONOMY;

  it('has a path starting at "animal" for exactly the 398 animal classes', () => {
    expect(classes).toHaveLength(1000);
    const animals = classes.flatMap((c, i) => (c.group === null ? [] : [i]));
    expect(animals).toEqual(range(0, 397));
    for (const i of animals) expect(pathOf(i)[0], classes[i]!.name).toBe('animal');
    for (const i of range(398, 999)) expect(pathOf(i), classes[i]!.name).toEqual([]);
  });

  it('puts the dog breeds under "dog", the house cats under "cat", the lion under "big cat"', () => {
    for (const i of range(151, 268)) expect(pathOf(i), classes[i]!.name).toContain('dog');
    for (const i of range(281, 285)) {
      expect(pathOf(i), classes[i]!.name).toEqual(['animal', 'mammal', 'cat family', 'cat']);
    }
    // "cat" means a house cat: no wild cat, big cat, wolf or fox is one, nor a dog.
    for (const i of [...range(0, 280), ...range(286, 397)]) {
      expect(pathOf(i), classes[i]!.name).not.toContain('cat');
    }
    for (const i of [...range(0, 150), ...range(269, 397)]) {
      expect(pathOf(i), classes[i]!.name).not.toContain('dog');
    }
    expect(pathOf(291)).toEqual(['animal', 'mammal', 'cat family', 'big cat']); // lion
    expect(pathOf(269)).toEqual(['animal', 'mammal', 'dog family', 'wolf']); // timber wolf
    expect(pathOf(276)).toEqual(['animal', 'mammal']); // hyena: no canid
  });

  it('puts the birds under "bird", the butterflies under "insect" and "butterfly"', () => {
    const birdClasses = [...range(7, 24), ...range(80, 100), ...range(127, 146)];
    for (const i of birdClasses) expect(pathOf(i)[1], classes[i]!.name).toBe('bird');
    expect(classes.filter((_, i) => pathOf(i)[1] === 'bird')).toHaveLength(birdClasses.length);
    expect(pathOf(11)).toEqual(['animal', 'bird', 'finch']); // goldfinch
    for (const i of range(321, 326)) {
      expect(pathOf(i), classes[i]!.name).toEqual(['animal', 'insect', 'butterfly']);
    }
    expect(pathOf(2)).toEqual(['animal', 'fish', 'shark']);
  });

  it('names classes the way people do, with a scientific name where one is a species', () => {
    const byName = (name: string) => classes.find((c) => c.name === name)!;
    expect(byName('polar bear').synonyms).toContain('ice bear');
    expect(byName('ring-tailed lemur')).toMatchObject({ scientificName: 'Lemur catta' });
    expect(byName('tench').scientificName).toBe('Tinca tinca');
    expect(byName('Chihuahua').scientificName).toBeNull();
    expect(new Set(classes.map((c) => c.name)).size).toBe(classes.length);
  });

  it('keeps groups a tree whose paths run broad to narrow', () => {
    const names = IMAGENET_TAXONOMY.groups.map((g) => g.name);
    expect(new Set(names).size).toBe(names.length);
    for (const [i, { name }] of IMAGENET_TAXONOMY.groups.entries()) {
      const path = groupPath(IMAGENET_TAXONOMY, i);
      expect(path.at(-1)).toBe(name);
      expect(path[0]).toBe('animal');
    }
    expect(namedGroupPath(IMAGENET_TAXONOMY, 'bird')).toEqual(['animal', 'bird']);
    expect(namedGroupPath(IMAGENET_TAXONOMY, 'no such group')).toBeNull();
  });
});

describe('taxonomyFor', () => {
  it('joins the birds model under "bird" and the insects model under "insect", by genus', () => {
    const birdTaxa = taxonomyFor('inat-birds-mobilenet-v2', birds.labels, birds.spec);
    const goldfinch = birdTaxa.taxa.find((t) => t.scientificName === 'Spinus tristis')!;
    expect(goldfinch).toMatchObject({
      name: 'American Goldfinch',
      path: ['animal', 'bird', 'Spinus'],
    });
    expect(birdTaxa.sharedPath).toEqual(['animal', 'bird']);
    expect(birdTaxa.taxa[birds.spec.backgroundIndex!]!.path).toEqual([]);
    const insectTaxa = taxonomyFor('inat-insects-mobilenet-v2', insects.labels, insects.spec);
    expect(insectTaxa.sharedPath).toEqual(['animal', 'insect']);
    const animalIndices = insects.labels.filter((_, i) => i !== insects.spec.backgroundIndex);
    for (const label of animalIndices) {
      const taxon = insectTaxa.taxa[label.index]!;
      expect(taxon.path.slice(0, 2), label.line).toEqual(['animal', 'insect']);
      expect(taxon.path[2], label.line).toBe(genusOf(label.scientificName));
    }
  });

  it('gives the general model the simple-label names and the ImageNet "not sure" root', () => {
    expect(generalTaxonomy.sharedPath).toEqual(['animal']);
    expect(generalTaxonomy.taxa[297]).toMatchObject({ name: 'polar bear' }); // "ice bear"
    expect(generalTaxonomy.taxa[0]!.path).toEqual([]); // background
  });

  it('gives a model the catalogue does not know its label names and no groups', () => {
    const unknown = taxonomyFor('someone-elses-model', general.labels, general.spec);
    expect(unknown.taxa[297]).toMatchObject({ name: 'ice bear', path: [] });
    expect(unknown.sharedPath).toEqual([]);
  });

  it('reads the genus of binomials, trinomials and hybrids, and nothing else', () => {
    expect(genusOf('Spinus tristis')).toBe('Spinus');
    expect(genusOf('Anas superciliosa × platyrhynchos')).toBe('Anas');
    expect(genusOf('Spinus')).toBe('Spinus');
    expect(genusOf('background')).toBeNull();
    expect(genusOf(null)).toBeNull();
  });
});

describe('searchTerms', () => {
  it('finds a class by its name, synonyms, scientific name and groups', () => {
    const polarBear = generalTaxonomy.taxa[297]!;
    expect(searchTerms(polarBear)).toEqual([
      'polar bear',
      ...polarBear.synonyms,
      'Thalarctos maritimus',
      'animal',
      'mammal',
      'bear',
    ]);
    expect(searchTerms(polarBear)).toContain('ice bear');
    // "cat" finds exactly the five house cats.
    const cats = generalTaxonomy.taxa.filter((t) => searchTerms(t).includes('cat'));
    expect(cats.map((t) => t.name)).toEqual(
      range(281, 285).map((i) => IMAGENET_TAXONOMY.classes[i]!.name),
    );
    const birdTaxa = taxonomyFor('inat-birds-mobilenet-v2', birds.labels, birds.spec);
    const goldfinch = birdTaxa.taxa.find((t) => t.scientificName === 'Spinus tristis')!;
    expect(searchTerms(goldfinch)).toEqual([
      'American Goldfinch',
      'Spinus tristis',
      'animal',
      'bird',
      'Spinus',
    ]);
  });
});
