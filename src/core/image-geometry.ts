/**
 * Size and crop decisions shared by every decoder (browser canvas, Node sharp), so the
 * same photo reaches the model in the same shape whichever platform decoded it.
 */

/**
 * Photos are decoded at most at this multiple of the model's input on their short side.
 * Twice the input keeps the final bilinear resize close to the reference pipeline (which
 * resizes straight from the photo) while a 50-megapixel phone photo never becomes a
 * 200 MB pixel buffer; the platform decoder downsamples with a proper filter first.
 */
export const DECODE_SHORT_SIDE_FACTOR = 2;

export interface Size {
  width: number;
  height: number;
}

export interface Rect extends Size {
  x: number;
  y: number;
}

/** The size to decode a `width`×`height` photo at (never upscaled). */
export function decodeSize(size: Size, inputSize: number): Size {
  const shortSide = Math.min(size.width, size.height);
  const maxShortSide = inputSize * DECODE_SHORT_SIDE_FACTOR;
  if (shortSide <= maxShortSide) return { width: size.width, height: size.height };
  const scale = maxShortSide / shortSide;
  return {
    width: Math.max(1, Math.round(size.width * scale)),
    height: Math.max(1, Math.round(size.height * scale)),
  };
}

/** The largest centred square: what the model sees of a non-square photo. */
export function centerSquare(size: Size): Rect {
  const side = Math.min(size.width, size.height);
  return {
    x: Math.floor((size.width - side) / 2),
    y: Math.floor((size.height - side) / 2),
    width: side,
    height: side,
  };
}

/** Fit inside a box keeping the aspect ratio (thumbnails). */
export function fitWithin(size: Size, maxSide: number): Size {
  const longSide = Math.max(size.width, size.height);
  if (longSide <= maxSide) return { width: size.width, height: size.height };
  const scale = maxSide / longSide;
  return {
    width: Math.max(1, Math.round(size.width * scale)),
    height: Math.max(1, Math.round(size.height * scale)),
  };
}
