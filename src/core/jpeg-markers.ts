/**
 * JPEG marker codes and the scan-data skip shared by the two marker walks: the sniffer's
 * (lenient, like libjpeg, so it reads what browsers show) and the photo policy's (strict,
 * so a shared photo carries nothing a decoder would skip). The walks stay separate because
 * they disagree on purpose about stray bytes; the vocabulary below must not.
 */

import { at } from './byte-readers';

export const SOI = 0xd8;
export const EOI = 0xd9;
export const SOS = 0xda;
export const TEM = 0x01;
/** Baseline, extended and progressive Huffman frames: what browsers and libjpeg write. */
export const SOF0 = 0xc0;
export const SOF1 = 0xc1;
export const SOF2 = 0xc2;
export const DHT = 0xc4;
export const DQT = 0xdb;
export const DRI = 0xdd;
export const APP0 = 0xe0;
export const APP2 = 0xe2;
export const APP14 = 0xee;
export const COM = 0xfe;
export const isRst = (m: number) => m >= 0xd0 && m <= 0xd7;
export const isApp = (m: number) => m >= 0xe0 && m <= 0xef;

/** Position of the first marker after entropy-coded data, or null when the data ends first. */
export function skipScanData(b: Uint8Array, start: number): number | null {
  for (let i = b.indexOf(0xff, start); i !== -1; i = b.indexOf(0xff, i + 1)) {
    if (i + 1 >= b.length) return null;
    const next = at(b, i + 1);
    // FF00 is an escaped data byte, RSTn sits inside the scan, FFFF is fill before a marker.
    if (next !== 0x00 && next !== 0xff && !isRst(next)) return i;
  }
  return null;
}
