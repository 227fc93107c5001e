import { describe, expect, it } from 'vitest';
import { canonicalJson, type FeedbackRecord, type FeedbackReply } from './feedback';
import {
  backoffDelayMs,
  interpretReply,
  localDay,
  OUTBOX_BASE_DELAY_MS,
  OUTBOX_MAX_DELAY_MS,
  OUTBOX_MAX_REFUSALS,
  OUTBOX_MAX_RETRY_AFTER_MS,
  retryAfterMs,
  retryDelayMs,
  takeBatch,
  type SendOutcome,
} from './outbox-policy';

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function record(n: number, extra: Partial<FeedbackRecord> = {}): FeedbackRecord {
  return {
    id: uuid(n),
    model: { id: 'inat-birds-mobilenet-v2', version: 'abc123def0' },
    predicted: 'Turdus migratorius (American Robin)',
    verdict: 'correct',
    day: '2026-05-01',
    appVersion: '0.1.0',
    ...extra,
  } as FeedbackRecord;
}

const item = (n: number, extra: Partial<FeedbackRecord> = {}) => ({ n, record: record(n, extra) });
/** What takeBatch charges for one record: its JSON and a comma. */
const cost = (r: FeedbackRecord) => new TextEncoder().encode(canonicalJson(r)).byteLength + 1;
/** `{"records":[` and `]}`. */
const ENVELOPE = 14;

describe('backoffDelayMs', () => {
  it('waits between half and all of the exponential delay', () => {
    for (const attempts of [0, 1, 2, 5]) {
      const full = OUTBOX_BASE_DELAY_MS * 2 ** attempts;
      expect(backoffDelayMs(attempts, 0)).toBe(full / 2);
      expect(backoffDelayMs(attempts, 0.5)).toBe((3 * full) / 4);
      expect(backoffDelayMs(attempts, 1)).toBe(full);
      for (let i = 0; i < 50; i++) {
        const delay = backoffDelayMs(attempts, Math.random());
        expect(delay).toBeGreaterThanOrEqual(full / 2);
        expect(delay).toBeLessThanOrEqual(full);
      }
    }
  });

  it('doubles with each attempt', () => {
    const lows = [0, 1, 2, 3, 4].map((attempts) => backoffDelayMs(attempts, 0));
    expect(lows).toEqual([1, 2, 4, 8, 16].map((k) => (k * OUTBOX_BASE_DELAY_MS) / 2));
  });

  it('is capped, even after very many attempts', () => {
    for (const attempts of [20, 100, 1100, Number.MAX_SAFE_INTEGER]) {
      expect(backoffDelayMs(attempts, 1)).toBe(OUTBOX_MAX_DELAY_MS);
      expect(backoffDelayMs(attempts, 0)).toBe(OUTBOX_MAX_DELAY_MS / 2);
    }
  });

  it('clamps a random value outside [0, 1] and a negative attempt count', () => {
    expect(backoffDelayMs(0, -3)).toBe(OUTBOX_BASE_DELAY_MS / 2);
    expect(backoffDelayMs(0, 7)).toBe(OUTBOX_BASE_DELAY_MS);
    expect(backoffDelayMs(-4, 1)).toBe(OUTBOX_BASE_DELAY_MS);
  });
});

describe('retryAfterMs', () => {
  const NOW = Date.parse('2026-05-01T12:00:00Z');

  it('reads delay-seconds, spaces around them allowed', () => {
    expect(retryAfterMs('120', NOW)).toBe(120_000);
    expect(retryAfterMs(' 7 ', NOW)).toBe(7_000);
    expect(retryAfterMs('0', NOW)).toBe(0);
  });

  it('reads the three HTTP-date forms, as GMT, relative to now', () => {
    expect(retryAfterMs('Fri, 01 May 2026 12:00:30 GMT', NOW)).toBe(30_000);
    expect(retryAfterMs('Friday, 01-May-26 12:01:00 GMT', NOW)).toBe(60_000);
    expect(retryAfterMs('Fri May  1 12:00:05 2026', NOW)).toBe(5_000);
  });

  it('takes a date already past as "now"', () => {
    expect(retryAfterMs('Thu, 30 Apr 2026 12:00:00 GMT', NOW)).toBe(0);
  });

  it('caps a very long wait', () => {
    expect(retryAfterMs('86400000', NOW)).toBe(OUTBOX_MAX_RETRY_AFTER_MS);
    expect(retryAfterMs('99999999999999999999999', NOW)).toBe(OUTBOX_MAX_RETRY_AFTER_MS);
    expect(retryAfterMs('Fri, 01 May 2099 12:00:00 GMT', NOW)).toBe(OUTBOX_MAX_RETRY_AFTER_MS);
  });

  it.each([
    null,
    '',
    '   ',
    '-5',
    '+5',
    '1.5',
    '1e3',
    '0x10',
    '120s',
    'soon',
    'soon 3',
    '5 minutes',
    '2026-05-01T12:01:00Z',
    '2026-05-01',
    'Fri, 01 May 2026 12:00:30 PST',
    'Fri, 32 May 2026 12:00:30 GMT',
  ])('is null for %j', (header) => {
    expect(retryAfterMs(header, NOW)).toBeNull();
  });
});

describe('retryDelayMs', () => {
  it('is the backoff when the server named no time', () => {
    expect(retryDelayMs(3, null, 0.25)).toBe(backoffDelayMs(3, 0.25));
  });

  it("waits at least the server's Retry-After", () => {
    expect(retryDelayMs(0, 10_000, 1)).toBe(10_000);
    expect(retryDelayMs(0, OUTBOX_MAX_RETRY_AFTER_MS, 1)).toBe(OUTBOX_MAX_RETRY_AFTER_MS);
  });

  it('never retries sooner than the backoff, whatever Retry-After says', () => {
    expect(retryDelayMs(0, 0, 0)).toBe(OUTBOX_BASE_DELAY_MS / 2);
    expect(retryDelayMs(6, 1_000, 0)).toBe(backoffDelayMs(6, 0));
  });
});

describe('takeBatch', () => {
  const waiting = [1, 2, 3, 4, 5].map((n) => item(n));

  it('takes everything, in order, when it fits', () => {
    expect(takeBatch(waiting, 100, 1_000_000).map((w) => w.n)).toEqual([1, 2, 3, 4, 5]);
  });

  it('stops at the record limit', () => {
    expect(takeBatch(waiting, 3, 1_000_000).map((w) => w.n)).toEqual([1, 2, 3]);
  });

  it('stops before the byte limit, counting the JSON around the records', () => {
    const one = cost(record(1));
    expect(takeBatch(waiting, 100, ENVELOPE + 2 * one).map((w) => w.n)).toEqual([1, 2]);
    expect(takeBatch(waiting, 100, ENVELOPE + 2 * one - 1).map((w) => w.n)).toEqual([1]);
  });

  it('measures bytes, not characters', () => {
    const ascii = item(1, { verdict: 'unknown-species', predicted: null, freeTextName: 'aaaa' });
    const wide = item(2, { verdict: 'unknown-species', predicted: null, freeTextName: '鳥鳥鳥鳥' });
    const limit = ENVELOPE + 2 * cost(ascii.record);
    expect(takeBatch([ascii, { ...ascii, n: 3 }], 100, limit)).toHaveLength(2);
    expect(takeBatch([ascii, wide], 100, limit)).toHaveLength(1);
  });

  it('keeps the order it was given, even when a later record would fit', () => {
    const big = item(2, { photo: 'A'.repeat(4000) });
    const limit = ENVELOPE + cost(record(1)) + cost(record(3)) + 10;
    expect(takeBatch([item(1), big, item(3)], 100, limit).map((w) => w.n)).toEqual([1]);
  });

  it('always takes at least one record, however small the limits', () => {
    const big = item(9, { photo: 'A'.repeat(4000) });
    expect(takeBatch([big, item(1)], 100, 10).map((w) => w.n)).toEqual([9]);
    expect(takeBatch(waiting, 0, 1_000_000).map((w) => w.n)).toEqual([1]);
  });

  it('takes nothing from nothing', () => {
    expect(takeBatch([], 100, 1_000_000)).toEqual([]);
  });
});

describe('interpretReply', () => {
  const ids = [uuid(1), uuid(2), uuid(3), uuid(4)];
  const reply = (results: FeedbackReply['results']): FeedbackReply => ({ results });
  const kinds = (outcomes: SendOutcome[]) => outcomes.map((o) => o.kind);

  it('200 with every record accepted or duplicate: all done', () => {
    const body = reply([
      { id: uuid(1), status: 'accepted' },
      { id: uuid(2), status: 'duplicate' },
    ]);
    expect(interpretReply([uuid(1), uuid(2)], 200, body, null)).toEqual([
      { kind: 'done', ids: [uuid(1), uuid(2)] },
    ]);
  });

  it('200 with mixed results: done, set aside with the code, in the order sent', () => {
    const body = reply([
      { id: uuid(1), status: 'accepted' },
      { id: uuid(2), status: 'rejected', code: 'UNKNOWN_LABEL' },
      { id: uuid(3), status: 'duplicate' },
      { id: uuid(4), status: 'rejected', code: 'CONFLICT' },
    ]);
    expect(interpretReply(ids, 200, body, null)).toEqual([
      { kind: 'done', ids: [uuid(1), uuid(3)] },
      {
        kind: 'rejected',
        records: [
          { id: uuid(2), code: 'UNKNOWN_LABEL' },
          { id: uuid(4), code: 'CONFLICT' },
        ],
      },
    ]);
  });

  it('422 (nothing taken) sets every record aside with its own code', () => {
    const body = reply([
      { id: uuid(1), status: 'rejected', code: 'UNKNOWN_MODEL' },
      { id: uuid(2), status: 'rejected' },
    ]);
    expect(interpretReply([uuid(1), uuid(2)], 422, body, null)).toEqual([
      {
        kind: 'rejected',
        records: [
          { id: uuid(1), code: 'UNKNOWN_MODEL' },
          { id: uuid(2), code: 'REJECTED' },
        ],
      },
    ]);
  });

  it('retries the records the reply does not mention: never "done" without a result', () => {
    const body = reply([
      { id: uuid(2), status: 'accepted' },
      { id: uuid(9), status: 'accepted' }, // not sent: ignored
    ]);
    const outcomes = interpretReply(ids, 200, body, null);
    expect(outcomes).toEqual([
      { kind: 'done', ids: [uuid(2)] },
      { kind: 'retry', ids: [uuid(1), uuid(3), uuid(4)], afterMs: null },
    ]);
    expect(interpretReply(ids, 200, reply([]), 5_000)).toEqual([
      { kind: 'retry', ids, afterMs: null },
    ]);
  });

  it('429: retry all, after Retry-After when given', () => {
    expect(interpretReply(ids, 429, null, 10_000)).toEqual([
      { kind: 'retry', ids, afterMs: 10_000 },
    ]);
    expect(interpretReply(ids, 429, null, null)).toEqual([{ kind: 'retry', ids, afterMs: null }]);
  });

  it.each([500, 502, 503, 504])('%i: retry all', (status) => {
    expect(interpretReply(ids, status, null, null)).toEqual([
      { kind: 'retry', ids, afterMs: null },
    ]);
    expect(interpretReply(ids, status, null, 30_000)).toEqual([
      { kind: 'retry', ids, afterMs: 30_000 },
    ]);
  });

  it('network failure (status 0): retry all', () => {
    expect(interpretReply(ids, 0, null, null)).toEqual([{ kind: 'retry', ids, afterMs: null }]);
  });

  it.each([400, 413, 415])(
    '%i for one record: tried again, a bounded number of times, then set aside',
    (status) => {
      for (let prior = 0; prior < OUTBOX_MAX_REFUSALS - 1; prior++) {
        expect(interpretReply([uuid(1)], status, null, null, prior)).toEqual([
          { kind: 'refused', ids: [uuid(1)] },
        ]);
      }
      const code = {
        400: 'VALIDATION_FAILED',
        413: 'PAYLOAD_TOO_LARGE',
        415: 'UNSUPPORTED_MEDIA_TYPE',
      }[status];
      for (const prior of [OUTBOX_MAX_REFUSALS - 1, OUTBOX_MAX_REFUSALS + 5]) {
        expect(interpretReply([uuid(1)], status, null, null, prior)).toEqual([
          { kind: 'rejected', records: [{ id: uuid(1), code, detail: `HTTP ${status}` }] },
        ]);
      }
    },
  );

  it('tries a refused record again long enough to outlast a fix in between', () => {
    // From the first try to the last, at the shortest and the longest jitter.
    const span = (random: number) =>
      Array.from({ length: OUTBOX_MAX_REFUSALS - 1 }, (_, attempts) =>
        backoffDelayMs(attempts, random),
      ).reduce((a, b) => a + b, 0);
    expect(span(0)).toBeGreaterThanOrEqual(30 * 60_000);
    expect(span(1)).toBeLessThanOrEqual(65 * 60_000);
  });

  it.each([400, 413, 415])('%i for several records: split them', (status) => {
    expect(interpretReply(ids, status, null, null)).toEqual([{ kind: 'split', ids }]);
  });

  it.each([401, 403, 404, 405, 408, 409, 410, 425])(
    '%i says nothing about the records: retry, never set aside',
    (status) => {
      expect(kinds(interpretReply([uuid(1)], status, null, null))).toEqual(['retry']);
      expect(kinds(interpretReply(ids, status, null, null))).toEqual(['retry']);
    },
  );

  it('a malformed body (null) is never taken as delivered', () => {
    for (const status of [200, 422]) {
      expect(interpretReply(ids, status, null, null)).toEqual([
        { kind: 'retry', ids, afterMs: null },
      ]);
      expect(interpretReply([uuid(1)], status, null, null)).toEqual([
        { kind: 'retry', ids: [uuid(1)], afterMs: null },
      ]);
    }
  });

  it('any other status (a redirect, 201, 204): retry', () => {
    for (const status of [201, 204, 301, 304]) {
      expect(kinds(interpretReply(ids, status, reply([]), null))).toEqual(['retry']);
    }
  });

  it('accounts for every id sent, exactly once', () => {
    const body = reply([
      { id: uuid(1), status: 'accepted' },
      { id: uuid(3), status: 'rejected', code: 'UNKNOWN_LABEL' },
    ]);
    for (const [status, b] of [
      [200, body],
      [422, body],
      [429, null],
      [413, null],
      [0, null],
    ] as const) {
      const seen = interpretReply(ids, status, b, null).flatMap((o) =>
        o.kind === 'rejected' ? o.records.map((r) => r.id) : o.ids,
      );
      expect(seen.sort()).toEqual([...ids].sort());
    }
    for (const prior of [0, OUTBOX_MAX_REFUSALS]) {
      const alone = interpretReply([uuid(1)], 413, null, null, prior).flatMap((o) =>
        o.kind === 'rejected' ? o.records.map((r) => r.id) : o.ids,
      );
      expect(alone).toEqual([uuid(1)]);
    }
  });
});

describe('localDay', () => {
  it('is the local calendar day, zero-padded, never a time', () => {
    expect(localDay(new Date(2026, 0, 5, 0, 0, 1))).toBe('2026-01-05');
    expect(localDay(new Date(2026, 11, 31, 23, 59, 59))).toBe('2026-12-31');
    expect(localDay(new Date(2028, 1, 29, 12))).toBe('2028-02-29');
  });

  it('follows the local clock, not UTC', () => {
    const saved = process.env.TZ;
    const noonUtc = new Date('2026-05-01T12:00:00Z');
    const earlyUtc = new Date('2026-05-01T03:00:00Z');
    try {
      process.env.TZ = 'Pacific/Kiritimati'; // UTC+14
      expect(localDay(noonUtc)).toBe('2026-05-02');
      process.env.TZ = 'America/Los_Angeles'; // UTC-7 in May
      expect(localDay(earlyUtc)).toBe('2026-04-30');
      expect(localDay(noonUtc)).toBe('2026-05-01');
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});
