import {
  combineOutputs,
  routeOf,
  specialistAnswers,
  type Route,
  type Routing,
} from '../core/cascade';
import { fail, ok, type Result } from '../core/errors';
import { modelRefOf, type ModelEntry } from '../core/model-manifest';
import { taxonomyFor, type ModelTaxonomy } from '../core/taxonomy';
import {
  MICRO_BATCH,
  type Classification,
  type Engine,
  type Explanation,
  type PreparedPhoto,
} from './engine';

/**
 * Auto mode over engines: the general model sees every photo, and a specialist (birds,
 * insects) answers for the photos the general model places in its group. The browser
 * worker and the Node tools drive this same code; they differ only in how a specialist's
 * engine is opened (the worker downloads it the first time a photo needs it, Node opens
 * every one up front). Every model is fed the same prepared pixels: they share one input size.
 */

export interface CascadeSpecialist {
  group: string;
  entry: ModelEntry;
}

export interface CascadeOptions {
  /** Loaded, with its labels. */
  general: Engine;
  generalEntry: ModelEntry;
  specialists: readonly CascadeSpecialist[];
  /**
   * A specialist the user chose by hand: it answers every photo the general model places in
   * its group, even "not sure", and a photo outside the group says so instead of being named.
   */
  handChosen: boolean;
  /** The specialist's engine, loaded; called again after a failure, so a later photo retries. */
  openSpecialist(specialist: CascadeSpecialist): Promise<Result<Engine>>;
  /** Specialists' engines loaded before the cascade, by model id (a hand-chosen one). */
  preloaded?: ReadonlyMap<string, Engine>;
}

export interface AnimalResult {
  /** The answer of the model that answered: the specialist's when it did. */
  explanation: Explanation;
  /** How the answer came about; null when the general model answered on its own. */
  routing: Routing | null;
  /** Every model's inference time for this animal's photos. */
  inferenceMs: number;
}

export interface Cascade {
  /**
   * One answer per animal; each inner list holds the photos of one animal (a single photo
   * unless the user said they show the same one), whose outputs are combined before
   * routing and before the answer is read.
   */
  classifyAnimals(
    animals: readonly PreparedPhoto[][],
    k: number,
    batchSize?: number,
  ): Promise<Result<AnimalResult[]>>;
  /** `Engine.classify` with Auto mode: each photo its own animal. */
  classify(photos: PreparedPhoto[], k: number): Promise<Result<Classification[]>>;
  /**
   * Several photos of one animal as one classification (outputs combined before routing
   * and reading), and each photo's own, from the same inference runs.
   */
  classifyAnimal(
    photos: PreparedPhoto[],
    k: number,
  ): Promise<Result<{ combined: Classification; photos: Classification[] }>>;
  inputSize(): number | null;
  /** The general model's groups, which routing reads. */
  generalTaxonomy: ModelTaxonomy;
  /** The engines that hold a model now: the general one first. */
  loadedEngines(): Engine[];
}

export function createCascade(options: CascadeOptions): Result<Cascade> {
  const { general, generalEntry } = options;
  const loaded = general.labels();
  if (loaded === null) return fail('MODEL_LOAD_FAILED', 'the general model has no labels');
  for (const { entry } of options.specialists) {
    if (entry.input.size !== generalEntry.input.size) {
      return fail(
        'MODEL_LOAD_FAILED',
        `${entry.id} takes another input size than the general model`,
      );
    }
  }
  const generalTaxonomy: ModelTaxonomy = taxonomyFor(
    generalEntry.id,
    loaded.labels,
    generalEntry.labels,
  );
  // Every engine the cascade holds is in here from the start, so that `loadedEngines` (and
  // with it freeing and label lookups) sees a preloaded one before its first photo.
  const engines = new Map<string, Engine>(options.preloaded ?? []);
  const groups = options.specialists.map((s) => s.group);

  async function engineOf(specialist: CascadeSpecialist): Promise<Result<Engine>> {
    const known = engines.get(specialist.entry.id);
    if (known !== undefined) return ok(known);
    const opened = await options.openSpecialist(specialist);
    if (opened.ok) engines.set(specialist.entry.id, opened.value);
    return opened;
  }

  async function classifyAnimals(
    animals: readonly PreparedPhoto[][],
    k: number,
    batchSize = MICRO_BATCH,
  ): Promise<Result<AnimalResult[]>> {
    const generalRuns = await inferAll(general, animals, batchSize);
    if (!generalRuns.ok) return generalRuns;
    const results: AnimalResult[] = [];
    const routes: (Route | null)[] = [];
    for (const { outputs, inferenceMs } of generalRuns.value) {
      const combined = combineOutputs(outputs);
      const explained = general.explain(combined, k);
      if (!explained.ok) return explained;
      const route = routeOf(combined, generalTaxonomy, groups);
      routes.push(route);
      const outsideGroup = options.handChosen && route === null ? (groups[0] ?? null) : null;
      results.push({
        explanation: explained.value,
        routing: outsideGroup === null ? null : { via: null, outsideGroup, missing: null },
        inferenceMs,
      });
    }
    for (const specialist of options.specialists) {
      const routed = routes.flatMap((route, index) =>
        route?.group === specialist.group ? [index] : [],
      );
      if (routed.length === 0) continue;
      const engine = await engineOf(specialist);
      if (!engine.ok) {
        if (options.handChosen) return engine;
        const missing = {
          modelId: specialist.entry.id,
          group: specialist.group,
          reason: engine.error.message,
        };
        for (const index of routed)
          results[index]!.routing = { via: null, outsideGroup: null, missing };
        continue;
      }
      const runs = await inferAll(
        engine.value,
        routed.map((index) => animals[index]!),
        batchSize,
      );
      if (!runs.ok) return runs;
      for (const [i, index] of routed.entries()) {
        const { outputs, inferenceMs } = runs.value[i]!;
        const explained = engine.value.explain(combineOutputs(outputs), k);
        if (!explained.ok) return explained;
        const result = results[index]!;
        result.inferenceMs += inferenceMs;
        const summary = explained.value.summary;
        // In Auto mode the specialist's "not sure" and "no animal" say nothing the general
        // model did not; a specialist chosen by hand answers for its group whatever it says.
        if (options.handChosen || (summary !== undefined && specialistAnswers(summary))) {
          result.explanation = explained.value;
          result.routing = {
            via: {
              model: modelRefOf(generalEntry),
              group: specialist.group,
              probability: routes[index]!.probability,
            },
            outsideGroup: null,
            missing: null,
          };
        }
      }
    }
    return ok(results);
  }

  function asClassification(
    { explanation, routing, inferenceMs }: AnimalResult,
    photos: readonly PreparedPhoto[],
    batchSize: number,
  ): Result<Classification> {
    const backend = general.backend();
    if (backend === null) return fail('MODEL_LOAD_FAILED', 'no model loaded');
    const first = photos[0]!;
    return ok({
      ...explanation,
      ...(routing === null ? {} : { routing }),
      backend,
      timings: {
        decodeMs: photos.reduce((sum, photo) => sum + photo.decodeMs, 0),
        inferenceMs,
        batchSize,
      },
      warnings: [...new Set(photos.flatMap((photo) => photo.warnings))],
      width: first.width,
      height: first.height,
    });
  }

  return ok({
    classifyAnimals,

    async classifyAnimal(photos, k) {
      if (photos.length === 0) return fail('INFERENCE_FAILED', 'no photos');
      // Each photo runs twice, in the combination and alone: a handful of photos of one
      // animal, where sharing the outputs would cost more code than it saves time.
      const animals = await classifyAnimals([photos, ...photos.map((photo) => [photo])], k);
      if (!animals.ok) return animals;
      const [together, ...apart] = animals.value;
      const combined = asClassification(together!, photos, photos.length);
      if (!combined.ok) return combined;
      const each: Classification[] = [];
      for (const [i, result] of apart.entries()) {
        const one = asClassification(result, [photos[i]!], photos.length);
        if (!one.ok) return one;
        each.push(one.value);
      }
      return ok({ combined: combined.value, photos: each });
    },

    async classify(photos, k) {
      const animals = await classifyAnimals(
        photos.map((photo) => [photo]),
        k,
        Math.max(1, photos.length),
      );
      if (!animals.ok) return animals;
      const classifications: Classification[] = [];
      for (const [i, result] of animals.value.entries()) {
        const one = asClassification(result, [photos[i]!], photos.length);
        if (!one.ok) return one;
        classifications.push(one.value);
      }
      return ok(classifications);
    },

    inputSize: () => general.inputSize(),
    generalTaxonomy,
    loadedEngines: () => [general, ...engines.values()],
  });
}

/** Each animal's outputs and inference time, the photos run in micro-batches across animals. */
async function inferAll(
  engine: Engine,
  animals: readonly PreparedPhoto[][],
  batchSize: number,
): Promise<Result<{ outputs: Float32Array[]; inferenceMs: number }[]>> {
  const photos = animals.flat();
  const outputs: Float32Array[] = [];
  const photoMs: number[] = [];
  for (let start = 0; start < photos.length; start += batchSize) {
    const chunk = photos.slice(start, start + batchSize);
    const inferred = await engine.infer(chunk);
    if (!inferred.ok) return inferred;
    outputs.push(...inferred.value.outputs);
    photoMs.push(...chunk.map(() => inferred.value.inferenceMs));
  }
  let at = 0;
  return ok(
    animals.map((animal) => {
      const from = at;
      at += animal.length;
      return {
        outputs: outputs.slice(from, at),
        inferenceMs: photoMs.slice(from, at).reduce((sum, ms) => sum + ms, 0),
      };
    }),
  );
}
