import sharp from 'sharp';
import type { ErrorCode } from '../core/errors';
import { MAX_PHOTO_LONG_SIDE_PX } from '../core/feedback';
import { checkPhoto } from '../core/photo-policy';

/**
 * The server's check of a shared photo: the shared policy (size, and a marker walk that
 * proves there is no metadata), then a real decode. The walk reads the structure but not
 * the entropy-coded data; only a decoder shows that the image is one, so that what is
 * stored can be used for training.
 */
export async function photoProblem(bytes: Uint8Array): Promise<ErrorCode | null> {
  const check = checkPhoto(bytes);
  if (!check.ok) return check.code;
  return (await decodesAs(bytes, check)) ? null : 'DECODE_FAILED';
}

/** The policy has bounded both sides, so this bounds the decoder's memory as well. */
const MAX_PIXELS = MAX_PHOTO_LONG_SIDE_PX * MAX_PHOTO_LONG_SIDE_PX;

async function decodesAs(
  bytes: Uint8Array,
  frame: { width: number; height: number },
): Promise<boolean> {
  try {
    // 'warning' also fails on what libjpeg repairs silently (corrupt or missing data).
    const image = sharp(bytes, { failOn: 'warning', limitInputPixels: MAX_PIXELS });
    const { format, width, height } = await image.metadata();
    if (format !== 'jpeg' || width !== frame.width || height !== frame.height) return false;
    await image.raw().toBuffer();
    return true;
  } catch {
    return false;
  }
}
