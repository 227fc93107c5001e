import { describe, expect, it } from 'vitest';
import { toPrediction, type Prediction } from '../../core/answer';
import { taxonomyFor } from '../../core/taxonomy';
import { loadRealModel } from '../../../test-support/real-models';
import {
  candidatesOf,
  createSpeciesSearch,
  groupFiltersFor,
  MAX_MATCHES,
  matchedOtherName,
  pickerSections,
  speciesListOf,
  type GroupFilter,
  type PickerSpecies,
  type SpeciesList,
} from './species-list';

/**
 * The picker's list, search and ordering, on the real label files of the shared models: the
 * names and groups a user sees are the ones these files and the taxonomy give.
 */

function listFor(id: 'imagenet-mobilenet-v2' | 'inat-birds-mobilenet-v2'): SpeciesList {
  const model = loadRealModel(id);
  return speciesListOf(model.labels, model.spec, taxonomyFor(id, model.labels, model.spec));
}

const general = listFor('imagenet-mobilenet-v2');
const birds = listFor('inat-birds-mobilenet-v2');
const generalSearch = createSpeciesSearch(general.species);
const birdSearch = createSpeciesSearch(birds.species);

const byLine = (list: SpeciesList, line: string): PickerSpecies => {
  const found = list.species.find((s) => s.line === line);
  if (found === undefined) throw new Error(`no species with the line ${line}`);
  return found;
};
const lines = (species: readonly PickerSpecies[]) => species.map((s) => s.line);

/** The label lines of the five house cats, as labels.txt spells them. */
const HOUSE_CATS = [
  'tabby, tabby cat',
  'tiger cat',
  'Persian cat',
  'Siamese cat, Siamese',
  'Egyptian cat',
];
const POLAR_BEAR = 'ice bear, polar bear, Ursus Maritimus, Thalarctos maritimus';
const GOLDFISH = 'goldfish, Carassius auratus';

const prediction = (list: SpeciesList, line: string, probability: number): Prediction => {
  const species = byLine(list, line);
  return toPrediction(
    {
      index: species.index,
      line: species.line,
      commonName: species.name,
      scientificName: species.scientificName,
      synonyms: species.synonyms,
    },
    probability,
  );
};

describe('speciesListOf', () => {
  it('offers the animal classes only, under the names people use, with their label lines', () => {
    expect(general.species).toHaveLength(398);
    expect(general.species.some((s) => s.line === 'background')).toBe(false);
    const polarBear = byLine(general, POLAR_BEAR);
    expect(polarBear).toMatchObject({ name: 'polar bear', index: 297 });
    expect(polarBear.synonyms).toContain('ice bear');
    expect(polarBear.path).toEqual(['animal', 'mammal', 'bear']);
    expect(general.sharedPath).toEqual(['animal']);
  });

  it('keeps an iNaturalist model its own common and scientific names', () => {
    expect(birds.species.some((s) => s.line === 'background')).toBe(false);
    const goldfinch = birds.species.find((s) => s.scientificName === 'Spinus tristis');
    expect(goldfinch).toMatchObject({ name: 'American Goldfinch' });
    expect(goldfinch?.line).toContain('Spinus tristis');
    expect(birds.sharedPath).toEqual(['animal', 'bird']);
  });
});

describe('createSpeciesSearch', () => {
  it('lists every member of a group first when the query is the group ("cat")', () => {
    const found = generalSearch('cat');
    expect(lines(found.slice(0, HOUSE_CATS.length))).toEqual(HOUSE_CATS);
    // Then the species with "cat" as a word of a name or group (the lion is in the cat
    // family), before the ones that merely contain the letters.
    const at = (name: string) => found.findIndex((s) => s.name === name);
    expect(at('lion')).toBeGreaterThan(HOUSE_CATS.length - 1);
    expect(at('European polecat') === -1 || at('lion') < at('European polecat')).toBe(true);
  });

  it('finds a species by another name of its synset, and says which', () => {
    const found = generalSearch('ice bear');
    expect(found[0]?.line).toBe(POLAR_BEAR);
    expect(matchedOtherName(found[0]!, 'ice bear')).toBe('ice bear');
    expect(matchedOtherName(found[0]!, 'polar')).toBeNull();
  });

  it('ignores case, spacing and accents, and forgives a typo', () => {
    expect(generalSearch('  POLAR   Bear ')[0]?.line).toBe(POLAR_BEAR);
    expect(generalSearch('thalarctos maritimus')[0]?.line).toBe(POLAR_BEAR);
    expect(generalSearch('pólar bear')[0]?.line).toBe(POLAR_BEAR);
    expect(lines(generalSearch('goldfsh'))).toContain(GOLDFISH);
    expect(generalSearch('   ')).toEqual([]);
  });

  it('gives all of a large group, beyond the usual number of matches', () => {
    const inBird = general.species.filter((s) => s.path.includes('bird'));
    expect(inBird.length).toBeGreaterThan(MAX_MATCHES);
    expect(lines(generalSearch('bird').slice(0, inBird.length))).toEqual(lines(inBird));
  });

  it('keeps a fuzzy search to the usual number of matches', () => {
    expect(generalSearch('ret').length).toBeLessThanOrEqual(MAX_MATCHES);
  });

  it('finds a bird of the birds model by common name, scientific name and genus', () => {
    const goldfinch = birds.species.find((s) => s.scientificName === 'Spinus tristis')!;
    expect(birdSearch('American Goldfinch')[0]?.line).toBe(goldfinch.line);
    expect(birdSearch('spinus tristis')[0]?.line).toBe(goldfinch.line);
    const spinus = birdSearch('Spinus');
    const genus = birds.species.filter((s) => s.path.at(-1) === 'Spinus');
    expect(lines(spinus.slice(0, genus.length)).sort()).toEqual(lines(genus).sort());
  });
});

describe('candidatesOf', () => {
  it("keeps the answer's order and finds each candidate by its label line", () => {
    const top = [
      prediction(general, 'tiger cat', 0.5),
      prediction(general, 'tabby, tabby cat', 0.3),
      prediction(general, 'Egyptian cat', 0.1),
    ];
    expect(lines(candidatesOf(general, top))).toEqual([
      'tiger cat',
      'tabby, tabby cat',
      'Egyptian cat',
    ]);
  });

  it('drops what the list does not hold and does not repeat a species', () => {
    const tiger = prediction(general, 'tiger cat', 0.5);
    const moved = { ...prediction(general, GOLDFISH, 0.2), index: 5 };
    const unknown = { ...tiger, index: 999_999, label: 'no such line' };
    expect(lines(candidatesOf(general, [tiger, unknown, tiger, moved]))).toEqual([
      'tiger cat',
      GOLDFISH,
    ]);
  });
});

describe('groupFiltersFor', () => {
  const tabby = byLine(general, 'tabby, tabby cat');

  it("offers the answer's groups narrowest first, without the one every species shares", () => {
    const filters = groupFiltersFor(general, [tabby]);
    expect(filters.map((f) => f.name)).toEqual(['cat', 'cat family', 'mammal']);
    expect(filters[0]).toMatchObject({ path: tabby.path, count: HOUSE_CATS.length });
    for (let i = 1; i < filters.length; i++) {
      expect(filters[i]!.count).toBeGreaterThan(filters[i - 1]!.count);
    }
  });

  it("takes the answer's own path when it names a group", () => {
    const filters = groupFiltersFor(general, [tabby], ['animal', 'mammal', 'bear']);
    expect(filters.map((f) => f.name)).toEqual(['bear', 'mammal']);
    // "Not sure" carries only the groups every species shares; "no animal" none at all.
    for (const unnamed of [general.sharedPath, []]) {
      expect(groupFiltersFor(general, [tabby], unnamed).map((f) => f.name)[0]).toBe('cat');
    }
  });

  it('offers no filter that would show the same species as a narrower one, or only one', () => {
    for (const species of birds.species) {
      for (const filter of groupFiltersFor(birds, [species])) {
        expect(filter.count).toBeGreaterThan(1);
        expect(filter.path.length).toBeGreaterThan(birds.sharedPath.length);
      }
    }
    expect(groupFiltersFor(general, [])).toEqual([]);
  });
});

describe('pickerSections', () => {
  const candidates = candidatesOf(general, [
    prediction(general, 'tiger cat', 0.5),
    prediction(general, 'tabby, tabby cat', 0.3),
  ]);
  const cat = groupFiltersFor(general, candidates)[0] ?? null;
  const sections = (query: string, group: GroupFilter | null = null) =>
    pickerSections({ list: general, search: generalSearch, candidates, query, group });

  it("opens on the photo's candidates", () => {
    expect(sections('').map((s) => s.key)).toEqual(['candidates']);
    expect(lines(sections('')[0]!.species)).toEqual(['tiger cat', 'tabby, tabby cat']);
  });

  it('shows the matches once something is typed', () => {
    const [matches] = sections('ice bear');
    expect(matches?.key).toBe('matches');
    expect(matches?.species[0]?.line).toBe(POLAR_BEAR);
  });

  it('shows a whole group, and narrows it by what is typed', () => {
    expect(lines(sections('', cat)[0]!.species)).toEqual(HOUSE_CATS);
    const siam = lines(sections('siam', cat)[0]!.species);
    expect(siam[0]).toBe('Siamese cat, Siamese');
    for (const line of siam) expect(HOUSE_CATS).toContain(line);
    expect(sections('ice bear', cat)[0]!.species).toEqual([]);
  });

  it('lists species when there is no candidate to start from', () => {
    const [all] = pickerSections({
      list: general,
      search: generalSearch,
      candidates: [],
      query: '',
      group: null,
    });
    expect(all?.species.length).toBe(MAX_MATCHES);
  });
});
