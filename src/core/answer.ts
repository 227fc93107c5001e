import { fail, ok, type Result } from './errors';
import { labelSpecProblem, type Label } from './labels';
import type { LabelSpec } from './model-manifest';

/**
 * Turns a model's probability vector into the answer the user sees: which animals it
 * might be, or that the model is not sure, or that there is no animal it knows.
 */

export interface Prediction {
  index: number;
  /** The label line exactly as in labels.txt: what the CLI prints and the UI tags. */
  label: string;
  name: string;
  scientificName: string | null;
  probability: number;
}

export type Answer =
  | { kind: 'animal'; top: Prediction[] }
  | { kind: 'not-sure'; top: Prediction[] }
  /** `nonAnimalProbability`: the summed probability of background and non-animal classes. */
  | { kind: 'no-animal'; top: Prediction[]; nonAnimalProbability: number };

export type AnswerKind = Answer['kind'];

export interface AnswerOptions {
  /** How many animal candidates to return. */
  topK?: number;
}

export const DEFAULT_TOP_K = 5;

/**
 * Applied to calibrated probabilities (each model's catalogued temperature, see
 * ./model-catalog). Measured with `npm run calibrate` on the three real models' shared
 * photo sets (imagenet-animals, the CUB and Leeds species the specialists know: 538
 * photos with a known right answer), calibrated outputs: from 0.2 to 0.35 each step of
 * 0.05 withholds about as many right answers as it removes wrong ones (3/2, 3/2, 2/2);
 * from 0.35 to 0.4 it withholds 5 right for 3 wrong, and worse above. On the report half
 * alone (254 photos the temperatures were not fitted on) the step from 0.3 to 0.35
 * already withholds 2 right for 1 wrong, so the threshold stays at 0.3, where 522 of the
 * 538 photos get an answer and 0.904 of those answers are right (0.895 of all answers
 * right with no threshold). On the camera-trap photos it turns the ImageNet model's wrong
 * guesses for the elephants and the dog into "not sure". Re-measure when a model, its
 * temperature or the preprocessing changes.
 */
export const NOT_SURE_BELOW = 0.3;

export interface ScoredIndex {
  index: number;
  probability: number;
}

/**
 * The k highest probabilities (those with `allowedIndex(i)` true, when given), highest
 * first, ties to the lower index so that the same output always gives the same list.
 * Non-finite and negative values count as 0. O(n·k): k is small and n about 1,000, so
 * this beats sorting the whole vector.
 */
export function topK(
  probabilities: ArrayLike<number>,
  k: number,
  allowedIndex?: (index: number) => boolean,
): ScoredIndex[] {
  const limit = Math.max(0, Math.floor(k));
  const best: ScoredIndex[] = [];
  if (limit === 0) return best;
  for (let index = 0; index < probabilities.length; index++) {
    if (allowedIndex && !allowedIndex(index)) continue;
    const probability = sanitize(probabilities[index]);
    if (best.length === limit && probability <= (best[limit - 1]?.probability ?? 0)) continue;
    // Indices arrive in ascending order, so an equal probability goes after the ones
    // already held: that is the lower-index-first tie-break.
    let at = best.length;
    while (at > 0 && (best[at - 1]?.probability ?? 0) < probability) at--;
    best.splice(at, 0, { index, probability });
    if (best.length > limit) best.pop();
  }
  return best;
}

/**
 * The decision rule, in order:
 * 1. the best animal has at least `NOT_SURE_BELOW` probability: "animal";
 * 2. otherwise, background and non-animal classes together outweigh all animal classes:
 *    "no-animal" (for the iNaturalist models: nothing they know, e.g. not a bird);
 * 3. otherwise "not-sure": the mass is on animals, but on no single one.
 * An all-zero (or all-NaN) output lands in "not-sure": the model said nothing useful.
 * Expected failures (output or labels of the wrong length, an inconsistent spec) come
 * back as a failed Result, never as an exception.
 */
export function translateOutput(
  probabilities: ArrayLike<number>,
  labels: readonly Label[],
  spec: LabelSpec,
  options: AnswerOptions = {},
): Result<Answer> {
  const specProblem = labelSpecProblem(spec);
  if (specProblem !== null) return fail('MODEL_LOAD_FAILED', specProblem);
  if (labels.length !== spec.count) {
    return fail('MODEL_LOAD_FAILED', `${labels.length} labels for ${spec.count} model outputs`);
  }
  if (probabilities.length !== spec.count) {
    return fail(
      'INFERENCE_FAILED',
      `the model returned ${probabilities.length} values; expected ${spec.count}`,
    );
  }

  const isAnimal = animalIndexMask(spec);
  const k = options.topK ?? DEFAULT_TOP_K;

  let animalProbability = 0;
  let nonAnimalProbability = 0;
  // Taken here rather than from `top` so that the answer does not depend on k.
  let bestAnimal = 0;
  for (let index = 0; index < probabilities.length; index++) {
    const probability = sanitize(probabilities[index]);
    if (isAnimal[index] === 1) {
      animalProbability += probability;
      bestAnimal = Math.max(bestAnimal, probability);
    } else {
      nonAnimalProbability += probability;
    }
  }

  const top = topK(probabilities, k, (index) => isAnimal[index] === 1).flatMap(
    ({ index, probability }) => {
      const label = labels[index];
      return label === undefined ? [] : [toPrediction(label, probability)];
    },
  );

  if (bestAnimal >= NOT_SURE_BELOW && bestAnimal > 0) return ok({ kind: 'animal', top });
  if (nonAnimalProbability > animalProbability) {
    return ok({ kind: 'no-animal', top, nonAnimalProbability });
  }
  return ok({ kind: 'not-sure', top });
}

/** 1 for each output index that may be offered as an animal; the background never is. */
export function animalIndexMask(spec: LabelSpec): Uint8Array {
  const mask = new Uint8Array(spec.count);
  if (spec.animalRanges === null) {
    mask.fill(1);
  } else {
    for (const [from, to] of spec.animalRanges) {
      mask.fill(1, Math.max(0, from), Math.min(spec.count, to + 1));
    }
  }
  if (spec.backgroundIndex !== null) mask[spec.backgroundIndex] = 0;
  return mask;
}

/** A label with its probability, in the form the UI, the CLI and the exports share. */
export function toPrediction(label: Label, probability: number): Prediction {
  return {
    index: label.index,
    label: label.line,
    name: label.commonName,
    scientificName: label.scientificName,
    probability,
  };
}

/** A probability as a number to add up: non-finite and negative values count as 0. */
export function sanitize(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : 0;
}
