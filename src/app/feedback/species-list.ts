import Fuse from 'fuse.js';
import { animalIndexMask, type Prediction } from '../../core/answer';
import { parseLabels, type Label } from '../../core/labels';
import { fileUrl, type LabelSpec, type ModelEntry } from '../../core/model-manifest';
import { formatModelRef } from '../../core/model-ref';
import type { ModelTaxonomy, Taxon } from '../../core/taxonomy';
import { loadedLabels } from '../inference/inference';

/**
 * The species a user may pick when correcting: the model's animal classes under the names
 * people use, with the groups they sit in, and how the picker finds and orders them.
 */

/** One class the picker offers. */
export interface PickerSpecies extends Taxon {
  /** Output index of the model. */
  index: number;
  /** The label line exactly as in labels.txt: what a correction records. */
  line: string;
}

export interface SpeciesList {
  /** The animal classes, in model order. */
  species: PickerSpecies[];
  /** The groups every species of the model sits in: a filter on them would filter nothing. */
  sharedPath: string[];
}

export function speciesListOf(
  labels: readonly Label[],
  spec: LabelSpec,
  taxonomy: ModelTaxonomy,
): SpeciesList {
  const isAnimal = animalIndexMask(spec);
  const species = labels.flatMap((label): PickerSpecies[] => {
    const taxon = taxonomy.taxa[label.index];
    if (isAnimal[label.index] !== 1 || taxon === undefined) return [];
    return [{ ...taxon, index: label.index, line: label.line }];
  });
  return { species, sharedPath: taxonomy.sharedPath };
}

const loaded = new Map<string, Promise<SpeciesList>>();

async function fetchLabels(entry: ModelEntry): Promise<Label[]> {
  const response = await fetch(fileUrl(entry, entry.labelsFile));
  if (!response.ok) throw new Error(`labels: HTTP ${response.status}`);
  const parsed = parseLabels(await response.text(), entry.labels);
  if (!parsed.ok) throw new Error(parsed.error.detail ?? parsed.error.message);
  return parsed.value;
}

/** The model's species list, loaded once per model version. */
export function speciesFor(entry: ModelEntry): Promise<SpeciesList> {
  const key = formatModelRef(entry);
  let list = loaded.get(key);
  if (list === undefined) {
    list = (async () => {
      // The taxonomy table is large and only the picker needs it on this thread: it loads
      // with the first correction (the service worker precaches the chunk for offline use).
      const [{ taxonomyFor }, labels] = await Promise.all([
        import('../../core/taxonomy'),
        // The worker already holds the running model's labels: no network needed, even offline.
        loadedLabels(entry).then((held) => held ?? fetchLabels(entry)),
      ]);
      return speciesListOf(labels, entry.labels, taxonomyFor(entry.id, labels, entry.labels));
    })();
    list.catch(() => loaded.delete(key)); // a failed load is tried again next time
    loaded.set(key, list);
  }
  return list;
}

/** Enough to scan by eye; typing narrows it further. */
export const MAX_MATCHES = 40;

/** Case, spacing and accents are not what a user means to search by. */
function normalize(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

export type SpeciesSearch = (query: string, limit?: number) => PickerSpecies[];

const WORD_SEPARATOR = /[\s-]/;

/** Whether `term` holds `words` as whole words ("tiger cat" holds "cat"; "polecat" does not). */
function holdsWords(term: string, words: string): boolean {
  for (let at = term.indexOf(words); at !== -1; at = term.indexOf(words, at + 1)) {
    const before = term[at - 1];
    const after = term[at + words.length];
    if (
      (before === undefined || WORD_SEPARATOR.test(before)) &&
      (after === undefined || WORD_SEPARATOR.test(after))
    ) {
      return true;
    }
  }
  return false;
}

/**
 * A search over names, other names, scientific names and groups. What a user types is
 * most often a whole name or the name of a kind of animal, and a fuzzy score alone ranks
 * "polecat" above a tabby for "cat"; so the species are ranked in tiers: the query is one
 * of their names, or one of their groups (all of a group's species, however many: "cat"
 * gives every house cat), then it is a word of a name, then of a group ("cat family" for
 * the lion), then the typo-tolerant matches, up to `limit` in all.
 */
export function createSpeciesSearch(species: readonly PickerSpecies[]): SpeciesSearch {
  const names = species.map((s) => [s.name, ...s.synonyms, s.scientificName ?? ''].map(normalize));
  const groups = species.map((s) => s.path.map(normalize));
  const fuse = new Fuse(species, {
    keys: [
      { name: 'name', weight: 3 },
      { name: 'synonyms', weight: 2 },
      { name: 'scientificName', weight: 1.5 },
      { name: 'path', weight: 1 },
    ],
    threshold: 0.35,
    ignoreLocation: true,
    ignoreDiacritics: true,
  });
  return (query, limit = MAX_MATCHES) => {
    const wanted = normalize(query);
    if (wanted === '') return [];
    const found: PickerSpecies[] = [];
    const seen = new Set<number>();
    const add = (item: PickerSpecies) => {
      if (seen.has(item.index)) return;
      seen.add(item.index);
      found.push(item);
    };
    const isName = (i: number) => names[i]?.includes(wanted) === true;
    const isGroup = (i: number) => groups[i]?.includes(wanted) === true;
    const inName = (i: number) => names[i]?.some((term) => holdsWords(term, wanted)) === true;
    const inGroup = (i: number) => groups[i]?.some((term) => holdsWords(term, wanted)) === true;
    // All that a whole name or group names; the looser tiers only fill up to the limit.
    for (const tier of [isName, isGroup]) species.forEach((s, i) => tier(i) && add(s));
    for (const tier of [inName, inGroup]) {
      species.forEach((s, i) => found.length < limit && tier(i) && add(s));
    }
    if (found.length < limit) {
      for (const { item } of fuse.search(wanted)) {
        if (found.length >= limit) break;
        add(item);
      }
    }
    return found;
  };
}

/**
 * The other name a typed query matched, when the species' own name does not show it: a
 * search for "ice bear" lists "polar bear", and says why.
 */
export function matchedOtherName(species: PickerSpecies, query: string): string | null {
  const wanted = normalize(query);
  if (wanted === '' || normalize(species.name).includes(wanted)) return null;
  return species.synonyms.find((s) => normalize(s).includes(wanted)) ?? null;
}

/** The photo's own candidates, in the answer's order, as species of the list. */
export function candidatesOf(list: SpeciesList, top: readonly Prediction[]): PickerSpecies[] {
  const byIndex = new Map(list.species.map((s) => [s.index, s]));
  const byLine = new Map(list.species.map((s) => [s.line, s]));
  const seen = new Set<number>();
  return top.flatMap((prediction) => {
    // The index names the class; the label line guards against a row of another version.
    const atIndex = byIndex.get(prediction.index);
    const found = atIndex?.line === prediction.label ? atIndex : byLine.get(prediction.label);
    if (found === undefined || seen.has(found.index)) return [];
    seen.add(found.index);
    return [found];
  });
}

/** A group a user may narrow the list to. */
export interface GroupFilter {
  name: string;
  /** The group's path, broad to narrow, ending with the group itself. */
  path: string[];
  count: number;
}

export function isInGroup(species: PickerSpecies, groupPath: readonly string[]): boolean {
  return groupPath.every((name, depth) => species.path[depth] === name);
}

/**
 * The groups of the photo's answer, narrowest first ("cat", then "cat family", then
 * "mammal"): where a user looks when the named species is wrong but the kind of animal is
 * right. The path is the answer's own when it names a group, else the first candidate's.
 */
export function groupFiltersFor(
  list: SpeciesList,
  candidates: readonly PickerSpecies[],
  answerPath?: readonly string[],
): GroupFilter[] {
  // A "not sure" or "no animal" answer names no group of its own: the first candidate's
  // groups are then still the best place to look.
  const path =
    answerPath !== undefined && answerPath.length > list.sharedPath.length
      ? answerPath
      : (candidates[0]?.path ?? []);
  const filters: GroupFilter[] = [];
  for (let depth = path.length; depth > list.sharedPath.length; depth--) {
    const groupPath = path.slice(0, depth);
    const count = list.species.filter((s) => isInGroup(s, groupPath)).length;
    // Groups nest, so a broader one of the same size holds the same species; and a group
    // of one is that species, which a filter would not help to find.
    if (count < 2 || count === filters.at(-1)?.count) continue;
    filters.push({ name: groupPath.at(-1) ?? '', path: groupPath, count });
  }
  return filters;
}

/** A titled run of options in the picker's listbox. */
export interface PickerSection {
  key: string;
  title: string;
  species: PickerSpecies[];
}

/**
 * What the listbox shows: with nothing typed and no group chosen, the photo's candidates;
 * with a group chosen, that group (narrowed by what is typed); otherwise the matches.
 */
export function pickerSections({
  list,
  search,
  candidates,
  query,
  group,
}: {
  list: SpeciesList;
  search: SpeciesSearch;
  candidates: readonly PickerSpecies[];
  query: string;
  group: GroupFilter | null;
}): PickerSection[] {
  const typed = query.trim() !== '';
  if (group !== null) {
    const members = typed
      ? search(query, Infinity).filter((s) => isInGroup(s, group.path))
      : list.species.filter((s) => isInGroup(s, group.path));
    return [
      {
        key: `group-${group.path.join('>')}`,
        title: typed
          ? `In ${group.name}, matching “${query.trim()}”`
          : `All in ${group.name} (${group.count})`,
        species: members,
      },
    ];
  }
  if (typed) {
    return [{ key: 'matches', title: `Matching “${query.trim()}”`, species: search(query) }];
  }
  if (candidates.length > 0) {
    return [{ key: 'candidates', title: 'Candidates for this photo', species: [...candidates] }];
  }
  return [{ key: 'all', title: 'Species', species: list.species.slice(0, MAX_MATCHES) }];
}
