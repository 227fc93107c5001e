import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import type { ModelEntry } from '../core/model-manifest';
import type { ModelArtifactsBundle } from './artifacts';
import { toModelInput, type RgbaImage } from './preprocess';

/**
 * A loaded model bound to the active TF.js backend. Hides the GraphModel: callers see
 * pixels in and probabilities out, never a tensor, so nothing can leak past this module.
 */
export interface Classifier {
  /** Probabilities per image, in input order. */
  classify(images: RgbaImage[]): Promise<Float32Array[]>;
  /** Runs a batch of zeros so the first real photo does not pay for compilation. */
  warmUp(batchSize?: number): Promise<number>;
  dispose(): void;
}

export async function createClassifier(
  entry: ModelEntry,
  bundle: ModelArtifactsBundle,
): Promise<Classifier> {
  const model: GraphModel = await loadGraphModel(tf.io.fromMemory(bundle.artifacts));
  const { size } = entry.input;
  const classes = entry.output.classes;

  async function run(batch: tf.Tensor4D): Promise<Float32Array[]> {
    const output = model.predict(batch) as tf.Tensor2D;
    try {
      if (output.shape[1] !== classes) {
        throw new Error(`model returned ${output.shape[1]} classes, manifest says ${classes}`);
      }
      const flat = (await output.data()) as Float32Array;
      return Array.from({ length: batch.shape[0] }, (_, i) =>
        flat.slice(i * classes, (i + 1) * classes),
      );
    } finally {
      output.dispose();
    }
  }

  return {
    async classify(images) {
      if (images.length === 0) return [];
      const batch = tf.tidy(() => tf.stack(images.map((img) => toModelInput(img, entry.input))));
      try {
        return await run(batch as tf.Tensor4D);
      } finally {
        batch.dispose();
      }
    },
    async warmUp(batchSize = 1) {
      const start = performance.now();
      const zeros = tf.zeros([batchSize, size, size, 3]) as tf.Tensor4D;
      try {
        await run(zeros);
      } finally {
        zeros.dispose();
      }
      return performance.now() - start;
    },
    dispose() {
      model.dispose();
    },
  };
}
