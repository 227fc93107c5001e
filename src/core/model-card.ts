import { z } from 'zod';
import { inputSpecSchema, labelSpecSchema } from './model-manifest';

/**
 * What a registered model version says about itself: where it came from, what its labels
 * mean, what it expects as input, how it was calibrated and how it did. Stored with the
 * version, immutable like its files, and shown by `npm run model -- show`. A model folder
 * may carry one as `card.json` (the retraining pipeline writes it); the models of
 * MODELS_DIR get theirs from `source.json` and the model catalogue.
 */

export const evaluationSchema = z.object({
  /** The photo set, e.g. "birds-cub (report half)". */
  dataset: z.string().min(1).max(200),
  /** e.g. "top-1", "top-5", "ece-15". */
  metric: z.string().min(1).max(50),
  value: z.number().finite(),
  /** The number of photos the figure rests on. */
  n: z.number().int().nonnegative(),
});

export const modelCardSchema = z.object({
  name: z.string().min(1).max(200),
  description: z.string().max(2000),
  /** Where the weights came from: a file, a repository and commit, a training run. */
  source: z.string().min(1).max(1000),
  license: z.string().max(200).nullable(),
  /**
   * What the label lines mean (their format, the background line, the animal range). The
   * temperature is the calibration's, below: a served entry's label spec takes it from there.
   */
  labels: labelSpecSchema.omit({ temperature: true }),
  input: inputSpecSchema,
  output: z.object({ classes: z.number().int().positive(), isProbability: z.boolean() }),
  /** Temperature scaling; null for a model that was never calibrated. */
  calibration: z
    .object({
      temperature: z.number().positive().max(100),
      /** The photo set it was fitted on. */
      fittedOn: z.string().max(200),
    })
    .nullable(),
  evaluation: z.array(evaluationSchema).max(100),
  /**
   * ISO date-time the version was made (trained or converted), not when it was registered;
   * null when unknown (a card derived from a folder, where no file time can be trusted).
   */
  created: z.string().max(40).nullable(),
  /** The version this one was derived from (retraining), or null. */
  parent: z.string().max(64).nullable(),
  notes: z.string().max(4000),
});

export type ModelCard = z.infer<typeof modelCardSchema>;
export type Evaluation = z.infer<typeof evaluationSchema>;

export function parseModelCard(
  value: unknown,
): { ok: true; card: ModelCard } | { ok: false; reason: string } {
  const parsed = modelCardSchema.safeParse(value);
  return parsed.success
    ? { ok: true, card: parsed.data }
    : { ok: false, reason: z.prettifyError(parsed.error) };
}
