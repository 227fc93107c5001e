import * as tf from '@tensorflow/tfjs-core';
import { centerSquare } from '../core/image-geometry';
import type { InputSpec } from '../core/model-manifest';

/**
 * The one preprocessing implementation, used by the browser worker and the Node CLI:
 * RGBA pixels (already oriented and, for big photos, downsampled by the platform decoder)
 * become the model's input tensor.
 */
export interface RgbaImage {
  /** width × height × 4 bytes, not premultiplied. */
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

/**
 * Transparent pixels are composited over white, as the photo would appear on a page;
 * browsers and sharp disagree on the colour stored under alpha 0, so it must not count.
 */
const ALPHA_BACKGROUND = 255;

/**
 * [size, size, 3] float32 tensor; the caller owns (and disposes) it.
 *
 * The centre crop, the alpha compositing and the normalisation happen in one pass over
 * the cropped pixels in plain JS, straight into a float buffer: as separate tensor ops on
 * the whole decoded photo they cost three times the model's own inference on wasm.
 * Normalising before the bilinear resize gives the same values (the resize is a convex
 * combination of pixels), on fewer operations.
 */
export function toModelInput(image: RgbaImage, spec: InputSpec): tf.Tensor3D {
  const { data, width, height } = image;
  if (data.length !== width * height * 4) {
    throw new RangeError(`RGBA buffer of ${data.length} bytes does not match ${width}x${height}`);
  }
  const crop = centerSquare(image);
  const [low, high] = spec.range;
  const scale = (high - low) / 255;
  const pixels = new Float32Array(crop.width * crop.height * 3);
  let out = 0;
  for (let y = crop.y; y < crop.y + crop.height; y++) {
    let i = (y * width + crop.x) * 4;
    for (let x = 0; x < crop.width; x++, i += 4) {
      const alpha = data[i + 3]! / 255;
      const under = ALPHA_BACKGROUND * (1 - alpha);
      pixels[out++] = (data[i]! * alpha + under) * scale + low;
      pixels[out++] = (data[i + 1]! * alpha + under) * scale + low;
      pixels[out++] = (data[i + 2]! * alpha + under) * scale + low;
    }
  }
  return tf.tidy(() =>
    // Plain bilinear (no half-pixel centres): reproduces the reference figures in the model card.
    tf.image.resizeBilinear(
      tf.tensor3d(pixels, [crop.height, crop.width, 3]),
      [spec.size, spec.size],
      false,
      false,
    ),
  );
}
