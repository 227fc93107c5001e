import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stableView } from '../../core/model-channels';
import { loadModelRegistry, type ModelRegistry } from '../../node/model-registry';
import { bootstrapWarnings, registerModelsDir } from './bootstrap';
import type { ModelRegistryService } from './registry';
import { copyModel, editFile, makeTempDir, SHARED_MODELS_DIR } from '../../../test-support/helpers';
import { makeTestRegistry, REGISTRY_SETUPS, type TestRegistry } from '../../../test-support/stores';

let folder: ModelRegistry;
beforeAll(async () => {
  folder = await loadModelRegistry(SHARED_MODELS_DIR);
});

async function bootstrap(registry: ModelRegistryService, dir: string) {
  const result = await registerModelsDir(registry, dir);
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.detail}`);
  return result.value;
}

describe.each(REGISTRY_SETUPS)(
  'registering MODELS_DIR on $database, files in a $files',
  (setup) => {
    let t: TestRegistry;
    beforeAll(async () => {
      t = await makeTestRegistry(setup);
    });
    afterAll(() => t.remove());

    it('registers the shared models as stable, with the versions and entries the folder gives', async () => {
      const registry = await t.open();
      try {
        const { registered, refused } = await bootstrap(registry, SHARED_MODELS_DIR);
        expect(refused).toEqual([]);
        expect(registered).toEqual(
          folder.manifest.models.map(({ id, version }) => ({
            id,
            version,
            created: true,
            becameStable: true,
          })),
        );
        expect(bootstrapWarnings({ registered, refused })).toEqual([]);
        const served = stableView(await registry.manifest());
        expect(served.defaultModel).toBe('imagenet-mobilenet-v2');
        // The same entries as the folder served before the registry, but for when they were made.
        expect(served.models).toEqual(folder.manifest.models);
        const log = await registry.history('imagenet-mobilenet-v2');
        expect(log).toMatchObject([
          { action: 'register', actor: 'server', note: expect.stringContaining('MODELS_DIR') },
        ]);
      } finally {
        await registry.close();
      }
    });

    it('changes nothing when the server starts again on the same folder', async () => {
      const registry = await t.open();
      try {
        const revision = await registry.revision();
        const { registered } = await bootstrap(registry, SHARED_MODELS_DIR);
        expect(registered.every((outcome) => !outcome.created && !outcome.becameStable)).toBe(true);
        expect(await registry.revision()).toBe(revision);
        expect(await registry.history('inat-birds-mobilenet-v2')).toHaveLength(1);
      } finally {
        await registry.close();
      }
    });

    it('registers a changed folder as a new version that stays off the channels, and says how to roll it out', async () => {
      const temp = await makeTempDir('models');
      const registry = await t.open();
      try {
        const dir = await copyModel(temp.path, 'inat-birds-mobilenet-v2');
        await editFile(join(dir, 'labels.txt'), (text) => text.replace(/\)\n/, ' kite)\n'));
        // A folder that is not a model, and one that is broken: the latter is reported.
        await mkdir(join(temp.path, 'notes'));
        await mkdir(join(temp.path, 'broken'));
        await writeFile(join(temp.path, 'broken', 'model.json'), '{');
        const before = (await registry.manifest()).models['inat-birds-mobilenet-v2'];

        const result = await bootstrap(registry, temp.path);
        const [outcome] = result.registered;
        expect(outcome).toMatchObject({
          id: 'inat-birds-mobilenet-v2',
          created: true,
          becameStable: false,
        });
        expect(outcome?.version).not.toBe(before?.stable.version);
        expect(result.refused).toMatchObject([{ id: 'broken', error: { code: 'MODEL_INVALID' } }]);
        expect(bootstrapWarnings(result)).toEqual([
          expect.stringContaining(
            `npm run model -- rollout inat-birds-mobilenet-v2@${outcome?.version} --percent P`,
          ),
          expect.stringContaining('MODELS_DIR/broken was not registered (MODEL_INVALID'),
        ]);
        expect((await registry.manifest()).models['inat-birds-mobilenet-v2']).toEqual(before);
        expect((await registry.model('inat-birds-mobilenet-v2'))?.versions).toHaveLength(2);
      } finally {
        await registry.close();
        await temp.remove();
      }
    });

    it('fails for a folder it cannot read or that holds no model', async () => {
      const registry = await t.open();
      const temp = await makeTempDir('empty');
      try {
        expect(await registerModelsDir(registry, '/nonexistent/models')).toMatchObject({
          ok: false,
          error: { code: 'MODEL_INVALID', detail: expect.stringContaining('/nonexistent/models') },
        });
        expect(await registerModelsDir(registry, temp.path)).toMatchObject({
          ok: false,
          error: { detail: expect.stringContaining('no model folder') },
        });
      } finally {
        await registry.close();
        await temp.remove();
      }
    });
  },
);
