import imagenetTable from './imagenet-taxonomy.json';
import { animalIndexMask } from './answer';
import type { Label } from './labels';
import { taxonomySourceOf } from './model-catalog';
import type { LabelSpec } from './model-manifest';

/**
 * Names people use and the groups above each class of a model: what an answer rolls up
 * to when no species is certain, and what a search for "cat" should find.
 */

/** The committed table `npm run derive:taxonomy` writes from ImageNet's WordNet files. */
export interface TaxonomyTable {
  /** Named groups; `parent` indexes this list, null for the root ("animal"). */
  groups: { name: string; wnid: string; parent: number | null }[];
  /**
   * The 1,000 ImageNet classes in the order of imagenet_classes.csv (ImageNet index i is
   * output i + 1 of the general model), which also gives each class's wnid.
   */
  classes: {
    /** The short name people use ("polar bear" for ImageNet's "ice bear"). */
    name: string;
    /** Only where the class is a species. */
    scientificName: string | null;
    /** The synset's other words ("ice bear", "Ursus Maritimus"). */
    synonyms: string[];
    /** The narrowest named group the class sits in; null for a class that is no animal. */
    group: number | null;
  }[];
}

export const IMAGENET_TAXONOMY: TaxonomyTable = imagenetTable;

/** One class of a model, as people name it. */
export interface Taxon {
  name: string;
  scientificName: string | null;
  synonyms: string[];
  /** The groups the class sits in, broad to narrow; the class itself is not one of them. */
  path: string[];
}

export interface ModelTaxonomy {
  /** One per model output; the background and non-animal classes have an empty path. */
  taxa: Taxon[];
  /**
   * The groups every animal class of the model shares (["animal", "bird"] for the birds
   * model). A roll-up that stops there says nothing the model did not say before it saw
   * the photo, so it is "not sure", not a group answer.
   */
  sharedPath: string[];
  /**
   * How many leading path entries are common-name groups; entries after them are genera
   * (Latin), which are their own scientific name. Null when every group has a common name.
   */
  genusFrom: number | null;
}

/** A group's path, broad to narrow, ending with the group itself. */
export function groupPath(table: TaxonomyTable, group: number | null): string[] {
  const path: string[] = [];
  const seen = new Set<number>();
  for (let at = group; at !== null && !seen.has(at); at = table.groups[at]?.parent ?? null) {
    seen.add(at);
    const entry = table.groups[at];
    if (entry === undefined) break;
    path.unshift(entry.name);
  }
  return path;
}

/** The path of the named group called `name` in the ImageNet table, or null. */
export function namedGroupPath(table: TaxonomyTable, name: string): string[] | null {
  const index = table.groups.findIndex((group) => group.name === name);
  return index === -1 ? null : groupPath(table, index);
}

/**
 * The taxa of a model's outputs. The general model takes names and groups from the
 * ImageNet table; the iNaturalist models keep their own common and scientific names, and
 * their groups are the general group they specialise in (from the model catalogue) plus
 * the genus of each scientific name. A model the catalogue does not know gets its label
 * names and no groups, so its answers never roll up.
 */
export function taxonomyFor(
  modelId: string,
  labels: readonly Label[],
  spec: LabelSpec,
  table: TaxonomyTable = IMAGENET_TAXONOMY,
): ModelTaxonomy {
  const isAnimal = animalIndexMask(spec);
  const source = taxonomySourceOf(modelId);
  const plain = (label: Label): Taxon => ({
    name: label.commonName,
    scientificName: label.scientificName,
    synonyms: label.synonyms.filter((s) => s !== label.commonName && s !== label.scientificName),
    path: [],
  });

  let taxa: Taxon[];
  let genusFrom: number | null = null;
  // The table is indexed from the first output after the background; a label file of
  // another length is another model, and borrowing the table would misname every class.
  if (
    source?.kind === 'imagenet' &&
    spec.backgroundIndex === 0 &&
    labels.length === table.classes.length + 1
  ) {
    taxa = labels.map((label, index) => {
      const entry = index === 0 ? undefined : table.classes[index - 1];
      if (entry === undefined) return plain(label);
      return {
        name: entry.name,
        scientificName: entry.scientificName,
        synonyms: entry.synonyms,
        path: isAnimal[index] === 1 ? groupPath(table, entry.group) : [],
      };
    });
  } else if (source?.kind === 'genus') {
    const above = namedGroupPath(table, source.group) ?? [];
    genusFrom = above.length;
    taxa = labels.map((label, index) => {
      const genus = isAnimal[index] === 1 ? genusOf(label.scientificName) : null;
      return {
        ...plain(label),
        path: isAnimal[index] !== 1 ? [] : genus === null ? above : [...above, genus],
      };
    });
  } else {
    taxa = labels.map(plain);
  }
  const animalPaths = taxa.filter((_, index) => isAnimal[index] === 1).map((t) => t.path);
  return { taxa, sharedPath: commonPrefix(animalPaths), genusFrom };
}

/**
 * Everything a search for this class should match, the name people use first: its
 * synonyms, its scientific name and the groups it sits in ("cat" finds the tabby).
 */
export function searchTerms(taxon: Taxon): string[] {
  const terms = [taxon.name, ...taxon.synonyms, taxon.scientificName ?? '', ...taxon.path];
  return [...new Set(terms.filter((term) => term !== ''))];
}

const GENUS = /^[A-Z][a-z]+(?=\s|$)/;

/** The first word of a Latin name ("Spinus" in "Spinus tristis"), or null. */
export function genusOf(scientificName: string | null): string | null {
  return scientificName === null ? null : (GENUS.exec(scientificName)?.[0] ?? null);
}

function commonPrefix(paths: string[][]): string[] {
  const [first, ...rest] = paths;
  if (first === undefined) return [];
  let length = first.length;
  for (const path of rest) {
    let same = 0;
    while (same < length && same < path.length && path[same] === first[same]) same++;
    length = same;
  }
  return first.slice(0, length);
}
