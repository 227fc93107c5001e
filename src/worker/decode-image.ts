import { fail, ok, type Result, type WarningCode } from '../core/errors';
import { decodeSize, fitWithin } from '../core/image-geometry';
import {
  checkImageSize,
  exposureWarnings,
  validateImageBytes,
  type ValidImage,
} from '../core/image-validation';
import type { RgbaImage } from '../model/preprocess';
import type { ImageSource } from './api/protocol';

/** Long side of the thumbnail kept for the results grid and the history. */
const THUMBNAIL_MAX_SIDE_PX = 160;
const THUMBNAIL_JPEG_QUALITY = 0.8;

export interface DecodedPhoto {
  image: RgbaImage;
  width: number;
  height: number;
  warnings: WarningCode[];
  /** Encoded while the model runs: JPEG encoding is not on the answer's critical path. */
  thumbnail: Promise<Blob | null>;
}

/**
 * Browser decoding: validate the bytes, decode with EXIF orientation applied, and read
 * RGBA pixels at the shared decode size. A bitmap (a camera frame) has no bytes to check,
 * so its size goes through the same rules as a file's header; every photo's pixels are
 * then checked for a frame too dark to show anything. The bitmap is always closed,
 * success or not.
 */
export async function decodePhoto(
  source: ImageSource,
  inputSize: number,
): Promise<Result<DecodedPhoto>> {
  let warnings: WarningCode[] = [];
  let bitmap: ImageBitmap;
  if (source.kind === 'blob') {
    const checked = validateImageBytes(new Uint8Array(await source.blob.arrayBuffer()));
    if (!checked.ok) return checked;
    warnings = checked.value.warnings;
    try {
      bitmap = await createImageBitmap(decodableBlob(source.blob, checked.value), {
        imageOrientation: 'from-image',
      });
    } catch (error) {
      return fail('DECODE_FAILED', String(error));
    }
  } else {
    bitmap = source.bitmap;
  }

  try {
    const { width, height } = bitmap;
    if (source.kind === 'bitmap') {
      const sized = checkImageSize(bitmap, {}, 'frame');
      if (!sized.ok) return sized;
      warnings = sized.value;
    }
    if (width === 0 || height === 0) return fail('DECODE_FAILED', 'zero-sized image');
    const target = decodeSize({ width, height }, inputSize);
    const canvas = new OffscreenCanvas(target.width, target.height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (context === null) return fail('DECODE_FAILED', 'no 2D canvas in this worker');
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, 0, 0, target.width, target.height);
    const pixels = context.getImageData(0, 0, target.width, target.height).data;
    const image = { data: pixels, width: target.width, height: target.height };
    return ok({
      image,
      width,
      height,
      warnings: [...warnings, ...exposureWarnings(image)],
      thumbnail: makeThumbnail(canvas),
    });
  } finally {
    bitmap.close();
  }
}

/**
 * Chromium's createImageBitmap refuses a JPEG cut off inside its scan data, although an
 * <img> shows the part that arrived. Closing the stream with an end-of-image marker lets
 * the decoder finish, grey below the cut, as image viewers do (the result carries a warning).
 */
function decodableBlob(blob: Blob, image: ValidImage): Blob {
  if (image.format !== 'jpeg' || !image.warnings.includes('PARTIAL_IMAGE')) return blob;
  return new Blob([blob, new Uint8Array([0xff, 0xd9])], { type: 'image/jpeg' });
}

/** Draws the thumbnail now (the source canvas may be reused) and encodes it in the background. */
function makeThumbnail(source: OffscreenCanvas): Promise<Blob | null> {
  const size = fitWithin(source, THUMBNAIL_MAX_SIDE_PX);
  const canvas = new OffscreenCanvas(size.width, size.height);
  const context = canvas.getContext('2d');
  if (context === null) return Promise.resolve(null);
  context.imageSmoothingQuality = 'high';
  context.drawImage(source, 0, 0, size.width, size.height);
  return canvas
    .convertToBlob({ type: 'image/jpeg', quality: THUMBNAIL_JPEG_QUALITY })
    .catch(() => null);
}
