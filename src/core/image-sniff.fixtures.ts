/**
 * Hand-built image headers for the sniffing and validation tests: a few hundred bytes
 * each, built field by field so a test can state exactly what a header claims.
 */

type Part = readonly number[] | Uint8Array | string;

/** Concatenates byte arrays and latin-1 strings. */
export function bytes(...parts: Part[]): Uint8Array {
  const arrays = parts.map((part) =>
    typeof part === 'string' ? Uint8Array.from(part, (c) => c.charCodeAt(0)) : part,
  );
  const out = new Uint8Array(arrays.reduce((sum, a) => sum + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}

export const u16be = (n: number) => [(n >>> 8) & 0xff, n & 0xff];
export const u16le = (n: number) => [n & 0xff, (n >>> 8) & 0xff];
export const u24le = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff];
export const u32be = (n: number) => [...u16be(n >>> 16), ...u16be(n)];
export const u32le = (n: number) => [...u16le(n), ...u16le(n >>> 16)];

// --- JPEG

export const SOI = [0xff, 0xd8];
export const EOI = [0xff, 0xd9];

export function segment(marker: number, ...payload: Part[]): Uint8Array {
  const body = bytes(...payload);
  return bytes([0xff, marker], u16be(body.length + 2), body);
}

export const app0Jfif = () => segment(0xe0, 'JFIF\0', [1, 1, 0, 0, 1, 0, 1, 0, 0]);
export const dqt = () => segment(0xdb, [0], new Uint8Array(64).fill(1));
export const dht = () => segment(0xc4, [0x00], new Uint8Array(16).fill(0), [0]);

export function sof(width: number, height: number, marker = 0xc0): Uint8Array {
  const components = [1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0];
  return segment(marker, [8], u16be(height), u16be(width), [3], components);
}

export const sos = () => segment(0xda, [3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0]);

/** Entropy-coded bytes with the escapes a marker walk must see through. */
export const SCAN_DATA = [0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0xd7, 0x78, 0xff, 0xff];

export function jpeg(width: number, height: number): Uint8Array {
  return bytes(SOI, app0Jfif(), dqt(), sof(width, height), dht(), sos(), SCAN_DATA, EOI);
}

// --- PNG

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function pngChunk(type: string, ...data: Part[]): Uint8Array {
  const body = bytes(type, ...data);
  return bytes(u32be(body.length - 4), body, u32be(crc32(body)));
}

/** A valid-looking PNG header: 8-bit RGB, then an empty IDAT and IEND. */
export function png(width: number, height: number): Uint8Array {
  const ihdr = pngChunk('IHDR', u32be(width), u32be(height), [8, 2, 0, 0, 0]);
  return bytes(PNG_SIGNATURE, ihdr, pngChunk('IDAT'), pngChunk('IEND'));
}

// --- GIF

/** GIF89a with a global colour table, a loop extension and `frames` 1×1 images. */
export function gif(width: number, height: number, frames = 1): Uint8Array {
  const globalColours = [0, 0, 0, 255, 255, 255];
  const screen = bytes('GIF89a', u16le(width), u16le(height), [0x80, 0, 0], globalColours);
  const loop = bytes([0x21, 0xff, 11], 'NETSCAPE2.0', [3, 1, 0, 0, 0]);
  const frame = bytes(
    [0x21, 0xf9, 4, 0, 10, 0, 0, 0], // graphic control extension
    [0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0x00], // image descriptor: at 0,0, 1×1, no local table
    [2, 2, 0x4c, 0x01, 0], // LZW minimum code size, one data sub-block, terminator
  );
  return bytes(screen, loop, ...Array.from({ length: frames }, () => frame), [0x3b]);
}

// --- BMP

export function bmp(width: number, height: number): Uint8Array {
  const info = bytes(u32le(40), u32le(width >>> 0), u32le(height >>> 0), u16le(1), u16le(24));
  return bytes('BM', u32le(54 + 4), u32le(0), u32le(54), info, new Uint8Array(24), [0, 0, 0, 0]);
}

export function bmpCore(width: number, height: number): Uint8Array {
  const info = bytes(u32le(12), u16le(width), u16le(height), u16le(1), u16le(24));
  return bytes('BM', u32le(26 + 4), u32le(0), u32le(26), info, [0, 0, 0, 0]);
}

// --- WebP

function riff(chunk: string, data: Part): Uint8Array {
  const body = bytes(data);
  return bytes('RIFF', u32le(body.length + 12), 'WEBP', chunk, u32le(body.length), body);
}

export function webpLossy(width: number, height: number): Uint8Array {
  return riff(
    'VP8 ',
    bytes([0x30, 0x01, 0x00, 0x9d, 0x01, 0x2a], u16le(width), u16le(height), [0, 0]),
  );
}

export function webpLossless(width: number, height: number): Uint8Array {
  const bits = ((width - 1) | ((height - 1) << 14)) >>> 0;
  return riff('VP8L', bytes([0x2f], u32le(bits), [0, 0, 0, 0, 0]));
}

export function webpExtended(width: number, height: number, animated: boolean): Uint8Array {
  return riff(
    'VP8X',
    bytes([animated ? 0x12 : 0x10, 0, 0, 0], u24le(width - 1), u24le(height - 1)),
  );
}

// --- ISO-BMFF (AVIF, HEIC)

export function box(type: string, ...payload: Part[]): Uint8Array {
  const body = bytes(...payload);
  return bytes(u32be(body.length + 8), type, body);
}

export const fullBox = (type: string, ...payload: Part[]) => box(type, [0, 0, 0, 0], ...payload);
export const ftyp = (major: string, ...compatible: string[]) =>
  box('ftyp', major, u32be(0), ...compatible);
export const ispe = (width: number, height: number) => fullBox('ispe', u32be(width), u32be(height));

/** ftyp, then meta > iprp > ipco holding the given properties, then an empty mdat. */
export function heif(brands: string[], ...properties: Uint8Array[]): Uint8Array {
  const [major = 'mif1', ...compatible] = brands;
  const meta = fullBox(
    'meta',
    fullBox('hdlr', u32be(0), 'pict'),
    box('iprp', box('ipco', ...properties)),
  );
  return bytes(ftyp(major, ...compatible), meta, box('mdat'));
}
