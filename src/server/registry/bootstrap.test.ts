import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stableView } from '../../core/model-channels';
import { loadModelRegistry, type ModelRegistry } from '../../node/model-registry';
import { bootstrapWarnings, registerModelsDir } from './bootstrap';
import type { ModelRegistryService } from './registry';
import { copyModel, editFile, makeTempDir, SHARED_MODELS_DIR } from '../../../test-support/helpers';
import { makeTestRegistry, REGISTRY_SETUPS, type TestRegistry } from '../../../test-support/stores';

// Read-only: what the shared folder serves without the registry, for comparison.
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
    // Each test on a registry of its own: none depends on what another left.
    let t: TestRegistry;
    let registry: ModelRegistryService;
    beforeEach(async () => {
      t = await makeTestRegistry(setup);
      registry = await t.open();
    });
    afterEach(async () => {
      await registry.close();
      await t.remove();
    });

    it('registers the shared models as stable, with the versions and entries the folder gives', async () => {
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
      // The same entries as the folder served before the registry.
      expect(served.models).toEqual(folder.manifest.models);
      const log = await registry.history('imagenet-mobilenet-v2');
      expect(log).toMatchObject([
        { action: 'register', actor: 'server', note: expect.stringContaining('MODELS_DIR') },
      ]);
    });

    it('changes nothing when the server starts again on the same folder', async () => {
      await bootstrap(registry, SHARED_MODELS_DIR);
      const revision = await registry.revision();
      const { registered } = await bootstrap(registry, SHARED_MODELS_DIR);
      expect(registered.every((outcome) => !outcome.created && !outcome.becameStable)).toBe(true);
      expect(await registry.revision()).toBe(revision);
      expect(await registry.history('inat-birds-mobilenet-v2')).toHaveLength(1);
    });

    it('registers a changed folder as a new version that stays off the channels, and says how to roll it out', async () => {
      await bootstrap(registry, SHARED_MODELS_DIR);
      const temp = await makeTempDir('models');
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
        await temp.remove();
      }
    });

    it('fails for a folder it cannot read or that holds no model', async () => {
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
        expect(await registry.list()).toEqual([]);
      } finally {
        await temp.remove();
      }
    });
  },
);
