import { describe, expect, it } from 'vitest';
import type { Answer } from './answer';
import {
  DEFAULT_HISTORY_LIMITS,
  addPruneCounts,
  coarsenLocation,
  createObservation,
  newUuid,
  observationMatches,
  observationSchema,
  planPrune,
  pruneCounts,
  pruneNotice,
  pruneWindow,
  restoreObservation,
  uuidFromBytes,
  type HistoryLimits,
  type ObservationRecord,
  type PruneCandidate,
} from './history-policy';

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function entries(count: number, withThumbnail = (_i: number) => true): PruneCandidate[] {
  // createdAt grows with i: entry 0 is the oldest.
  return Array.from({ length: count }, (_, i) => ({
    id: ID(i),
    createdAt: 1_700_000_000_000 + i * 1000,
    hasThumbnail: withThumbnail(i),
    thumbnailBytes: withThumbnail(i) ? 100 : 0,
  }));
}

const limits = (maxThumbnails: number, maxEntries: number): HistoryLimits => ({
  maxThumbnails,
  maxEntries,
  maxThumbnailBytes: 64 * 1024,
});

const answer: Answer = {
  kind: 'animal',
  top: [
    {
      index: 3,
      label: 'red fox, Vulpes vulpes',
      name: 'red fox',
      scientificName: 'Vulpes vulpes',
      probability: 0.9,
    },
    { index: 4, label: 'kit fox', name: 'kit fox', scientificName: null, probability: 0.05 },
  ],
};

function record(overrides: Partial<ObservationRecord> = {}): ObservationRecord {
  return {
    ...createObservation({
      id: ID(1),
      createdAt: 1_700_000_000_000,
      fileName: 'fox.jpg',
      answer,
      model: { id: 'imagenet-mobilenet-v2', version: '1.0.0' },
      backend: 'wasm',
      location: null,
    }),
    ...overrides,
  };
}

describe('default limits', () => {
  it('keep 1000 thumbnails and 10000 observations', () => {
    expect(DEFAULT_HISTORY_LIMITS.maxThumbnails).toBe(1000);
    expect(DEFAULT_HISTORY_LIMITS.maxEntries).toBe(10_000);
  });
});

describe('planPrune', () => {
  it('removes nothing at or under the limits', () => {
    expect(planPrune(entries(3), limits(3, 3))).toEqual({
      dropThumbnails: [],
      deleteEntries: [],
      freedBytes: 0,
    });
    expect(planPrune([], limits(0, 0)).deleteEntries).toEqual([]);
  });

  it('drops the thumbnails of the oldest entries first, one over the limit', () => {
    const plan = planPrune(entries(4), limits(3, 10));
    expect(plan.dropThumbnails).toEqual([ID(0)]);
    expect(plan.deleteEntries).toEqual([]);
    expect(plan.freedBytes).toBe(100);
  });

  it('deletes the oldest entries beyond the entry limit, with their thumbnails', () => {
    const plan = planPrune(entries(5), limits(10, 3));
    expect(plan.deleteEntries).toEqual([ID(0), ID(1)]);
    expect(plan.dropThumbnails).toEqual([]);
    expect(plan.freedBytes).toBe(200);
  });

  it('counts the thumbnails of deleted entries before dropping more', () => {
    // 6 entries, all with thumbnails; keep 4 entries and 2 thumbnails.
    const plan = planPrune(entries(6), limits(2, 4));
    expect(plan.deleteEntries).toEqual([ID(0), ID(1)]);
    expect(plan.dropThumbnails).toEqual([ID(2), ID(3)]);
  });

  it('skips entries that have no thumbnail when dropping thumbnails', () => {
    const plan = planPrune(
      entries(6, (i) => i % 2 === 1),
      limits(1, 10),
    );
    expect(plan.dropThumbnails).toEqual([ID(1), ID(3)]);
  });

  it('orders by time, not by the order given, and equal times by id', () => {
    const shuffled = entries(5).reverse();
    expect(planPrune(shuffled, limits(10, 2)).deleteEntries).toEqual([ID(0), ID(1), ID(2)]);
    const sameTime = ['c', 'a', 'b'].map((id) => ({
      id,
      createdAt: 5,
      hasThumbnail: true,
      thumbnailBytes: 1,
    }));
    expect(planPrune(sameTime, limits(1, 10)).dropThumbnails).toEqual(['a', 'b']);
  });

  it('keeps exactly the newest entries and thumbnails at the limit boundary', () => {
    const all = entries(1001);
    const plan = planPrune(all, limits(1000, 1000));
    expect(plan.deleteEntries).toEqual([ID(0)]);
    expect(plan.dropThumbnails).toEqual([]);
    const thumbnailsOnly = planPrune(entries(1001), limits(1000, 2000));
    expect(thumbnailsOnly.dropThumbnails).toEqual([ID(0)]);
  });

  it('works on the oldest part of the history with the real totals', () => {
    // 10 stored, all with thumbnails; only the window the storage code reads is given.
    const totals = { entries: 10, thumbnails: 10 };
    const window = pruneWindow(totals, limits(5, 8));
    expect(window).toEqual({ entries: 2, thumbnails: 7 });
    const all = entries(10);
    const partial = [
      ...all.slice(0, window.entries).map((c) => ({ ...c, hasThumbnail: false })),
      ...all.slice(0, window.thumbnails),
    ];
    const plan = planPrune(partial, limits(5, 8), totals);
    expect(plan).toEqual(planPrune(all, limits(5, 8)));
    expect(plan.deleteEntries).toEqual([ID(0), ID(1)]);
    expect(plan.dropThumbnails).toEqual([ID(2), ID(3), ID(4)]);
  });

  it('treats broken limits as zero rather than keeping everything', () => {
    const plan = planPrune(entries(2), {
      maxThumbnails: -1,
      maxEntries: NaN,
      maxThumbnailBytes: 0,
    });
    expect(plan.deleteEntries).toEqual([ID(0), ID(1)]);
  });
});

describe('pruneWindow', () => {
  it('is empty under the limits', () => {
    expect(pruneWindow({ entries: 10_000, thumbnails: 1000 })).toEqual({
      entries: 0,
      thumbnails: 0,
    });
  });

  it('asks for one of each when one over', () => {
    expect(pruneWindow({ entries: 10_001, thumbnails: 1001 })).toEqual({
      entries: 1,
      thumbnails: 2,
    });
  });
});

describe('pruneNotice', () => {
  it('says nothing when nothing was removed', () => {
    expect(pruneNotice({ thumbnailsDropped: 0, entriesDeleted: 0 })).toBeNull();
  });

  it('tells how many thumbnails were removed', () => {
    expect(pruneNotice({ thumbnailsDropped: 12, entriesDeleted: 0 })).toBe(
      'Thumbnails of the 12 oldest observations were removed to stay within storage limits.',
    );
    expect(pruneNotice({ thumbnailsDropped: 1, entriesDeleted: 0 })).toBe(
      'The thumbnail of the oldest observation was removed to stay within storage limits.',
    );
  });

  it('tells how many observations were deleted, with thousands separated', () => {
    expect(pruneNotice({ thumbnailsDropped: 0, entriesDeleted: 1500 })).toBe(
      'The 1,500 oldest observations were deleted to stay within storage limits.',
    );
    expect(pruneNotice({ thumbnailsDropped: 0, entriesDeleted: 1 })).toBe(
      'The oldest observation was deleted to stay within storage limits.',
    );
  });

  it('combines both in one sentence', () => {
    expect(pruneNotice({ thumbnailsDropped: 3, entriesDeleted: 2 })).toBe(
      'The 2 oldest observations were deleted and the thumbnails of the next 3 were removed to stay within storage limits.',
    );
  });

  it('adds up the counts of several prunings', () => {
    const plan = planPrune(entries(4), limits(3, 10));
    const total = addPruneCounts(pruneCounts(plan), pruneCounts(plan));
    expect(pruneNotice(total)).toMatch(/^Thumbnails of the 2 oldest/);
  });
});

describe('createObservation', () => {
  it('builds a record that passes the schema', () => {
    const created = record();
    expect(observationSchema.safeParse(created).success).toBe(true);
    expect(created.top).toEqual([
      {
        label: 'red fox, Vulpes vulpes',
        name: 'red fox',
        scientificName: 'Vulpes vulpes',
        probability: 0.9,
      },
      { label: 'kit fox', name: 'kit fox', scientificName: null, probability: 0.05 },
    ]);
    expect(created.verdict).toBeNull();
  });

  it('keeps at most five candidates and a coarse location only', () => {
    const many: Answer = {
      kind: 'not-sure',
      top: Array.from({ length: 8 }, (_, i) => ({
        index: i,
        label: `l${i}`,
        name: `n${i}`,
        scientificName: null,
        probability: 0.1,
      })),
    };
    const created = createObservation({
      id: ID(2),
      createdAt: 1,
      fileName: 'x'.repeat(2000),
      answer: many,
      model: { id: 'm', version: '1' },
      backend: 'cpu',
      location: { lat: 51.50735, lon: -0.12776 },
    });
    expect(created.top).toHaveLength(5);
    expect(created.fileName).toHaveLength(500);
    expect(created.location).toEqual({ lat: 51.5, lon: -0.1 });
  });
});

describe('coarsenLocation', () => {
  it('rounds to tenths of a degree', () => {
    expect(coarsenLocation(48.8566, 2.3522)).toEqual({ lat: 48.9, lon: 2.4 });
    expect(coarsenLocation(-33.8688, 151.2093)).toEqual({ lat: -33.9, lon: 151.2 });
    expect(coarsenLocation(0.15, -0.15)).toEqual({ lat: 0.2, lon: -0.1 });
  });

  it('never writes -0', () => {
    expect(Object.is(coarsenLocation(-0.01, -0.04)!.lat, 0)).toBe(true);
    expect(Object.is(coarsenLocation(-0.01, -0.04)!.lon, 0)).toBe(true);
  });

  it('refuses what is not a position on Earth', () => {
    expect(coarsenLocation(91, 0)).toBeNull();
    expect(coarsenLocation(0, 180.5)).toBeNull();
    expect(coarsenLocation(NaN, 0)).toBeNull();
    expect(coarsenLocation('51', 0)).toBeNull();
  });
});

describe('restoreObservation', () => {
  it('returns a valid record unchanged', () => {
    expect(restoreObservation(record())).toEqual(record());
  });

  it('drops unknown fields', () => {
    expect(restoreObservation({ ...record(), extra: 'x' })).toEqual(record());
  });

  it('gives up only on rows without a usable id', () => {
    expect(restoreObservation(null)).toBeNull();
    expect(restoreObservation('a string')).toBeNull();
    expect(restoreObservation([record()])).toBeNull();
    expect(restoreObservation({ ...record(), id: 42 })).toBeNull();
    expect(restoreObservation({ ...record(), id: '' })).toBeNull();
  });

  it('repairs an older row field by field', () => {
    const old = {
      id: 'legacy-1',
      createdAt: 1_600_000_000_000.7,
      fileName: 'old.jpg',
      top: [{ label: 'tench', probability: 0.7 }],
      answerKind: 'animal',
    };
    expect(restoreObservation(old)).toEqual({
      schemaVersion: 2,
      id: 'legacy-1',
      createdAt: 1_600_000_000_000,
      fileName: 'old.jpg',
      top: [{ label: 'tench', name: 'tench', scientificName: null, probability: 0.7 }],
      answerKind: 'animal',
      model: null,
      backend: '',
      verdict: null,
      location: null,
    });
  });

  it('reads the model of a version 1 row, stored as "id@version", into its two parts', () => {
    const v1 = { ...record(), schemaVersion: 1, model: 'inat-birds-mobilenet-v2@3f9a.1' };
    const restored = restoreObservation(v1);
    expect(restored).toEqual({
      ...record(),
      model: { id: 'inat-birds-mobilenet-v2', version: '3f9a.1' },
    });
    expect(observationSchema.safeParse(restored).success).toBe(true);
  });

  it('keeps no model for a version 1 row whose model text has no version', () => {
    for (const model of ['', 'no-version', '@1', 'id@']) {
      const v1 = { ...record(), schemaVersion: 1, model };
      expect(restoreObservation(v1)!.model, model).toBeNull();
    }
  });

  it('repairs damaged fields without crashing', () => {
    const restored = restoreObservation({
      ...record(),
      createdAt: 'yesterday',
      fileName: { name: 'x' },
      top: [null, 'fox', { label: 'ok', probability: 7 }, { label: 'nan', probability: NaN }],
      answerKind: 'maybe',
      model: 12,
      backend: null,
      verdict: { kind: 'corrected' },
      location: { lat: 'north', lon: 3 },
    });
    expect(restored).toEqual({
      schemaVersion: 2,
      id: ID(1),
      createdAt: 0,
      fileName: '',
      top: [{ label: 'ok', name: 'ok', scientificName: null, probability: 1 }],
      answerKind: 'not-sure',
      model: null,
      backend: '',
      verdict: null,
      location: null,
    });
    expect(observationSchema.safeParse({ ...restored, id: ID(1) }).success).toBe(true);
  });

  it('cuts the candidates to five', () => {
    const top = Array.from({ length: 9 }, (_, i) => ({ label: `l${i}`, probability: 0.1 }));
    expect(restoreObservation({ ...record(), top })!.top).toHaveLength(5);
  });

  it('keeps a valid verdict of each kind', () => {
    const verdicts = [
      { kind: 'correct', decidedAt: 1 },
      { kind: 'corrected', correctedLabel: 'kit fox', decidedAt: 1 },
      { kind: 'not-an-animal', decidedAt: 1 },
      { kind: 'unknown-species', freeTextName: 'arctic fox?', decidedAt: 1 },
      { kind: 'unknown-species', freeTextName: null, decidedAt: 1 },
    ] as const;
    for (const verdict of verdicts) {
      expect(restoreObservation({ ...record(), verdict })!.verdict).toEqual(verdict);
    }
  });

  it('rounds a stored location again, so no precise position survives', () => {
    const precise = { ...record(), location: { lat: 51.50735, lon: -0.12776 } };
    expect(restoreObservation(precise)!.location).toEqual({ lat: 51.5, lon: -0.1 });
    const damaged = { ...record(), id: 'not-a-uuid', location: { lat: 10.04, lon: 20.06 } };
    expect(restoreObservation(damaged)!.location).toEqual({ lat: 10, lon: 20.1 });
  });
});

describe('observationMatches', () => {
  const fox = record();
  const noAnimal = record({ id: ID(2), answerKind: 'no-animal', fileName: 'empty-field.jpg' });
  const corrected = record({
    id: ID(3),
    verdict: { kind: 'corrected', correctedLabel: 'grey wolf', decidedAt: 1 },
  });

  it('matches everything without a filter', () => {
    for (const r of [fox, noAnimal, corrected]) {
      expect(observationMatches(r, { text: '', show: 'all' })).toBe(true);
    }
  });

  it('matches text in the file name and the names, case-insensitively', () => {
    expect(observationMatches(fox, { text: 'FOX.J', show: 'all' })).toBe(true);
    expect(observationMatches(fox, { text: 'vulpes', show: 'all' })).toBe(true);
    expect(observationMatches(fox, { text: '  Red ', show: 'all' })).toBe(true);
    expect(observationMatches(fox, { text: 'kit', show: 'all' })).toBe(false);
    expect(observationMatches(corrected, { text: 'wolf', show: 'all' })).toBe(true);
  });

  it('filters by answer kind and by verdict', () => {
    expect(observationMatches(noAnimal, { text: '', show: 'no-animal' })).toBe(true);
    expect(observationMatches(fox, { text: '', show: 'no-animal' })).toBe(false);
    expect(observationMatches(corrected, { text: '', show: 'corrected' })).toBe(true);
    expect(observationMatches(fox, { text: '', show: 'corrected' })).toBe(false);
    expect(observationMatches(fox, { text: '', show: 'no-verdict' })).toBe(true);
    expect(observationMatches(corrected, { text: '', show: 'no-verdict' })).toBe(false);
  });
});

describe('uuidFromBytes', () => {
  it('writes a version 4 UUID that the schema accepts', () => {
    const id = uuidFromBytes(new Uint8Array(16).fill(0xff));
    expect(id).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
    expect(observationSchema.shape.id.safeParse(id).success).toBe(true);
    expect(() => uuidFromBytes(new Uint8Array(8))).toThrow(RangeError);
  });
});

describe('newUuid', () => {
  it('uses randomUUID where the page has it', () => {
    const id = ID(7);
    expect(newUuid({ randomUUID: () => id, getRandomValues: (a) => a })).toBe(id);
  });

  it('falls back to random bytes where randomUUID is missing (plain http)', () => {
    const id = newUuid({ getRandomValues: (a) => crypto.getRandomValues(a) });
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(observationSchema.shape.id.safeParse(id).success).toBe(true);
  });
});
