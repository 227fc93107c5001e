import { sanitize } from './answer';
import { taxonomySourceOf } from './model-catalog';
import type { ModelRef } from './model-ref';
import type { ModelEntry, ModelManifest } from './model-manifest';
import type { ModelTaxonomy } from './taxonomy';
import type { AnswerSummary } from './taxonomy-answer';

/**
 * Auto mode's rules: when the general model's output says "bird" (or "insect") strongly
 * enough, the specialist for that group answers; and how several photos of one animal
 * become one output. Plain numbers in, plain numbers out: the Node tools and, later, the
 * worker run the models and ask these rules what to do with the outputs.
 */

/** A specialist model and the general group it knows the species of. */
export interface Specialist {
  modelId: string;
  group: string;
}

/** The general group a photo was routed on, and how much of the output it held. */
export interface Route {
  group: string;
  probability: number;
}

/**
 * The general model's rolled-up mass of a group at or above which its specialist answers.
 * Routing is on the mass summed over every output whose path holds the group (not the
 * top-1 class, and not the normalised top 10, which would turn a photo that is 5 % bird
 * and 95 % "no animal" into a confident bird), so a bird split over several bird classes
 * still routes, and a zebra whose best class happens to be a bird does not.
 *
 * Measured with the general model on the shared photos, and checked by the acceptance
 * bounds in src/cli/classify.test.ts (at least 0.9 of the CUB photos to the birds model,
 * at most 0.01 of the ImageNet mammal, reptile and fish photos to any specialist).
 * Bird: the 110 CUB photos have a gap in their bird mass between 0.37 and 0.63 (106 lie
 * above it), and among the 270 ImageNet mammal, reptile and fish photos only a hare (0.47)
 * lies inside it, and one water snake above it (0.96: the general model itself calls it a
 * bird, which no threshold short of refusing the CUB photos undoes). The threshold sits
 * midway between the hare and the lowest routed CUB photo, so either may move by 0.08
 * before a count changes: 106 of 110 CUB (0.964) and 57 of 59 ImageNet bird photos routed,
 * 1 of 270 others (0.004). Insect: the 60 Leeds butterflies have one photo at 0.02 and the
 * rest at 0.64 or more; no ImageNet photo of another animal reaches more than 0.21 (a rock
 * crab; mammals, reptiles and fish at most 0.02), so the threshold sits midway in that gap:
 * 59 of 60 Leeds and all 27 ImageNet insect photos routed, none of the 270.
 * Those gaps were measured on the outputs before calibration; routing now reads the
 * calibrated outputs (the general model's temperature is 0.959, a slight sharpening),
 * and src/cli/classify-auto.test.ts measured them again: 102 of 110 CUB photos to the
 * birds model, 1 of the 270 mammals, reptiles and fish to a specialist (the same water
 * snake), 59 of 60 Leeds butterflies to the insects model. The values stay where the gaps
 * put them. Re-measure when a model, its temperature or the preprocessing changes.
 */
export const ROUTE_AT: Readonly<Record<string, number>> = { bird: 0.55, insect: 0.4 };

/**
 * The specialists among `modelIds`: each catalogued model whose groups come from the genus
 * under a general group (the birds and insects models), in the order given.
 */
export function specialistsAmong(modelIds: readonly string[]): Specialist[] {
  return modelIds.flatMap((modelId) => {
    const source = taxonomySourceOf(modelId);
    return source?.kind === 'genus' ? [{ modelId, group: source.group }] : [];
  });
}

/**
 * The summed probability of every output whose path holds `group`, over all outputs
 * (non-finite and negative values count as 0).
 */
export function groupMass(
  probabilities: ArrayLike<number>,
  taxonomy: ModelTaxonomy,
  group: string,
): number {
  let mass = 0;
  for (let index = 0; index < probabilities.length; index++) {
    if (taxonomy.taxa[index]?.path.includes(group)) mass += sanitize(probabilities[index]);
  }
  return mass;
}

/**
 * The group whose specialist should answer, or null to keep the general answer. A group
 * with no threshold is never routed on; when two groups clear theirs (only possible with
 * thresholds below one half), the one with more mass wins.
 */
export function routeOf(
  probabilities: ArrayLike<number>,
  taxonomy: ModelTaxonomy,
  groups: readonly string[],
  routeAt: Readonly<Record<string, number>> = ROUTE_AT,
): Route | null {
  let best: Route | null = null;
  for (const group of groups) {
    const at = routeAt[group];
    if (at === undefined) continue;
    const probability = groupMass(probabilities, taxonomy, group);
    if (probability >= at && (best === null || probability > best.probability)) {
      best = { group, probability };
    }
  }
  return best;
}

/**
 * Whether the specialist's answer stands: a species or one of its genus groups. Its "not
 * sure" and its "no animal" (the background output: not a bird it knows) say nothing the
 * general model did not, so the general answer is shown instead.
 */
export function specialistAnswers(summary: AnswerSummary): boolean {
  return summary.kind === 'species' || summary.kind === 'group';
}

/**
 * A floor under each probability before its logarithm: a float32 softmax underflows to 0
 * for classes far from the photo, and one exact 0 would veto a class for every other
 * photo of the animal. Far below any probability an answer is made of, so it only
 * matters for classes no photo supports.
 */
const LOG_FLOOR = 1e-30;

/**
 * Several photos of one animal as one output: the sum of the photos' log-probabilities,
 * normalised back to probabilities (the product of the outputs, as if each photo were
 * independent evidence). One output comes back unchanged. The outputs given are the
 * engines' calibrated ones, so that an over-confident model does not outvote the others.
 */
export function combineOutputs(outputs: readonly ArrayLike<number>[]): Float32Array {
  const [first] = outputs;
  if (first === undefined) return new Float32Array(0);
  if (outputs.length === 1) return Float32Array.from(first);
  const length = first.length;
  if (outputs.some((output) => output.length !== length)) {
    throw new Error('outputs of different lengths cannot be combined');
  }
  const logs = new Float64Array(length);
  for (const output of outputs) {
    for (let index = 0; index < length; index++) {
      logs[index] = logs[index]! + Math.log(Math.max(sanitize(output[index]), LOG_FLOOR));
    }
  }
  // Subtract the largest before exponentiating, so that many photos do not underflow.
  let max = -Infinity;
  for (const value of logs) max = Math.max(max, value);
  let total = 0;
  for (let index = 0; index < length; index++) {
    logs[index] = Math.exp(logs[index]! - max);
    total += logs[index]!;
  }
  return Float32Array.from(logs, (value) => value / total);
}

/**
 * How Auto mode (or a model chosen by hand that is a specialist) came to an answer, for the
 * app to say so: which general model and group handed the photo over, or why no specialist
 * answered although one was asked for.
 */
export interface Routing {
  /** Set when a specialist answered: the general model and the group it routed on. */
  via: { model: ModelRef; group: string; probability: number } | null;
  /**
   * Set when the user chose a specialist by hand and the general model does not place the
   * photo in its group ("This does not look like a bird"): the answer is the general one.
   */
  outsideGroup: string | null;
  /**
   * Set when the photo was routed to a specialist that could not be loaded (offline before
   * it was ever downloaded, or a failed download): the answer is the general one.
   */
  missing: { modelId: string; group: string; reason: string } | null;
}

/** The models a load asks the worker for: the general one and the specialists beside it. */
export interface CascadeChoice {
  general: ModelEntry;
  specialists: { group: string; entry: ModelEntry }[];
  /** The user chose the one specialist by hand: it answers for its group, alone. */
  handChosen: boolean;
}

/**
 * What the user's model setting means. No choice (null, or an id the manifest no longer
 * lists) is Auto: the default model with every specialist of the manifest. A general model
 * chosen by hand answers alone; a specialist chosen by hand answers for the photos the
 * default model places in its group, and no other photo is named by it.
 */
export function cascadeChoiceFor(manifest: ModelManifest, modelId: string | null): CascadeChoice {
  const byId = new Map(manifest.models.map((m) => [m.id, m]));
  const general = byId.get(manifest.defaultModel)!;
  const chosen = modelId === null ? undefined : byId.get(modelId);
  const specialists = specialistsAmong(manifest.models.map((m) => m.id)).flatMap(
    ({ modelId: id, group }) => (id === general.id ? [] : [{ group, entry: byId.get(id)! }]),
  );
  if (chosen === undefined) return { general, specialists, handChosen: false };
  const specialist = specialists.find((s) => s.entry.id === chosen.id);
  if (specialist !== undefined) return { general, specialists: [specialist], handChosen: true };
  return { general: chosen, specialists: [], handChosen: false };
}
