import { at, i32le, u16be, u16le, u24le, u32be, u32le } from './byte-readers';
import { EOI, isApp, isRst, SOI, SOS, skipScanData, TEM } from './jpeg-markers';

/**
 * Identifies an image from its bytes alone (never its name or MIME type, which lie) and
 * reads the facts the validator needs from the headers, without decoding any pixels.
 * Every reader treats the bytes as hostile: it never throws, never reads a length it has
 * not bounded, and always moves forward, so a crafted or cut-off file cannot hang it.
 */

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'bmp' | 'avif' | 'heic' | 'tiff';

/** What the JPEG marker walk saw; the validator turns it into an outcome. */
export interface JpegMarkers {
  hasSof: boolean;
  /** A complete scan header was read, so at least some rows can be decoded. */
  hasSos: boolean;
  /** The walk reached EOI; bytes after it are ignored, as decoders do. */
  hasEoi: boolean;
  /**
   * Why the walk stopped in the headers before EOI: the data ran out ('cut') or hit bytes
   * no encoder writes ('corrupt'). Data that ends inside scan data is not broken, just
   * short of EOI: decoders show the rows they got.
   */
  broken: 'cut' | 'corrupt' | null;
}

export interface ImageSniff {
  format: ImageFormat | null;
  /**
   * Stored size, before any EXIF or HEIF rotation. `null` when the header holding it is
   * not in the bytes (or not read for this format); 0 when it is there but invalid.
   */
  width: number | null;
  height: number | null;
  /** More than one frame (GIF image descriptors, WebP animation flag). */
  animated: boolean;
  jpeg: JpegMarkers | null;
}

interface Header {
  width: number | null;
  height: number | null;
  animated?: boolean;
  jpeg?: JpegMarkers;
}

const NOT_AN_IMAGE: ImageSniff = {
  format: null,
  width: null,
  height: null,
  animated: false,
  jpeg: null,
};
const UNKNOWN_SIZE: Header = { width: null, height: null };
const INVALID_SIZE: Header = { width: 0, height: 0 };

export function sniffImage(bytes: Uint8Array): ImageSniff {
  const format = detectFormat(bytes);
  if (format === null) return { ...NOT_AN_IMAGE };
  const header = readHeader(format, bytes);
  return {
    format,
    width: header.width,
    height: header.height,
    animated: header.animated ?? false,
    jpeg: header.jpeg ?? null,
  };
}

function detectFormat(b: Uint8Array): ImageFormat | null {
  if (startsWith(b, 0, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(b, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp';
  if (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*') return 'tiff';
  // "BM" alone is too weak (plenty of text starts with it): also require a known DIB header.
  if (ascii(b, 0, 2) === 'BM' && BMP_DIB_HEADER_BYTES.has(u32le(b, 14))) return 'bmp';
  if (ascii(b, 4, 4) === 'ftyp') return heifFormat(b);
  return null;
}

function readHeader(format: ImageFormat, b: Uint8Array): Header {
  switch (format) {
    case 'jpeg':
      return readJpeg(b);
    case 'png':
      return readPng(b);
    case 'gif':
      return readGif(b);
    case 'webp':
      return readWebp(b);
    case 'bmp':
      return readBmp(b);
    case 'avif':
    case 'heic':
      return readHeif(b);
    case 'tiff':
      return UNKNOWN_SIZE;
  }
}

// --- JPEG -----------------------------------------------------------------------------

/** Frame markers C0–CF, except DHT (C4), JPG (C8) and DAC (CC), which share the range. */
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

function readJpeg(b: Uint8Array): Header {
  const jpeg: JpegMarkers = { hasSof: false, hasSos: false, hasEoi: false, broken: null };
  let width: number | null = null;
  let height: number | null = null;
  let pos = 2;
  for (;;) {
    // Like libjpeg, skip stray bytes and any run of 0xFF fill bytes up to the next marker.
    while (pos < b.length && b[pos] !== 0xff) pos++;
    while (pos < b.length && b[pos] === 0xff) pos++;
    if (pos >= b.length) {
      jpeg.broken = 'cut';
      break;
    }
    const marker = at(b, pos++);
    if (marker === EOI) {
      jpeg.hasEoi = true;
      break;
    }
    // Standalone markers carry no length; FF00 outside scan data is a stray byte pair.
    if (marker === 0x00 || marker === TEM || isRst(marker)) continue;
    if (marker === SOI || marker < 0xc0 || (marker === SOS && !jpeg.hasSof)) {
      jpeg.broken = 'corrupt';
      break;
    }
    if (pos + 2 > b.length) {
      jpeg.broken = 'cut';
      break;
    }
    const length = u16be(b, pos);
    const end = pos + length;
    if (length < 2) {
      jpeg.broken = 'corrupt';
      break;
    }
    if (isSof(marker) && !jpeg.hasSof && pos + 8 <= b.length) {
      const components = at(b, pos + 7);
      if (components === 0 || length < 8 + 3 * components) {
        jpeg.broken = 'corrupt';
        break;
      }
      jpeg.hasSof = true;
      height = u16be(b, pos + 3);
      width = u16be(b, pos + 5);
    }
    if (end > b.length) {
      // Random bytes after SOI usually claim a long APPn segment that runs off the end;
      // real APPn data opens with an ASCII identifier ("JFIF", "Exif", "ICC_PROFILE"...).
      const plausible = !isApp(marker) || isPrintable(b.subarray(pos + 2, pos + 5));
      jpeg.broken = plausible ? 'cut' : 'corrupt';
      break;
    }
    if (marker === SOS) {
      jpeg.hasSos = true;
      const next = skipScanData(b, end);
      if (next === null) break;
      pos = next;
    } else {
      pos = end;
    }
  }
  return { width, height, jpeg };
}

function isPrintable(chars: Uint8Array): boolean {
  return chars.every((c) => c >= 0x20 && c <= 0x7e);
}

// --- PNG, GIF, WebP, BMP --------------------------------------------------------------

function readPng(b: Uint8Array): Header {
  if (b.length < 24) return UNKNOWN_SIZE;
  // IHDR must be the first chunk; anything else is not a PNG a decoder will accept.
  if (ascii(b, 12, 4) !== 'IHDR') return INVALID_SIZE;
  return { width: u32be(b, 16), height: u32be(b, 20) };
}

function readGif(b: Uint8Array): Header {
  if (b.length < 10) return UNKNOWN_SIZE;
  return { width: u16le(b, 6), height: u16le(b, 8), animated: countGifFrames(b, 2) > 1 };
}

/** Counts image descriptors (stopping at `maxFrames`), hopping over data sub-blocks. */
function countGifFrames(b: Uint8Array, maxFrames: number): number {
  let pos = 13 + colorTableBytes(at(b, 10));
  let frames = 0;
  while (pos < b.length && frames < maxFrames) {
    const block = at(b, pos);
    if (block === 0x21) {
      pos = skipSubBlocks(b, pos + 2);
    } else if (block === 0x2c) {
      frames++;
      pos = skipSubBlocks(b, pos + 11 + colorTableBytes(at(b, pos + 9)));
    } else {
      break; // trailer, or bytes that are not a block: either way no more frames to count
    }
  }
  return frames;
}

function colorTableBytes(flags: number): number {
  return flags & 0x80 ? 3 << ((flags & 0x07) + 1) : 0;
}

function skipSubBlocks(b: Uint8Array, start: number): number {
  let pos = start;
  while (pos < b.length && b[pos] !== 0) pos += at(b, pos) + 1;
  return pos + 1;
}

function readWebp(b: Uint8Array): Header {
  const chunk = ascii(b, 12, 4);
  if (b.length < 30) return UNKNOWN_SIZE;
  if (chunk === 'VP8 ') {
    if (!startsWith(b, 23, [0x9d, 0x01, 0x2a])) return INVALID_SIZE;
    return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    if (at(b, 20) !== 0x2f) return INVALID_SIZE;
    const bits = u32le(b, 21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    const animated = (at(b, 20) & 0x02) !== 0;
    return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1, animated };
  }
  return INVALID_SIZE;
}

/** DIB header sizes from BITMAPCOREHEADER (12) through BITMAPV5HEADER (124), incl. OS/2. */
export const BMP_DIB_HEADER_BYTES = new Set([12, 16, 40, 52, 56, 64, 108, 124]);

function readBmp(b: Uint8Array): Header {
  if (u32le(b, 14) === 12) {
    return b.length < 22 ? UNKNOWN_SIZE : { width: u16le(b, 18), height: u16le(b, 20) };
  }
  if (b.length < 26) return UNKNOWN_SIZE;
  // A negative height means rows are stored top-down; a negative width is simply invalid.
  const width = i32le(b, 18);
  return { width: width > 0 ? width : 0, height: Math.abs(i32le(b, 22)) };
}

// --- AVIF / HEIC (ISO-BMFF) -----------------------------------------------------------

const AVIF_BRANDS = new Set(['avif', 'avis']);
/** HEVC brands plus the generic HEIF image brands, which browsers cannot decode either. */
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1']);
/** Real files list a handful; the cap keeps a hostile ftyp from costing a pass per byte. */
const MAX_COMPATIBLE_BRANDS = 64;

interface Box {
  type: string;
  /** Where the payload starts and where the box claims to end (may lie past the data). */
  start: number;
  end: number;
}

function heifFormat(b: Uint8Array): ImageFormat | null {
  const ftyp = boxes(b, 0, b.length).next().value;
  if (!ftyp || ftyp.type !== 'ftyp') return null;
  const brands = [ascii(b, ftyp.start, 4)];
  const brandsEnd = Math.min(ftyp.end, b.length, ftyp.start + 8 + 4 * MAX_COMPATIBLE_BRANDS);
  for (let i = ftyp.start + 8; i + 4 <= brandsEnd; i += 4) brands.push(ascii(b, i, 4));
  if (brands.some((brand) => AVIF_BRANDS.has(brand))) return 'avif';
  if (brands.some((brand) => HEIC_BRANDS.has(brand))) return 'heic';
  return null; // MP4, QuickTime and other ISO-BMFF files that are not still images
}

/**
 * Reads meta > iprp > ipco > ispe. Thumbnails, grid tiles and auxiliary images have their
 * own, smaller ispe, so the largest is the primary image (and over-counting is the safe
 * side for the pixel limit).
 */
function readHeif(b: Uint8Array): Header {
  const meta = findBox(b, 0, b.length, 'meta');
  // meta is a full box: 4 bytes of version and flags come before its children.
  const iprp = meta && findBox(b, meta.start + 4, meta.end, 'iprp');
  const ipco = iprp && findBox(b, iprp.start, iprp.end, 'ipco');
  let best: Header | null = null;
  for (const box of ipco ? boxes(b, ipco.start, ipco.end) : []) {
    if (box.type !== 'ispe' || box.start + 12 > b.length) continue;
    const width = u32be(b, box.start + 4);
    const height = u32be(b, box.start + 8);
    if (best === null || width * height > (best.width ?? 0) * (best.height ?? 0)) {
      best = { width, height };
    }
  }
  if (best !== null) return best;
  return meta !== undefined && meta.end <= b.length ? INVALID_SIZE : UNKNOWN_SIZE;
}

function findBox(b: Uint8Array, start: number, end: number, type: string): Box | undefined {
  for (const box of boxes(b, start, end)) if (box.type === type) return box;
  return undefined;
}

/** The boxes between `start` and `end`, stopping at one whose size is impossible. */
function* boxes(b: Uint8Array, start: number, end: number): Generator<Box> {
  const stop = Math.min(end, b.length);
  for (let pos = start; pos + 8 <= stop;) {
    let size = u32be(b, pos);
    let headerBytes = 8;
    if (size === 1) {
      size = u32be(b, pos + 8) * 2 ** 32 + u32be(b, pos + 12);
      headerBytes = 16;
    } else if (size === 0) {
      size = end - pos; // "extends to the end of its container"
    }
    if (size < headerBytes) return;
    yield { type: ascii(b, pos + 4, 4), start: pos + headerBytes, end: pos + size };
    pos += size;
  }
}

function ascii(b: Uint8Array, i: number, length: number): string {
  return String.fromCharCode(...b.subarray(i, i + length));
}

function startsWith(b: Uint8Array, offset: number, prefix: readonly number[]): boolean {
  return prefix.every((value, i) => b[offset + i] === value);
}
