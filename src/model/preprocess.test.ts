import { beforeAll, describe, expect, it } from 'vitest';
import type { InputSpec } from '../core/model-manifest';
import { activateBackend, tensorCount } from './backend';
import { toModelInput, type RgbaImage } from './preprocess';

/** The one preprocessing implementation, on synthetic pixels whose answer is known. */
const SPEC: InputSpec = { name: 'input', size: 224, channels: 3, range: [-1, 1] };

type Rgba = [number, number, number, number];

function image(width: number, height: number, colourAt: (x: number, y: number) => Rgba) {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(colourAt(x, y), (y * width + x) * 4);
  }
  return { data, width, height };
}

/** 0..223: every row or column index of the model input. */
const INDICES = Array.from({ length: 224 }, (_, i) => i);

const filled = (width: number, height: number, colour: Rgba) => image(width, height, () => colour);

interface ModelInput {
  values: Float32Array;
  /** [r, g, b] at row y, column x. */
  at(y: number, x: number): number[];
}

/** Runs the preprocessing and reads the values back. */
function modelInput(img: RgbaImage, spec: InputSpec = SPEC): ModelInput {
  const tensor = toModelInput(img, spec);
  try {
    expect(tensor.shape).toEqual([spec.size, spec.size, 3]);
    expect(tensor.dtype).toBe('float32');
    const values = tensor.dataSync() as Float32Array;
    const at = (y: number, x: number) => {
      const start = (y * spec.size + x) * 3;
      return Array.from(values.subarray(start, start + 3));
    };
    return { values, at };
  } finally {
    tensor.dispose();
  }
}

/** The largest distance of any value from `target`. */
function maxDistance(values: Float32Array, target: number): number {
  return values.reduce((max, v) => Math.max(max, Math.abs(v - target)), 0);
}

beforeAll(async () => {
  expect(await activateBackend('cpu')).toBe(true);
});

describe('toModelInput', () => {
  it('gives a [224, 224, 3] float tensor with values within [-1, 1]', () => {
    const noise = image(300, 200, (x, y) => [(x * 7) % 256, (y * 13) % 256, (x * y) % 256, 255]);
    const { values } = modelInput(noise);
    expect(values).toHaveLength(224 * 224 * 3);
    const min = values.reduce((a, b) => Math.min(a, b));
    const max = values.reduce((a, b) => Math.max(a, b));
    expect(min).toBeGreaterThanOrEqual(-1);
    expect(max).toBeLessThanOrEqual(1);
    // The noise spans the range, so the extremes are reached, not just bounded.
    expect(min).toBeLessThan(-0.9);
    expect(max).toBeGreaterThan(0.9);
  });

  it('maps white to +1 and black to -1 in every channel', () => {
    expect(maxDistance(modelInput(filled(50, 50, [255, 255, 255, 255])).values, 1)).toBeLessThan(
      1e-5,
    );
    expect(maxDistance(modelInput(filled(500, 400, [0, 0, 0, 255])).values, -1)).toBeLessThan(1e-5);
  });

  it('keeps the channel order: red stays in channel 0, blue in channel 2', () => {
    const [r, g, b] = modelInput(filled(10, 10, [255, 128, 0, 255])).at(100, 100);
    expect(r).toBeCloseTo(1, 5);
    expect(g).toBeCloseTo(128 / 127.5 - 1, 5);
    expect(b).toBeCloseTo(-1, 5);
  });

  it('composites transparent pixels over white, whatever colour they hold', () => {
    for (const colour of [
      [0, 0, 0, 0],
      [255, 0, 0, 0],
      [12, 200, 99, 0],
    ] as Rgba[]) {
      expect(maxDistance(modelInput(filled(64, 64, colour)).values, 1)).toBeLessThan(1e-5);
    }
    // Half-transparent black over white is mid grey.
    const [r] = modelInput(filled(64, 64, [0, 0, 0, 128])).at(10, 10);
    expect(r).toBeCloseTo((255 - 128) / 127.5 - 1, 5);
  });

  it('centre-crops a wide image: only the middle square reaches the model', () => {
    // 300×100, red in columns 0..124, blue from 125 on. The centre square is columns
    // 100..199: a quarter red (100..124), three quarters blue.
    const wide = image(300, 100, (x) => (x < 125 ? [255, 0, 0, 255] : [0, 0, 255, 255]));
    const input = modelInput(wide);
    const redIn = (y: number) => INDICES.filter((x) => input.at(y, x)[0]! > input.at(y, x)[2]!);
    const redColumns = redIn(112).length;
    expect(redColumns).toBeGreaterThanOrEqual(224 / 4 - 2);
    expect(redColumns).toBeLessThanOrEqual(224 / 4 + 2);
    // Red on the left only, the same in every row; pure red and blue at the edges.
    expect(redIn(112)).toEqual(INDICES.slice(0, redColumns));
    for (const y of [0, 50, 223]) expect(redIn(y)).toHaveLength(redColumns);
    expect(input.at(0, 0)).toEqual([1, -1, -1]);
    expect(input.at(223, 223)).toEqual([-1, -1, 1]);
  });

  it('centre-crops a tall image the same way, top to bottom', () => {
    // 100×400: the centre square is rows 150..249; green above row 175, so a quarter.
    const tall = image(100, 400, (_x, y) => (y < 175 ? [0, 255, 0, 255] : [0, 0, 0, 255]));
    const input = modelInput(tall);
    const greenRows = INDICES.filter((y) => input.at(y, 50)[1]! > 0).length;
    expect(greenRows).toBeGreaterThanOrEqual(224 / 4 - 2);
    expect(greenRows).toBeLessThanOrEqual(224 / 4 + 2);
  });

  it('scales to the range the model card gives', () => {
    const spec: InputSpec = { ...SPEC, size: 32, range: [0, 1] };
    const input = modelInput(filled(8, 8, [255, 0, 255, 255]), spec);
    expect(input.values).toHaveLength(32 * 32 * 3);
    expect(input.at(31, 31).map((v) => Math.round(v * 1000) / 1000)).toEqual([1, 0, 1]);
  });

  it('accepts canvas pixels (Uint8ClampedArray), also as a view into a larger buffer', () => {
    const plain = filled(20, 10, [10, 120, 240, 255]);
    const expected = modelInput(plain).values;
    expect(modelInput({ ...plain, data: new Uint8ClampedArray(plain.data) }).values).toEqual(
      expected,
    );
    const buffer = new Uint8ClampedArray(plain.data.length + 16).fill(77);
    buffer.set(plain.data, 8);
    const view = buffer.subarray(8, 8 + plain.data.length);
    expect(modelInput({ ...plain, data: view }).values).toEqual(expected);
  });

  it('throws a RangeError when the buffer does not match the size', () => {
    const img = filled(10, 10, [0, 0, 0, 255]);
    expect(() => toModelInput({ ...img, width: 11 }, SPEC)).toThrow(RangeError);
    expect(() => toModelInput({ ...img, data: img.data.subarray(4) }, SPEC)).toThrow(RangeError);
  });

  it('leaves only the returned tensor behind', () => {
    const before = tensorCount();
    const tensor = toModelInput(filled(300, 200, [1, 2, 3, 4]), SPEC);
    expect(tensorCount()).toBe(before + 1);
    tensor.dispose();
    expect(tensorCount()).toBe(before);
  });
});
