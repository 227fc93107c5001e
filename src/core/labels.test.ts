import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LabelSpec } from './model-manifest';
import {
  distinctScientificName,
  labelSpecProblem,
  parseLabelLine,
  parseLabels,
  splitLabelLines,
  type Label,
} from './labels';
import path from 'node:path';
import { DEFAULT_MODELS_DIR } from '../node/shared-paths';
import { realLabelSpec, type RealModelId } from './real-models.fixtures';

function realLabelsText(modelId: RealModelId): string {
  return readFileSync(path.join(DEFAULT_MODELS_DIR, modelId, 'labels.txt'), 'utf8');
}

const IMAGENET = realLabelSpec('imagenet-mobilenet-v2', realLabelsText('imagenet-mobilenet-v2'));
const BIRDS = realLabelSpec('inat-birds-mobilenet-v2', realLabelsText('inat-birds-mobilenet-v2'));
const INSECTS = realLabelSpec(
  'inat-insects-mobilenet-v2',
  realLabelsText('inat-insects-mobilenet-v2'),
);

function parseOrThrow(text: string, spec: LabelSpec): Label[] {
  const result = parseLabels(text, spec);
  if (!result.ok) throw new Error(result.error.detail);
  return result.value;
}

function at(labels: Label[], index: number): Label {
  const label = labels[index];
  if (label === undefined) throw new Error(`no label ${index}`);
  return label;
}

describe('parseLabels on the real ImageNet labels', () => {
  const text = realLabelsText('imagenet-mobilenet-v2');
  const labels = parseOrThrow(text, IMAGENET);

  it('gives one label per line, indexed by output', () => {
    expect(labels).toHaveLength(1001);
    expect(labels.every((label, i) => label.index === i)).toBe(true);
    expect(labels.map((label) => label.line)).toEqual(text.split('\n').slice(0, 1001));
  });

  it('reads the background and the first class', () => {
    expect(at(labels, 0)).toEqual({
      index: 0,
      line: 'background',
      commonName: 'background',
      scientificName: null,
      synonyms: ['background'],
    });
    expect(at(labels, 1)).toEqual({
      index: 1,
      line: 'tench, Tinca tinca',
      commonName: 'tench',
      scientificName: 'Tinca tinca',
      synonyms: ['tench', 'Tinca tinca'],
    });
    expect(at(labels, 1000).line).toBe('toilet tissue, toilet paper, bathroom tissue');
  });

  it('finds the binomial among many synonyms', () => {
    const shark = at(labels, 3);
    expect(shark.commonName).toBe('great white shark');
    expect(shark.scientificName).toBe('Carcharodon carcharias');
    expect(shark.synonyms).toHaveLength(5);
    expect(at(labels, 16).scientificName).toBe('Turdus migratorius');
    expect(at(labels, 123).scientificName).toBe('Homarus americanus');
    expect(at(labels, 274).scientificName).toBe('Canis dingo');
    expect(at(labels, 369).scientificName).toBe('Hylobates lar');
    // Two binomials (old and current genus): the first one given.
    expect(at(labels, 90).scientificName).toBe('Kakatoe galerita');
  });

  it('does not take capitalised common names for binomials', () => {
    const notScientific: Array<[number, string]> = [
      [154, 'Maltese dog'],
      [167, 'Walker hound'],
      [170, 'borzoi'],
      [205, 'Lhasa'],
      [236, 'German shepherd'],
      [250, 'malamute'],
      [257, 'Newfoundland'],
      [333, 'Angora'],
      [913, 'worm fence'],
    ];
    for (const [index, commonName] of notScientific) {
      const label = at(labels, index);
      expect(label.commonName).toBe(commonName);
      expect(label.scientificName).toBeNull();
    }
    expect(at(labels, 41).scientificName).toBe('Anolis carolinensis');
    expect(at(labels, 50).scientificName).toBe('Crocodylus niloticus');
    expect(at(labels, 122).scientificName).toBe('Paralithodes camtschatica');
  });

  it('finds a scientific name for the expected number of classes', () => {
    // Counted by hand from the file: 121 animal classes and two plants/fungi name one.
    const withScientific = labels.filter((label) => label.scientificName !== null);
    expect(withScientific).toHaveLength(123);
    expect(withScientific.filter((label) => label.index <= 398)).toHaveLength(121);
    for (const label of withScientific) {
      expect(label.scientificName).toMatch(/^[A-Z][a-z]+ [a-z]+$/);
      expect(label.synonyms).toContain(label.scientificName);
    }
  });

  it('keeps duplicate names apart by index', () => {
    const cranes = labels.filter((label) => label.line === 'crane');
    expect(cranes.map((label) => label.index)).toEqual([135, 518]);
  });
});

describe('parseLabels on the real iNaturalist labels', () => {
  const birds = parseOrThrow(realLabelsText('inat-birds-mobilenet-v2'), BIRDS);
  const insects = parseOrThrow(realLabelsText('inat-insects-mobilenet-v2'), INSECTS);

  it('has the expected counts and a background line last', () => {
    expect(birds).toHaveLength(965);
    expect(insects).toHaveLength(1022);
    for (const background of [at(birds, 964), at(insects, 1021)]) {
      expect(background.line).toBe('background');
      expect(background.commonName).toBe('background');
      expect(background.scientificName).toBeNull();
    }
  });

  it('splits a bird line into scientific and common names', () => {
    expect(at(birds, 0)).toEqual({
      index: 0,
      line: "Haemorhous cassinii (Cassin's Finch)",
      commonName: "Cassin's Finch",
      scientificName: 'Haemorhous cassinii',
      synonyms: ["Cassin's Finch", 'Haemorhous cassinii'],
    });
  });

  it('splits an insect line into scientific and common names', () => {
    const beetle = at(insects, 0);
    expect(beetle.line).toBe('Nicrophorus tomentosus (Tomentose Burying Beetle)');
    expect(beetle.commonName).toBe('Tomentose Burying Beetle');
    expect(beetle.scientificName).toBe('Nicrophorus tomentosus');
    expect(distinctScientificName(beetle.commonName, beetle.scientificName)).toBe(
      'Nicrophorus tomentosus',
    );
  });

  it('handles subspecies, hybrids and nested parentheses', () => {
    expect(at(birds, 13).scientificName).toBe('Ardea herodias occidentalis');
    const harrier = at(birds, 254);
    expect(harrier.commonName).toBe('Northern Harrier (American)');
    expect(harrier.scientificName).toBe('Circus cyaneus hudsonius');
    const hybrid = at(birds, 110);
    expect(hybrid.line).toBe(
      'Anas superciliosa \\xd7 platyrhynchos (Pacific Black Duck \\xd7 Mallard hybrid)',
    );
    expect(hybrid.scientificName).toBe('Anas superciliosa \u00d7 platyrhynchos');
    expect(hybrid.commonName).toBe('Pacific Black Duck \u00d7 Mallard hybrid');
    expect(at(insects, 558).commonName).toBe('Anna\u2019s Eighty-eight');
  });

  it('falls back to the scientific name when the common name is empty', () => {
    const moth = at(insects, 7);
    expect(moth.line).toBe('Syntomoides imaon ()');
    expect(moth.commonName).toBe('Syntomoides imaon');
    expect(moth.scientificName).toBe('Syntomoides imaon');
    expect(moth.synonyms).toEqual(['Syntomoides imaon']);
    expect(distinctScientificName(moth.commonName, moth.scientificName)).toBeNull();
  });

  it('names every species line', () => {
    for (const label of [...birds.slice(0, -1), ...insects.slice(0, -1)]) {
      expect(label.scientificName).toMatch(/^[A-Z][a-z]+ /);
      expect(label.commonName).not.toBe('');
      expect(label.commonName).not.toContain('\\');
    }
  });
});

describe('parseLabels', () => {
  const spec = (count: number): LabelSpec => ({
    format: 'plain',
    count,
    backgroundIndex: null,
    animalRanges: null,
  });

  it('accepts a file with or without a final newline, LF or CRLF, with a BOM', () => {
    for (const text of ['a\nb', 'a\nb\n', 'a\r\nb\r\n', '\uFEFFa\nb']) {
      const labels = parseOrThrow(text, spec(2));
      expect(labels.map((label) => label.line)).toEqual(['a', 'b']);
    }
  });

  it('keeps the line exactly but trims names', () => {
    const [label] = parseOrThrow(' spaced name \t', spec(1));
    expect(label?.line).toBe(' spaced name \t');
    expect(label?.commonName).toBe('spaced name');
  });

  it('fails on a count that does not match the model', () => {
    for (const [text, count] of [
      ['a\nb\n', 3],
      ['a\nb\nc', 2],
      ['', 1],
      ['a\n\n', 1],
    ] as const) {
      const result = parseLabels(text, spec(count));
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.code).toBe('MODEL_LOAD_FAILED');
    }
  });

  it('fails on a blank line, which would shift every later label', () => {
    const result = parseLabels('a\n\nc\n', spec(3));
    expect(result).toMatchObject({ ok: false, error: { detail: 'labels.txt line 2 is blank' } });
  });

  it('fails on an inconsistent spec', () => {
    const bad: LabelSpec = { ...IMAGENET, count: 2, animalRanges: [[1, 398]] };
    expect(parseLabels('background\ntench\n', bad).ok).toBe(false);
  });
});

describe('labelSpecProblem', () => {
  it('accepts the three real specs', () => {
    expect(labelSpecProblem(IMAGENET)).toBeNull();
    expect(labelSpecProblem(BIRDS)).toBeNull();
    expect(labelSpecProblem(INSECTS)).toBeNull();
  });

  it('rejects indices outside the outputs and reversed ranges', () => {
    expect(labelSpecProblem({ ...BIRDS, backgroundIndex: 965 })).toMatch(/background/);
    expect(labelSpecProblem({ ...IMAGENET, animalRanges: [[1, 1001]] })).toMatch(/range/);
    expect(labelSpecProblem({ ...IMAGENET, animalRanges: [[-1, 3]] })).toMatch(/range/);
    expect(labelSpecProblem({ ...IMAGENET, animalRanges: [[5, 4]] })).toMatch(/range/);
    expect(labelSpecProblem({ ...IMAGENET, count: 0 })).toMatch(/count/);
  });
});

describe('parseLabelLine', () => {
  it('reads a scientific-common line without parentheses', () => {
    expect(parseLabelLine('Apis mellifera', 3, 'scientific-common')).toMatchObject({
      commonName: 'Apis mellifera',
      scientificName: 'Apis mellifera',
      synonyms: ['Apis mellifera'],
    });
    expect(parseLabelLine('no animal here', 4, 'scientific-common')).toMatchObject({
      commonName: 'no animal here',
      scientificName: null,
    });
  });

  it('reads a line with parentheses but no scientific name', () => {
    expect(parseLabelLine('(Honey Bee)', 0, 'scientific-common')).toMatchObject({
      commonName: 'Honey Bee',
      scientificName: null,
      synonyms: ['Honey Bee'],
    });
  });

  it('ignores empty ImageNet synonyms', () => {
    expect(parseLabelLine('tench, , Tinca tinca,', 1, 'imagenet').synonyms).toEqual([
      'tench',
      'Tinca tinca',
    ]);
  });

  it('never takes the first ImageNet synonym as the scientific name', () => {
    expect(parseLabelLine('Gila monster', 1, 'imagenet').scientificName).toBeNull();
  });
});

describe('splitLabelLines', () => {
  it('returns no lines for empty text', () => {
    expect(splitLabelLines('')).toEqual([]);
    expect(splitLabelLines('\uFEFF')).toEqual([]);
  });

  it('strips only a trailing CR', () => {
    expect(splitLabelLines('a\rb\r\nc')).toEqual(['a\rb', 'c']);
  });
});

describe('distinctScientificName', () => {
  it('gives the scientific name only when it adds something to the common name', () => {
    expect(distinctScientificName('tench', 'Tinca tinca')).toBe('Tinca tinca');
    expect(distinctScientificName('magpie', null)).toBeNull();
    expect(distinctScientificName('Apis mellifera', 'Apis mellifera')).toBeNull();
  });
});
