import { describe, expect, it } from 'vitest';
import {
  BACKENDS,
  CLEARLY_SLOWER_FACTOR,
  SWITCH_MARGIN,
  isBackendName,
  medianOf,
  dropAboveMs,
  pickBackend,
  trialOrder,
  warmUpBudgetMs,
  type BackendMeasurement,
  type BackendName,
} from './backend-choice';

function timed(backend: BackendName, samplesMs: number[]): BackendMeasurement {
  return { backend, samplesMs, warmUpMs: 100, failure: null };
}

function failed(backend: BackendName, failure: string, samplesMs: number[] = []) {
  return { backend, samplesMs, warmUpMs: null, failure } satisfies BackendMeasurement;
}

describe('isBackendName', () => {
  it('accepts every known backend', () => {
    for (const name of BACKENDS) expect(isBackendName(name)).toBe(true);
  });

  it('rejects anything else', () => {
    for (const value of ['auto', 'WASM', 'webgl2', '', 'cpu ', null, undefined, 1, ['cpu'], {}]) {
      expect(isBackendName(value)).toBe(false);
    }
  });
});

describe('medianOf', () => {
  it('is the median of the warm samples', () => {
    expect(medianOf(timed('wasm', [90, 80, 300]))).toBe(90);
    expect(medianOf(timed('wasm', [10, 20, 30, 40]))).toBe(25);
  });

  it('is null for a failed or unmeasured backend', () => {
    expect(medianOf(timed('wasm', []))).toBeNull();
    expect(medianOf(failed('webgpu', 'BACKEND_UNAVAILABLE'))).toBeNull();
    // A candidate dropped as clearly slower keeps its samples but does not count.
    expect(medianOf(failed('webgl', 'clearly slower', [900]))).toBeNull();
  });
});

describe('pickBackend', () => {
  it('picks the fastest when it clearly beats the current backend', () => {
    const choice = pickBackend(
      [timed('wasm', [80, 82, 81]), timed('webgl', [20, 21, 22]), timed('webgpu', [40, 41, 39])],
      'wasm',
    );
    expect(choice).toEqual({ backend: 'webgl', medianMs: 21 });
  });

  it('keeps the current backend when it is itself the fastest', () => {
    expect(pickBackend([timed('wasm', [50]), timed('webgl', [60])], 'wasm')).toEqual({
      backend: 'wasm',
      medianMs: 50,
    });
  });

  it('keeps the current backend on a near tie, within the switch margin', () => {
    expect(pickBackend([timed('wasm', [100]), timed('webgl', [95])], 'wasm')).toEqual({
      backend: 'wasm',
      medianMs: 100,
    });
    // Exactly at the margin is still not a clear enough win.
    expect(
      pickBackend([timed('wasm', [100]), timed('webgl', [100 * SWITCH_MARGIN])], 'wasm'),
    ).toMatchObject({ backend: 'wasm' });
    expect(pickBackend([timed('wasm', [100]), timed('webgl', [89])], 'wasm')).toEqual({
      backend: 'webgl',
      medianMs: 89,
    });
  });

  it('ignores failed and empty measurements', () => {
    const choice = pickBackend(
      [
        timed('wasm', [80]),
        failed('webgpu', 'BACKEND_UNAVAILABLE'),
        failed('webgl', 'clearly slower', [5]),
        timed('cpu', []),
      ],
      'wasm',
    );
    expect(choice).toEqual({ backend: 'wasm', medianMs: 80 });
  });

  it('takes the fastest measured backend when the current one has no measurement', () => {
    expect(pickBackend([timed('webgl', [30]), timed('webgpu', [25])], 'wasm')).toEqual({
      backend: 'webgpu',
      medianMs: 25,
    });
    // No margin applies: there is nothing measured to stay on.
    expect(pickBackend([failed('wasm', 'INFERENCE_FAILED'), timed('webgl', [99])], 'wasm')).toEqual(
      { backend: 'webgl', medianMs: 99 },
    );
  });

  it('stays on the current backend when nothing could be measured', () => {
    expect(pickBackend([], 'wasm')).toEqual({ backend: 'wasm', medianMs: null });
    expect(pickBackend([failed('webgl', 'fell back'), timed('webgpu', [])], 'cpu')).toEqual({
      backend: 'cpu',
      medianMs: null,
    });
  });

  it('compares medians, so one slow outlier does not lose a backend the race', () => {
    const choice = pickBackend(
      [timed('wasm', [80, 80, 80, 80, 80]), timed('webgl', [20, 20, 2000, 20, 20])],
      'wasm',
    );
    expect(choice).toEqual({ backend: 'webgl', medianMs: 20 });
  });

  it('does not modify its input', () => {
    const measurements = [timed('wasm', [3, 1, 2]), timed('webgl', [9, 7, 8])];
    const copy = structuredClone(measurements);
    pickBackend(measurements, 'webgl');
    expect(measurements).toEqual(copy);
  });
});

describe('dropAboveMs', () => {
  it('drops nothing before any backend has a median', () => {
    expect(dropAboveMs(null)).toBeNull();
  });

  it('is the best median times the clearly-slower factor', () => {
    const best = 80;
    const limit = dropAboveMs(best)!;
    expect(limit).toBe(best * CLEARLY_SLOWER_FACTOR);
    // A run at the best median is never dropped; the factor leaves room for noise.
    expect(limit).toBeGreaterThan(best);
    expect(dropAboveMs(2 * best)).toBe(2 * limit);
  });

  it('is zero for a zero median, so only a positive time drops', () => {
    expect(dropAboveMs(0)).toBe(0);
  });
});

describe('warmUpBudgetMs', () => {
  it('allows a generous floor when nothing has been measured or everything is fast', () => {
    const floor = warmUpBudgetMs(null);
    expect(floor).toBeGreaterThanOrEqual(10_000);
    expect(warmUpBudgetMs(0)).toBe(floor);
    expect(warmUpBudgetMs(1)).toBe(floor);
  });

  it('grows with the best median on a slow device, never shrinking', () => {
    const floor = warmUpBudgetMs(null);
    expect(warmUpBudgetMs(500)).toBeGreaterThan(floor);
    expect(warmUpBudgetMs(1000)).toBe(2 * warmUpBudgetMs(500));
    let previous = 0;
    for (const ms of [null, 1, 10, 80, 100, 500, 2000]) {
      const budget = warmUpBudgetMs(ms);
      expect(budget).toBeGreaterThanOrEqual(previous);
      previous = budget;
    }
  });
});

describe('trialOrder', () => {
  it('lists the other available backends in preference order', () => {
    expect(trialOrder(['cpu', 'wasm', 'webgl', 'webgpu'], 'wasm')).toEqual(['webgpu', 'webgl']);
    expect(trialOrder(['wasm', 'webgl', 'cpu'], 'webgl')).toEqual(['wasm']);
  });

  it('never includes the backend that answered first', () => {
    for (const first of BACKENDS) {
      expect(trialOrder([...BACKENDS], first)).not.toContain(first);
    }
  });

  it('never trials cpu, even when it answered first or is all there is', () => {
    expect(trialOrder([...BACKENDS], 'cpu')).toEqual(['webgpu', 'webgl', 'wasm']);
    expect(trialOrder(['cpu'], 'wasm')).toEqual([]);
  });

  it('includes only available backends', () => {
    expect(trialOrder(['wasm', 'cpu'], 'wasm')).toEqual([]);
    expect(trialOrder([], 'wasm')).toEqual([]);
    expect(trialOrder(['webgpu', 'cpu'], 'webgl')).toEqual(['webgpu']);
  });

  it('lists each backend once even if the probe repeats it', () => {
    expect(trialOrder(['webgl', 'webgl', 'wasm'], 'cpu')).toEqual(['webgl', 'wasm']);
  });
});
