import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChannelManifest } from '../../core/model-channels';
import { entryOf } from '../../node/model-folder';
import { openLiveModels, type LiveModels } from './live-models';
import type { ModelRegistryService, NewVersion } from './registry';
import { fakeVersion } from './registry.fixtures';
import { makeTestRegistry, REGISTRY_SETUPS, type TestRegistry } from '../../../test-support/stores';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';

const BY = { actor: 'tester', note: null };
const v1 = fakeVersion('birds', 'one');
const v2 = fakeVersion('birds', 'two', { labels: ['Alpha alpha (Alpha)', 'Delta delta (Delta)'] });
const v3 = fakeVersion('birds', 'three');

async function register(registry: ModelRegistryService, version: NewVersion): Promise<void> {
  const result = await registry.register(version);
  if (!result.ok) throw new Error(result.error.code);
}

describe.each(REGISTRY_SETUPS)('the live models on $database, files in a $files', (setup) => {
  let t: TestRegistry;
  let served: ModelRegistryService;
  let writer: ModelRegistryService;
  let live: LiveModels;
  beforeEach(async () => {
    t = await makeTestRegistry(setup);
    served = await t.open();
    writer = await t.open();
    for (const version of [v1, v2, v3]) await register(writer, version);
    live = await openLiveModels(served, { refreshMs: 50, cacheBytes: 1024 * 1024 });
  });
  afterEach(async () => {
    live.close();
    await served.close();
    await writer.close();
    await t.remove();
  });

  it('picks up a change made through another connection within a refresh, and tells its listeners', async () => {
    const changed = vi.fn<(manifest: ChannelManifest) => void>();
    live.subscribe({ changed });
    expect(live.manifest().models.birds).toEqual({ stable: entryOf(v1) });
    await writer.rollout('birds', v2.version, { ...BY, percent: 25 });
    await expect.poll(() => live.manifest().models.birds?.candidate?.version).toBe(v2.version);
    expect(changed).toHaveBeenCalledWith(live.manifest());
    await writer.rollback('birds', BY);
    await expect.poll(() => live.manifest().models.birds?.candidate).toBeUndefined();
  });

  it('reloads only when the revision moved', async () => {
    live.close(); // no poll in the way
    const before = live.manifest();
    expect(await live.refresh()).toBe(false);
    expect(live.manifest()).toBe(before);
    await writer.promote('birds', v3.version, BY);
    expect(await live.refresh()).toBe(true);
    expect(live.manifest().models.birds?.stable.version).toBe(v3.version);
  });

  it('serves the files of the listed versions only, checked once and then from memory', async () => {
    live.close();
    await writer.rollout('birds', v2.version, { ...BY, percent: 10 });
    await live.refresh();
    const shard = v2.files[1]!;
    expect(live.findFile('birds', v3.version, 'model.json')).toBeNull();
    expect(live.findFile('birds', v2.version, 'source.json')).toBeNull();
    const file = live.findFile('birds', v2.version, shard.path);
    expect(file).toMatchObject({ path: shard.path, bytes: shard.bytes, sha256: shard.sha256 });
    const first = await file!.open();
    expect(Buffer.from(first as Uint8Array).equals(Buffer.from(shard.data))).toBe(true);

    // Altered in the store after the first read: this server keeps the checked copy, a
    // server that has not read it yet refuses to send it.
    if (t.storeDir !== null) {
      await writeFile(join(t.storeDir, shard.sha256.slice(0, 2), shard.sha256), 'tampered');
    } else {
      const config = t.database.config;
      if (config.kind !== 'postgres') throw new Error('expected PostgreSQL');
      const client = new pg.Client({ connectionString: config.connectionString });
      await client.connect();
      await client.query(
        `UPDATE ${config.schema}.model_blobs SET data = 'x'::bytea WHERE sha256 = $1`,
        [shard.sha256],
      );
      await client.end();
    }
    expect(await live.findFile('birds', v2.version, shard.path)!.open()).toBe(first);
    const other = await openLiveModels(writer, { refreshMs: 60_000, cacheBytes: 1024 * 1024 });
    try {
      await expect(other.findFile('birds', v2.version, shard.path)!.open()).rejects.toThrow(
        /MODEL_FILE_CHANGED/,
      );
    } finally {
      other.close();
    }
  });

  it('gives the labels of listed and earlier versions, each its own, and null for unknown ones', async () => {
    live.close();
    await writer.rollout('birds', v2.version, { ...BY, percent: 10 });
    await live.refresh();
    expect(await live.labels('birds', v1.version)).toEqual(
      new Set(['Alpha alpha (Alpha)', 'Beta beta (Beta)', 'Gamma gamma (Gamma)']),
    );
    expect(await live.labels('birds', v2.version)).toEqual(
      new Set(['Alpha alpha (Alpha)', 'Delta delta (Delta)']),
    );
    // Registered, never rolled out: feedback for it is still checked against its labels.
    expect((await live.labels('birds', v3.version))?.size).toBe(3);
    expect(await live.labels('birds', '0000000000')).toBeNull();
    expect(await live.labels('fish', v1.version)).toBeNull();
  });

  it('keeps serving the last manifest when the registry cannot be reached, and says so once', async () => {
    const failed = vi.fn();
    live.subscribe({ failed });
    const before = live.manifest();
    await served.close();
    await expect.poll(() => failed.mock.calls.length).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(failed).toHaveBeenCalledTimes(1);
    expect(live.manifest()).toBe(before);
  });
});
