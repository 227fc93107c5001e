import { parseLabelLine } from '../core/labels';
import type { TaxonomyTable } from '../core/taxonomy';

/**
 * Builds the ImageNet taxonomy table (src/core/imagenet-taxonomy.json) from ImageNet's
 * WordNet files. Pure: the texts come in, the table goes out, so the drift test and
 * `npm run derive:taxonomy` share every step.
 */

export interface TaxonomySources {
  /** `parent child` wnid pairs, one a line (wordnet.is_a.txt). */
  isA: string;
  /** `wnid<TAB>lemma, lemma, ...` (words.txt). */
  words: string;
  /** index,wnid,name,... with a header line (imagenet_classes.csv). */
  classesCsv: string;
  /** JSON array of the 1,000 short names (imagenet-simple-labels.json). */
  simpleLabels: string;
}

/**
 * The groups an answer may roll up to, broad to narrow by WordNet's own is_a edges. Picked
 * by hand rather than taken from every hypernym, because WordNet's chain for a tabby runs
 * through "placental", "carnivore", "feline", "cat, true cat" and "domestic cat": a path
 * people can read keeps only the synsets they have a word for, and names each the way
 * they say it. Rules followed:
 * - A group holds at least two ImageNet classes, or is a word people use for the animal
 *   itself (an owl); a group of one adds nothing to the roll-up, since its share is the
 *   species' share. That leaves out "moth" (no ImageNet class is a moth) and "ant" and
 *   "bee" (each is one ImageNet class, the very synset).
 * - "cat" is the house cat (WordNet's "domestic cat"), not WordNet's "cat, true cat",
 *   which also holds the cougar and the lynx: a person who reads "cat" means a house cat.
 *   The wild ones sit beside it under "cat family", with the lion and tiger in "big cat".
 * - "dog" is the domestic dog (ImageNet classes 151-268); wolves, foxes and the wild dogs
 *   sit beside it in "dog family", so a husky that might be a wolf rolls up there.
 * - No "invertebrate" or "arthropod" level: "animal, insect, butterfly" is the path people
 *   expect, and a roll-up to "invertebrate" would tell a field worker nothing.
 * - Dog types people name (terrier, hound, retriever, spaniel, sheepdog, poodle, schnauzer)
 *   are groups, so a breed that is unclear can still say what kind of dog it is.
 */
export const NAMED_GROUPS: readonly (readonly [wnid: string, name: string])[] = [
  ['n00015388', 'animal'],
  ['n01861778', 'mammal'],
  ['n02083346', 'dog family'],
  ['n02084071', 'dog'],
  ['n02092468', 'terrier'],
  ['n02087551', 'hound'],
  ['n02099029', 'retriever'],
  ['n02101108', 'spaniel'],
  ['n02104523', 'sheepdog'],
  ['n02113335', 'poodle'],
  ['n02096756', 'schnauzer'],
  ['n02114100', 'wolf'],
  ['n02118333', 'fox'],
  ['n02120997', 'cat family'],
  ['n02121808', 'cat'],
  ['n02124623', 'wild cat'],
  ['n02127808', 'big cat'],
  ['n02131653', 'bear'],
  ['n02469914', 'primate'],
  ['n02484322', 'monkey'],
  ['n02470325', 'ape'],
  ['n02496913', 'lemur'],
  ['n02329401', 'rodent'],
  ['n02324045', 'rabbit'],
  ['n02370806', 'hoofed mammal'],
  ['n02503517', 'elephant'],
  ['n02062744', 'whale'],
  ['n01874434', 'marsupial'],
  ['n01503061', 'bird'],
  ['n01529672', 'finch'],
  ['n01816887', 'parrot'],
  ['n01604330', 'bird of prey'],
  ['n01621127', 'owl'],
  ['n02153203', 'game bird'],
  ['n01845132', 'waterfowl'],
  ['n01846331', 'duck'],
  ['n02000954', 'wading bird'],
  ['n02008041', 'heron'],
  ['n02022684', 'shorebird'],
  ['n02021795', 'seabird'],
  ['n01661091', 'reptile'],
  ['n01726692', 'snake'],
  ['n01674464', 'lizard'],
  ['n01662784', 'turtle'],
  ['n01627424', 'amphibian'],
  ['n01639765', 'frog'],
  ['n01629276', 'salamander'],
  ['n02512053', 'fish'],
  ['n01482330', 'shark'],
  ['n01495701', 'ray'],
  ['n02159955', 'insect'],
  ['n02274259', 'butterfly'],
  ['n02164464', 'beetle'],
  ['n01772222', 'spider'],
  ['n01974773', 'crustacean'],
  ['n01976957', 'crab'],
  ['n01940736', 'mollusc'],
];

/**
 * WordNet edges replaced where they would put a class in a group it does not belong to, as
 * a biologist and a field worker would both say: WordNet files the hyena under "canine",
 * but hyenas are closer to cats and mongooses than to dogs; it stays a carnivore.
 */
export const EDGE_FIXES: readonly { child: string; from: string; to: string }[] = [
  { child: 'n02117135', from: 'n02083346', to: 'n02075296' },
];

const ANIMAL_WNID = 'n00015388';
const IMAGENET_CLASSES = 1000;

export function deriveTaxonomyTable(sources: TaxonomySources): TaxonomyTable {
  const parents = new Map<string, string[]>();
  for (const line of sources.isA.split('\n')) {
    const [parent, child] = line.trim().split(/\s+/);
    if (!parent || !child) continue;
    const fix = EDGE_FIXES.find((f) => f.child === child && f.from === parent);
    const list = parents.get(child) ?? [];
    list.push(fix?.to ?? parent);
    parents.set(child, list);
  }
  const lemmas = new Map<string, string>();
  for (const line of sources.words.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) lemmas.set(line.slice(0, tab), withoutSenseNumber(line.slice(tab + 1).trimEnd()));
  }
  const simple = JSON.parse(sources.simpleLabels) as unknown;
  if (!Array.isArray(simple) || simple.length !== IMAGENET_CLASSES) {
    throw new Error(`simple labels: expected ${IMAGENET_CLASSES} names`);
  }
  const wnids = parseClassesCsv(sources.classesCsv);

  const ancestorCache = new Map<string, Set<string>>();
  const ancestors = (wnid: string): Set<string> => {
    const cached = ancestorCache.get(wnid);
    if (cached) return cached;
    const found = new Set<string>();
    for (const parent of parents.get(wnid) ?? []) {
      found.add(parent);
      for (const above of ancestors(parent)) found.add(above);
    }
    ancestorCache.set(wnid, found);
    return found;
  };

  const groupIndex = new Map(NAMED_GROUPS.map(([wnid], index) => [wnid, index]));
  // A group's parent is its nearest named ancestor: the named groups above it form a chain.
  const groupParent = NAMED_GROUPS.map(([wnid]) => deepestNamed(chainOf(wnid)));

  function chainOf(wnid: string): string[] {
    const named = [...ancestors(wnid)].filter((a) => groupIndex.has(a));
    // Broad to narrow. Along a chain each synset has more ancestors than the one above it;
    // the check below refuses a set of named ancestors that is not a chain.
    named.sort((a, b) => ancestors(a).size - ancestors(b).size);
    for (let i = 1; i < named.length; i++) {
      if (!ancestors(named[i]!).has(named[i - 1]!)) {
        throw new Error(
          `${wnid} is under two named groups on different branches: ${named[i - 1]} and ${named[i]}`,
        );
      }
    }
    return named;
  }

  function deepestNamed(chain: string[]): number | null {
    const last = chain.at(-1);
    return last === undefined ? null : groupIndex.get(last)!;
  }

  const classes = wnids.map((wnid, index) => {
    const gloss = lemmas.get(wnid);
    if (gloss === undefined) throw new Error(`${wnid} is not in words.txt`);
    const name = String(simple[index]);
    // The same rule that reads the model's label lines, which are these lemmas verbatim.
    const parsed = parseLabelLine(gloss, index, 'imagenet');
    const synonyms = parsed.synonyms.filter(
      (word) => word.toLowerCase() !== name.toLowerCase() && word !== parsed.scientificName,
    );
    const isAnimal = ancestors(wnid).has(ANIMAL_WNID);
    const chain = isAnimal ? chainOf(wnid) : [];
    const group = deepestNamed(chain);
    if (group !== null && groupIndex.has(wnid)) {
      throw new Error(`${wnid} is an ImageNet class and a named group: drop the group`);
    }
    return { name, scientificName: parsed.scientificName, synonyms, group };
  });

  const groups = NAMED_GROUPS.map(([wnid, name], index) => ({
    name,
    wnid,
    parent: groupParent[index] ?? null,
  }));
  const used = new Set(classes.flatMap((c) => (c.group === null ? [] : [c.group])));
  for (const [index, group] of groups.entries()) {
    if (!used.has(index) && !groups.some((g) => g.parent === index)) {
      throw new Error(`named group ${group.name} holds no ImageNet class`);
    }
  }
  return { groups, classes };
}

/**
 * words.txt tells a second synset with the same only lemma apart by a digit ("crane2", the
 * machine); the model's label line and people say "crane".
 */
function withoutSenseNumber(gloss: string): string {
  return gloss.replace(/^([a-z]+)\d$/, '$1');
}

function parseClassesCsv(text: string): string[] {
  const rows = text
    .split('\n')
    .slice(1)
    .filter((line) => line.trim() !== '');
  const wnids: string[] = [];
  for (const row of rows) {
    const [index, wnid] = row.split(',');
    if (Number(index) !== wnids.length || !wnid) {
      throw new Error(`imagenet_classes.csv: row ${wnids.length} is "${row}"`);
    }
    wnids.push(wnid);
  }
  if (wnids.length !== IMAGENET_CLASSES) {
    throw new Error(`imagenet_classes.csv has ${wnids.length} classes`);
  }
  return wnids;
}
