import { describe, expect, it } from 'vitest';
import { median, percentile } from './stats';

describe('median', () => {
  it('takes the middle value or the mean of the two middle values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5])).toBe(5);
  });

  it('is NaN for no values', () => {
    expect(median([])).toBeNaN();
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('percentile', () => {
  const values = [15, 20, 35, 40, 50];

  it('interpolates linearly between ranks (NumPy default, Excel PERCENTILE.INC)', () => {
    expect(percentile(values, 0)).toBe(15);
    expect(percentile(values, 25)).toBe(20);
    expect(percentile(values, 40)).toBe(29);
    expect(percentile(values, 50)).toBe(35);
    expect(percentile(values, 95)).toBeCloseTo(48, 10);
    expect(percentile(values, 100)).toBe(50);
  });

  it('sorts numerically, not as text', () => {
    expect(percentile([100, 9, 20], 50)).toBe(20);
  });

  it('is NaN for no values and the value itself for one', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(percentile([], 0)).toBeNaN();
    expect(percentile([42], 0)).toBe(42);
    expect(percentile([42], 99)).toBe(42);
    expect(percentile([42], 100)).toBe(42);
  });

  it('handles equal values and negatives', () => {
    expect(percentile([2, 2, 2], 90)).toBe(2);
    expect(percentile([-10, 10], 50)).toBe(0);
  });

  it('rejects p outside 0..100', () => {
    expect(() => percentile(values, -1)).toThrow(RangeError);
    expect(() => percentile(values, 101)).toThrow(RangeError);
    expect(() => percentile(values, Number.NaN)).toThrow(RangeError);
  });
});
