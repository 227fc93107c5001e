import { bytes, u32le } from '../core/image-sniff.fixtures';

/**
 * Hand-built BMP files for the decoder tests (core and Node): every header field written
 * explicitly, so a test states exactly what the file claims.
 */

export interface BmpFixture {
  width: number;
  /** Negative for rows stored top-down. */
  height: number;
  bitsPerPixel: number;
  /** Pixel rows in file order, without padding (added here unless `unpaddedLastRow`). */
  rows: number[][];
  headerBytes?: 12 | 40 | 52 | 56 | 108 | 124;
  compression?: number;
  /** [blue, green, red] entries, as BMP stores them. */
  palette?: number[][];
  colorsUsed?: number;
  /** After a 40-byte header (BITFIELDS), inside larger ones. */
  masks?: number[];
  unpaddedLastRow?: boolean;
}

/** A BMP file written field by field, so each test states exactly what the header says. */
export function bmpFile(f: BmpFixture): Uint8Array {
  const headerBytes = f.headerBytes ?? 40;
  const info = new DataView(new ArrayBuffer(headerBytes));
  info.setUint32(0, headerBytes, true);
  if (headerBytes === 12) {
    info.setUint16(4, f.width, true);
    info.setUint16(6, f.height, true);
    info.setUint16(8, 1, true);
    info.setUint16(10, f.bitsPerPixel, true);
  } else {
    info.setInt32(4, f.width, true);
    info.setInt32(8, f.height, true);
    info.setUint16(12, 1, true);
    info.setUint16(14, f.bitsPerPixel, true);
    info.setUint32(16, f.compression ?? 0, true);
    info.setUint32(32, f.colorsUsed ?? 0, true);
    if (headerBytes >= 52) f.masks?.forEach((mask, i) => info.setUint32(40 + i * 4, mask, true));
  }
  const masksAfter = headerBytes === 40 ? (f.masks ?? []).flatMap(u32le) : [];
  const palette = (f.palette ?? []).flatMap((bgr) => (headerBytes === 12 ? bgr : [...bgr, 0]));
  const stride = Math.ceil((f.width * f.bitsPerPixel) / 32) * 4;
  const pixels = f.rows.flatMap((row, i) => {
    const last = i === f.rows.length - 1;
    const length = last && f.unpaddedLastRow ? row.length : Math.max(stride, row.length);
    return [...row, ...new Array<number>(length - row.length).fill(0)];
  });
  const offset = 14 + headerBytes + masksAfter.length + palette.length;
  const size = offset + pixels.length;
  return bytes(
    'BM',
    u32le(size),
    u32le(0),
    u32le(offset),
    new Uint8Array(info.buffer),
    masksAfter,
    palette,
    pixels,
  );
}
