import { fail, ok, type Result } from '../../core/errors';
import { MAX_PHOTO_LONG_SIDE_PX } from '../../core/feedback';
import { fitWithin } from '../../core/image-geometry';
import { checkPhoto } from '../../core/photo-policy';

/** Tried in turn until the JPEG fits the server's byte limit. */
const JPEG_QUALITIES = [0.85, 0.7, 0.55, 0.4];

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/**
 * The photo as it may leave the device, only when the user opted in: re-encoded here to a
 * JPEG of at most 512 px. A canvas writes no EXIF, GPS or camera data, and the result is
 * checked against the same policy the server applies before it is accepted. A failure is
 * a value, so the user can be told that the correction goes without the photo.
 */
export async function shareablePhoto(original: Blob): Promise<Result<string>> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(original, { imageOrientation: 'from-image' });
  } catch (error) {
    return fail('DECODE_FAILED', String(error));
  }
  try {
    const size = fitWithin(bitmap, MAX_PHOTO_LONG_SIDE_PX);
    const canvas = new OffscreenCanvas(size.width, size.height);
    const context = canvas.getContext('2d');
    if (context === null) return fail('PHOTO_NOT_SHARED', 'no 2D canvas');
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, 0, 0, size.width, size.height);
    let problem: Result<never> = fail('PHOTO_TOO_LARGE');
    for (const quality of JPEG_QUALITIES) {
      const jpeg = new Uint8Array(
        await (await canvas.convertToBlob({ type: 'image/jpeg', quality })).arrayBuffer(),
      );
      const checked = checkPhoto(jpeg);
      if (checked.ok) return ok(toBase64(jpeg));
      problem = fail(checked.code);
    }
    return problem;
  } catch (error) {
    return fail('PHOTO_NOT_SHARED', String(error));
  } finally {
    bitmap.close();
  }
}
