import { at, hasAsciiAt, u16be } from './byte-readers';

/**
 * Exact readers for the payloads (the bytes after the length field) of the JPEG segments a
 * shared photo may carry. Each accepts only the layout the standard fixes for its segment,
 * byte for byte: a payload one byte longer than its fields is refused, because the extra
 * byte is somewhere to carry data that no decoder reads and every metadata tool can.
 */

/**
 * JFIF (APP0): "JFIF\0", version, density units, X and Y density, thumbnail width and
 * height. The thumbnail is another image of the scene, so only 0×0 is plain.
 */
const JFIF_PAYLOAD_BYTES = 14;

export function isPlainJfif(payload: Uint8Array): boolean {
  return (
    payload.length === JFIF_PAYLOAD_BYTES &&
    hasAsciiAt(payload, 0, 'JFIF\0') &&
    at(payload, 5) === 1 &&
    at(payload, 7) <= 2 &&
    at(payload, 12) === 0 &&
    at(payload, 13) === 0
  );
}

/** Adobe (APP14): "Adobe", DCT encoder version, two flag words and the colour transform. */
const ADOBE_PAYLOAD_BYTES = 12;
const MAX_ADOBE_TRANSFORM = 2;

export function isPlainAdobe(payload: Uint8Array): boolean {
  return (
    payload.length === ADOBE_PAYLOAD_BYTES &&
    hasAsciiAt(payload, 0, 'Adobe') &&
    at(payload, 11) <= MAX_ADOBE_TRANSFORM
  );
}

export interface FrameHeader {
  width: number;
  height: number;
  componentIds: ReadonlySet<number>;
}

const isSamplingFactor = (n: number) => n >= 1 && n <= 4;
const MAX_TABLE_ID = 3;

/**
 * SOF0/1/2: 8-bit samples (what every encoder of photos writes), a height in the header
 * (no DNL), and one (grey) or three (colour) components. Null for anything else.
 */
export function readFrameHeader(payload: Uint8Array): FrameHeader | null {
  const componentCount = at(payload, 5);
  if (componentCount !== 1 && componentCount !== 3) return null;
  if (payload.length !== 6 + 3 * componentCount || at(payload, 0) !== 8) return null;
  const height = u16be(payload, 1);
  const width = u16be(payload, 3);
  if (width === 0 || height === 0) return null;
  const componentIds = new Set<number>();
  for (let i = 6; i < payload.length; i += 3) {
    const sampling = at(payload, i + 1);
    if (!isSamplingFactor(sampling >> 4) || !isSamplingFactor(sampling & 0x0f)) return null;
    if (at(payload, i + 2) > MAX_TABLE_ID) return null;
    componentIds.add(at(payload, i));
  }
  if (componentIds.size !== componentCount) return null;
  return { width, height, componentIds };
}

const MAX_SCAN_COMPONENTS = 4;
const LAST_COEFFICIENT = 63;
const MAX_SUCCESSIVE_APPROXIMATION_BIT = 13;

/** SOS header: components of the frame, table ids in range, a spectral band within the block. */
export function isValidScanHeader(payload: Uint8Array, frame: FrameHeader): boolean {
  const count = at(payload, 0);
  if (count < 1 || count > MAX_SCAN_COMPONENTS || payload.length !== 1 + 2 * count + 3) {
    return false;
  }
  for (let i = 1; i < 1 + 2 * count; i += 2) {
    const tables = at(payload, i + 1);
    if (!frame.componentIds.has(at(payload, i))) return false;
    if (tables >> 4 > MAX_TABLE_ID || (tables & 0x0f) > MAX_TABLE_ID) return false;
  }
  const spectralStart = at(payload, payload.length - 3);
  const spectralEnd = at(payload, payload.length - 2);
  const approximation = at(payload, payload.length - 1);
  return (
    spectralStart <= spectralEnd &&
    spectralEnd <= LAST_COEFFICIENT &&
    approximation >> 4 <= MAX_SUCCESSIVE_APPROXIMATION_BIT &&
    (approximation & 0x0f) <= MAX_SUCCESSIVE_APPROXIMATION_BIT
  );
}

const CODE_LENGTHS = 16;
const MAX_DC_SYMBOL = 15;

/**
 * DHT: one or more tables, each a class/id byte, 16 code-length counts and exactly that
 * many symbols, filling the payload to its last byte. The counts must form a Huffman code
 * (the same test libjpeg makes), and a DC table's symbols are bit counts (at most 15).
 */
export function isValidHuffmanTables(payload: Uint8Array): boolean {
  let pos = 0;
  while (pos < payload.length) {
    const tableClass = at(payload, pos) >> 4;
    if (tableClass > 1 || (at(payload, pos) & 0x0f) > MAX_TABLE_ID) return false;
    if (pos + 1 + CODE_LENGTHS > payload.length) return false;
    let symbols = 0;
    let code = 0;
    for (let length = 1; length <= CODE_LENGTHS; length++) {
      const count = at(payload, pos + length);
      symbols += count;
      code += count;
      // All-ones codes are reserved, so a length of n bits holds at most 2^n - 1 codes.
      if (code >= 2 ** length) return false;
      code *= 2;
    }
    const start = pos + 1 + CODE_LENGTHS;
    if (symbols === 0 || start + symbols > payload.length) return false;
    if (
      tableClass === 0 &&
      payload.subarray(start, start + symbols).some((s) => s > MAX_DC_SYMBOL)
    ) {
      return false;
    }
    pos = start + symbols;
  }
  return payload.length > 0;
}

const QUANT_VALUES = 64;

/** DQT: one or more tables, each a precision/id byte and 64 values of 8 or 16 bits, nothing else. */
export function isValidQuantTables(payload: Uint8Array): boolean {
  let pos = 0;
  while (pos < payload.length) {
    const precision = at(payload, pos) >> 4;
    if (precision > 1 || (at(payload, pos) & 0x0f) > MAX_TABLE_ID) return false;
    pos += 1 + QUANT_VALUES * (precision + 1);
  }
  return payload.length > 0 && pos === payload.length;
}

/** DRI: the restart interval, two bytes. */
export const isValidRestartInterval = (payload: Uint8Array) => payload.length === 2;
