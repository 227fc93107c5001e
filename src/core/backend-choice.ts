import { median } from './stats';

/**
 * Choosing the compute backend by measurement. The worker answers with the first backend
 * that is ready; the others are timed in idle time and the fastest is kept for this
 * device and model. These rules are pure so they can be tested without a browser.
 */

export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type BackendPreference = BackendName | 'auto';

export function isBackendName(value: unknown): value is BackendName {
  return typeof value === 'string' && (BACKENDS as readonly string[]).includes(value);
}

export interface BackendMeasurement {
  backend: BackendName;
  /** Warm inference times for one photo, in order. Empty when the backend failed. */
  samplesMs: number[];
  warmUpMs: number | null;
  failure: string | null;
}

/** Timed runs per candidate once warm: enough for a stable median on a phone. */
export const TRIAL_RUNS = 5;

/**
 * A candidate is dropped as soon as one warm run is this much slower than the best median
 * so far: software WebGL here takes ~1 s where wasm takes ~80 ms, so waiting for all runs
 * would waste seconds of CPU that the user's own photos need.
 */
export const CLEARLY_SLOWER_FACTOR = 1.5;

/** A switch must win by this margin, so noise does not flip the backend back and forth. */
export const SWITCH_MARGIN = 0.9;

/**
 * The warm-run time above which a candidate is dropped (a run strictly slower than this),
 * or null to keep every run while no backend has a median yet.
 */
export function dropAboveMs(bestMedianMs: number | null): number | null {
  return bestMedianMs === null ? null : bestMedianMs * CLEARLY_SLOWER_FACTOR;
}

/**
 * First-answer warm-up may include shader compilation; it is only capped so a backend
 * that hangs (seen: WebGPU in software, 13 s) cannot hold a trial worker for ever.
 */
export function warmUpBudgetMs(bestMedianMs: number | null): number {
  return Math.max(15_000, (bestMedianMs ?? 0) * 200);
}

export function medianOf(m: BackendMeasurement): number | null {
  return m.failure === null && m.samplesMs.length > 0 ? median(m.samplesMs) : null;
}

/** The fastest measured backend, kept unless a rival beats it by the switch margin. */
export function pickBackend(
  measurements: BackendMeasurement[],
  current: BackendName,
): { backend: BackendName; medianMs: number | null } {
  const timed = measurements
    .map((m) => ({ backend: m.backend, medianMs: medianOf(m) }))
    .filter((m): m is { backend: BackendName; medianMs: number } => m.medianMs !== null);
  const currentTime = timed.find((m) => m.backend === current)?.medianMs ?? null;
  const best = timed.reduce<(typeof timed)[number] | null>(
    (a, b) => (a === null || b.medianMs < a.medianMs ? b : a),
    null,
  );
  if (best === null) return { backend: current, medianMs: currentTime };
  if (currentTime === null || best.medianMs < currentTime * SWITCH_MARGIN) return best;
  return { backend: current, medianMs: currentTime };
}

/** Candidates to try, in order, after the first answer came from `first`. */
export function trialOrder(available: BackendName[], first: BackendName): BackendName[] {
  return BACKENDS.filter((b) => b !== first && b !== 'cpu' && available.includes(b));
}
