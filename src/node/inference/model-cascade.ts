import { specialistsAmong } from '../../core/cascade';
import { fail, ok, type Result } from '../../core/errors';
import { createCascade, type Cascade } from '../../model/cascade';
import { loadModelRegistry, type ModelRegistry } from '../model-registry';
import { openNodeModel, type NodeModel } from './node-model';

/**
 * Auto mode in Node: the general model and every specialist of the folder, opened up
 * front (a command-line run is short, and a failed specialist should fail it at once),
 * each in its own engine on the one backend of the process, driven by the shared cascade.
 */
export interface ModelCascade extends Cascade {
  general: NodeModel;
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
    specialists.push({ group, model: model.value });
  }
  const cascade = createCascade({
    general: general.value.engine,
    generalEntry: general.value.entry,
    specialists: specialists.map(({ group, model }) => ({ group, entry: model.entry })),
    handChosen: false,
    openSpecialist: async ({ entry }) => {
      const found = specialists.find((s) => s.model.entry.id === entry.id);
      return found ? ok(found.model.engine) : fail('MODEL_LOAD_FAILED', `${entry.id} is not open`);
    },
  });
  if (!cascade.ok) return cascade;
  return ok({ ...cascade.value, general: general.value, specialists });
}
