import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  describeIssues,
  feedbackBatchSchema,
  feedbackRecordProblem,
  feedbackRecordSchema,
  type FeedbackRecordInput,
  type LabelIndex,
} from './feedback';

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

  it.each(['=HYPERLINK("http://evil")', '+1', '-2+3', '@SUM(A1)', '  =1+1'])(
    'refuses the free text %j as a formula',
    (name) => {
      const unknown = valid({
        verdict: 'unknown-species',
        correctedLabel: undefined,
        freeTextName: name,
      });
      expect(feedbackRecordProblem(unknown, index)).toBe('FORMULA_NOT_ALLOWED');
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
});
