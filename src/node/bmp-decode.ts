import { fail, ok, type Result } from '../core/errors';
import { i32le, u16le, u32le } from '../core/byte-readers';
import { BMP_DIB_HEADER_BYTES } from '../core/image-sniff';
import { DEFAULT_IMAGE_LIMITS } from '../core/image-validation';

/**
 * A small BMP decoder for the platforms that lack one (sharp/libvips in Node has no BMP
 * loader, while every browser decodes BMP). It covers what image editors and cameras
 * write: uncompressed 1/4/8-bit palettes, 16/24/32-bit BI_RGB and 16/32-bit BITFIELDS,
 * rows stored bottom-up or top-down. Compressed variants (RLE, embedded JPEG/PNG) are
 * refused as UNSUPPORTED_FORMAT. Like the sniffer, it treats the bytes as hostile: every
 * offset is bounded before it is read, the pixel count is capped before any allocation,
 * and it never throws.
 */

export interface DecodedBmp {
  /** width × height × 4 bytes, RGBA, not premultiplied, top row first. */
  data: Uint8Array;
  width: number;
  height: number;
}

export interface BmpDecodeOptions {
  /** Refuses (TOO_MANY_PIXELS) before allocating when width × height is above this. */
  maxPixels?: number;
}

const FILE_HEADER_BYTES = 14;
/** BITMAPCOREHEADER (OS/2 1.x): 16-bit sizes, 3-byte palette entries, nothing else. */
const CORE_HEADER_BYTES = 12;
const OS2_V2_HEADER_BYTES = new Set([16, 64]);
/** Where the colour masks sit: right after BITMAPINFOHEADER, or inside V2 and later headers. */
const MASKS_OFFSET = FILE_HEADER_BYTES + 40;

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;
const COMPRESSION_NAMES: Record<number, string> = {
  1: 'RLE8',
  2: 'RLE4',
  4: 'embedded JPEG',
  5: 'embedded PNG',
  11: 'CMYK',
  12: 'CMYK RLE8',
  13: 'CMYK RLE4',
};

/** Red, green, blue, alpha; a zero mask means the channel is absent. */
type Masks = [number, number, number, number];

/** What BI_RGB means at 16 and 32 bits: 5-5-5 and 8-8-8 with the top bits unused. */
const RGB555: Masks = [0x7c00, 0x03e0, 0x001f, 0];
const RGB888: Masks = [0x00ff0000, 0x0000ff00, 0x000000ff, 0];

interface Layout {
  width: number;
  height: number;
  topDown: boolean;
  bitsPerPixel: number;
  pixelOffset: number;
  /** RGBA entries, for 1-, 4- and 8-bit images. */
  palette: Uint8Array | null;
  /** Channel masks, for 16- and 32-bit images. */
  masks: Masks | null;
}

export function decodeBmp(bytes: Uint8Array, options: BmpDecodeOptions = {}): Result<DecodedBmp> {
  const { maxPixels = DEFAULT_IMAGE_LIMITS.maxPixels } = options;
  const layout = readLayout(bytes, maxPixels);
  if (!layout.ok) return layout;
  const { width, height, bitsPerPixel, pixelOffset } = layout.value;

  // Rows are padded to 4 bytes; the last one may legitimately lack its padding.
  const stride = Math.ceil((width * bitsPerPixel) / 32) * 4;
  const rowBytes = Math.ceil((width * bitsPerPixel) / 8);
  const pixelEnd = pixelOffset + stride * (height - 1) + rowBytes;
  if (pixelEnd > bytes.length) {
    return fail('TRUNCATED', `BMP pixel data ends at byte ${bytes.length} of ${pixelEnd}`);
  }

  let data: Uint8Array;
  try {
    data = new Uint8Array(width * height * 4);
  } catch {
    return fail('TOO_MANY_PIXELS', `no memory for ${width}×${height} pixels`);
  }
  decodeRows(bytes, layout.value, stride, data);
  return ok({ data, width, height });
}

function readLayout(b: Uint8Array, maxPixels: number): Result<Layout> {
  if (b.length < FILE_HEADER_BYTES + 4) return fail('TRUNCATED', 'BMP ends in its file header');
  if (b[0] !== 0x42 || b[1] !== 0x4d) return fail('DECODE_FAILED', 'no BMP signature');
  const headerBytes = u32le(b, FILE_HEADER_BYTES);
  if (!BMP_DIB_HEADER_BYTES.has(headerBytes)) {
    return fail('DECODE_FAILED', `unknown BMP header size ${headerBytes}`);
  }
  const headerEnd = FILE_HEADER_BYTES + headerBytes;
  if (b.length < headerEnd) return fail('TRUNCATED', 'BMP ends in its info header');

  const core = headerBytes === CORE_HEADER_BYTES;
  const width = core ? u16le(b, 18) : i32le(b, 18);
  const signedHeight = core ? u16le(b, 20) : i32le(b, 22);
  const bitsPerPixel = u16le(b, core ? 24 : 28);
  // The 16-byte OS/2 header stops before the compression field: those files are BI_RGB.
  const compression = headerBytes >= 20 ? u32le(b, 30) : BI_RGB;
  const colorsUsed = headerBytes >= 36 ? u32le(b, 46) : 0;
  const pixelOffset = u32le(b, 10);

  // A negative height means rows are stored top-down; a negative width is simply invalid.
  const topDown = signedHeight < 0;
  const height = Math.abs(signedHeight);
  if (width <= 0 || height === 0) {
    return fail('DECODE_FAILED', `BMP size ${width}×${signedHeight}`);
  }
  if (width * height > maxPixels) {
    return fail('TOO_MANY_PIXELS', `${width}×${height} > ${maxPixels} pixels`);
  }

  // OS/2 2.x has RLE too, and uses 3 and 4 for Huffman 1D and RLE24: none of it is common.
  if (OS2_V2_HEADER_BYTES.has(headerBytes) && compression !== BI_RGB) {
    return fail('UNSUPPORTED_FORMAT', `OS/2 BMP compression ${compression}`);
  }
  const named = COMPRESSION_NAMES[compression];
  if (named !== undefined) return fail('UNSUPPORTED_FORMAT', `${named} compressed BMP`);
  const bitfields = compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS;
  if (compression !== BI_RGB && !bitfields) {
    return fail('DECODE_FAILED', `unknown BMP compression ${compression}`);
  }
  const allowedBits = bitfields ? [16, 32] : [1, 4, 8, 16, 24, 32];
  if (!allowedBits.includes(bitsPerPixel)) {
    return fail('DECODE_FAILED', `${bitsPerPixel} bits per pixel with compression ${compression}`);
  }
  // Past the end is left to the pixel data check: the file was cut short (TRUNCATED).
  if (pixelOffset < headerEnd) {
    return fail('DECODE_FAILED', `BMP pixel data offset ${pixelOffset} inside its headers`);
  }

  let palette: Uint8Array | null = null;
  let masks: Masks | null = null;
  if (bitsPerPixel <= 8) {
    const entryBytes = core ? 3 : 4;
    const count = Math.min(colorsUsed === 0 ? 1 << bitsPerPixel : colorsUsed, 1 << bitsPerPixel);
    if (headerEnd + count * entryBytes > b.length) {
      return fail('TRUNCATED', 'BMP ends in its palette');
    }
    palette = readPalette(b, headerEnd, count, entryBytes);
  } else if (bitfields) {
    const read = readMasks(b, headerBytes, compression === BI_ALPHABITFIELDS, bitsPerPixel);
    if (!read.ok) return read;
    masks = read.value;
  } else if (bitsPerPixel === 16) {
    masks = RGB555;
  } else if (bitsPerPixel === 32) {
    // The fourth byte of BI_RGB is "reserved": Windows and browsers show these opaque.
    masks = RGB888;
  }
  return ok({ width, height, topDown, bitsPerPixel, pixelOffset, palette, masks });
}

/** BGR(x) entries as RGBA; the reserved fourth byte is not alpha. */
function readPalette(b: Uint8Array, start: number, count: number, entryBytes: number) {
  const palette = new Uint8Array(count * 4);
  for (let i = 0; i < count; i++) {
    const at = start + i * entryBytes;
    palette[i * 4] = b[at + 2]!;
    palette[i * 4 + 1] = b[at + 1]!;
    palette[i * 4 + 2] = b[at]!;
    palette[i * 4 + 3] = 255;
  }
  return palette;
}

function readMasks(
  b: Uint8Array,
  headerBytes: number,
  alphaAfterHeader: boolean,
  bitsPerPixel: number,
): Result<Masks> {
  // BITMAPINFOHEADER puts the masks after itself; V2 (52) and later headers hold them,
  // with alpha from V3 (56) on. Both land at the same offset.
  const hasAlpha = headerBytes >= 56 || (headerBytes === 40 && alphaAfterHeader);
  const count = hasAlpha ? 4 : 3;
  if (MASKS_OFFSET + count * 4 > b.length) return fail('TRUNCATED', 'BMP ends in its masks');
  const masks: Masks = [0, 0, 0, 0];
  for (let i = 0; i < count; i++) {
    const mask = u32le(b, MASKS_OFFSET + i * 4);
    const shifted = mask >>> trailingZeros(mask);
    // Contiguous runs of bits inside the pixel; anything else is not a colour channel.
    if ((shifted & (shifted + 1)) !== 0 || (bitsPerPixel < 32 && mask >>> bitsPerPixel !== 0)) {
      return fail('DECODE_FAILED', `BMP colour mask 0x${mask.toString(16)}`);
    }
    masks[i] = mask;
  }
  return ok(masks);
}

function decodeRows(b: Uint8Array, layout: Layout, stride: number, out: Uint8Array): void {
  const { width, height, topDown, bitsPerPixel, pixelOffset, palette, masks } = layout;
  const channels = masks?.map(channelReader);
  const alphaMasked = masks !== null && masks[3] !== 0;
  let anyAlpha = false;
  for (let row = 0; row < height; row++) {
    const src = pixelOffset + row * stride;
    let dst = (topDown ? row : height - 1 - row) * width * 4;
    for (let x = 0; x < width; x++, dst += 4) {
      if (palette !== null) {
        const bit = x * bitsPerPixel;
        const shift = 8 - bitsPerPixel - (bit & 7);
        const index = (b[src + (bit >> 3)]! >> shift) & ((1 << bitsPerPixel) - 1);
        // Browsers show an index past the end of the palette as black.
        if (index * 4 < palette.length) out.set(palette.subarray(index * 4, index * 4 + 4), dst);
        else out[dst + 3] = 255;
      } else if (channels === undefined) {
        const at = src + x * 3;
        out[dst] = b[at + 2]!;
        out[dst + 1] = b[at + 1]!;
        out[dst + 2] = b[at]!;
        out[dst + 3] = 255;
      } else {
        const pixel = bitsPerPixel === 16 ? u16le(b, src + x * 2) : u32le(b, src + x * 4);
        out[dst] = channels[0]!(pixel);
        out[dst + 1] = channels[1]!(pixel);
        out[dst + 2] = channels[2]!(pixel);
        out[dst + 3] = alphaMasked ? channels[3]!(pixel) : 255;
        if (out[dst + 3] !== 0) anyAlpha = true;
      }
    }
  }
  // An alpha mask over all-zero bytes is an unused channel, not an invisible image:
  // browsers show such files opaque.
  if (alphaMasked && !anyAlpha) {
    for (let i = 3; i < out.length; i += 4) out[i] = 255;
  }
}

/** Reads one channel and scales it to 0–255 (a 5-bit 31 becomes 255). */
function channelReader(mask: number): (pixel: number) => number {
  if (mask === 0) return () => 0;
  const shift = trailingZeros(mask);
  const max = mask >>> shift;
  return (pixel) => Math.round((((pixel & mask) >>> shift) * 255) / max);
}

function trailingZeros(n: number): number {
  return n === 0 ? 0 : 31 - Math.clz32(n & -n);
}
