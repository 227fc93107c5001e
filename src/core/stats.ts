/**
 * Summary statistics for benchmark timings. Inputs are never modified. An empty input
 * gives NaN (there is no such value), which JSON.stringify writes as null.
 */

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/**
 * The p-th percentile (p from 0 to 100) by linear interpolation between the two nearest
 * ranks: the "R-7" definition used by NumPy's default, R's default and Excel's
 * PERCENTILE.INC. It is continuous in p, so p95 of a small sample does not jump from
 * one measured value to the next, and percentile(v, 50) is the usual median.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is not within 0..100`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  const low = sorted[lower] ?? Number.NaN;
  const high = sorted[upper] ?? Number.NaN;
  return lower === upper ? low : low + (high - low) * (rank - lower);
}
