import sharp from 'sharp';
import { decodeBmp } from '../bmp-decode';
import { fail, ok, type Result } from '../../core/errors';
import { decodeSize } from '../../core/image-geometry';
import {
  exposureWarnings,
  DEFAULT_IMAGE_LIMITS,
  validateImageBytes,
  type DecodableFormat,
} from '../../core/image-validation';
import type { PreparedPhoto } from '../../model/engine';

/**
 * Node decoding with sharp, mirroring the browser's: validate the bytes first (same
 * rules, same codes), apply EXIF orientation, downsample big photos to the shared decode
 * size with a proper filter, and hand RGBA pixels to the shared preprocessing.
 */
export async function decodePhotoBytes(
  bytes: Uint8Array,
  inputSize: number,
): Promise<Result<PreparedPhoto>> {
  const started = performance.now();
  const checked = validateImageBytes(bytes);
  if (!checked.ok) return checked;
  try {
    const opened = openImage(bytes, checked.value.format);
    if (!opened.ok) return opened;
    const image = opened.value;
    const meta = await image.metadata();
    const oriented = meta.autoOrient ?? { width: meta.width ?? 0, height: meta.height ?? 0 };
    if (oriented.width === 0 || oriented.height === 0)
      return fail('DECODE_FAILED', 'no dimensions');
    const target = decodeSize(oriented, inputSize);
    let pipeline = image.rotate();
    if (target.width !== oriented.width || target.height !== oriented.height) {
      pipeline = pipeline.resize(target.width, target.height, { fit: 'fill', kernel: 'lanczos3' });
    }
    const { data, info } = await pipeline
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4)
      return fail('DECODE_FAILED', `${info.channels} channels after decoding`);
    const pixels = {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
    };
    return ok({
      image: pixels,
      width: oriented.width,
      height: oriented.height,
      // The browser's decoder warns of a black photo too: one vocabulary for both.
      warnings: [...checked.value.warnings, ...exposureWarnings(pixels)],
      decodeMs: performance.now() - started,
    });
  } catch (error) {
    return fail(
      'DECODE_FAILED',
      error instanceof Error ? error.message.split('\n')[0] : String(error),
    );
  }
}

/**
 * libvips has no BMP loader, while every browser decodes BMP: the shared core decoder
 * fills the gap, and its RGBA goes through the same sharp pipeline as raw pixels.
 */
function openImage(bytes: Uint8Array, format: DecodableFormat): Result<ReturnType<typeof sharp>> {
  if (format === 'bmp') {
    const bmp = decodeBmp(bytes, { maxPixels: DEFAULT_IMAGE_LIMITS.maxPixels });
    if (!bmp.ok) return bmp;
    const { data, width, height } = bmp.value;
    return ok(sharp(data, { raw: { width, height, channels: 4 } }));
  }
  // failOn 'none': a cut-off JPEG decodes partially, as browsers do (it carries a warning).
  return ok(
    sharp(bytes, {
      failOn: 'none',
      animated: false,
      limitInputPixels: DEFAULT_IMAGE_LIMITS.maxPixels,
    }),
  );
}
