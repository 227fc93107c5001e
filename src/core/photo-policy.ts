import { u16be } from './byte-readers';
import type { ErrorCode } from './errors';
import { MAX_PHOTO_BYTES, MAX_PHOTO_LONG_SIDE_PX } from './feedback';
import { isPlainColourProfile, readIccChunk, type IccChunk } from './icc-profile';
import { sniffImage } from './image-sniff';
import {
  APP0,
  APP14,
  APP2,
  COM,
  DHT,
  DQT,
  DRI,
  EOI,
  isApp,
  isRst,
  SOF0,
  SOF1,
  SOF2,
  SOI,
  SOS,
  skipScanData,
  TEM,
} from './jpeg-markers';
import {
  isPlainAdobe,
  isPlainJfif,
  isValidHuffmanTables,
  isValidQuantTables,
  isValidRestartInterval,
  isValidScanHeader,
  readFrameHeader,
  type FrameHeader,
} from './jpeg-segments';

/**
 * What a photo shared with a correction must be: a small JPEG, re-encoded on the device,
 * with every metadata segment gone. The server refuses anything else rather than strip it
 * itself: a photo that still carries EXIF reached the network already, so the client has
 * a bug to fix, and the server never holds the GPS position even for a moment.
 *
 * An allow-list, segment by segment, each with its exact layout (`jpeg-segments.ts`,
 * `icc-profile.ts`): a plain APP0 JFIF header (no thumbnail), an APP2 colour profile, a
 * plain APP14 Adobe header, and the tables, frame and scans of a baseline or progressive
 * Huffman JPEG. Every other APPn (Exif, XMP, IPTC, JFXX and MPF images…) and COM (free
 * text) is metadata; every other marker (lossless, arithmetic or hierarchical frames, the
 * JPGn extensions) is a structure no browser writes, and many decoders cannot read.
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

type PhotoProblem = Extract<
  ErrorCode,
  'PHOTO_HAS_METADATA' | 'UNSUPPORTED_FORMAT' | 'TRUNCATED' | 'DECODE_FAILED'
>;

export function checkPhoto(bytes: Uint8Array, limits: PhotoLimits = PHOTO_LIMITS): PhotoCheck {
  if (bytes.length === 0) return { ok: false, code: 'EMPTY_FILE' };
  if (bytes.length > limits.maxBytes) return { ok: false, code: 'PHOTO_TOO_LARGE' };
  const sniff = sniffImage(bytes);
  if (sniff.format === null) return { ok: false, code: 'NOT_AN_IMAGE' };
  if (sniff.format !== 'jpeg') return { ok: false, code: 'UNSUPPORTED_FORMAT' };

  const walk = walkJpegSegments(bytes);
  if ('problem' in walk) return { ok: false, code: walk.problem };
  const { width, height } = walk;
  if (Math.max(width, height) > limits.maxLongSidePx) return { ok: false, code: 'PHOTO_TOO_LARGE' };
  return { ok: true, width, height };
}

/** What the walk has seen so far, for the rules that depend on order. */
interface WalkState {
  segments: number;
  frame: FrameHeader | null;
  sawScan: boolean;
  sawAdobe: boolean;
  iccChunks: IccChunk[];
}

/**
 * Walks every marker from SOI to EOI, scans included (a progressive JPEG has several, and
 * tables sit between them). Stricter than a decoder: a browser's encoder writes no stray
 * bytes, so anything unexpected is refused. Always moves forward; never throws.
 */
export function walkJpegSegments(b: Uint8Array): FrameHeader | { problem: PhotoProblem } {
  const refuse = (problem: PhotoProblem) => ({ problem });
  if (b[0] !== 0xff || b[1] !== SOI) return refuse('DECODE_FAILED');
  const state: WalkState = {
    segments: 0,
    frame: null,
    sawScan: false,
    sawAdobe: false,
    iccChunks: [],
  };
  let pos = 2;
  for (;;) {
    if (pos >= b.length) return refuse('TRUNCATED');
    if (b[pos] !== 0xff) return refuse('DECODE_FAILED');
    while (pos < b.length && b[pos] === 0xff) pos++;
    if (pos >= b.length) return refuse('TRUNCATED');
    const marker = b[pos++] ?? 0;
    if (marker === EOI) {
      if (!state.frame || !state.sawScan) return refuse('DECODE_FAILED');
      // Bytes after the end of the image are invisible to viewers: a place to hide data.
      return pos === b.length ? state.frame : refuse('PHOTO_HAS_METADATA');
    }
    // Decided by the marker alone, so that a cut-off Exif segment still reads as metadata.
    const refusal = markerProblem(marker);
    if (refusal !== null) return refuse(refusal);
    if (pos + 2 > b.length) return refuse('TRUNCATED');
    const end = pos + u16be(b, pos);
    if (end < pos + 2) return refuse('DECODE_FAILED');
    if (end > b.length) return refuse('TRUNCATED');
    const problem = segmentProblem(marker, b.subarray(pos + 2, end), state);
    if (problem !== null) return refuse(problem);
    state.segments++;
    if (marker === SOS) {
      const next = skipScanData(b, end);
      if (next === null) return refuse('TRUNCATED');
      pos = next;
    } else {
      pos = end;
    }
  }
}

const ALLOWED_APP_MARKERS = new Set([APP0, APP2, APP14]);
const DECODING_MARKERS = new Set([SOF0, SOF1, SOF2, DHT, DQT, DRI, SOS]);

function markerProblem(marker: number): PhotoProblem | null {
  if (marker === COM || (isApp(marker) && !ALLOWED_APP_MARKERS.has(marker))) {
    return 'PHOTO_HAS_METADATA';
  }
  if (ALLOWED_APP_MARKERS.has(marker) || DECODING_MARKERS.has(marker)) return null;
  // A second SOI, a stray RSTn or a reserved code: not the start of any segment.
  if (marker === SOI || marker < 0xc0 || isRst(marker)) {
    return marker === TEM ? 'UNSUPPORTED_FORMAT' : 'DECODE_FAILED';
  }
  return 'UNSUPPORTED_FORMAT';
}

function segmentProblem(
  marker: number,
  payload: Uint8Array,
  state: WalkState,
): PhotoProblem | null {
  switch (marker) {
    case APP0:
      // JFIF's header comes first, right after SOI, or it is not JFIF's.
      return state.segments === 0 && isPlainJfif(payload) ? null : 'PHOTO_HAS_METADATA';
    case APP2:
      return state.frame === null && addIccChunk(state.iccChunks, payload)
        ? null
        : 'PHOTO_HAS_METADATA';
    case APP14:
      if (state.frame !== null || state.sawAdobe || !isPlainAdobe(payload)) {
        return 'PHOTO_HAS_METADATA';
      }
      state.sawAdobe = true;
      return null;
    case SOF0:
    case SOF1:
    case SOF2: {
      // Metadata comes before the frame, so the profile is complete here.
      if (state.iccChunks.length > 0 && !isCompleteProfile(state.iccChunks)) {
        return 'PHOTO_HAS_METADATA';
      }
      if (state.frame !== null) return 'DECODE_FAILED';
      state.frame = readFrameHeader(payload);
      return state.frame === null ? 'DECODE_FAILED' : null;
    }
    case DHT:
      return isValidHuffmanTables(payload) ? null : 'DECODE_FAILED';
    case DQT:
      return isValidQuantTables(payload) ? null : 'DECODE_FAILED';
    case DRI:
      return isValidRestartInterval(payload) ? null : 'DECODE_FAILED';
    case SOS:
      if (state.frame === null || !isValidScanHeader(payload, state.frame)) {
        return 'DECODE_FAILED';
      }
      state.sawScan = true;
      return null;
    default:
      return 'UNSUPPORTED_FORMAT';
  }
}

/** Chunks arrive numbered 1, 2, … of one count; anything else is not one profile. */
function addIccChunk(chunks: IccChunk[], payload: Uint8Array): boolean {
  const chunk = readIccChunk(payload);
  if (chunk === null || chunk.seq !== chunks.length + 1) return false;
  if (chunks.length > 0 && chunk.count !== chunks[0]?.count) return false;
  chunks.push(chunk);
  return true;
}

function isCompleteProfile(chunks: readonly IccChunk[]): boolean {
  if (chunks.length !== chunks[0]?.count) return false;
  const profile = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.data.length, 0));
  let offset = 0;
  for (const { data } of chunks) {
    profile.set(data, offset);
    offset += data.length;
  }
  return isPlainColourProfile(profile);
}
