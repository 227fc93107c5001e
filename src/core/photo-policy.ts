import type { ErrorCode } from './errors';
import { MAX_PHOTO_BYTES, MAX_PHOTO_LONG_SIDE_PX } from './feedback';
import { sniffImage } from './image-sniff';
import { EOI, isApp, isRst, SOI, SOS, skipScanData, TEM } from './jpeg-markers';

/**
 * What a photo shared with a correction must be: a small JPEG, re-encoded on the device,
 * with every metadata segment gone. The server refuses anything else rather than strip it
 * itself: a photo that still carries EXIF reached the network already, so the client has
 * a bug to fix, and the server never holds the GPS position even for a moment.
 *
 * Allowed segments besides the image data: APP0 "JFIF" (what every encoder writes),
 * APP2 "ICC_PROFILE" (colour) and APP14 "Adobe" (colour transform). Refused: APP1 (Exif,
 * XMP), APP13 (IPTC), COM, every other APPn (including APP0 "JFXX" thumbnails and APP2
 * "MPF" multi-picture data, which carry other images) and any byte after EOI.
 */

export interface PhotoLimits {
  maxBytes: number;
  maxLongSidePx: number;
}

export const PHOTO_LIMITS: PhotoLimits = {
  maxBytes: MAX_PHOTO_BYTES,
  maxLongSidePx: MAX_PHOTO_LONG_SIDE_PX,
};

export type PhotoCheck =
  { ok: true; width: number; height: number } | { ok: false; code: ErrorCode };

const ALLOWED_APP_SEGMENTS: ReadonlyMap<number, string> = new Map([
  [0xe0, 'JFIF\0'],
  [0xe2, 'ICC_PROFILE\0'],
  [0xee, 'Adobe'],
]);

export function checkPhoto(bytes: Uint8Array, limits: PhotoLimits = PHOTO_LIMITS): PhotoCheck {
  if (bytes.length === 0) return { ok: false, code: 'EMPTY_FILE' };
  if (bytes.length > limits.maxBytes) return { ok: false, code: 'PHOTO_TOO_LARGE' };
  const sniff = sniffImage(bytes);
  if (sniff.format === null) return { ok: false, code: 'NOT_AN_IMAGE' };
  if (sniff.format !== 'jpeg') return { ok: false, code: 'UNSUPPORTED_FORMAT' };

  const walk = walkJpegSegments(bytes);
  if (walk !== 'ok') return { ok: false, code: walk };

  const { width, height } = sniff;
  if (!sniff.jpeg?.hasSof || !width || !height) return { ok: false, code: 'DECODE_FAILED' };
  if (Math.max(width, height) > limits.maxLongSidePx) return { ok: false, code: 'PHOTO_TOO_LARGE' };
  return { ok: true, width, height };
}

const COM = 0xfe;

/**
 * Walks every marker from SOI to EOI, scans included (a progressive JPEG has several, and
 * a segment may sit between them). Stricter than a decoder: a browser's encoder writes no
 * stray bytes, so anything unexpected is refused. Always moves forward; never throws.
 */
export function walkJpegSegments(
  b: Uint8Array,
): 'ok' | 'PHOTO_HAS_METADATA' | 'TRUNCATED' | 'DECODE_FAILED' {
  if (b[0] !== 0xff || b[1] !== SOI) return 'DECODE_FAILED';
  let pos = 2;
  let sawSos = false;
  for (;;) {
    if (pos >= b.length) return 'TRUNCATED';
    if (b[pos] !== 0xff) return 'DECODE_FAILED';
    while (pos < b.length && b[pos] === 0xff) pos++;
    if (pos >= b.length) return 'TRUNCATED';
    const marker = b[pos++] ?? 0;
    if (marker === EOI) {
      if (!sawSos) return 'DECODE_FAILED';
      // Bytes after the end of the image are invisible to viewers: a place to hide data.
      return pos === b.length ? 'ok' : 'PHOTO_HAS_METADATA';
    }
    if (marker === TEM || isRst(marker)) continue;
    if (marker === 0x00 || marker === SOI || marker < 0xc0) return 'DECODE_FAILED';
    if (pos + 2 > b.length) return 'TRUNCATED';
    const length = ((b[pos] ?? 0) << 8) | (b[pos + 1] ?? 0);
    if (length < 2) return 'DECODE_FAILED';
    const end = pos + length;
    if (marker === COM) return 'PHOTO_HAS_METADATA';
    if (isApp(marker)) {
      const identifier = ALLOWED_APP_SEGMENTS.get(marker);
      if (identifier === undefined || !startsWithAscii(b, pos + 2, end, identifier)) {
        return 'PHOTO_HAS_METADATA';
      }
    }
    if (end > b.length) return 'TRUNCATED';
    if (marker === SOS) {
      sawSos = true;
      const next = skipScanData(b, end);
      if (next === null) return 'TRUNCATED';
      pos = next;
    } else {
      pos = end;
    }
  }
}

function startsWithAscii(b: Uint8Array, start: number, end: number, text: string): boolean {
  if (start + text.length > Math.min(end, b.length)) return false;
  for (let i = 0; i < text.length; i++) if (b[start + i] !== text.charCodeAt(i)) return false;
  return true;
}
