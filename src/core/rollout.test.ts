import { describe, expect, it } from 'vitest';
import {
  BUCKETS,
  bucketOf,
  drawOf,
  inRollout,
  isPercentStep,
  isShadowRate,
  randomHex,
} from './rollout';

/**
 * Simulated installations. Their secrets and the salts below are fixed, so that each run
 * checks the same draw: with random ones a share would fall outside 0.5 point about once
 * in a few hundred runs (three standard deviations at 50 %), a flaky test rather than a
 * finding.
 */
const INSTALLATIONS = Array.from({ length: 100_000 }, (_, i) => i.toString(16).padStart(64, '0'));
const SALTS = ['5f1c0e7a9b2d4c68', 'a03e77d1c4b95f20', '0d9b3a61e2f84c57'] as const;

async function bucketsFor(salt: string): Promise<number[]> {
  return Promise.all(INSTALLATIONS.map((secret) => bucketOf(secret, salt)));
}

function shareOn(buckets: readonly number[], percent: number): number {
  return (100 * buckets.filter((bucket) => inRollout(bucket, percent)).length) / buckets.length;
}

describe('rollout buckets over 100,000 simulated installations', () => {
  it('puts within 0.5 percentage point of `percent` on the candidate, at every step', async () => {
    const buckets = await bucketsFor(SALTS[0]);
    expect(buckets.every((b) => Number.isInteger(b) && b >= 0 && b < BUCKETS)).toBe(true);
    for (const percent of [0, 0.001, 1, 5, 25, 33.333, 50, 99.5, 100]) {
      expect(Math.abs(shareOn(buckets, percent) - percent), `at ${percent} %`).toBeLessThan(0.5);
    }
    expect(shareOn(buckets, 0)).toBe(0);
    expect(shareOn(buckets, 100)).toBe(100);
  });

  it('never moves an installation back when the percentage rises', async () => {
    const buckets = await bucketsFor(SALTS[1]);
    const steps = [0, 1, 5, 25, 50, 75, 100];
    for (let i = 1; i < steps.length; i++) {
      const before = steps[i - 1]!;
      const after = steps[i]!;
      const droppedOut = buckets.filter((b) => inRollout(b, before) && !inRollout(b, after));
      expect(droppedOut, `${before} % -> ${after} %`).toHaveLength(0);
    }
  });

  it('keeps an installation in its bucket for the same salt, and picks others for a new salt', async () => {
    const first = await bucketsFor(SALTS[0]);
    expect(await bucketsFor(SALTS[0])).toEqual(first);
    const second = await bucketsFor(SALTS[2]);
    const onFirst = new Set(INSTALLATIONS.filter((_, i) => inRollout(first[i]!, 10)));
    const onBoth = INSTALLATIONS.filter((s, i) => onFirst.has(s) && inRollout(second[i]!, 10));
    // Independent draws: about 10 % of the first 10 % are also in the second, not all of them.
    expect(onFirst.size).toBeGreaterThan(9_000);
    expect(onBoth.length / onFirst.size).toBeGreaterThan(0.07);
    expect(onBoth.length / onFirst.size).toBeLessThan(0.13);
  });

  it('draws other things (side by side) independently of the rollout bucket', async () => {
    const salt = SALTS[1];
    const sample = INSTALLATIONS.slice(0, 20_000);
    const buckets = await Promise.all(sample.map((secret) => bucketOf(secret, salt)));
    const draws = await Promise.all(sample.map((secret) => drawOf(secret, `shadow:${salt}`)));
    expect(draws.every((d) => d >= 0 && d < 1)).toBe(true);
    const onCandidate = sample.filter((_, i) => inRollout(buckets[i]!, 50));
    const drawnOnCandidate = sample.filter((_, i) => inRollout(buckets[i]!, 50) && draws[i]! < 0.2);
    // A fifth of the candidate half, as of everyone: the draw does not follow the bucket.
    expect(drawnOnCandidate.length / onCandidate.length).toBeGreaterThan(0.18);
    expect(drawnOnCandidate.length / onCandidate.length).toBeLessThan(0.22);
  });
});

describe('percent steps', () => {
  it('accepts 0 to 100 in steps of 0.001 and nothing else', () => {
    for (const ok of [0, 0.001, 0.5, 1, 12.345, 99.999, 100])
      expect(isPercentStep(ok), `${ok}`).toBe(true);
    for (const bad of [-0.001, 100.001, 0.0005, 12.3456, Number.NaN, Infinity]) {
      expect(isPercentStep(bad), `${bad}`).toBe(false);
    }
  });

  it('takes shadow rates from 0 to 1 and nothing else', () => {
    for (const ok of [0, 0.001, 0.5, 1]) expect(isShadowRate(ok), `${ok}`).toBe(true);
    for (const bad of [-0.001, 1.001, Number.NaN, Infinity, -Infinity]) {
      expect(isShadowRate(bad), `${bad}`).toBe(false);
    }
  });

  it('makes fresh salts and secrets', () => {
    const salts = new Set(Array.from({ length: 100 }, () => randomHex()));
    expect(salts.size).toBe(100);
    expect([...salts].every((s) => /^[0-9a-f]{32}$/.test(s))).toBe(true);
  });
});
