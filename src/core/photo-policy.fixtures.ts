/**
 * JPEG segments for the photo-policy and API tests: an Exif block carrying a GPS position
 * (what a phone camera writes), segments that smuggle it, colour profiles, and helpers to
 * put segments into a real JPEG.
 */
import sharp from 'sharp';
import {
  app0Jfif,
  bytes,
  dqt,
  EOI,
  SCAN_DATA,
  segment,
  sof,
  SOI,
  sos,
  u16le,
  u32be,
  u32le,
} from './image-sniff.fixtures';

/** 52°31'12.3"N 13°24'36.5"E, as a camera stores it: the TIFF block of an Exif segment. */
export function exifGpsTiff(): Uint8Array {
  const rational = (numerator: number, denominator: number) => [
    ...u32le(numerator),
    ...u32le(denominator),
  ];
  // TIFF header (little endian), IFD0 at 8 with one entry pointing to the GPS IFD.
  const ifd0Offset = 8;
  const ifd0Bytes = 2 + 12 + 4;
  const gpsOffset = ifd0Offset + ifd0Bytes;
  const gpsEntries = 4;
  const gpsBytes = 2 + 12 * gpsEntries + 4;
  const latitudeOffset = gpsOffset + gpsBytes;
  const longitudeOffset = latitudeOffset + 24;
  const entry = (tag: number, type: number, count: number, value: number[]) => [
    ...u16le(tag),
    ...u16le(type),
    ...u32le(count),
    ...value,
  ];
  const ASCII = 2;
  const LONG = 4;
  const RATIONAL = 5;
  const tiff = bytes(
    'II',
    u16le(42),
    u32le(ifd0Offset),
    u16le(1),
    entry(0x8825, LONG, 1, u32le(gpsOffset)), // GPSInfo
    u32le(0),
    u16le(gpsEntries),
    entry(0x0001, ASCII, 2, [0x4e, 0, 0, 0]), // GPSLatitudeRef "N"
    entry(0x0002, RATIONAL, 3, u32le(latitudeOffset)), // GPSLatitude
    entry(0x0003, ASCII, 2, [0x45, 0, 0, 0]), // GPSLongitudeRef "E"
    entry(0x0004, RATIONAL, 3, u32le(longitudeOffset)), // GPSLongitude
    u32le(0),
    rational(52, 1),
    rational(31, 1),
    rational(123, 10),
    rational(13, 1),
    rational(24, 1),
    rational(365, 10),
  );
  return tiff;
}

/** The Exif APP1 segment a phone camera writes, with its GPS position. */
export function exifGpsApp1(): Uint8Array {
  return segment(0xe1, 'Exif\0\0', exifGpsTiff());
}

/** The same JPEG with `segments` inserted right after SOI (where encoders put APPn). */
export function withSegmentsAfterSoi(jpeg: Uint8Array, ...segments: Uint8Array[]): Uint8Array {
  return bytes(jpeg.subarray(0, 2), ...segments, jpeg.subarray(2));
}

/**
 * A hand-built JPEG whose every segment has a valid layout (the sniffer's `jpeg()` has a
 * Huffman table with no codes, which only a lenient walk takes). It does not decode.
 */
export function wellFormedJpeg(width: number, height: number): Uint8Array {
  const oneCodeHuffmanTable = segment(0xc4, [0x00], [1], new Uint8Array(15), [0]);
  return bytes(
    SOI,
    app0Jfif(),
    dqt(),
    sof(width, height),
    oneCodeHuffmanTable,
    sos(),
    SCAN_DATA,
    EOI,
  );
}

/** The JFIF header Chromium's canvas encoder writes: version 1.01, 1:1, no thumbnail. */
export const canvasJfifApp0 = app0Jfif;

/** JFIF with a 1×1 RGB thumbnail: a second image of the scene. */
export const jfifWithThumbnail = () =>
  segment(0xe0, 'JFIF\0', [1, 1, 0, 0, 1, 0, 1, 1, 1], [9, 9, 9]);

/** The Adobe APP14 header (DCTEncode version 100, YCbCr). */
export const plainAdobeApp14 = () => segment(0xee, 'Adobe', [0, 100, 0, 0, 0, 0, 1]);

/** A profile as APP2 segments of at most `chunkBytes` profile bytes each. */
export function iccSegments(profile: Uint8Array, chunkBytes = 65_519): Uint8Array[] {
  const count = Math.ceil(profile.length / chunkBytes);
  return Array.from({ length: count }, (_, i) =>
    segment(
      0xe2,
      'ICC_PROFILE\0',
      [i + 1, count],
      profile.subarray(i * chunkBytes, (i + 1) * chunkBytes),
    ),
  );
}

/** A real colour profile as an encoder embeds it (libvips' compact sRGB or Display P3, v4). */
export async function realProfile(name: 'srgb' | 'p3' = 'srgb'): Promise<Uint8Array> {
  const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#3a7' } })
    .withIccProfile(name)
    .jpeg()
    .toBuffer();
  const { icc } = await sharp(jpeg).metadata();
  if (!icc) throw new Error('sharp embedded no profile');
  return new Uint8Array(icc);
}

/**
 * `profile` with one more tag, its data appended and every offset and the size kept
 * consistent: what a crafted profile looks like that hides a block in a tag.
 */
export function withExtraTag(
  profile: Uint8Array,
  signature: string,
  type: string,
  data: Uint8Array,
): Uint8Array {
  const view = new DataView(profile.buffer, profile.byteOffset, profile.byteLength);
  const tagCount = view.getUint32(128);
  const tableEnd = 132 + 12 * tagCount;
  const entries = Array.from({ length: tagCount }, (_, i) => {
    const at = 132 + 12 * i;
    return bytes(
      profile.subarray(at, at + 4),
      u32be(view.getUint32(at + 4) + 12),
      profile.subarray(at + 8, at + 12),
    );
  });
  const element = bytes(type, [0, 0, 0, 0], data);
  const padded = bytes(element, new Uint8Array((4 - (element.length % 4)) % 4));
  const offset = profile.length + 12;
  const header = bytes(u32be(offset + padded.length), profile.subarray(4, 128));
  const entry = bytes(signature, u32be(offset), u32be(element.length));
  return bytes(header, u32be(tagCount + 1), ...entries, entry, profile.subarray(tableEnd), padded);
}
