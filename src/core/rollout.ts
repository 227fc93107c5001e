/**
 * Percentage rollouts with sticky buckets (the scheme of feature-flag services): each
 * installation keeps a random secret that never leaves the device; for a rollout it falls
 * into a bucket from a hash of that secret and the rollout's salt, and it is on the
 * candidate while its bucket is below `percent × 1000`. Raising the percentage only adds
 * buckets, so nobody is moved back; a new rollout has a new salt, so a different set of
 * installations goes first. Other draws (which photos run side by side) hash with their
 * own seed, so they are independent of the rollout draw.
 */

/** Buckets 0 to 99,999: percentages in steps of 0.001. */
export const BUCKETS = 100_000;
const BUCKETS_PER_PERCENT = BUCKETS / 100;

/** Whether `percent` is one of 0, 0.001, …, 100. */
export function isPercentStep(percent: number): boolean {
  const scaled = percent * BUCKETS_PER_PERCENT;
  return percent >= 0 && percent <= 100 && Math.abs(scaled - Math.round(scaled)) < 1e-6;
}

/** `percent` to its step, so that a float's tail (12.345000000000001) is never stored or shown. */
export function roundToPercentStep(percent: number): number {
  return Math.round(percent * BUCKETS_PER_PERCENT) / BUCKETS_PER_PERCENT;
}

/**
 * Whether `rate` is a share of photos that also run on the other version: from 0 (never)
 * to 1 (every photo). The one rule for the CLI's `--shadow` and the published manifest.
 */
export function isShadowRate(rate: number): boolean {
  return rate >= 0 && rate <= 1;
}

/** The first 32 bits of SHA-256 of the text, as an unsigned integer. */
async function hash32(text: string): Promise<number> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return new DataView(digest).getUint32(0);
}

/**
 * The installation's bucket for a rollout: 0 to 99,999. (2^32 is not a multiple of
 * 100,000; the low buckets are favoured by 1 in 42,950, far below what a share shows.)
 */
export async function bucketOf(secret: string, salt: string): Promise<number> {
  return (await hash32(`rollout:${salt}:${secret}`)) % BUCKETS;
}

export function inRollout(bucket: number, percent: number): boolean {
  return bucket < Math.round(percent * BUCKETS_PER_PERCENT);
}

/** A draw in [0, 1) for one installation and one seed, independent of `bucketOf` and of other seeds. */
export async function drawOf(secret: string, seed: string): Promise<number> {
  return (await hash32(`draw:${seed}:${secret}`)) / 2 ** 32;
}

/** A new random secret or salt as lowercase hex (`bytes` random bytes). */
export function randomHex(bytes = 16): string {
  const values = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(values, (b) => b.toString(16).padStart(2, '0')).join('');
}
