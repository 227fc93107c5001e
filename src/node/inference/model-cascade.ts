import { combineOutputs, routeOf, specialistAnswers, specialistsAmong } from '../../core/cascade';
import { fail, ok, type Result } from '../../core/errors';
import { modelRefOf } from '../../core/model-manifest';
import type { ModelRef } from '../../core/model-ref';
import { taxonomyFor, type ModelTaxonomy } from '../../core/taxonomy';
import { MICRO_BATCH, type Engine, type Explanation, type PreparedPhoto } from '../../model/engine';
import { loadModelRegistry, type ModelRegistry } from '../model-registry';
import { openNodeModel, type NodeModel } from './node-model';

/**
 * Auto mode in Node: the general model, and the specialists it hands photos to, each in its
 * own engine (TF.js's backend is per process, so the three share it) fed the same prepared
 * pixels: a photo is decoded once, at the one input size they share.
 */
export interface ModelCascade {
  general: NodeModel;
  generalTaxonomy: ModelTaxonomy;
  /** Empty for a model chosen by hand: it answers alone. */
  specialists: { group: string; model: NodeModel }[];
}

/** `modelId` "auto": the default model and every specialist of the folder; else that model alone. */
export const AUTO_MODEL = 'auto';

export async function openCascade(
  models: string | ModelRegistry,
  modelId: string | null,
): Promise<Result<ModelCascade>> {
  let registry: ModelRegistry;
  try {
    registry = typeof models === 'string' ? await loadModelRegistry(models) : models;
  } catch (error) {
    return fail('MODEL_LOAD_FAILED', String(error));
  }
  const auto = modelId === AUTO_MODEL;
  const general = await openNodeModel(registry, auto ? null : modelId);
  if (!general.ok) return general;
  const specialists: ModelCascade['specialists'] = [];
  const ids = registry.manifest.models.map((m) => m.id);
  for (const { modelId: id, group } of auto ? specialistsAmong(ids) : []) {
    if (id === general.value.entry.id) continue;
    const model = await openNodeModel(registry, id);
    if (!model.ok) return model;
    if (model.value.entry.input.size !== general.value.entry.input.size) {
      return fail('MODEL_LOAD_FAILED', `${id} takes another input size than the general model`);
    }
    specialists.push({ group, model: model.value });
  }
  const loaded = general.value.engine.labels();
  if (loaded === null) return fail('MODEL_LOAD_FAILED', 'no labels after loading');
  const generalTaxonomy = taxonomyFor(
    general.value.entry.id,
    loaded.labels,
    general.value.entry.labels,
  );
  return ok({ general: general.value, generalTaxonomy, specialists });
}

export interface AnimalResult {
  /** The answer of the model that answered: the specialist's when it did. */
  explanation: Explanation;
  /** Set when a specialist answered: the general model and the group it routed on. */
  via: { model: ModelRef; group: string; probability: number } | null;
  /** Every model's inference time for this animal's photos. */
  inferenceMs: number;
}

/**
 * One answer per animal; each inner list holds the photos of one animal (a single photo
 * unless the user said they show the same one), whose outputs are combined before routing
 * and before the answer is read. A photo goes to a specialist only when the general
 * model's combined output puts enough mass on that specialist's group.
 */
export async function classifyAnimals(
  cascade: ModelCascade,
  animals: readonly PreparedPhoto[][],
  k: number,
  batchSize = MICRO_BATCH,
): Promise<Result<AnimalResult[]>> {
  const general = await inferAll(cascade.general.engine, animals, batchSize);
  if (!general.ok) return general;
  const results: AnimalResult[] = [];
  const routes = general.value.map(({ outputs }) =>
    routeOf(
      combineOutputs(outputs),
      cascade.generalTaxonomy,
      cascade.specialists.map((s) => s.group),
    ),
  );
  for (const { outputs, inferenceMs } of general.value) {
    const explained = cascade.general.engine.explain(combineOutputs(outputs), k);
    if (!explained.ok) return explained;
    results.push({ explanation: explained.value, via: null, inferenceMs });
  }
  for (const { group, model } of cascade.specialists) {
    const routed = routes.flatMap((route, index) => (route?.group === group ? [index] : []));
    if (routed.length === 0) continue;
    const specialist = await inferAll(
      model.engine,
      routed.map((index) => animals[index]!),
      batchSize,
    );
    if (!specialist.ok) return specialist;
    for (const [i, index] of routed.entries()) {
      const { outputs, inferenceMs } = specialist.value[i]!;
      const explained = model.engine.explain(combineOutputs(outputs), k);
      if (!explained.ok) return explained;
      const result = results[index]!;
      result.inferenceMs += inferenceMs;
      const summary = explained.value.summary;
      if (summary !== undefined && specialistAnswers(summary)) {
        result.explanation = explained.value;
        result.via = {
          model: modelRefOf(cascade.general.entry),
          group,
          probability: routes[index]!.probability,
        };
      }
    }
  }
  return ok(results);
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
      const slice = { from: at, to: (at += animal.length) };
      return {
        outputs: outputs.slice(slice.from, slice.to),
        inferenceMs: photoMs.slice(slice.from, slice.to).reduce((sum, ms) => sum + ms, 0),
      };
    }),
  );
}
