/**
 * JPEG segments for the photo-policy and API tests: an Exif APP1 carrying a GPS position
 * (what a phone camera writes), and helpers to put segments into a real JPEG.
 */
import { bytes, segment, u16le, u32le } from './image-sniff.fixtures';

/** 52°31'12.3"N 13°24'36.5"E, as a camera stores it. */
export function exifGpsApp1(): Uint8Array {
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
  return segment(0xe1, 'Exif\0\0', tiff);
}

/** The same JPEG with `segments` inserted right after SOI (where encoders put APPn). */
export function withSegmentsAfterSoi(jpeg: Uint8Array, ...segments: Uint8Array[]): Uint8Array {
  return bytes(jpeg.subarray(0, 2), ...segments, jpeg.subarray(2));
}
