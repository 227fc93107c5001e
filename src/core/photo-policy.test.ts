import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DATA_DIR } from '../node/shared-paths';
import { bytes, EOI, jpeg, png, segment, SOI } from './image-sniff.fixtures';
import { checkPhoto, walkJpegSegments } from './photo-policy';
import { exifGpsApp1, withSegmentsAfterSoi } from './photo-policy.fixtures';

const ODD = join(DATA_DIR, 'odd-inputs');

/** What the client sends: the photo re-encoded at most 512 px, without metadata. */
async function reencoded(file: string, longSidePx = 512): Promise<Uint8Array> {
  const out = await sharp(await readFile(join(ODD, file)))
    .rotate()
    .resize(longSidePx, longSidePx, { fit: 'inside' })
    .jpeg({ quality: 80 })
    .toBuffer();
  return new Uint8Array(out);
}

describe('checkPhoto', () => {
  it('accepts a real photo re-encoded to 512 px without metadata', async () => {
    const photo = await reencoded('jpeg_exif_orientation6_domestic_dog.jpg');
    expect(checkPhoto(photo)).toMatchObject({ ok: true });
    const check = checkPhoto(photo);
    if (check.ok) expect(Math.max(check.width, check.height)).toBe(512);
  });

  it('accepts a progressive JPEG (several scans) and the allowed APPn segments', async () => {
    const progressive = new Uint8Array(
      await sharp(await reencoded('jpeg_upright_reference_domestic_dog.jpg', 200))
        .jpeg({ progressive: true })
        .toBuffer(),
    );
    expect(checkPhoto(progressive).ok).toBe(true);
    const icc = segment(0xe2, 'ICC_PROFILE\0', [1, 1], new Uint8Array(40));
    const adobe = segment(0xee, 'Adobe', [0, 100, 0, 0, 0, 0, 1]);
    expect(checkPhoto(withSegmentsAfterSoi(jpeg(300, 200), icc, adobe))).toEqual({
      ok: true,
      width: 300,
      height: 200,
    });
  });

  it('refuses the camera originals: EXIF segment (and too large)', async () => {
    for (const file of [
      'jpeg_exif_orientation3_domestic_dog.jpg',
      'jpeg_exif_orientation6_domestic_dog.jpg',
      'jpeg_exif_orientation8_domestic_dog.jpg',
    ]) {
      const original = new Uint8Array(await readFile(join(ODD, file)));
      const check = checkPhoto(original, { maxBytes: 10_000_000, maxLongSidePx: 10_000 });
      expect(check, file).toEqual({ ok: false, code: 'PHOTO_HAS_METADATA' });
    }
  });

  it('refuses a small clean photo once an Exif GPS segment is put back in', async () => {
    const clean = await reencoded('jpeg_upright_reference_domestic_dog.jpg', 256);
    const withGps = withSegmentsAfterSoi(clean, exifGpsApp1());
    expect((await sharp(withGps).metadata()).exif?.length).toBeGreaterThan(0);
    expect(checkPhoto(withGps)).toEqual({ ok: false, code: 'PHOTO_HAS_METADATA' });
  });

  it.each([
    ['APP1 XMP', segment(0xe1, 'http://ns.adobe.com/xap/1.0/\0', '<x:xmpmeta/>')],
    ['APP13 IPTC', segment(0xed, 'Photoshop 3.0\0', '8BIM')],
    ['COM', segment(0xfe, 'shot at home')],
    ['APP0 JFXX thumbnail', segment(0xe0, 'JFXX\0', [0x10])],
    ['APP2 MPF', segment(0xe2, 'MPF\0', 'MM')],
    ['APP3', segment(0xe3, 'META')],
    ['APP15', segment(0xef, 'x')],
    ['empty APP1', segment(0xe1)],
  ])('refuses %s', (_name, extra) => {
    expect(checkPhoto(withSegmentsAfterSoi(jpeg(64, 64), extra))).toEqual({
      ok: false,
      code: 'PHOTO_HAS_METADATA',
    });
  });

  it('refuses a metadata segment hidden between scans and bytes after EOI', () => {
    const image = jpeg(64, 64);
    const beforeEoi = bytes(image.subarray(0, -2), segment(0xfe, 'late comment'), EOI);
    expect(walkJpegSegments(beforeEoi)).toBe('PHOTO_HAS_METADATA');
    expect(checkPhoto(bytes(image, 'trailing data'))).toEqual({
      ok: false,
      code: 'PHOTO_HAS_METADATA',
    });
  });

  it('refuses what is too large, in bytes or pixels', () => {
    expect(checkPhoto(jpeg(513, 100))).toEqual({ ok: false, code: 'PHOTO_TOO_LARGE' });
    expect(checkPhoto(jpeg(100, 4000))).toEqual({ ok: false, code: 'PHOTO_TOO_LARGE' });
    expect(checkPhoto(jpeg(512, 512)).ok).toBe(true);
    expect(checkPhoto(jpeg(64, 64), { maxBytes: 100, maxLongSidePx: 512 })).toEqual({
      ok: false,
      code: 'PHOTO_TOO_LARGE',
    });
  });

  it('refuses what is not a whole JPEG', () => {
    expect(checkPhoto(new Uint8Array())).toEqual({ ok: false, code: 'EMPTY_FILE' });
    expect(checkPhoto(png(10, 10))).toEqual({ ok: false, code: 'UNSUPPORTED_FORMAT' });
    expect(checkPhoto(bytes('hello'))).toEqual({ ok: false, code: 'NOT_AN_IMAGE' });
    const image = jpeg(64, 64);
    expect(checkPhoto(image.subarray(0, image.length - 5))).toEqual({
      ok: false,
      code: 'TRUNCATED',
    });
    expect(checkPhoto(bytes(SOI, [0xff], 'garbage garbage'))).toMatchObject({ ok: false });
    expect(checkPhoto(bytes(SOI, EOI))).toEqual({ ok: false, code: 'DECODE_FAILED' });
    expect(checkPhoto(jpeg(0, 10))).toEqual({ ok: false, code: 'DECODE_FAILED' });
  });

  it('never throws on random bytes after SOI', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff;
    for (let i = 0; i < 500; i++) {
      const noise = Uint8Array.from({ length: 1 + (i % 300) }, random);
      const check = checkPhoto(bytes(SOI, [0xff], noise));
      expect(check.ok).toBe(false);
    }
  });
});
