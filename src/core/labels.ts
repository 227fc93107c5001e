import { fail, ok, type Result } from './errors';
import type { LabelSpec } from './model-manifest';

/**
 * Parses a model's labels.txt into names the UI can show. One `Label` per line, in output
 * order; `line` stays byte-for-byte what the file says (minus a trailing CR) because the
 * CLI and the UI contract identify a class by its exact label line.
 */

export interface Label {
  /** Output index of the model. */
  index: number;
  /** The label line exactly as in labels.txt. */
  line: string;
  commonName: string;
  scientificName: string | null;
  /** Every name the line gives, for search; the common name first. */
  synonyms: string[];
}

export type LabelFormat = LabelSpec['format'];

export function parseLabels(text: string, spec: LabelSpec): Result<Label[]> {
  const specProblem = labelSpecProblem(spec);
  if (specProblem !== null) return fail('MODEL_LOAD_FAILED', specProblem);

  const lines = splitLabelLines(text);
  if (lines.length !== spec.count) {
    return fail(
      'MODEL_LOAD_FAILED',
      `labels.txt has ${lines.length} lines; the model has ${spec.count} outputs`,
    );
  }
  const blank = lines.findIndex((line) => line.trim() === '');
  if (blank !== -1) {
    // A blank line almost always means a shifted file: every label after it would name
    // the wrong output, so refuse it rather than mislabel quietly.
    return fail('MODEL_LOAD_FAILED', `labels.txt line ${blank + 1} is blank`);
  }
  return ok(lines.map((line, index) => parseLabelLine(line, index, spec.format)));
}

/** Splits on LF, drops a trailing CR per line, a leading BOM and one final newline. */
export function splitLabelLines(text: string): string[] {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body === '') return [];
  const lines = body.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Why a label spec cannot be used, or null when it is consistent. */
export function labelSpecProblem(spec: LabelSpec): string | null {
  const { count, backgroundIndex, animalRanges } = spec;
  if (!Number.isInteger(count) || count <= 0) return `label count ${count} is not positive`;
  if (backgroundIndex !== null && !isIndexIn(backgroundIndex, count)) {
    return `background index ${backgroundIndex} is outside 0..${count - 1}`;
  }
  for (const [from, to] of animalRanges ?? []) {
    if (!isIndexIn(from, count) || !isIndexIn(to, count) || from > to) {
      return `animal range [${from}, ${to}] is not within 0..${count - 1}`;
    }
  }
  return null;
}

export function parseLabelLine(line: string, index: number, format: LabelFormat): Label {
  switch (format) {
    case 'imagenet':
      return { index, line, ...parseImagenetNames(line) };
    case 'scientific-common':
      return { index, line, ...parseScientificCommonNames(line) };
    case 'plain': {
      const name = decodeEscapes(line.trim());
      return { index, line, commonName: name, scientificName: null, synonyms: [name] };
    }
  }
}

/**
 * The scientific name to show beside the common name, or null when it would only repeat it
 * (a species with no common name is listed under its scientific name).
 */
export function distinctScientificName(
  commonName: string,
  scientificName: string | null,
): string | null {
  return scientificName !== null && scientificName !== commonName ? scientificName : null;
}

type Names = Pick<Label, 'commonName' | 'scientificName' | 'synonyms'>;

// ImageNet lines are WordNet synsets: "great white shark, white shark, ..., Carcharodon
// carcharias". The first synonym is always the everyday name; a Latin binomial, when
// the synset has one, comes later.
function parseImagenetNames(line: string): Names {
  const synonyms = line
    .split(',')
    .map((synonym) => decodeEscapes(synonym.trim()))
    .filter((synonym) => synonym !== '');
  const commonName = synonyms[0] ?? '';
  const scientificName = synonyms.slice(1).find(isImagenetBinomial) ?? null;
  return { commonName, scientificName, synonyms };
}

const BINOMIAL = /^[A-Z][a-z]+ [a-z]+$/;

/**
 * Capitalised first words of ImageNet common names that have the shape of a binomial
 * ("American robin", "Walker foxhound", "Lhasa apso"). ImageNet capitalises a common
 * name only when it starts with a place, people or person, and none of these is a genus.
 * The list covers every such synonym after the first in the real labels.txt (the test
 * parses that file and checks the result).
 */
const PROPER_NOUN_QUALIFIERS: ReadonlySet<string> = new Set([
  'Airedale',
  'African',
  'Alaska',
  'Alaskan',
  'American',
  'Angora',
  'Arctic',
  'Asiatic',
  'Boston',
  'Doberman',
  'Hungarian',
  'Komodo',
  'Lhasa',
  'Maine',
  'Maltese',
  'Newfoundland',
  'Nile',
  'Northern',
  'Russian',
  'Scottish',
  'Staffordshire',
  'Sydney',
  'Virginia',
  'Walker',
]);

function isImagenetBinomial(synonym: string): boolean {
  if (!BINOMIAL.test(synonym)) return false;
  const genus = synonym.slice(0, synonym.indexOf(' '));
  return !PROPER_NOUN_QUALIFIERS.has(genus);
}

// iNaturalist lines: "Haemorhous cassinii (Cassin's Finch)". Seen in the real files:
// trinomials, hybrids ("Anas superciliosa \xd7 platyrhynchos"), nested parentheses in the
// common name ("Northern Harrier (American)"), an empty common name ("()") and the
// bare "background" line.
const SCIENTIFIC_COMMON = /^(.*?)\s*\((.*)\)\s*$/;
const LATIN_NAME = /^[A-Z][a-z]+(?: (?:[a-z]+(?:-[a-z]+)*|\u00d7))+$/;

function parseScientificCommonNames(line: string): Names {
  const trimmed = line.trim();
  const match = SCIENTIFIC_COMMON.exec(trimmed);
  let scientific: string | null;
  let common: string;
  if (match) {
    scientific = decodeEscapes(match[1] ?? '').trim() || null;
    common = decodeEscapes(match[2] ?? '').trim();
  } else {
    const name = decodeEscapes(trimmed);
    scientific = LATIN_NAME.test(name) ? name : null;
    common = scientific === null ? name : '';
  }
  const commonName = common || scientific || '';
  const synonyms = [...new Set([commonName, scientific ?? ''])].filter((name) => name !== '');
  return { commonName, scientificName: scientific, synonyms };
}

// The iNaturalist label files were written with Python escapes left in as text
// ("\xd7" for the hybrid sign, "\u2019" for a curly apostrophe). Names are for people,
// so decode them; `line` keeps the original text.
const ESCAPE = /\\x([0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})/g;

function decodeEscapes(text: string): string {
  return text.replace(ESCAPE, (_escape, byte?: string, unit?: string) =>
    String.fromCharCode(Number.parseInt(byte ?? unit ?? '', 16)),
  );
}

function isIndexIn(index: number, count: number): boolean {
  return Number.isInteger(index) && index >= 0 && index < count;
}
