import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sniffImage, type ImageSniff } from './image-sniff';
import {
  app0Jfif,
  bmp,
  bmpCore,
  box,
  bytes,
  dht,
  dqt,
  EOI,
  ftyp,
  fullBox,
  gif,
  heif,
  ispe,
  jpeg,
  png,
  PNG_SIGNATURE,
  pngChunk,
  SCAN_DATA,
  segment,
  sof,
  SOI,
  sos,
  u32be,
  webpExtended,
  webpLossless,
  webpLossy,
} from './image-sniff.fixtures';
import { DATA_DIR } from '../node/shared-paths';

const ODD_INPUTS = path.join(DATA_DIR, 'odd-inputs');
const readOdd = (file: string) => new Uint8Array(readFileSync(path.join(ODD_INPUTS, file)));

const markers = (b: Uint8Array) => sniffImage(b).jpeg;

describe('sniffImage: JPEG', () => {
  it('reads the frame size and a complete marker structure', () => {
    expect(sniffImage(jpeg(640, 480))).toEqual({
      format: 'jpeg',
      width: 640,
      height: 480,
      animated: false,
      jpeg: { hasSof: true, hasSos: true, hasEoi: true, broken: null },
    });
  });

  it('takes the size from progressive and other SOFn markers, not from DHT or DAC', () => {
    const dac = segment(0xcc, [0, 0x10]);
    const progressive = bytes(SOI, dht(), dac, sof(300, 200, 0xc2), sos(), SCAN_DATA);
    const secondScan = bytes(dht(), sos(), SCAN_DATA, EOI);
    expect(sniffImage(bytes(progressive, secondScan))).toMatchObject({
      width: 300,
      height: 200,
      jpeg: { hasSof: true, hasSos: true, hasEoi: true, broken: null },
    });
  });

  it('skips an EXIF thumbnail, whose own SOF sits inside APP1', () => {
    const exif = segment(0xe1, 'Exif\0\0', jpeg(160, 120));
    expect(sniffImage(bytes(SOI, exif, sof(4000, 3000), sos(), SCAN_DATA, EOI))).toMatchObject({
      width: 4000,
      height: 3000,
    });
  });

  it('walks fill bytes, standalone markers and stray bytes between segments', () => {
    const fill = [0xff, 0xff, 0xff];
    const standalone = [0xff, 0x01, 0xff, 0xd3];
    const stray = [0x00, 0x42, 0xff, 0x00];
    const b = bytes(SOI, fill, app0Jfif(), standalone, stray, sof(10, 20), fill, sos(), SCAN_DATA);
    expect(sniffImage(bytes(b, fill, EOI))).toMatchObject({
      width: 10,
      height: 20,
      jpeg: { hasSof: true, hasSos: true, hasEoi: true, broken: null },
    });
  });

  it('ignores bytes after EOI, as decoders do', () => {
    expect(markers(bytes(jpeg(8, 8), 'trailer appended by a phone'))?.hasEoi).toBe(true);
  });

  it('reports a file cut inside the scan data as short of EOI but not broken', () => {
    const b = jpeg(640, 480);
    expect(markers(b.subarray(0, b.length - 4))).toEqual({
      hasSof: true,
      hasSos: true,
      hasEoi: false,
      broken: null,
    });
  });

  it('reports a file cut inside the headers as cut', () => {
    const b = bytes(SOI, app0Jfif(), dqt(), sof(640, 480));
    expect(markers(b.subarray(0, 30))).toEqual({
      hasSof: false,
      hasSos: false,
      hasEoi: false,
      broken: 'cut',
    });
    expect(markers(bytes(SOI, app0Jfif()))?.broken).toBe('cut');
    expect(markers(Uint8Array.of(0xff, 0xd8, 0xff))?.broken).toBe('cut');
  });

  it('does not count a scan header that is itself cut off', () => {
    const b = bytes(SOI, sof(64, 64), sos());
    expect(markers(b.subarray(0, b.length - 3))).toMatchObject({ hasSos: false, broken: 'cut' });
  });

  it('keeps the size when the data ends inside the SOF segment after it', () => {
    const b = bytes(SOI, sof(64, 48));
    expect(sniffImage(b.subarray(0, b.length - 2))).toMatchObject({
      width: 64,
      height: 48,
      jpeg: { hasSof: true, broken: 'cut' },
    });
  });

  it('tells a cut real APPn segment from random bytes claiming to be one', () => {
    const exif = bytes(SOI, [0xff, 0xe1, 0x40, 0x00], 'Exif\0\0II*\0');
    expect(markers(exif)?.broken).toBe('cut');
    const garbage = bytes(SOI, [0xff, 0xe0, 0x73, 0x10, 0x31, 0xfa, 0xd8, 0x92, 0x57]);
    expect(markers(garbage)?.broken).toBe('corrupt');
  });

  it.each([
    ['a segment length below 2', bytes(SOI, [0xff, 0xdb, 0x00, 0x01], dqt())],
    ['a reserved marker', bytes(SOI, [0xff, 0x50, 0x00, 0x04, 0, 0], sof(8, 8))],
    ['a second SOI', bytes(SOI, app0Jfif(), SOI, sof(8, 8))],
    ['a scan before any frame', bytes(SOI, sos(), SCAN_DATA, EOI)],
    ['a SOF too short for its components', bytes(SOI, segment(0xc0, [8, 0, 8, 0, 8, 3, 1]))],
    ['a SOF with no components', bytes(SOI, segment(0xc0, [8, 0, 8, 0, 8, 0]))],
  ])('flags %s as corrupt', (_, b) => {
    expect(markers(b)?.broken).toBe('corrupt');
  });

  it('reports EOI before any frame', () => {
    expect(markers(bytes(SOI, app0Jfif(), EOI))).toEqual({
      hasSof: false,
      hasSos: false,
      hasEoi: true,
      broken: null,
    });
  });
});

describe('sniffImage: PNG', () => {
  it('reads IHDR, even for a size no one should decode', () => {
    expect(sniffImage(png(40_000, 40_000))).toMatchObject({
      format: 'png',
      width: 40_000,
      height: 40_000,
    });
  });

  it('gives no size before IHDR is complete and 0 when the first chunk is not IHDR', () => {
    expect(sniffImage(png(10, 10).subarray(0, 23))).toMatchObject({ format: 'png', width: null });
    const noIhdr = bytes(PNG_SIGNATURE, pngChunk('tEXt', 'Comment\0x'), pngChunk('IEND'));
    expect(sniffImage(noIhdr)).toMatchObject({ format: 'png', width: 0, height: 0 });
  });
});

describe('sniffImage: GIF', () => {
  it('reads the logical screen and counts frames past extensions and colour tables', () => {
    expect(sniffImage(gif(320, 246))).toMatchObject({
      format: 'gif',
      width: 320,
      height: 246,
      animated: false,
    });
    expect(sniffImage(gif(320, 246, 3)).animated).toBe(true);
  });

  it('steps over a local colour table', () => {
    const frame = bytes([0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0x80], [1, 2, 3, 4, 5, 6], [2, 1, 0, 0]);
    const b = bytes('GIF87a', [4, 0, 4, 0, 0, 0, 0], frame, frame, [0x3b]);
    expect(sniffImage(b)).toMatchObject({ width: 4, height: 4, animated: true });
  });

  it('counts only the frames that are in the bytes', () => {
    const b = gif(16, 16, 2);
    expect(sniffImage(b.subarray(0, b.length - 16)).animated).toBe(false);
    expect(sniffImage(b.subarray(0, 9))).toMatchObject({ format: 'gif', width: null });
  });
});

describe('sniffImage: BMP', () => {
  it('reads the DIB header, bottom-up and top-down', () => {
    expect(sniffImage(bmp(320, 246))).toMatchObject({ format: 'bmp', width: 320, height: 246 });
    expect(sniffImage(bmp(320, -246))).toMatchObject({ width: 320, height: 246 });
    expect(sniffImage(bmpCore(12, 34))).toMatchObject({ format: 'bmp', width: 12, height: 34 });
  });

  it('treats a negative width as invalid and a cut header as unknown', () => {
    expect(sniffImage(bmp(-5, 5))).toMatchObject({ width: 0 });
    expect(sniffImage(bmp(5, 5).subarray(0, 24))).toMatchObject({ format: 'bmp', width: null });
  });

  it('does not take text that starts with "BM" for a bitmap', () => {
    expect(sniffImage(bytes('BMW service record: 2019-04-02, oil change')).format).toBeNull();
  });
});

describe('sniffImage: WebP', () => {
  it.each([
    ['lossy (VP8)', webpLossy(800, 614), 800, 614, false],
    ['lossless (VP8L)', webpLossless(640, 491), 640, 491, false],
    ['extended (VP8X)', webpExtended(16383, 2, false), 16383, 2, false],
    ['animated (VP8X)', webpExtended(400, 300, true), 400, 300, true],
  ])('reads the size of %s', (_, b, width, height, animated) => {
    expect(sniffImage(b)).toMatchObject({ format: 'webp', width, height, animated });
  });

  it('rejects a VP8 frame without its start code and leaves a cut header unknown', () => {
    const b = webpLossy(8, 8);
    b[23] = 0;
    expect(sniffImage(b)).toMatchObject({ format: 'webp', width: 0 });
    expect(sniffImage(webpLossy(8, 8).subarray(0, 28))).toMatchObject({ width: null });
  });
});

describe('sniffImage: AVIF and HEIC', () => {
  it('tells AVIF from HEIC by brand', () => {
    expect(sniffImage(heif(['avif', 'mif1', 'miaf'], ispe(800, 600))).format).toBe('avif');
    expect(sniffImage(heif(['mif1', 'avif'], ispe(800, 600))).format).toBe('avif');
    expect(sniffImage(heif(['heic', 'mif1', 'heic'], ispe(800, 600))).format).toBe('heic');
    expect(sniffImage(heif(['mif1', 'miaf'], ispe(800, 600))).format).toBe('heic');
    expect(sniffImage(bytes(ftyp('isom', 'iso2', 'mp41'), box('moov'))).format).toBeNull();
  });

  it('reads the primary image size from meta > iprp > ipco > ispe', () => {
    const colr = box('colr', 'nclx', [0, 1, 0, 13, 0, 6, 0x80]);
    const b = heif(['avif', 'mif1'], colr, ispe(320, 240), ispe(4032, 3024), ispe(512, 512));
    expect(sniffImage(b)).toMatchObject({ format: 'avif', width: 4032, height: 3024 });
  });

  it('follows 64-bit and open-ended box sizes', () => {
    const ipco = box('ipco', ispe(1200, 900));
    const iprp = bytes(u32be(1), 'iprp', u32be(0), u32be(ipco.length + 16), ipco);
    const meta = bytes(u32be(0), 'meta', [0, 0, 0, 0], iprp);
    expect(sniffImage(bytes(ftyp('avif'), meta))).toMatchObject({ width: 1200, height: 900 });
  });

  it('gives no size when meta is missing or cut, and 0 when a complete meta has no ispe', () => {
    const b = heif(['avif'], ispe(800, 600));
    expect(sniffImage(ftyp('avif', 'mif1'))).toMatchObject({ format: 'avif', width: null });
    expect(sniffImage(b.subarray(0, 60))).toMatchObject({ format: 'avif', width: null });
    expect(sniffImage(heif(['avif'], box('pixi', [0])))).toMatchObject({ width: 0, height: 0 });
  });

  it('stops at a box whose size is impossible', () => {
    const b = bytes(ftyp('avif'), u32be(4), 'meta', fullBox('iprp'));
    expect(sniffImage(b)).toMatchObject({ format: 'avif', width: null });
  });
});

describe('sniffImage: other input', () => {
  it('recognises TIFF in both byte orders', () => {
    expect(sniffImage(bytes('II*\0', [8, 0, 0, 0])).format).toBe('tiff');
    expect(sniffImage(bytes('MM\0*', [0, 0, 0, 8])).format).toBe('tiff');
  });

  it.each([
    ['empty', new Uint8Array(0)],
    ['text', bytes('This is plain text, not an image.\n')],
    ['a WAV file', bytes('RIFF', [36, 0, 0, 0], 'WAVEfmt ')],
    ['a lone SOI', Uint8Array.of(0xff, 0xd8)],
    ['a PDF', bytes('%PDF-1.7\n')],
  ])('returns format null for %s', (_, b) => {
    expect(sniffImage(b)).toEqual({
      format: null,
      width: null,
      height: null,
      animated: false,
      jpeg: null,
    });
  });

  it('sniffs content, not names: swapped extensions', () => {
    expect(sniffImage(readOdd('png_content_named_as.jpg')).format).toBe('png');
    expect(sniffImage(readOdd('jpeg_content_named_as.png')).format).toBe('jpeg');
  });
});

/** A small seeded generator, so a fuzz failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function expectSane(result: ImageSniff): void {
  for (const side of [result.width, result.height]) {
    if (side !== null) expect(Number.isInteger(side) && side >= 0).toBe(true);
  }
  expect(result.jpeg === null).toBe(result.format !== 'jpeg');
}

describe('sniffImage: hostile bytes', () => {
  const next = random(20240613);
  const randomBytes = (length: number) =>
    Uint8Array.from({ length }, () => Math.floor(next() * 256));

  const magic: Uint8Array[] = [
    Uint8Array.of(0xff, 0xd8, 0xff),
    Uint8Array.from(PNG_SIGNATURE),
    bytes('GIF89a'),
    bytes('RIFF\0\0\0\0WEBPVP8 '),
    bytes('RIFF\0\0\0\0WEBPVP8X'),
    bytes('BM\0\0\0\0\0\0\0\0\0\0\0\0', [40, 0, 0, 0]),
    bytes(ftyp('avif', 'mif1')),
    bytes(ftyp('heic')),
  ];

  it('never throws on random bytes, bare or behind each magic number', () => {
    for (let i = 0; i < 3000; i++) {
      const tail = randomBytes(Math.floor(next() * 600));
      const prefix = magic[i % (magic.length + 1)] ?? new Uint8Array(0);
      expectSane(sniffImage(bytes(prefix, tail)));
    }
  });

  it.each([
    'jpeg_tiny_16x16_ocelot.jpg',
    'png_1x1_ocelot.png',
    'gif_real_imageNotFound_from_hymenoptera_train_ants.gif',
  ])('never throws on any truncation of %s', (file) => {
    const whole = readOdd(file);
    const full = sniffImage(whole);
    for (let length = 0; length <= whole.length; length++) {
      const result = sniffImage(whole.subarray(0, length));
      expectSane(result);
      if (length >= 24) expect(result.format).toBe(full.format);
    }
  });

  it.each([
    ['jpeg_tiny_16x16_ocelot.jpg', Infinity],
    ['jpeg_progressive_domestic_dog.jpg', 4096],
    ['png_16bit_rgb_ocelot.png', 256],
    ['gif_animated_3frames_ocelot.gif', 4096],
    ['webp_alpha_ocelot.webp', 256],
    ['bmp_ocelot.bmp', 256],
    ['avif_domestic_dog.avif', 1024],
    ['heic_domestic_dog.heic', 1024],
  ])('never throws on random corruptions of %s', (file, headBytes) => {
    const whole = readOdd(file);
    const head = whole.subarray(0, Math.min(whole.length, headBytes));
    for (let i = 0; i < 400; i++) {
      const mutated = head.slice();
      // Corrupt only past the magic number, so every mutant still reaches its parser.
      const flips = 1 + Math.floor(next() * 8);
      for (let k = 0; k < flips; k++) {
        const at = 12 + Math.floor(next() * (mutated.length - 12));
        mutated[at] = next() < 0.3 ? 0xff : Math.floor(next() * 256);
      }
      expectSane(sniffImage(mutated));
    }
  });

  it('gets through pathological runs in one pass', () => {
    const mib = 1024 * 1024;
    expect(markers(bytes(SOI, new Uint8Array(8 * mib).fill(0xff)))?.broken).toBe('cut');
    expect(markers(bytes(SOI, [0xff, 0x00], new Uint8Array(8 * mib)))?.broken).toBe('cut');
    const scan = bytes(SOI, sof(8, 8), sos(), new Uint8Array(8 * mib).fill(0xff));
    expect(markers(scan)).toMatchObject({ hasSos: true, hasEoi: false });
    const tinyBoxes = new Uint8Array(8 * mib);
    for (let i = 0; i < tinyBoxes.length; i += 8)
      tinyBoxes.set([0, 0, 0, 8, 0x66, 0x72, 0x65, 0x65], i);
    expect(sniffImage(bytes(ftyp('avif'), tinyBoxes)).width).toBeNull();
    const endlessGif = bytes(gif(1, 1).subarray(0, 19), new Uint8Array(8 * mib).fill(0x21));
    expect(sniffImage(endlessGif).format).toBe('gif');
  });
});
