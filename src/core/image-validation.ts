import { fail, ok, type Result, type WarningCode } from './errors';
import { sniffImage, type ImageFormat, type ImageSniff } from './image-sniff';

/**
 * The gate every image passes before it is decoded: refuse what cannot or should not be
 * decoded (judged from the bytes and headers only, so a decompression bomb is refused
 * before it costs any memory) and flag what decodes but may mislead the model.
 */

/** What current Chromium, Firefox and Safari all decode (createImageBitmap included). */
export const DECODABLE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'bmp', 'avif'] as const;
export type DecodableFormat = (typeof DECODABLE_FORMATS)[number];

export interface ImageLimits {
  maxBytes: number;
  /** Width × height as declared in the header. */
  maxPixels: number;
  /** TINY_IMAGE when either side is below this. */
  tinyBelowPx: number;
  /** UNUSUAL_ASPECT when the long side over the short side exceeds this ratio. */
  unusualAspectAbove: number;
}

export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = {
  // Above any phone photo or camera-trap JPEG, below what makes a tab run out of memory.
  maxBytes: 60 * 1024 * 1024,
  maxPixels: 100_000_000,
  // The models look at 224 px or more; below this an upscaled blur is all they would see.
  tinyBelowPx: 32,
  // Only the centre square reaches the model, so beyond this most of the photo is unseen.
  unusualAspectAbove: 4,
};

export interface ValidImage {
  format: DecodableFormat;
  /** Stored size; EXIF orientation is applied later, at decode. */
  width: number;
  height: number;
  warnings: WarningCode[];
}

const UNSUPPORTED_DETAILS: Partial<Record<ImageFormat, string>> = {
  heic: 'HEIC photos: on iPhone set Camera > Formats > Most Compatible, or share/export as JPEG',
  tiff: 'TIFF images: export or convert them to JPEG or PNG',
};

export function isDecodableFormat(format: ImageFormat): format is DecodableFormat {
  return (DECODABLE_FORMATS as readonly ImageFormat[]).includes(format);
}

export function validateImageBytes(
  bytes: Uint8Array,
  limits: Partial<ImageLimits> = {},
): Result<ValidImage> {
  const { maxBytes } = withDefaults(limits);
  if (bytes.length === 0) return fail('EMPTY_FILE');
  if (bytes.length > maxBytes) return fail('TOO_LARGE', `${bytes.length} bytes > ${maxBytes}`);

  const sniff = sniffImage(bytes);
  const { format, width, height } = sniff;
  if (format === null) return fail('NOT_AN_IMAGE');
  if (!isDecodableFormat(format)) return fail('UNSUPPORTED_FORMAT', UNSUPPORTED_DETAILS[format]);
  const jpegFailure = checkJpegMarkers(sniff);
  if (jpegFailure !== null) return jpegFailure;
  if (width === null || height === null) return fail('TRUNCATED', 'ends before the image size');
  const sized = checkImageSize({ width, height }, limits, `${format} header`);
  if (!sized.ok) return sized;

  const warnings: WarningCode[] = [];
  if (sniff.jpeg !== null && !sniff.jpeg.hasEoi) warnings.push('PARTIAL_IMAGE');
  if (sniff.animated) warnings.push('ANIMATED_FIRST_FRAME');
  warnings.push(...sized.value);
  return ok({ format, width, height, warnings });
}

/**
 * The size rules on their own, for pixels that come without a file to sniff (a camera
 * frame, a bitmap): the same refusals and warnings that a file's header size gets above.
 */
export function checkImageSize(
  size: { width: number; height: number },
  limits: Partial<ImageLimits> = {},
  what = 'image',
): Result<WarningCode[]> {
  const { maxPixels, tinyBelowPx, unusualAspectAbove } = withDefaults(limits);
  const { width, height } = size;
  if (width === 0 || height === 0) return fail('DECODE_FAILED', `${what} size is 0`);
  if (width * height > maxPixels) {
    return fail('TOO_MANY_PIXELS', `${width}×${height} > ${maxPixels} pixels`);
  }
  const warnings: WarningCode[] = [];
  if (Math.min(width, height) < tinyBelowPx) warnings.push('TINY_IMAGE');
  if (Math.max(width, height) / Math.min(width, height) > unusualAspectAbove) {
    warnings.push('UNUSUAL_ASPECT');
  }
  return ok(warnings);
}

/** Defaults in the destructuring, not a spread, so an explicit `undefined` keeps a limit. */
function withDefaults(limits: Partial<ImageLimits>): ImageLimits {
  const {
    maxBytes = DEFAULT_IMAGE_LIMITS.maxBytes,
    maxPixels = DEFAULT_IMAGE_LIMITS.maxPixels,
    tinyBelowPx = DEFAULT_IMAGE_LIMITS.tinyBelowPx,
    unusualAspectAbove = DEFAULT_IMAGE_LIMITS.unusualAspectAbove,
  } = limits;
  return { maxBytes, maxPixels, tinyBelowPx, unusualAspectAbove };
}

/**
 * What only the decoded pixels tell: a frame with almost nothing lit (a covered lens, a
 * camera trap firing in the dark) that the model would still name something.
 */
export interface ExposureLimits {
  /** A pixel counts as lit from this luma (0–255) up. */
  litFromLuma: number;
  /** TOO_DARK when fewer than this share of the pixels are lit. */
  tooDarkBelowLitShare: number;
}

/**
 * Measured on every photo of ../shared/data (461 decodable files, at decode size): the two
 * darkest, a fox at night and a UV scorpion on black, still have 5% and 6% of their pixels
 * lit (the next one 25%); a covered lens is sensor noise a few levels above black. A share,
 * rather than the single brightest pixel, keeps a few hot pixels from passing a black frame.
 */
export const DEFAULT_EXPOSURE_LIMITS: Readonly<ExposureLimits> = {
  litFromLuma: 40,
  tooDarkBelowLitShare: 0.01,
};

/** RGBA bytes, not premultiplied, as a canvas or sharp gives them. */
export interface RgbaPixels {
  data: ArrayLike<number>;
  width: number;
  height: number;
}

export function exposureWarnings(
  image: RgbaPixels,
  limits: ExposureLimits = DEFAULT_EXPOSURE_LIMITS,
): WarningCode[] {
  const { data, width, height } = image;
  const count = Math.min(width * height, Math.floor(data.length / 4));
  if (count === 0) return [];
  let lit = 0;
  for (let i = 0; i < count * 4; i += 4) {
    // Transparent pixels are composited over white, as the model's preprocessing does.
    const alpha = data[i + 3]! / 255;
    const under = 255 * (1 - alpha);
    const r = data[i]! * alpha + under;
    const g = data[i + 1]! * alpha + under;
    const b = data[i + 2]! * alpha + under;
    // BT.601 luma: what "dark" means to an eye, not to one channel.
    if (0.299 * r + 0.587 * g + 0.114 * b >= limits.litFromLuma) lit++;
  }
  return lit < count * limits.tooDarkBelowLitShare ? ['TOO_DARK'] : [];
}

/** Decoders render a JPEG once they have a frame and scan header, even when cut short. */
function checkJpegMarkers({ jpeg }: ImageSniff): Result<never> | null {
  if (jpeg === null || (jpeg.hasSof && jpeg.hasSos)) return null;
  if (jpeg.broken === 'cut') return fail('TRUNCATED', 'JPEG ends before its scan data');
  return fail(
    'DECODE_FAILED',
    jpeg.broken === 'corrupt' ? 'JPEG markers corrupt' : 'no JPEG frame',
  );
}
