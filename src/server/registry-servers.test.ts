import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseChannelManifest, type ChannelManifest } from '../core/model-channels';
import { readModelFolder } from '../node/model-folder';
import type { ModelRegistryService } from './registry/registry';
import { copyModel, editFile, makeTempDir } from '../../test-support/helpers';
import {
  openServerRegistry,
  startServer,
  stopServer,
  waitForLine,
  waitForUrl,
} from '../../test-support/server-process';
import { makeTestDatabase, STORE_KINDS, type TestDatabase } from '../../test-support/stores';

/**
 * Two real server processes on one database, and a change made through a third connection
 * (as `npm run model` makes it): both must serve it within 10 s, with no restart.
 */

const BIRDS = 'inat-birds-mobilenet-v2';
const WITHIN_MS = 10_000;
const BY = { actor: 'tester', note: 'two servers' };

async function servedManifest(origin: string): Promise<ChannelManifest> {
  const parsed = parseChannelManifest(await (await fetch(`${origin}/models/manifest.json`)).json());
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.manifest;
}

/** Asks every origin until `done` holds for all of them; fails after WITHIN_MS. */
async function untilAll(
  origins: readonly string[],
  done: (manifest: ChannelManifest) => boolean,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const manifests = await Promise.all(origins.map(servedManifest));
    if (manifests.every(done)) return Date.now() - started;
    if (Date.now() - started > WITHIN_MS)
      throw new Error('the servers did not all pick it up in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.each(STORE_KINDS)('two servers on one %s database', (kind) => {
  let database: TestDatabase;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let env: Record<string, string>;
  let servers: ChildProcess[] = [];
  let origins: string[] = [];
  let cli: ModelRegistryService;

  beforeAll(async () => {
    database = await makeTestDatabase(kind);
    temp = await makeTempDir('two-servers');
    const modelsDir = join(temp.path, 'models');
    await copyModel(modelsDir, BIRDS);
    const { config } = database;
    env = {
      MODELS_DIR: modelsDir,
      LOG_LEVEL: 'info',
      ...(config.kind === 'postgres'
        ? { DATABASE_URL: config.connectionString, PG_SCHEMA: config.schema ?? '' }
        : { SQLITE_PATH: config.path }),
    };
    // Started together: both register MODELS_DIR at once, and one version comes of it.
    servers = [startServer(env), startServer(env)];
    origins = await Promise.all(servers.map(waitForUrl));
    cli = await openServerRegistry(env);
  }, 60_000);
  afterAll(async () => {
    await cli?.close();
    await Promise.all(servers.map(stopServer));
    await database.remove();
    await temp.remove();
  });

  it('registered MODELS_DIR once, and both serve it as stable', async () => {
    const state = await cli.model(BIRDS);
    expect(state?.versions).toHaveLength(1);
    expect(await cli.history(BIRDS)).toHaveLength(1);
    const [a, b] = await Promise.all(origins.map(servedManifest));
    expect(a?.models[BIRDS]?.stable.version).toBe(state?.stable);
    expect(b?.models).toEqual(a?.models);
  });

  it('both serve a rollout made through a third connection within 10 s, then its rollback', async () => {
    const changed = await copyModel(join(temp.path, 'next'), BIRDS);
    await editFile(join(changed, 'labels.txt'), (text) => text.replace(/\)\n/, ' kite)\n'));
    const folder = await readModelFolder(changed, BIRDS);
    if (!folder.ok) throw new Error(folder.error.code);
    const { version, files, card } = folder.value;
    expect((await cli.register({ id: BIRDS, version, files, card, ...BY })).ok).toBe(true);
    const rollout = await cli.rollout(BIRDS, version, { ...BY, percent: 50 });
    expect(rollout.ok).toBe(true);

    const took = await untilAll(origins, (m) => m.models[BIRDS]?.candidate?.version === version);
    expect(took).toBeLessThan(WITHIN_MS);
    // The candidate's files are served by both, from the shared store.
    const labels = files.find((f) => f.path === 'labels.txt');
    for (const origin of origins) {
      const res = await fetch(`${origin}/models/${BIRDS}/${version}/labels.txt`);
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toBe(`"${labels?.sha256}"`);
      expect((await res.text()).includes(' kite)')).toBe(true);
    }

    expect((await cli.rollback(BIRDS, BY)).ok).toBe(true);
    await untilAll(origins, (m) => m.models[BIRDS]?.candidate === undefined);
  }, 30_000);

  it('a server started on a changed MODELS_DIR registers it but keeps stable, and says how to roll it out', async () => {
    const modelsDir = join(temp.path, 'changed-models');
    const dir = await copyModel(modelsDir, BIRDS);
    await editFile(join(dir, 'labels.txt'), (text) => text.replace(/\)\n/, ' heron)\n'));
    const before = (await cli.model(BIRDS))?.stable;
    const third = startServer({ ...env, MODELS_DIR: modelsDir });
    try {
      const warning = await waitForLine(third, 'npm run model -- rollout');
      expect(warning).toMatch(new RegExp(`rollout ${BIRDS}@[0-9a-f]{10} --percent P`));
      const origin = await waitForUrl(third);
      expect((await servedManifest(origin)).models[BIRDS]?.stable.version).toBe(before);
    } finally {
      await stopServer(third);
    }
  }, 30_000);
});
