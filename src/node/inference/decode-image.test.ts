import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeBmp } from '../bmp-decode';
import { bmpFile } from '../bmp-decode.fixtures';
import { decodeSize } from '../../core/image-geometry';
import { decodePhotoBytes } from './decode-image';
import { DATA_DIR } from '../shared-paths';

/** BMP in Node: sharp has no BMP loader, so the core decoder feeds sharp's pipeline. */
const ODD_INPUTS = path.join(DATA_DIR, 'odd-inputs');

/** A 24-bit BMP of width × height with a horizontal red ramp, rows padded as BMP wants. */
function rampBmp(width: number, height: number): Uint8Array {
  const row = Array.from({ length: width }, (_, x) => [0, 0, Math.round((x * 255) / width)]).flat();
  return bmpFile({ width, height, bitsPerPixel: 24, rows: new Array<number[]>(height).fill(row) });
}

describe('decodePhotoBytes: BMP', () => {
  it('decodes the real BMP odd input to exactly the core decoder’s pixels', async () => {
    const bytes = new Uint8Array(await readFile(path.join(ODD_INPUTS, 'bmp_ocelot.bmp')));
    const decoded = await decodePhotoBytes(bytes, 224);
    if (!decoded.ok) throw new Error(`${decoded.error.code} ${decoded.error.detail}`);
    const reference = decodeBmp(bytes);
    if (!reference.ok) throw new Error(reference.error.code);
    expect(decoded.value).toMatchObject({ width: 320, height: 246, warnings: [] });
    expect(decoded.value.image.width).toBe(320);
    expect(decoded.value.image.height).toBe(246);
    expect(new Uint8Array(decoded.value.image.data)).toEqual(reference.value.data);
  });

  it('downsamples a big BMP to the shared decode size, like any other photo', async () => {
    const decoded = await decodePhotoBytes(rampBmp(1200, 500), 224);
    if (!decoded.ok) throw new Error(`${decoded.error.code} ${decoded.error.detail}`);
    const { image, width, height } = decoded.value;
    expect({ width, height }).toEqual({ width: 1200, height: 500 });
    expect({ width: image.width, height: image.height }).toEqual(
      decodeSize({ width: 1200, height: 500 }, 224),
    );
    expect(image.data).toHaveLength(image.width * image.height * 4);
    // The ramp survives the resize: dark red on the left, bright on the right, opaque.
    const right = (image.width - 1) * 4;
    expect(image.data[0]).toBeLessThan(10);
    expect(image.data[right]).toBeGreaterThan(245);
    expect([image.data[right + 1], image.data[right + 2], image.data[right + 3]]).toEqual([
      0, 0, 255,
    ]);
  });

  it('reports what the core decoder refuses with its code', async () => {
    const rle = bmpFile({
      width: 2,
      height: 1,
      bitsPerPixel: 8,
      compression: 1,
      palette: [[0, 0, 0]],
      rows: [[0, 0]],
    });
    expect(await decodePhotoBytes(rle, 224)).toMatchObject({
      ok: false,
      error: { code: 'UNSUPPORTED_FORMAT' },
    });
    const cut = rampBmp(64, 64).subarray(0, 2000);
    expect(await decodePhotoBytes(cut, 224)).toMatchObject({
      ok: false,
      error: { code: 'TRUNCATED' },
    });
  });
});
