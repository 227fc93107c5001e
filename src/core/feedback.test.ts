import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_MODELS_DIR } from '../node/shared-paths';
import {
  canonicalJson,
  describeIssues,
  feedbackBatchSchema,
  feedbackRecordProblem,
  feedbackRecordSchema,
  toNdjsonLine,
  type FeedbackRecordInput,
  type LabelIndex,
} from './feedback';
import { splitLabelLines } from './labels';
import { BACKGROUND_LABEL_LINE } from './model-catalog';
import { realLabelSpec, type RealModelId } from './real-models.fixtures';

const MODEL = { id: 'inat-birds-mobilenet-v2', version: 'abc123def0' };
const LABELS = new Set([
  "Haemorhous cassinii (Cassin's Finch)",
  'Turdus migratorius (American Robin)',
  'background',
]);
const index: LabelIndex = {
  labels: (id, version) => (id === MODEL.id && version === MODEL.version ? LABELS : null),
};

/** A corrected record; an override of `undefined` removes the key (as JSON would). */
function record(overrides: Partial<Record<string, unknown>> = {}): FeedbackRecordInput {
  return JSON.parse(
    JSON.stringify({
      id: '0b9f6a1c-3d2e-4f50-8a6b-7c8d9e0f1a2b',
      model: MODEL,
      predicted: "Haemorhous cassinii (Cassin's Finch)",
      verdict: 'corrected',
      correctedLabel: 'Turdus migratorius (American Robin)',
      day: '2026-05-01',
      top: [
        { label: "Haemorhous cassinii (Cassin's Finch)", probability: 0.61 },
        { label: 'Turdus migratorius (American Robin)', probability: 0.2 },
      ],
      appVersion: '0.1.0',
      ...overrides,
    }),
  ) as FeedbackRecordInput;
}

const parse = (value: unknown) => feedbackRecordSchema.safeParse(value);

describe('feedbackRecordSchema', () => {
  it('accepts each verdict in its own shape', () => {
    expect(parse(record()).success).toBe(true);
    expect(parse(record({ verdict: 'correct', correctedLabel: undefined })).success).toBe(true);
    expect(
      parse(record({ verdict: 'not-an-animal', correctedLabel: undefined, predicted: null }))
        .success,
    ).toBe(true);
    expect(
      parse(
        record({
          verdict: 'unknown-species',
          correctedLabel: undefined,
          freeTextName: 'Pallas cat',
        }),
      ).success,
    ).toBe(true);
  });

  it.each([
    ['corrected without correctedLabel', { correctedLabel: undefined }],
    [
      'corrected to the predicted label',
      { correctedLabel: "Haemorhous cassinii (Cassin's Finch)" },
    ],
    [
      'correct with nothing predicted',
      { verdict: 'correct', correctedLabel: undefined, predicted: null },
    ],
    ['correct with a correctedLabel', { verdict: 'correct' }],
    ['free text with another verdict', { freeTextName: 'x' }],
    ['an unknown verdict', { verdict: 'maybe' }],
    ['an unknown key', { deviceId: 'abc' }],
    ['a user id', { userId: 42 }],
    ['an upper-case id', { id: '0B9F6A1C-3D2E-4F50-8A6B-7C8D9E0F1A2B' }],
    ['an id that is not a UUID', { id: 'record-1' }],
    ['a time of day', { day: '2026-05-01T10:22:00Z' }],
    ['a day that does not exist', { day: '2026-02-30' }],
    ['a day before the project', { day: '1999-12-31' }],
    [
      'six top predictions',
      { top: Array.from({ length: 6 }, () => ({ label: 'background', probability: 0.1 })) },
    ],
    ['a probability over 1', { top: [{ label: 'background', probability: 1.5 }] }],
    ['an extra key in a prediction', { top: [{ label: 'background', probability: 0.5, x: 1 }] }],
    ['a label too long', { predicted: 'x'.repeat(301) }],
    ['a label with a newline', { correctedLabel: 'background\nbackground' }],
    ['a model id with a slash', { model: { id: '../x', version: '1' } }],
    ['an extra key in the model', { model: { ...MODEL, url: 'x' } }],
    ['a photo that is not base64', { photo: 'not base64!' }],
    ['an empty photo', { photo: '' }],
    ['an app version with spaces', { appVersion: '1.0 beta' }],
    ['a number as predicted', { predicted: 3 }],
  ])('refuses %s', (_name, overrides) => {
    expect(parse(record(overrides)).success).toBe(false);
  });

  it('normalises the free-text name (NFC, trimmed) and bounds it', () => {
    const base = { verdict: 'unknown-species', correctedLabel: undefined };
    const parsed = parse(record({ ...base, freeTextName: '  Rotkehlche\u006e\u0308  ' }));
    expect(
      parsed.success && parsed.data.verdict === 'unknown-species' && parsed.data.freeTextName,
    ).toBe('Rotkehlchen\u0308'.normalize('NFC'));
    const composed = parse(record({ ...base, freeTextName: 'Cafe\u0301' }));
    expect(composed.success && 'freeTextName' in composed.data && composed.data.freeTextName).toBe(
      'Caf\u00e9',
    );
    for (const bad of [
      '   ',
      'a\u0000b',
      'tab\there',
      'line\nbreak',
      '\u202eevil',
      'x'.repeat(101),
      'lone \ud800 surrogate',
      'bad \ufffd decode',
    ]) {
      expect(parse(record({ ...base, freeTextName: bad })).success, JSON.stringify(bad)).toBe(
        false,
      );
    }
    expect(parse(record({ ...base, freeTextName: '  ' + 'é'.repeat(100) + '  ' })).success).toBe(
      true,
    );
  });

  const unknownSpecies = (freeTextName: string) =>
    record({ verdict: 'unknown-species', correctedLabel: undefined, freeTextName });

  it.each([
    ['a line separator', 'Great\u2028tit'],
    ['a paragraph separator', 'Great\u2029tit'],
    ['tag characters (hidden ASCII)', 'robin\u{e0069}\u{e0067}\u{e006e}'],
    ['the first tag character', 'robin\u{e0000}'],
    ['a cancel tag', 'robin\u{e007f}'],
    ['a right-to-left mark', 'robin\u200f'],
    ['a left-to-right mark', '\u200erobin'],
    ['an Arabic letter mark', 'robin\u061c'],
    ['a right-to-left embedding', '\u202brobin'],
    ['a first-strong isolate', '\u2068robin'],
    ['a zero-width space', 'rob\u200bin'],
    ['a byte order mark inside', 'rob\ufeffin'],
    ['an interlinear annotation', 'robin\ufff9x\ufffbz'],
    ['a noncharacter (U+FDD0)', 'robin\ufdd0'],
    ['a noncharacter (U+FDEF)', 'robin\ufdef'],
    ['a noncharacter (U+FFFE)', 'robin\ufffe'],
    ['a noncharacter (U+FFFF)', 'robin\uffff'],
    ['a noncharacter (U+1FFFE)', 'robin\u{1fffe}'],
    ['a noncharacter (U+10FFFF)', 'robin\u{10ffff}'],
    ['a private-use character', 'robin\ue000'],
    ['a supplementary private-use character', 'robin\u{f0000}'],
    ['a Hangul filler (U+3164)', 'rob\u3164in'],
    ['a Hangul choseong filler (U+115F)', 'robin\u115f'],
    ['a Hangul jungseong filler (U+1160)', 'robin\u1160'],
    ['a halfwidth Hangul filler (U+FFA0)', 'robin\uffa0'],
    ['a combining grapheme joiner', 'rob\u034fin'],
    ['a variation selector (VS1)', 'robin\ufe00'],
    ['a variation selector (VS14)', 'robin\ufe0d'],
    ['supplementary variation selectors (hidden bytes)', 'robin\u{e0100}\u{e0148}\u{e01ef}'],
    ['a braille blank', 'rob\u2800in'],
    ['a Mongolian free variation selector', 'robin\u180b'],
    ['a Khmer inherent vowel', 'robin\u17b4'],
    ['a run of VS16 (hidden bits)', 'robin\ufe0f\ufe0f\ufe0f'],
    ['VS15 and VS16 in a row', '\u2764\ufe0e\ufe0f'],
    ['a run of joiners (hidden bits)', 'robin\u200d\u200c\u200d'],
    ['a selector after a joiner', 'robin\u200d\ufe0f'],
    ['a joiner first', '\u200drobin'],
    ['only Hangul fillers', '\u3164\u3164\u3164'],
    ['only braille blanks', '\u2800\u2800'],
    ['only a combining mark', '\u0301'],
    ['only punctuation', '...'],
    ['only an emoji', '\u{1f408}'],
  ])('refuses a free-text name with %s, naming the field', (_name, text) => {
    const parsed = parse(unknownSpecies(text));
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(describeIssues(parsed.error)).toMatch(/^freeTextName: /);
  });

  it('still takes names in any script, with the joiners they need', () => {
    for (const name of [
      'Rotkehlchen',
      'コマドリ',
      '知更鸟',
      'سینه‌سرخ', // Persian "robin": a zero-width non-joiner between the two words
      'क्ष‍ Bird', // a zero-width joiner after a conjunct
      'Black cat 🐈‍⬛', // an emoji ZWJ sequence
      'Great-tit',
      'Ｅｌｋ',
      'Robin \u2764\ufe0f', // VS16: the heart as an emoji
      'Robin \u2764\ufe0e', // VS15: the heart as text
      'Eye \u{1f441}\ufe0f\u200d\u{1f5e8}\ufe0f', // VS16 before a joiner, in one emoji
      'No. 1\ufe0f\u20e3', // a keycap
      '2', // a digit is enough
      '한국어', // Hangul syllables, which hold no filler
    ]) {
      expect(parse(unknownSpecies(name)).success, name).toBe(true);
    }
  });

  it('refuses a label line with a line separator or a bidi mark', () => {
    for (const label of ['Turdus migratorius\u2028(American Robin)', '\u200fbackground']) {
      const parsed = parse(record({ correctedLabel: label }));
      expect(parsed.success).toBe(false);
      if (!parsed.success) expect(describeIssues(parsed.error)).toMatch(/^correctedLabel: /);
    }
  });

  const candidates = (...probabilities: number[]) =>
    probabilities.map((probability, i) => ({ label: `label ${i}`, probability }));

  it('refuses a top list that repeats a label or claims more than the whole', () => {
    const robin = { label: 'Turdus migratorius (American Robin)', probability: 0.2 };
    for (const top of [[robin, robin], candidates(0.61, 0.3, 0.1), candidates(1, 0.01)]) {
      const parsed = parse(record({ top }));
      expect(parsed.success, JSON.stringify(top)).toBe(false);
      if (!parsed.success) expect(describeIssues(parsed.error)).toMatch(/^top: /);
    }
  });

  it('takes probabilities that add up to 1 within rounding', () => {
    // Float32 softmax outputs of a confident prediction, and the same rounded to 3 decimals.
    const float32 = [0.9712345, 0.0234567, 0.0031234, 0.0012345, 0.0009509].map(Math.fround);
    for (const top of [candidates(...float32), candidates(0.972, 0.024, 0.003, 0.002, 0.001)]) {
      expect(parse(record({ top })).success).toBe(true);
    }
    expect(parse(record({ top: candidates(0.5, 0.5) })).success).toBe(true);
    expect(parse(record({ top: candidates(0.999, 0.007) })).success).toBe(false);
  });

  it('takes only canonical base64 for the photo: the bits after the last byte are zero', () => {
    expect(parse(record({ photo: 'QQ==' })).success).toBe(true);
    expect(parse(record({ photo: 'QUI=' })).success).toBe(true);
    expect(parse(record({ photo: 'QUJD' })).success).toBe(true);
    // The same bytes as the line above, spelled with padding bits set.
    for (const photo of ['QR==', 'QT==', 'QUJ=', 'QUL=']) {
      const parsed = parse(record({ photo }));
      expect(parsed.success, photo).toBe(false);
      if (!parsed.success) expect(describeIssues(parsed.error)).toMatch(/^photo: /);
    }
  });

  it('is not fooled by __proto__ or constructor keys', () => {
    const poisoned = JSON.parse(
      `{"__proto__": {"polluted": true}, ${JSON.stringify(record()).slice(1)}`,
    ) as unknown;
    expect(parse(poisoned).success).toBe(false);
    const constructorKey = { ...record(), constructor: { prototype: { polluted: true } } };
    expect(parse(constructorKey).success).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('feedbackBatchSchema', () => {
  it('takes 1 to 100 records and nothing else', () => {
    const records = (n: number) => Array.from({ length: n }, () => record());
    expect(feedbackBatchSchema.safeParse({ records: records(1) }).success).toBe(true);
    expect(feedbackBatchSchema.safeParse({ records: records(100) }).success).toBe(true);
    expect(feedbackBatchSchema.safeParse({ records: records(0) }).success).toBe(false);
    expect(feedbackBatchSchema.safeParse({ records: records(101) }).success).toBe(false);
    expect(feedbackBatchSchema.safeParse({ records: records(1), extra: 1 }).success).toBe(false);
    expect(feedbackBatchSchema.safeParse([record()]).success).toBe(false);
  });
});

describe('feedbackRecordProblem', () => {
  const valid = (overrides = {}) => {
    const parsed = parse(record(overrides));
    if (!parsed.success) throw new Error(describeIssues(parsed.error));
    return parsed.data;
  };

  it('passes a record whose model and labels are known', () => {
    expect(feedbackRecordProblem(valid(), index)).toBeNull();
  });

  it('names the first problem', () => {
    expect(feedbackRecordProblem(valid({ model: { ...MODEL, version: 'old' } }), index)).toBe(
      'UNKNOWN_MODEL',
    );
    expect(feedbackRecordProblem(valid({ correctedLabel: 'Passer domesticus' }), index)).toBe(
      'UNKNOWN_LABEL',
    );
    expect(feedbackRecordProblem(valid({ predicted: 'Haemorhous cassinii' }), index)).toBe(
      'UNKNOWN_LABEL',
    );
    expect(
      feedbackRecordProblem(valid({ top: [{ label: 'nope', probability: 0.5 }] }), index),
    ).toBe('UNKNOWN_LABEL');
  });

  it.each([
    '=HYPERLINK("http://evil")',
    '+1',
    '-2+3',
    '@SUM(A1)',
    '  =1+1',
    '＝1+1',
    '＋1',
    '－2+3',
    '＠SUM(A1)',
    '﹦1+1',
    '\u3000＝1+1',
  ])('refuses the free text %j as a formula', (name) => {
    const unknown = valid({
      verdict: 'unknown-species',
      correctedLabel: undefined,
      freeTextName: name,
    });
    expect(feedbackRecordProblem(unknown, index)).toBe('FORMULA_NOT_ALLOWED');
  });

  it('refuses the background line as predicted, chosen or shown: it is no species', () => {
    const background = BACKGROUND_LABEL_LINE;
    expect(feedbackRecordProblem(valid({ correctedLabel: background }), index)).toBe(
      'UNKNOWN_LABEL',
    );
    expect(
      feedbackRecordProblem(
        valid({ verdict: 'correct', correctedLabel: undefined, predicted: background }),
        index,
      ),
    ).toBe('UNKNOWN_LABEL');
    expect(
      feedbackRecordProblem(valid({ top: [{ label: background, probability: 0.5 }] }), index),
    ).toBe('UNKNOWN_LABEL');
  });

  it.each(['imagenet-mobilenet-v2', 'inat-birds-mobilenet-v2', 'inat-insects-mobilenet-v2'])(
    'names the background line of %s as its label spec does',
    async (id) => {
      const text = await readFile(join(DEFAULT_MODELS_DIR, id, 'labels.txt'), 'utf8');
      const spec = realLabelSpec(id as RealModelId, text);
      expect(spec.backgroundIndex).not.toBeNull();
      expect(splitLabelLines(text)[spec.backgroundIndex ?? -1]).toBe(BACKGROUND_LABEL_LINE);
    },
  );
});

describe('canonicalJson', () => {
  it('ignores key order and undefined values, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[2,1]},"b":1}',
    );
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
    expect(canonicalJson(null)).toBe('null');
  });

  it('keeps the canonical form, and so the payload hash, of an ordinary record', () => {
    const parsed = parse(record());
    expect(parsed.success && canonicalJson(parsed.data)).toBe(
      '{"appVersion":"0.1.0","correctedLabel":"Turdus migratorius (American Robin)",' +
        '"day":"2026-05-01","id":"0b9f6a1c-3d2e-4f50-8a6b-7c8d9e0f1a2b",' +
        '"model":{"id":"inat-birds-mobilenet-v2","version":"abc123def0"},' +
        '"predicted":"Haemorhous cassinii (Cassin\'s Finch)",' +
        '"top":[{"label":"Haemorhous cassinii (Cassin\'s Finch)","probability":0.61},' +
        '{"label":"Turdus migratorius (American Robin)","probability":0.2}],"verdict":"corrected"}',
    );
  });

  it('escapes U+2028 and U+2029, which JSON.stringify leaves raw, in values and keys', () => {
    const value = { 'k\u2029': 'a\u2028b', list: ['\u2029'] };
    const text = canonicalJson(value);
    expect(text).toBe('{"k\\u2029":"a\\u2028b","list":["\\u2029"]}');
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('toNdjsonLine', () => {
  it('gives exactly one line, whatever the text inside, that parses back to the value', () => {
    // A row stored before the schema refused these characters still exports as one line.
    const row = { seq: 7, hasPhoto: false, record: { freeTextName: 'a\u2028b\u2029c\nd' } };
    const line = toNdjsonLine(row);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1).split(/\r\n|\r|\n|\u2028|\u2029|\u0085/)).toHaveLength(1);
    expect(JSON.parse(line)).toEqual(row);
  });
});

describe('describeIssues', () => {
  it('gives short paths and never echoes long keys or values', () => {
    const longKey = 'k'.repeat(10_000);
    const result = feedbackBatchSchema.safeParse({
      records: [record(), record({ day: 'yesterday', [longKey]: 'v'.repeat(10_000) })],
    });
    expect(result.success).toBe(false);
    if (result.success) return;
    const text = describeIssues(result.error);
    expect(text).toMatch(/^records\.1/);
    expect(text.length).toBeLessThanOrEqual(200);
    expect(text).not.toContain('v'.repeat(50));
  });

  it('names plain unknown body keys, and only counts the others', () => {
    const detailOf = (value: unknown) => {
      const result = feedbackBatchSchema.safeParse(value);
      return result.success ? null : describeIssues(result.error);
    };
    expect(detailOf({ records: [record()], ip: '1' })).toBe('(body): unknown key "ip"');
    expect(detailOf({ records: [record()], ip: '1', 'a b': 1, ['k'.repeat(41)]: 1 })).toBe(
      '(body): unknown keys "ip" and 2 more',
    );
    for (const key of ['<script>', 'k'.repeat(41), 'a\u2028b', '', '1abc', 'é']) {
      expect(detailOf({ records: [record()], [key]: 1 }), key).toBe('(body): an unknown key');
    }
  });

  it('never names an unknown key of the query, nor calls the query the body', () => {
    const query = z.strictObject({ since: z.number().optional() });
    const result = query.safeParse({ ip: '1', other: 2 });
    expect(result.success).toBe(false);
    if (!result.success) {
      expect(describeIssues(result.error, { source: 'query' })).toBe('(query): 2 unknown keys');
    }
  });
});
