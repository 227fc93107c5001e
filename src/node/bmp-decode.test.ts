import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeBmp } from './bmp-decode';
import { bmpFile, type BmpFixture } from './bmp-decode.fixtures';
import { bytes, u32le } from '../core/image-sniff.fixtures';
import { sniffImage } from '../core/image-sniff';
import { DATA_DIR } from './shared-paths';

const ODD_INPUTS = path.join(DATA_DIR, 'odd-inputs');

const RED = [255, 0, 0, 255];
const GREEN = [0, 255, 0, 255];
const BLUE = [0, 0, 255, 255];
const WHITE = [255, 255, 255, 255];
const BLACK = [0, 0, 0, 255];
const GREY = [128, 128, 128, 255];

function decodedPixels(file: Uint8Array) {
  const decoded = decodeBmp(file);
  if (!decoded.ok) throw new Error(`${decoded.error.code}: ${decoded.error.detail}`);
  const { width, height, data } = decoded.value;
  return { width, height, pixels: Array.from(data) };
}

function errorOf(file: Uint8Array, maxPixels?: number) {
  const decoded = decodeBmp(file, maxPixels === undefined ? {} : { maxPixels });
  return decoded.ok ? null : decoded.error.code;
}

/** 3×2, red green blue over white black grey, as 24-bit BGR rows in file order. */
const TOP_ROW_BGR = [0, 0, 255, 0, 255, 0, 255, 0, 0];
const BOTTOM_ROW_BGR = [255, 255, 255, 0, 0, 0, 128, 128, 128];
const EXPECTED_3X2 = [...RED, ...GREEN, ...BLUE, ...WHITE, ...BLACK, ...GREY];

describe('decodeBmp: uncompressed BI_RGB', () => {
  it('decodes 24-bit bottom-up rows with row padding, top row first', () => {
    const file = bmpFile({
      width: 3,
      height: 2,
      bitsPerPixel: 24,
      rows: [BOTTOM_ROW_BGR, TOP_ROW_BGR],
    });
    expect(decodedPixels(file)).toEqual({ width: 3, height: 2, pixels: EXPECTED_3X2 });
  });

  it('decodes top-down rows (negative height) to the same pixels', () => {
    const file = bmpFile({
      width: 3,
      height: -2,
      bitsPerPixel: 24,
      rows: [TOP_ROW_BGR, BOTTOM_ROW_BGR],
    });
    expect(decodedPixels(file)).toEqual({ width: 3, height: 2, pixels: EXPECTED_3X2 });
  });

  it('accepts a last row without its padding, as writers sometimes leave it', () => {
    const file = bmpFile({
      width: 3,
      height: 2,
      bitsPerPixel: 24,
      rows: [BOTTOM_ROW_BGR, TOP_ROW_BGR],
      unpaddedLastRow: true,
    });
    expect(decodedPixels(file).pixels).toEqual(EXPECTED_3X2);
  });

  it('decodes 32-bit BGRX and shows it opaque whatever the reserved byte holds', () => {
    const file = bmpFile({
      width: 2,
      height: 1,
      bitsPerPixel: 32,
      rows: [[0, 0, 255, 0, 255, 0, 0, 77]],
    });
    expect(decodedPixels(file).pixels).toEqual([...RED, ...BLUE]);
  });

  it('decodes 16-bit as 5-5-5, scaling each channel to the full 0-255 range', () => {
    // 0x7c00 red, 0x03e0 green, 0x001f blue, 0x7fff white; the top bit is unused.
    const file = bmpFile({
      width: 4,
      height: 1,
      bitsPerPixel: 16,
      rows: [[0x00, 0x7c, 0xe0, 0x03, 0x1f, 0x00, 0xff, 0xff]],
    });
    expect(decodedPixels(file).pixels).toEqual([...RED, ...GREEN, ...BLUE, ...WHITE]);
  });
});

describe('decodeBmp: palettes', () => {
  const palette = [
    [0, 0, 255], // red
    [0, 255, 0], // green
    [255, 0, 0], // blue
    [128, 128, 128], // grey
  ];

  it('decodes 8-bit indices, showing an index past a short palette as black', () => {
    const file = bmpFile({
      width: 5,
      height: 1,
      bitsPerPixel: 8,
      palette,
      colorsUsed: 4,
      rows: [[0, 1, 2, 3, 200]],
    });
    expect(decodedPixels(file).pixels).toEqual([...RED, ...GREEN, ...BLUE, ...GREY, ...BLACK]);
  });

  it('decodes 4-bit indices, high nibble first, with an odd width', () => {
    const file = bmpFile({
      width: 3,
      height: 2,
      bitsPerPixel: 4,
      palette,
      colorsUsed: 4,
      rows: [
        [0x33, 0x30],
        [0x01, 0x20],
      ],
    });
    expect(decodedPixels(file).pixels).toEqual([
      ...RED,
      ...GREEN,
      ...BLUE,
      ...GREY,
      ...GREY,
      ...GREY,
    ]);
  });

  it('decodes 1-bit indices, most significant bit first, across a byte boundary', () => {
    const file = bmpFile({
      width: 10,
      height: 1,
      bitsPerPixel: 1,
      palette: [
        [0, 0, 0],
        [255, 255, 255],
      ],
      rows: [[0b10110000, 0b01000000]],
    });
    const bits = [1, 0, 1, 1, 0, 0, 0, 0, 0, 1];
    expect(decodedPixels(file).pixels).toEqual(bits.flatMap((bit) => (bit ? WHITE : BLACK)));
  });

  it('decodes the OS/2 core header with 3-byte palette entries', () => {
    const file = bmpFile({
      headerBytes: 12,
      width: 2,
      height: 2,
      bitsPerPixel: 8,
      palette: [...palette, ...new Array<number[]>(252).fill([0, 0, 0])],
      rows: [
        [2, 3],
        [0, 1],
      ],
    });
    expect(decodedPixels(file).pixels).toEqual([...RED, ...GREEN, ...BLUE, ...GREY]);
  });
});

describe('decodeBmp: BITFIELDS', () => {
  it('reads 32-bit pixels through the masks after a BITMAPINFOHEADER', () => {
    // Channels in an unusual order (R in the second byte, B in the top byte).
    const file = bmpFile({
      width: 2,
      height: 1,
      bitsPerPixel: 32,
      compression: 3,
      masks: [0x0000ff00, 0x00ff0000, 0xff000000],
      rows: [[0, 255, 0, 0, 7, 0, 0, 255]],
    });
    expect(decodedPixels(file).pixels).toEqual([...RED, ...BLUE]);
  });

  it('reads 16-bit 5-6-5 pixels', () => {
    const file = bmpFile({
      width: 3,
      height: 1,
      bitsPerPixel: 16,
      compression: 3,
      masks: [0xf800, 0x07e0, 0x001f],
      rows: [[0x00, 0xf8, 0xe0, 0x07, 0x1f, 0x00]],
    });
    expect(decodedPixels(file).pixels).toEqual([...RED, ...GREEN, ...BLUE]);
  });

  it('uses the alpha mask of a V5 header', () => {
    const file = bmpFile({
      headerBytes: 124,
      width: 2,
      height: 1,
      bitsPerPixel: 32,
      compression: 3,
      masks: [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000],
      rows: [[0, 0, 255, 128, 255, 0, 0, 0]],
    });
    expect(decodedPixels(file).pixels).toEqual([255, 0, 0, 128, 0, 0, 255, 0]);
  });

  it('shows an alpha channel that is zero everywhere as opaque, as browsers do', () => {
    const file = bmpFile({
      headerBytes: 108,
      width: 2,
      height: 1,
      bitsPerPixel: 32,
      compression: 3,
      masks: [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000],
      rows: [[0, 0, 255, 0, 255, 0, 0, 0]],
    });
    expect(decodedPixels(file).pixels).toEqual([...RED, ...BLUE]);
  });
});

describe('decodeBmp: refusals', () => {
  const valid: BmpFixture = {
    width: 3,
    height: 2,
    bitsPerPixel: 24,
    rows: [BOTTOM_ROW_BGR, TOP_ROW_BGR],
  };
  const palette8 = {
    bitsPerPixel: 8,
    palette: [[0, 0, 0]],
    colorsUsed: 1,
    rows: [[0, 0, 0, 0]],
  };

  it.each([
    ['RLE8', { ...valid, ...palette8, compression: 1 }],
    ['RLE4', { ...valid, ...palette8, bitsPerPixel: 4, compression: 2 }],
    ['embedded JPEG', { ...valid, compression: 4 }],
    ['embedded PNG', { ...valid, compression: 5 }],
  ])('refuses %s as UNSUPPORTED_FORMAT', (_name, fixture) => {
    expect(errorOf(bmpFile(fixture))).toBe('UNSUPPORTED_FORMAT');
  });

  it.each([
    ['an unknown compression', { ...valid, compression: 9 }],
    ['BITFIELDS at 24 bits', { ...valid, compression: 3, masks: [0xff0000, 0xff00, 0xff] }],
    [
      'a mask with a gap in it',
      { ...valid, bitsPerPixel: 32, compression: 3, masks: [0xf0f00000, 0xff00, 0xff] },
    ],
    [
      'a mask wider than the pixel',
      { ...valid, bitsPerPixel: 16, compression: 3, masks: [0x1f0000, 0x7e0, 0x1f] },
    ],
    ['2 bits per pixel', { ...valid, bitsPerPixel: 2 }],
    ['a zero width', { ...valid, width: 0 }],
    ['a negative width', { ...valid, width: -3 }],
    ['a zero height', { ...valid, height: 0 }],
  ])('refuses %s as DECODE_FAILED', (_name, fixture) => {
    expect(errorOf(bmpFile(fixture))).toBe('DECODE_FAILED');
  });

  it('refuses bytes without the BM signature or with an unknown header size', () => {
    const file = bmpFile(valid);
    expect(errorOf(bytes('XX', file.subarray(2)))).toBe('DECODE_FAILED');
    const odd = file.slice();
    odd[14] = 41;
    expect(errorOf(odd)).toBe('DECODE_FAILED');
  });

  it('refuses pixel data inside the headers, and reports it past the end as TRUNCATED', () => {
    const file = bmpFile(valid);
    file.set(u32le(20), 10);
    expect(errorOf(file)).toBe('DECODE_FAILED');
    file.set(u32le(file.length + 10), 10);
    expect(errorOf(file)).toBe('TRUNCATED');
    expect(errorOf(file.subarray(0, 54))).toBe('TRUNCATED'); // headers only
  });

  it('reports missing pixel rows, palette or header as TRUNCATED', () => {
    const file = bmpFile(valid);
    expect(errorOf(file.subarray(0, file.length - 4))).toBe('TRUNCATED');
    expect(errorOf(file.subarray(0, 30))).toBe('TRUNCATED');
    expect(errorOf(file.subarray(0, 10))).toBe('TRUNCATED');
    const paletted = bmpFile({ ...valid, ...palette8, palette: [], colorsUsed: 200 });
    expect(errorOf(paletted)).toBe('TRUNCATED');
  });

  it('refuses a huge declared size before allocating anything', () => {
    const huge = bmpFile({ ...valid, width: 100_000, height: -100_000, rows: [] });
    expect(errorOf(huge)).toBe('TOO_MANY_PIXELS');
    expect(errorOf(bmpFile(valid), 5)).toBe('TOO_MANY_PIXELS');
    expect(errorOf(bmpFile(valid), 6)).toBeNull();
  });

  it('never throws on cut-off or corrupted files', () => {
    const files = [
      bmpFile(valid),
      bmpFile({ ...valid, ...palette8 }),
      bmpFile({
        headerBytes: 124,
        width: 2,
        height: 1,
        bitsPerPixel: 32,
        compression: 3,
        masks: [0xff0000, 0xff00, 0xff, 0xff000000],
        rows: [[1, 2, 3, 4, 5, 6, 7, 8]],
      }),
    ];
    let seed = 1;
    const random = () => (seed = (seed * 48271) % 0x7fffffff) / 0x7fffffff;
    for (const file of files) {
      for (let length = 0; length <= file.length; length++) {
        expect(() => decodeBmp(file.subarray(0, length))).not.toThrow();
      }
      for (let trial = 0; trial < 500; trial++) {
        const corrupted = file.slice();
        for (let flips = 0; flips < 3; flips++) {
          corrupted[Math.floor(random() * corrupted.length)] = Math.floor(random() * 256);
        }
        const decoded = decodeBmp(corrupted, { maxPixels: 1_000_000 });
        if (decoded.ok) {
          const { data, width, height } = decoded.value;
          expect(data.length).toBe(width * height * 4);
        }
      }
    }
  });
});

describe('decodeBmp: the real odd input', () => {
  const bmp = new Uint8Array(readFileSync(path.join(ODD_INPUTS, 'bmp_ocelot.bmp')));

  it('decodes it at the size its header declares', () => {
    const decoded = decodeBmp(bmp);
    expect(decoded.ok).toBe(true);
    const { width, height } = sniffImage(bmp);
    expect(decoded.ok && decoded.value).toMatchObject({ width, height });
    expect([width, height]).toEqual([320, 246]);
  });

  it('gives exactly the pixels of the lossless TIFF made from the same photo', async () => {
    const decoded = decodeBmp(bmp);
    if (!decoded.ok) throw new Error(decoded.error.code);
    const tiff = await sharp(path.join(ODD_INPUTS, 'tiff_ocelot.tif'))
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    expect(tiff.info).toMatchObject({ width: 320, height: 246, channels: 4 });
    expect(Buffer.compare(tiff.data, decoded.value.data)).toBe(0);
  });

  it('looks like the PNG of the same photo, scaled to its size', async () => {
    const decoded = decodeBmp(bmp);
    if (!decoded.ok) throw new Error(decoded.error.code);
    const { data, width, height } = decoded.value;
    const png = await sharp(path.join(ODD_INPUTS, 'png_16bit_rgb_ocelot.png'))
      .resize(width, height, { fit: 'fill' })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer();
    let sum = 0;
    for (let i = 0; i < data.length; i++) if (i % 4 !== 3) sum += Math.abs(data[i]! - png[i]!);
    // Different encodings and resamplers: a few levels apart on average, not hundreds.
    const meanAbsoluteDifference = sum / (width * height * 3);
    expect(meanAbsoluteDifference).toBeLessThan(3);
  });
});
