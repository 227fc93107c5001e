import { join } from 'node:path';
import { fail, ok, type AppError, type Result } from '../../core/errors';
import { findModelFolders, MODEL_FILE, readModelFolder } from '../../node/model-folder';
import type { ModelRegistryService } from './registry';

/**
 * The models of MODELS_DIR as the registry's versions, at every server start: a folder seen
 * for the first time is its id's first version, hence stable; a folder whose files changed
 * since is registered as a new version but stays off every channel until someone rolls it
 * out, so that a changed folder never reaches every device at once.
 */

export interface BootstrapOutcome {
  id: string;
  version: string;
  created: boolean;
  becameStable: boolean;
}

const BOOTSTRAP_ACTOR = 'server';

export interface Bootstrap {
  registered: BootstrapOutcome[];
  /** The folders that could not be registered, each with its reason: the others still are. */
  refused: { id: string; error: AppError }[];
}

/**
 * One folder at a time: each is held in memory while it is hashed and stored. Fails only
 * when MODELS_DIR cannot be read or holds no model folder.
 */
export async function registerModelsDir(
  registry: ModelRegistryService,
  modelsDir: string,
): Promise<Result<Bootstrap>> {
  const ids = await modelFolderNames(modelsDir);
  if (!ids.ok) return ids;
  const outcomes: BootstrapOutcome[] = [];
  const refused: Bootstrap['refused'] = [];
  for (const id of ids.value) {
    const folder = await readModelFolder(join(modelsDir, id), id);
    if (!folder.ok) {
      refused.push({ id, error: folder.error });
      continue;
    }
    const { version, files, card } = folder.value;
    const registered = await registry.register({
      id,
      version,
      files,
      card,
      note: `from MODELS_DIR (${join(modelsDir, id)}) at server start`,
      actor: BOOTSTRAP_ACTOR,
    });
    if (registered.ok) outcomes.push({ id, ...registered.value });
    else refused.push({ id, error: registered.error });
  }
  return ok({ registered: outcomes, refused });
}

/** What an operator should read about a start's registrations: versions not live yet, folders refused. */
export function bootstrapWarnings({ registered, refused }: Bootstrap): string[] {
  return [
    ...registered
      .filter((outcome) => outcome.created && !outcome.becameStable)
      .map(
        ({ id, version }) =>
          `MODELS_DIR/${id} has changed: registered as ${id}@${version}, but devices stay on the stable version. ` +
          `To roll it out: npm run model -- rollout ${id}@${version} --percent P`,
      ),
    ...refused.map(
      ({ id, error }) =>
        `MODELS_DIR/${id} was not registered (${error.code}: ${error.detail ?? error.message})`,
    ),
  ];
}

async function modelFolderNames(modelsDir: string): Promise<Result<string[]>> {
  let ids: string[];
  try {
    ids = await findModelFolders(modelsDir);
  } catch (error) {
    return fail('MODEL_INVALID', `cannot read ${modelsDir}: ${(error as Error).message}`);
  }
  return ids.length === 0
    ? fail('MODEL_INVALID', `no model folder (one holding ${MODEL_FILE}) in ${modelsDir}`)
    : ok(ids);
}
