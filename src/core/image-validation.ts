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
  // Defaults in the destructuring, not a spread, so an explicit `undefined` keeps a limit.
  const {
    maxBytes = DEFAULT_IMAGE_LIMITS.maxBytes,
    maxPixels = DEFAULT_IMAGE_LIMITS.maxPixels,
    tinyBelowPx = DEFAULT_IMAGE_LIMITS.tinyBelowPx,
    unusualAspectAbove = DEFAULT_IMAGE_LIMITS.unusualAspectAbove,
  } = limits;
  if (bytes.length === 0) return fail('EMPTY_FILE');
  if (bytes.length > maxBytes) return fail('TOO_LARGE', `${bytes.length} bytes > ${maxBytes}`);

  const sniff = sniffImage(bytes);
  const { format, width, height } = sniff;
  if (format === null) return fail('NOT_AN_IMAGE');
  if (!isDecodableFormat(format)) return fail('UNSUPPORTED_FORMAT', UNSUPPORTED_DETAILS[format]);
  const jpegFailure = checkJpegMarkers(sniff);
  if (jpegFailure !== null) return jpegFailure;
  if (width === null || height === null) return fail('TRUNCATED', 'ends before the image size');
  if (width === 0 || height === 0) return fail('DECODE_FAILED', `${format} header size is 0`);
  if (width * height > maxPixels) {
    return fail('TOO_MANY_PIXELS', `${width}×${height} > ${maxPixels} pixels`);
  }

  const warnings: WarningCode[] = [];
  if (sniff.jpeg !== null && !sniff.jpeg.hasEoi) warnings.push('PARTIAL_IMAGE');
  if (sniff.animated) warnings.push('ANIMATED_FIRST_FRAME');
  if (Math.min(width, height) < tinyBelowPx) warnings.push('TINY_IMAGE');
  if (Math.max(width, height) / Math.min(width, height) > unusualAspectAbove) {
    warnings.push('UNUSUAL_ASPECT');
  }
  return ok({ format, width, height, warnings });
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
