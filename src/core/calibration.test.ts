import { describe, expect, it } from 'vitest';
import {
  applyTemperature,
  expectedCalibrationError,
  fitTemperature,
  negativeLogLikelihood,
  reliabilityTable,
  thresholdTradeOff,
  topOne,
  type LabelledOutput,
} from './calibration';

/** `right` of `count` two-class outputs [p, 1 − p] have class 0 right, the rest class 1. */
function twoClassSet(p: number, count: number, right: number): LabelledOutput[] {
  return Array.from({ length: count }, (_, i) => ({
    probabilities: [p, 1 - p],
    correct: [i < right ? 0 : 1],
  }));
}

function topOnes(set: LabelledOutput[], temperature = 1) {
  return set.map((o) =>
    topOne({ probabilities: applyTemperature(o.probabilities, temperature), correct: o.correct }),
  );
}

/** A small deterministic generator, so the "many outputs" tests need no fixtures. */
function pseudoRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('applyTemperature', () => {
  it('leaves a probability vector unchanged at T = 1', () => {
    const p = [0.5, 0.25, 0.125, 0.125, 0];
    const scaled = applyTemperature(p, 1);
    for (const [i, value] of p.entries()) expect(scaled[i]).toBeCloseTo(value, 12);
  });

  it('is softmax(log p / T): p^(1/T), renormalised', () => {
    const scaled = applyTemperature([0.8, 0.2], 2);
    const a = Math.sqrt(0.8);
    const b = Math.sqrt(0.2);
    expect(scaled[0]).toBeCloseTo(a / (a + b), 12);
    expect(scaled[1]).toBeCloseTo(b / (a + b), 12);
    // Below 1 it sharpens.
    expect(applyTemperature([0.8, 0.2], 0.5)[0]).toBeCloseTo(0.64 / 0.68, 12);
  });

  it('keeps zeros at zero, treats bad values as zero, and sums to 1', () => {
    const scaled = applyTemperature([0, 0.6, Number.NaN, -1, 0.4, Infinity], 3);
    expect([scaled[0], scaled[2], scaled[3], scaled[5]]).toEqual([0, 0, 0, 0]);
    expect(scaled.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    expect(scaled[1]! / scaled[4]!).toBeCloseTo((0.6 / 0.4) ** (1 / 3), 12);
  });

  it('gives all zeros for an output with nothing positive, and survives tiny probabilities', () => {
    expect([...applyTemperature([0, 0, Number.NaN], 2)]).toEqual([0, 0, 0]);
    const tiny = applyTemperature([1e-300, 1e-310, 0], 0.1);
    expect(tiny[0]).toBeCloseTo(1, 12);
    expect(Number.isFinite(tiny[1]!)).toBe(true);
  });

  it('refuses a temperature that is not positive', () => {
    expect(() => applyTemperature([1], 0)).toThrow(RangeError);
    expect(() => applyTemperature([1], -1)).toThrow(RangeError);
    expect(() => applyTemperature([1], Number.NaN)).toThrow(RangeError);
  });

  it('never changes which class is on top, so top-1 accuracy does not move', () => {
    const random = pseudoRandom(7);
    for (let n = 0; n < 50; n++) {
      const raw = Array.from({ length: 20 }, () => random() ** 3);
      const sum = raw.reduce((s, v) => s + v, 0);
      const p = raw.map((v) => v / sum);
      const best = topOne({ probabilities: p, correct: [] }).index;
      for (const t of [0.2, 0.7, 1.5, 6]) {
        expect(topOne({ probabilities: applyTemperature(p, t), correct: [] }).index).toBe(best);
      }
    }
  });
});

describe('fitTemperature', () => {
  it('finds T = 1 on a perfectly calibrated set', () => {
    const set = [...twoClassSet(0.6, 10, 6), ...twoClassSet(0.9, 20, 18)];
    expect(expectedCalibrationError(topOnes(set))).toBeCloseTo(0, 12);
    expect(fitTemperature(set).temperature).toBeCloseTo(1, 6);
  });

  it('fits the T that the closed form gives to an over-confident set, and its ECE drops', () => {
    // Said 0.95, right 70 % of the time: T solves 1 / (1 + (0.05/0.95)^(1/T)) = 0.7.
    const set = twoClassSet(0.95, 100, 70);
    const expected = Math.log(19) / Math.log(7 / 3);
    const fit = fitTemperature(set);
    expect(fit.temperature).toBeGreaterThan(1);
    expect(fit.temperature).toBeCloseTo(expected, 6);
    expect(fit.nllAfter).toBeLessThan(fit.nllBefore);
    expect(fit.nllBefore).toBeCloseTo(negativeLogLikelihood(set, 1), 12);

    const before = expectedCalibrationError(topOnes(set));
    const after = expectedCalibrationError(topOnes(set, fit.temperature));
    expect(before).toBeCloseTo(0.25, 12);
    expect(after).toBeLessThan(1e-6);
  });

  it('fits T < 1 to an under-confident set', () => {
    // Said 0.6, right 90 % of the time.
    const fit = fitTemperature(twoClassSet(0.6, 50, 45));
    expect(fit.temperature).toBeCloseTo(Math.log(1.5) / Math.log(9), 6);
    expect(fit.temperature).toBeLessThan(1);
  });

  it('sums the probabilities of every class that counts as right', () => {
    // Classes 0 and 1 both right: the model is right with probability 0.9, as often as it says.
    const set: LabelledOutput[] = Array.from({ length: 10 }, (_, i) => ({
      probabilities: [0.45, 0.45, 0.1],
      correct: i < 9 ? [0, 1] : [2],
    }));
    expect(negativeLogLikelihood(set, 1)).toBeCloseTo(
      -(9 * Math.log(0.9) + Math.log(0.1)) / 10,
      12,
    );
    // Duplicate indices count once.
    expect(negativeLogLikelihood([{ probabilities: [0.5, 0.5], correct: [0, 0] }], 1)).toBeCloseTo(
      Math.log(2),
      12,
    );
  });

  it('gives the same T for the same set and does not depend on order', () => {
    const random = pseudoRandom(11);
    const set: LabelledOutput[] = Array.from({ length: 40 }, () => {
      const raw = Array.from({ length: 10 }, () => random() ** 4);
      const sum = raw.reduce((s, v) => s + v, 0);
      return { probabilities: raw.map((v) => v / sum), correct: [Math.floor(random() * 10)] };
    });
    const first = fitTemperature(set).temperature;
    expect(fitTemperature(set).temperature).toBe(first);
    // Summed in another order, the flat bottom of the likelihood moves in the last digits only.
    expect(fitTemperature([...set].reverse()).temperature).toBeCloseTo(first, 5);
  });

  it('bounds the loss of a photo whose right class has probability 0', () => {
    const set = [...twoClassSet(0.8, 10, 8), { probabilities: [1, 0], correct: [1] }];
    expect(Number.isFinite(negativeLogLikelihood(set, 1))).toBe(true);
    expect(fitTemperature(set).temperature).toBeGreaterThan(0);
  });

  it('says so when the best T lies on the edge of the search, and refuses an empty set', () => {
    // Always right: the likelihood keeps improving as T goes to 0.
    expect(() => fitTemperature(twoClassSet(0.7, 10, 10))).toThrow(/edge/);
    expect(() => fitTemperature([])).toThrow(RangeError);
  });
});

describe('expected calibration error and the reliability table', () => {
  it('weights each bin by its share of the photos', () => {
    // 4 photos at 0.9 with 2 right (gap 0.4), 6 at 0.5 with 3 right (gap 0): 0.4 · 4/10.
    const predictions = [
      ...Array.from({ length: 4 }, (_, i) => ({ confidence: 0.9, right: i < 2 })),
      ...Array.from({ length: 6 }, (_, i) => ({ confidence: 0.5, right: i < 3 })),
    ];
    expect(expectedCalibrationError(predictions)).toBeCloseTo(0.16, 12);
    expect(expectedCalibrationError([])).toBeNaN();
  });

  it('has 15 equal-width bins, (lower, upper], with 0 in the first and 1 in the last', () => {
    const table = reliabilityTable([
      { confidence: 0, right: false },
      { confidence: 1 / 15, right: true },
      { confidence: 1 / 15 + 1e-9, right: true },
      { confidence: 1, right: true },
      { confidence: 0.99, right: false },
    ]);
    expect(table).toHaveLength(15);
    expect(table[0]).toMatchObject({ lower: 0, count: 2, accuracy: 0.5 });
    expect(table[0]!.upper).toBeCloseTo(1 / 15, 12);
    expect(table[1]).toMatchObject({ count: 1, accuracy: 1 });
    expect(table[14]).toMatchObject({ upper: 1, count: 2, accuracy: 0.5 });
    expect(table[14]!.meanConfidence).toBeCloseTo(0.995, 12);
    expect(table[7]).toMatchObject({ count: 0, meanConfidence: null, accuracy: null });
    expect(table.reduce((s, b) => s + b.count, 0)).toBe(5);
  });

  it('topOne takes the highest output, ties to the lower index', () => {
    expect(topOne({ probabilities: [0.2, 0.4, 0.4], correct: [1] })).toEqual({
      index: 1,
      confidence: 0.4,
      right: true,
    });
    expect(topOne({ probabilities: [0.1, Number.NaN, 0.9], correct: [0] }).right).toBe(false);
  });
});

describe('thresholdTradeOff', () => {
  it('counts, per step, the right answers withheld and the wrong ones removed', () => {
    const predictions = [
      { confidence: 0.1, right: false },
      { confidence: 0.2, right: true },
      { confidence: 0.25, right: false },
      { confidence: 0.3, right: false },
      { confidence: 0.9, right: true },
    ];
    const steps = thresholdTradeOff(predictions, [0.3, 0.2]);
    expect(steps).toEqual([
      {
        threshold: 0.2,
        answered: 4,
        answeredRight: 2,
        withheldRight: 0,
        removedWrong: 1,
        precision: 0.5,
      },
      {
        threshold: 0.3,
        answered: 2,
        answeredRight: 1,
        withheldRight: 1,
        removedWrong: 1,
        precision: 0.5,
      },
    ]);
    expect(thresholdTradeOff(predictions, [0.95])[0]!.precision).toBeNull();
  });
});
