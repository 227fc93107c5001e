import { describe, expect, it } from 'vitest';
import { createTokenBuckets } from './token-bucket';

function clock(startMs = 1_000_000) {
  let nowMs = startMs;
  return { now: () => nowMs, advance: (ms: number) => (nowMs += ms) };
}

describe('createTokenBuckets', () => {
  it('allows a burst of `capacity`, then refuses with the time until the next token', () => {
    const time = clock();
    const buckets = createTokenBuckets({ capacity: 3, refillPerSecond: 0.5, now: time.now });
    expect([1, 2, 3].map(() => buckets.take('a'))).toEqual([
      { ok: true, remaining: 2 },
      { ok: true, remaining: 1 },
      { ok: true, remaining: 0 },
    ]);
    expect(buckets.take('a')).toEqual({ ok: false, retryAfterMs: 2000 });
    time.advance(1500);
    expect(buckets.take('a')).toEqual({ ok: false, retryAfterMs: 500 });
    time.advance(500);
    expect(buckets.take('a')).toEqual({ ok: true, remaining: 0 });
  });

  it('keeps one bucket per key', () => {
    const time = clock();
    const buckets = createTokenBuckets({ capacity: 1, refillPerSecond: 1, now: time.now });
    expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('a').ok).toBe(false);
    expect(buckets.take('b').ok).toBe(true);
  });

  it('refills up to capacity, never beyond', () => {
    const time = clock();
    const buckets = createTokenBuckets({ capacity: 2, refillPerSecond: 10, now: time.now });
    buckets.take('a');
    buckets.take('a');
    time.advance(3_600_000);
    expect(buckets.take('a')).toEqual({ ok: true, remaining: 1 });
    expect(buckets.take('a')).toEqual({ ok: true, remaining: 0 });
    expect(buckets.take('a').ok).toBe(false);
  });

  it('is not drained by a clock that steps back', () => {
    const time = clock();
    const buckets = createTokenBuckets({ capacity: 2, refillPerSecond: 1, now: time.now });
    buckets.take('a');
    time.advance(-60_000);
    expect(buckets.take('a')).toEqual({ ok: true, remaining: 0 });
  });

  it('charges a cost and refuses one larger than what is left', () => {
    const time = clock();
    const buckets = createTokenBuckets({ capacity: 10, refillPerSecond: 1, now: time.now });
    expect(buckets.take('a', 7)).toEqual({ ok: true, remaining: 3 });
    expect(buckets.take('a', 5)).toEqual({ ok: false, retryAfterMs: 2000 });
  });

  it('bounds its memory: full buckets go first, then the oldest', () => {
    const time = clock();
    const buckets = createTokenBuckets({
      capacity: 2,
      refillPerSecond: 1,
      now: time.now,
      maxKeys: 3,
    });
    for (const key of ['a', 'b', 'c']) buckets.take(key);
    time.advance(1000); // a, b and c are full again: forgetting them changes nothing
    buckets.take('d');
    expect(buckets.size).toBe(1);

    for (const key of ['e', 'f']) buckets.take(key);
    buckets.take('g'); // no bucket is full: the oldest (d) goes
    expect(buckets.size).toBe(3);
    buckets.take('e');
    expect(buckets.take('e').ok).toBe(false); // e was kept, with its spent tokens
  });

  it('prunes down to a low-water mark at the cap, so the next keys need no pruning', () => {
    const time = clock();
    const buckets = createTokenBuckets({
      capacity: 2,
      refillPerSecond: 1,
      now: time.now,
      maxKeys: 100,
    });
    for (let i = 0; i < 100; i++) buckets.take(`k${i}`);
    expect(buckets.size).toBe(100);

    buckets.take('new-0'); // no bucket is full: the 10 oldest go, then new-0 is added
    expect(buckets.size).toBe(91);
    expect(buckets.take('k9')).toEqual({ ok: true, remaining: 1 }); // forgotten, so fresh
    expect(buckets.take('k10')).toEqual({ ok: true, remaining: 0 }); // kept, one token spent

    // k9 came back as a new key (92 in all); eight more fill the map up to the cap again.
    for (let i = 1; i <= 8; i++) buckets.take(`new-${i}`);
    expect(buckets.size).toBe(100);
    buckets.take('new-9');
    expect(buckets.size).toBe(91);
  });

  it('forgets everything on clear()', () => {
    const time = clock();
    const buckets = createTokenBuckets({ capacity: 1, refillPerSecond: 0.001, now: time.now });
    buckets.take('a');
    expect(buckets.take('a').ok).toBe(false);
    buckets.clear();
    expect(buckets.take('a').ok).toBe(true);
  });

  it('refuses nonsense options', () => {
    const now = () => 0;
    expect(() => createTokenBuckets({ capacity: 0, refillPerSecond: 1, now })).toThrow(RangeError);
    expect(() => createTokenBuckets({ capacity: 1, refillPerSecond: -1, now })).toThrow(RangeError);
  });
});
