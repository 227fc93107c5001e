import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { DATA_DIR } from '../src/node/shared-paths';
import { encodeY4m, rgbToYcbcr, toI420, writePhotoAsY4m, y4mFrameBytes } from './y4m';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldid-y4m-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROBIN = path.join(DATA_DIR, 'imagenet-animals/n01558993_robin.JPEG');

/** Reads a y4m file the way a player does: header fields, then FRAME-prefixed I420 planes. */
function parseY4m(bytes: Buffer) {
  const headerEnd = bytes.indexOf(0x0a);
  const fields = bytes.subarray(0, headerEnd).toString('ascii').split(' ');
  expect(fields[0]).toBe('YUV4MPEG2');
  const field = (tag: string) => fields.find((f) => f.startsWith(tag))?.slice(1);
  const width = Number(field('W'));
  const height = Number(field('H'));
  const frameBytes = y4mFrameBytes(width, height);
  const frames: Uint8Array[] = [];
  let at = headerEnd + 1;
  while (at < bytes.length) {
    expect(bytes.subarray(at, at + 6).toString('ascii')).toBe('FRAME\n');
    frames.push(bytes.subarray(at + 6, at + 6 + frameBytes));
    at += 6 + frameBytes;
  }
  expect(at).toBe(bytes.length);
  return { fields, width, height, frames };
}

/** The inverse of BT.601 studio range, per pixel, with the chroma of its 2×2 block. */
function toRgb(frame: Uint8Array, width: number, height: number): Uint8Array {
  const chromaWidth = Math.ceil(width / 2);
  const cbAt = width * height;
  const crAt = cbAt + chromaWidth * Math.ceil(height / 2);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = (y >> 1) * chromaWidth + (x >> 1);
      const luma = (frame[y * width + x]! - 16) * (255 / 219);
      const cb = (frame[cbAt + c]! - 128) * (255 / 224);
      const cr = (frame[crAt + c]! - 128) * (255 / 224);
      const i = (y * width + x) * 3;
      rgb[i] = Math.max(0, Math.min(255, Math.round(luma + 1.402 * cr)));
      rgb[i + 1] = Math.max(0, Math.min(255, Math.round(luma - 0.344136 * cb - 0.714136 * cr)));
      rgb[i + 2] = Math.max(0, Math.min(255, Math.round(luma + 1.772 * cb)));
    }
  }
  return rgb;
}

describe('y4m', () => {
  it('converts to BT.601 studio range (the published values for black, white and red)', () => {
    const round = (values: number[]) => values.map(Math.round);
    expect(round(rgbToYcbcr(0, 0, 0))).toEqual([16, 128, 128]);
    expect(round(rgbToYcbcr(255, 255, 255))).toEqual([235, 128, 128]);
    expect(round(rgbToYcbcr(255, 0, 0))).toEqual([81, 90, 240]);
    expect(round(rgbToYcbcr(0, 0, 255))).toEqual([41, 240, 110]);
  });

  it('writes the header, then each frame after FRAME, with half-size chroma rounded up', () => {
    // 3×3: a red left column, the rest white; alpha is ignored.
    const data = new Uint8Array(3 * 3 * 4);
    for (let p = 0; p < 9; p++) data.set(p % 3 === 0 ? [255, 0, 0, 0] : [255, 255, 255, 9], p * 4);
    const video = parseY4m(encodeY4m({ data, width: 3, height: 3, channels: 4 }, 2));
    expect(video.fields.join(' ')).toBe('YUV4MPEG2 W3 H3 F30:1 Ip A1:1 C420jpeg');
    expect(video.frames).toHaveLength(2);
    const [frame] = video.frames;
    expect([...frame!.subarray(0, 9)]).toEqual([81, 235, 235, 81, 235, 235, 81, 235, 235]);
    // Cb then Cr, 2×2 each: the top-left block averages two red and two white pixels.
    expect([...frame!.subarray(9)]).toEqual([
      Math.round((90 + 128) / 2),
      128,
      Math.round((90 + 128) / 2),
      128,
      Math.round((240 + 128) / 2),
      128,
      Math.round((240 + 128) / 2),
      128,
    ]);
  });

  it('refuses pixels that do not fill the stated size', () => {
    expect(() => toI420({ data: new Uint8Array(10), width: 2, height: 2, channels: 3 })).toThrow(
      RangeError,
    );
  });

  it('writes a real photo that reads back as the photo', async () => {
    const file = path.join(dir, 'robin.y4m');
    const size = await writePhotoAsY4m(ROBIN, file);
    const meta = await sharp(ROBIN).metadata();
    expect(size).toEqual({ width: meta.width! & ~1, height: meta.height! & ~1 });
    const video = parseY4m(readFileSync(file));
    expect(video).toMatchObject(size);
    expect(video.frames).toHaveLength(1);

    const expected = await sharp(ROBIN)
      .extract({ left: 0, top: 0, ...size })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer();
    const actual = toRgb(video.frames[0]!, size.width, size.height);
    let error = 0;
    for (let i = 0; i < actual.length; i++) error += Math.abs(actual[i]! - expected[i]!);
    // Rounding to studio range and sharing chroma over 2×2 pixels cost a few levels on edges.
    expect(error / actual.length).toBeLessThan(4);
  });

  it('resizes to a given frame size and dims the scene', async () => {
    const file = path.join(dir, 'dim.y4m');
    const size = await writePhotoAsY4m(ROBIN, file, {
      size: { width: 64, height: 48 },
      brightness: 0.04,
    });
    expect(size).toEqual({ width: 64, height: 48 });
    const video = parseY4m(readFileSync(file));
    const rgb = toRgb(video.frames[0]!, 64, 48);
    expect(Math.max(...rgb)).toBeLessThan(0.05 * 255);
    expect(Math.max(...rgb)).toBeGreaterThan(0);
  });
});
