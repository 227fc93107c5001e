import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { DATA_DIR } from '../node/shared-paths';
import { bytes, EOI, png, segment, SOI } from './image-sniff.fixtures';
import { checkPhoto, walkJpegSegments } from './photo-policy';
import {
  canvasJfifApp0,
  exifGpsApp1,
  exifGpsTiff,
  iccSegments,
  jfifWithThumbnail,
  plainAdobeApp14,
  realProfile,
  wellFormedJpeg,
  withExtraTag,
  withSegmentsAfterSoi,
} from './photo-policy.fixtures';

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

const refused = (code: string) => ({ ok: false, code });

/** sharp writes no APP0, so a segment put after SOI is the first one, as JFIF must be. */
let clean: Uint8Array;
let srgb: Uint8Array;
beforeAll(async () => {
  clean = await reencoded('jpeg_upright_reference_domestic_dog.jpg', 128);
  srgb = await realProfile('srgb');
});
const withSegments = (...segments: Uint8Array[]) => withSegmentsAfterSoi(clean, ...segments);

describe('checkPhoto', () => {
  it('accepts a real photo re-encoded to 512 px without metadata', async () => {
    const photo = await reencoded('jpeg_exif_orientation6_domestic_dog.jpg');
    expect(checkPhoto(photo)).toMatchObject({ ok: true });
    const check = checkPhoto(photo);
    if (check.ok) expect(Math.max(check.width, check.height)).toBe(512);
  });

  it('accepts the segments of a canvas JPEG: SOI, JFIF 1.01 without thumbnail, DQT, SOF0, DHT, SOS, EOI', () => {
    expect(checkPhoto(withSegments(canvasJfifApp0()))).toMatchObject({ ok: true });
  });

  it('accepts a progressive JPEG (several scans, tables between them)', async () => {
    const progressive = new Uint8Array(await sharp(clean).jpeg({ progressive: true }).toBuffer());
    expect(checkPhoto(progressive).ok).toBe(true);
  });

  it('accepts real colour profiles, whole or in chunks, and a plain Adobe header', async () => {
    for (const name of ['srgb', 'p3'] as const) {
      const embedded = new Uint8Array(await sharp(clean).withIccProfile(name).jpeg().toBuffer());
      expect(checkPhoto(embedded), name).toMatchObject({ ok: true });
    }
    expect(checkPhoto(withSegments(canvasJfifApp0(), ...iccSegments(srgb, 100)))).toMatchObject({
      ok: true,
    });
    expect(checkPhoto(withSegments(...iccSegments(srgb), plainAdobeApp14()))).toMatchObject({
      ok: true,
    });
    // The builder of crafted profiles makes valid ones: the refusals below are the rules'.
    const lumi = withExtraTag(srgb, 'lumi', 'XYZ ', new Uint8Array(12));
    expect(checkPhoto(withSegments(...iccSegments(lumi)))).toMatchObject({ ok: true });
  });

  it('refuses the camera originals: EXIF segment (and too large)', async () => {
    for (const file of [
      'jpeg_exif_orientation3_domestic_dog.jpg',
      'jpeg_exif_orientation6_domestic_dog.jpg',
      'jpeg_exif_orientation8_domestic_dog.jpg',
    ]) {
      const original = new Uint8Array(await readFile(join(ODD, file)));
      const check = checkPhoto(original, { maxBytes: 10_000_000, maxLongSidePx: 10_000 });
      expect(check, file).toEqual(refused('PHOTO_HAS_METADATA'));
    }
  });

  it('refuses a small clean photo once an Exif GPS segment is put back in', async () => {
    const withGps = withSegments(exifGpsApp1());
    expect((await sharp(withGps).metadata()).exif?.length).toBeGreaterThan(0);
    expect(checkPhoto(withGps)).toEqual(refused('PHOTO_HAS_METADATA'));
  });

  it.each([
    ['APP1 XMP', () => segment(0xe1, 'http://ns.adobe.com/xap/1.0/\0', '<x:xmpmeta/>')],
    ['APP13 IPTC', () => segment(0xed, 'Photoshop 3.0\0', '8BIM')],
    ['COM', () => segment(0xfe, 'shot at home')],
    ['APP0 JFXX thumbnail', () => segment(0xe0, 'JFXX\0', [0x10])],
    ['APP2 MPF', () => segment(0xe2, 'MPF\0', 'MM')],
    ['APP3', () => segment(0xe3, 'META')],
    ['APP15', () => segment(0xef, 'x')],
    ['empty APP1', () => segment(0xe1)],
  ])('refuses %s', (_name, extra) => {
    expect(checkPhoto(withSegments(extra()))).toEqual(refused('PHOTO_HAS_METADATA'));
  });

  // Each was accepted and stored before the segments were checked by layout.
  it.each([
    [
      'an ICC segment that is an Exif GPS block',
      () => [segment(0xe2, 'ICC_PROFILE\0', [1, 1], exifGpsTiff())],
    ],
    [
      'JFIF with Exif appended',
      () => [segment(0xe0, 'JFIF\0', [1, 1, 0, 0, 1, 0, 1, 0, 0], exifGpsApp1())],
    ],
    ['JFIF with a thumbnail', () => [jfifWithThumbnail()]],
    ['JFIF one byte short', () => [segment(0xe0, 'JFIF\0', [1, 1, 0, 0, 1, 0, 1, 0])]],
    ['a second JFIF header', () => [canvasJfifApp0(), canvasJfifApp0()]],
    ['JFIF after another segment', () => [...iccSegments(srgb), canvasJfifApp0()]],
    [
      'Adobe with text appended',
      () => [segment(0xee, 'Adobe', [0, 100, 0, 0, 0, 0, 1], 'lat 52.52 lon 13.40')],
    ],
    ['two Adobe headers', () => [plainAdobeApp14(), plainAdobeApp14()]],
    ['a profile with a GPS block after its end', () => iccSegments(bytes(srgb, exifGpsTiff()))],
    [
      'a profile whose size counts a GPS block after its tags',
      () => iccSegments(withSize(bytes(srgb, exifGpsTiff()))),
    ],
    [
      'a profile with a GPS block in a private tag',
      () => iccSegments(withExtraTag(srgb, 'zzzz', 'text', exifGpsTiff())),
    ],
    [
      'a profile with a GPS block as raw data in a colour tag',
      () => iccSegments(withExtraTag(srgb, 'lumi', 'data', exifGpsTiff())),
    ],
    [
      'a profile with a measurement target (free text)',
      () => iccSegments(withExtraTag(srgb, 'targ', 'text', bytes('GPS 52.52N 13.40E'))),
    ],
    [
      'a profile with a date tag',
      () => iccSegments(withExtraTag(srgb, 'calt', 'dtim', new Uint8Array(12))),
    ],
    [
      'a profile with data in its reserved header bytes',
      () => iccSegments(patched(srgb, 100, [0x47, 0x50, 0x53])),
    ],
    [
      'a printer profile',
      () =>
        iccSegments(
          patched(
            srgb,
            12,
            [...'prtr'].map((c) => c.charCodeAt(0)),
          ),
        ),
    ],
    ['a profile without the acsp signature', () => iccSegments(patched(srgb, 36, [0, 0, 0, 0]))],
    ['profile chunks out of order', () => iccSegments(srgb, 300).reverse()],
    ['a profile missing its last chunk', () => iccSegments(srgb, 300).slice(0, 1)],
  ])('refuses %s', (_name, extra) => {
    expect(checkPhoto(withSegments(...extra()))).toEqual(refused('PHOTO_HAS_METADATA'));
  });

  it.each([
    ['JPG0 (0xF0)', 0xf0],
    ['JPG13 (0xFD)', 0xfd],
    ['JPG (0xC8)', 0xc8],
    ['DAC, arithmetic coding (0xCC)', 0xcc],
    ['DHP, hierarchical (0xDE)', 0xde],
  ])('refuses a %s segment carrying Exif: no browser writes one', (_name, marker) => {
    expect(checkPhoto(withSegments(segment(marker, exifGpsApp1())))).toEqual(
      refused('UNSUPPORTED_FORMAT'),
    );
  });

  it('refuses frames other than baseline, extended and progressive Huffman, and TEM', () => {
    for (const marker of [0xc3, 0xc5, 0xc9, 0xcb, 0xcd, 0xcf]) {
      expect(checkPhoto(withFrameMarker(clean, marker)), marker.toString(16)).toEqual(
        refused('UNSUPPORTED_FORMAT'),
      );
    }
    expect(checkPhoto(withFrameMarker(clean, 0xc1))).toMatchObject({ ok: true });
    expect(checkPhoto(withSegments(bytes([0xff, 0x01])))).toEqual(refused('UNSUPPORTED_FORMAT'));
  });

  it('refuses a colour profile or metadata after the frame, and bytes after EOI', () => {
    const image = wellFormedJpeg(64, 64);
    const lateProfile = bytes(image.subarray(0, -2), ...iccSegments(srgb), EOI);
    expect(walkJpegSegments(lateProfile)).toEqual({ problem: 'PHOTO_HAS_METADATA' });
    const lateComment = bytes(image.subarray(0, -2), segment(0xfe, 'late comment'), EOI);
    expect(walkJpegSegments(lateComment)).toEqual({ problem: 'PHOTO_HAS_METADATA' });
    expect(checkPhoto(bytes(image, 'trailing data'))).toEqual(refused('PHOTO_HAS_METADATA'));
  });

  it('refuses tables, frames and scans that are not laid out as the standard says', () => {
    const parts = (...middle: Uint8Array[]) =>
      bytes(SOI, ...middle, segment(0xda, [1, 1, 0, 0, 63, 0]), [0x12], EOI);
    const frame = (precision = 8, components = [1, 0x11, 0]) =>
      segment(0xc0, [precision], [0, 8, 0, 8], [components.length / 3], components);
    const quant = segment(0xdb, [0], new Uint8Array(64).fill(1));
    const huffman = segment(0xc4, [0x00], [1], new Uint8Array(15), [0]);
    expect(checkPhoto(parts(quant, frame(), huffman))).toEqual({ ok: true, width: 8, height: 8 });
    for (const [name, image] of [
      [
        'a Huffman table with no codes',
        parts(quant, frame(), segment(0xc4, [0], new Uint8Array(16), [0])),
      ],
      [
        'a Huffman table with too many 1-bit codes',
        parts(quant, frame(), segment(0xc4, [0], [2], new Uint8Array(15), [0, 1])),
      ],
      [
        'a DC symbol over 15',
        parts(quant, frame(), segment(0xc4, [0], [1], new Uint8Array(15), [16])),
      ],
      [
        'a Huffman table with a byte left over',
        parts(quant, frame(), segment(0xc4, [0], [1], new Uint8Array(15), [0, 7])),
      ],
      [
        'a quantisation table one byte short',
        parts(segment(0xdb, [0], new Uint8Array(63)), frame(), huffman),
      ],
      ['a 12-bit frame', parts(quant, frame(12), huffman)],
      ['a frame with two components', parts(quant, frame(8, [1, 0x11, 0, 2, 0x11, 0]), huffman)],
      ['two frames', parts(quant, frame(), frame(), huffman)],
      ['a scan before the frame', bytes(SOI, segment(0xda, [1, 1, 0, 0, 63, 0]), frame(), EOI)],
      [
        'a scan of a component the frame lacks',
        bytes(SOI, quant, frame(), huffman, segment(0xda, [1, 9, 0, 0, 63, 0]), EOI),
      ],
      [
        'a restart interval of three bytes',
        parts(quant, frame(), huffman, segment(0xdd, [0, 1, 2])),
      ],
      ['a stray restart marker', parts(quant, frame(), huffman, bytes([0xff, 0xd0]))],
    ] as const) {
      expect(checkPhoto(image), name).toEqual(refused('DECODE_FAILED'));
    }
  });

  it('refuses what is too large, in bytes or pixels', () => {
    expect(checkPhoto(wellFormedJpeg(513, 100))).toEqual(refused('PHOTO_TOO_LARGE'));
    expect(checkPhoto(wellFormedJpeg(100, 4000))).toEqual(refused('PHOTO_TOO_LARGE'));
    expect(checkPhoto(wellFormedJpeg(512, 512)).ok).toBe(true);
    expect(checkPhoto(wellFormedJpeg(64, 64), { maxBytes: 100, maxLongSidePx: 512 })).toEqual(
      refused('PHOTO_TOO_LARGE'),
    );
  });

  it('refuses what is not a whole JPEG', () => {
    expect(checkPhoto(new Uint8Array())).toEqual(refused('EMPTY_FILE'));
    expect(checkPhoto(png(10, 10))).toEqual(refused('UNSUPPORTED_FORMAT'));
    expect(checkPhoto(bytes('hello'))).toEqual(refused('NOT_AN_IMAGE'));
    const image = wellFormedJpeg(64, 64);
    expect(checkPhoto(image.subarray(0, image.length - 5))).toEqual(refused('TRUNCATED'));
    expect(checkPhoto(clean.subarray(0, 300))).toEqual(refused('TRUNCATED'));
    expect(checkPhoto(bytes(SOI, [0xff], 'garbage garbage'))).toMatchObject({ ok: false });
    expect(checkPhoto(bytes(SOI, EOI))).toEqual(refused('DECODE_FAILED'));
    expect(checkPhoto(wellFormedJpeg(0, 10))).toEqual(refused('DECODE_FAILED'));
  });

  it('never throws on random bytes after SOI, or on any cut or flipped byte of a real photo', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff;
    for (let i = 0; i < 500; i++) {
      const noise = Uint8Array.from({ length: 1 + (i % 300) }, random);
      const check = checkPhoto(bytes(SOI, [0xff], noise));
      expect(check.ok).toBe(false);
    }
    const photo = withSegments(...iccSegments(srgb, 200));
    for (let at = 0; at < 1200; at++) {
      expect(() => checkPhoto(photo.subarray(0, at))).not.toThrow();
      const flipped = photo.slice();
      flipped[at] = random();
      expect(() => checkPhoto(flipped)).not.toThrow();
    }
  });
});

/** The profile with its size field set to its length. */
function withSize(profile: Uint8Array): Uint8Array {
  const copy = profile.slice();
  new DataView(copy.buffer).setUint32(0, copy.length);
  return copy;
}

function patched(profile: Uint8Array, at: number, values: number[]): Uint8Array {
  const copy = profile.slice();
  copy.set(values, at);
  return copy;
}

/** The JPEG with its SOF0 marker byte replaced (same layout, another coding process). */
function withFrameMarker(jpeg: Uint8Array, marker: number): Uint8Array {
  const copy = jpeg.slice();
  for (let i = 2; i + 1 < copy.length; i++) {
    if (copy[i] === 0xff && copy[i + 1] === 0xc0) {
      copy[i + 1] = marker;
      return copy;
    }
  }
  throw new Error('no SOF0');
}
