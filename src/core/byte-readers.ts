/**
 * Fixed-width readers for the header parsers (sniffer, BMP decoder). Out-of-range reads
 * give 0 rather than throwing or returning NaN, so a cut-off file yields a bad value the
 * caller rejects; callers bound lengths before trusting them.
 */

export function at(b: Uint8Array, i: number): number {
  return b[i] ?? 0;
}

export function u16be(b: Uint8Array, i: number): number {
  return (at(b, i) << 8) | at(b, i + 1);
}

export function u16le(b: Uint8Array, i: number): number {
  return at(b, i) | (at(b, i + 1) << 8);
}

export function u24le(b: Uint8Array, i: number): number {
  return u16le(b, i) | (at(b, i + 2) << 16);
}

/** Multiplies the top byte instead of shifting it, so the result stays unsigned. */
export function u32be(b: Uint8Array, i: number): number {
  return at(b, i) * 0x1000000 + ((at(b, i + 1) << 16) | (at(b, i + 2) << 8) | at(b, i + 3));
}

export function u32le(b: Uint8Array, i: number): number {
  return at(b, i + 3) * 0x1000000 + ((at(b, i + 2) << 16) | (at(b, i + 1) << 8) | at(b, i));
}

export function i32le(b: Uint8Array, i: number): number {
  return u32le(b, i) | 0;
}

/** Whether `text` (ASCII) sits at `i`; false when the bytes run out first. */
export function hasAsciiAt(b: Uint8Array, i: number, text: string): boolean {
  if (i < 0 || i + text.length > b.length) return false;
  for (let k = 0; k < text.length; k++) if (b[i + k] !== text.charCodeAt(k)) return false;
  return true;
}

/** Four bytes read as an ASCII signature ("acsp", "XYZ "), the way ICC profiles name things. */
export function fourCc(b: Uint8Array, i: number): string {
  return String.fromCharCode(at(b, i), at(b, i + 1), at(b, i + 2), at(b, i + 3));
}
