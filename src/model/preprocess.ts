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

/** [size, size, 3] float32 tensor; the caller owns (and disposes) it. */
export function toModelInput(image: RgbaImage, spec: InputSpec): tf.Tensor3D {
  if (image.data.length !== image.width * image.height * 4) {
    throw new RangeError(
      `RGBA buffer of ${image.data.length} bytes does not match ${image.width}x${image.height}`,
    );
  }
  return tf.tidy(() => {
    const rgba = tf.tensor3d(
      image.data instanceof Uint8Array
        ? image.data
        : new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength),
      [image.height, image.width, 4],
      'int32',
    );
    const crop = centerSquare(image);
    const square = tf.cast(
      tf.slice(rgba, [crop.y, crop.x, 0], [crop.height, crop.width, 4]),
      'float32',
    );
    const rgb = tf.slice(square, [0, 0, 0], [-1, -1, 3]);
    const alpha = tf.div(tf.slice(square, [0, 0, 3], [-1, -1, 1]), 255);
    const composited = tf.add(tf.mul(rgb, alpha), tf.mul(tf.sub(1, alpha), ALPHA_BACKGROUND));
    // Plain bilinear (no half-pixel centres): reproduces the reference figures in the model card.
    const resized = tf.image.resizeBilinear(
      composited as tf.Tensor3D,
      [spec.size, spec.size],
      false,
      false,
    );
    const [low, high] = spec.range;
    return tf.add(tf.mul(resized, (high - low) / 255), low) as tf.Tensor3D;
  });
}
