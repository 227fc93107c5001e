import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseChannelManifest, type ChannelManifest } from '../core/model-channels';
import { readModelFolder } from '../node/model-folder';
import { copyModel, editFile, makeTempDir } from '../../test-support/helpers';
import {
  openServerRegistry,
  startServer,
  stopServer,
  waitForLine,
  waitForUrl,
} from '../../test-support/server-process';
import { makeTestDatabase, STORE_KINDS } from '../../test-support/stores';

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

/** Asks every origin until `done` holds for all of them; fails once WITHIN_MS have passed. */
async function untilAll(
  origins: readonly string[],
  done: (manifest: ChannelManifest) => boolean,
): Promise<void> {
  const deadline = Date.now() + WITHIN_MS;
  for (;;) {
    const manifests = await Promise.all(origins.map(servedManifest));
    if (manifests.every(done)) return;
    if (Date.now() > deadline) {
      throw new Error(`the servers did not all pick it up within ${WITHIN_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.each(STORE_KINDS)('servers on one %s database', (kind) => {
  // Each test on a database, a MODELS_DIR and servers of its own: none depends on another.
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A fresh database, a MODELS_DIR with the birds model, and `count` servers started together on them. */
  async function startServers(count: number) {
    const database = await makeTestDatabase(kind);
    cleanups.push(() => database.remove());
    const temp = await makeTempDir('servers');
    cleanups.push(() => temp.remove());
    const modelsDir = join(temp.path, 'models');
    await copyModel(modelsDir, BIRDS);
    const { config } = database;
    const env = {
      MODELS_DIR: modelsDir,
      LOG_LEVEL: 'info',
      ...(config.kind === 'postgres'
        ? { DATABASE_URL: config.connectionString, PG_SCHEMA: config.schema ?? '' }
        : { SQLITE_PATH: config.path }),
    };
    const servers = Array.from({ length: count }, () => startServer(env));
    cleanups.push(() => Promise.all(servers.map(stopServer)).then(() => {}));
    const origins = await Promise.all(servers.map(waitForUrl));
    const cli = await openServerRegistry(env);
    cleanups.push(() => cli.close());
    return { temp, env, origins, cli };
  }

  it('registers MODELS_DIR once when two start together, and both serve it as stable', async () => {
    const { origins, cli } = await startServers(2);
    const state = await cli.model(BIRDS);
    expect(state?.versions).toHaveLength(1);
    expect(await cli.history(BIRDS)).toHaveLength(1);
    const [a, b] = await Promise.all(origins.map(servedManifest));
    expect(a?.models[BIRDS]?.stable.version).toBe(state?.stable);
    expect(b).toEqual(a);
  }, 60_000);

  it('both serve a rollout made through a third connection within 10 s, then its rollback', async () => {
    const { temp, origins, cli } = await startServers(2);
    const changed = await copyModel(join(temp.path, 'next'), BIRDS);
    await editFile(join(changed, 'labels.txt'), (text) => text.replace(/\)\n/, ' kite)\n'));
    const folder = await readModelFolder(changed, BIRDS);
    if (!folder.ok) throw new Error(folder.error.code);
    const { version, files, card } = folder.value;
    expect((await cli.register({ id: BIRDS, version, files, card, ...BY })).ok).toBe(true);
    const rollout = await cli.rollout(BIRDS, version, { ...BY, percent: 50 });
    expect(rollout.ok).toBe(true);

    await untilAll(origins, (m) => m.models[BIRDS]?.candidate?.version === version);
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
  }, 60_000);

  it('a server started on a changed MODELS_DIR registers it but keeps stable, and says how to roll it out', async () => {
    const { temp, env, cli } = await startServers(1);
    const modelsDir = join(temp.path, 'changed-models');
    const dir = await copyModel(modelsDir, BIRDS);
    await editFile(join(dir, 'labels.txt'), (text) => text.replace(/\)\n/, ' heron)\n'));
    const before = (await cli.model(BIRDS))?.stable;
    const second = startServer({ ...env, MODELS_DIR: modelsDir });
    try {
      const warning = await waitForLine(second, 'npm run model -- rollout');
      expect(warning).toMatch(new RegExp(`rollout ${BIRDS}@[0-9a-f]{10} --percent P`));
      const origin = await waitForUrl(second);
      expect((await servedManifest(origin)).models[BIRDS]?.stable.version).toBe(before);
    } finally {
      await stopServer(second);
    }
  }, 60_000);
});
