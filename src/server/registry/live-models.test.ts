import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ok } from '../../core/errors';
import { CHANNEL_MANIFEST_VERSION, type ChannelManifest } from '../../core/model-channels';
import { entryOf } from '../../node/model-folder';
import { openLiveModels, type LiveModels } from './live-models';
import type { ModelRegistryService, NewVersion } from './registry';
import { fakeVersion } from './registry.fixtures';
import {
  alterStored,
  makeTestRegistry,
  REGISTRY_SETUPS,
  type TestRegistry,
} from '../../../test-support/stores';

const BY = { actor: 'tester', note: null };
const v1 = fakeVersion('birds', 'one');
const v2 = fakeVersion('birds', 'two', { labels: ['Alpha alpha (Alpha)', 'Delta delta (Delta)'] });
const v3 = fakeVersion('birds', 'three');
const CACHE = { cacheBytes: 1024 * 1024 };

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
    live = await openLiveModels(served, { refreshMs: 50, ...CACHE });
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

  it('serves a new manifest, and tells its listeners, only when what it serves changed', async () => {
    live.close(); // no poll in the way
    const changed = vi.fn<(manifest: ChannelManifest) => void>();
    live.subscribe({ changed });
    const before = live.manifest();
    expect(await live.refresh()).toBe(false);
    // The revision moves, what is served does not: same object, same date, same ETag.
    await register(writer, fakeVersion('birds', 'four'));
    await writer.remove('birds', v3.version, BY);
    expect(await live.refresh()).toBe(false);
    expect(live.manifest()).toBe(before);
    expect(changed).not.toHaveBeenCalled();

    await writer.rollout('birds', v2.version, { ...BY, percent: 5 });
    expect(await live.refresh()).toBe(true);
    expect(live.manifest().models.birds?.candidate?.version).toBe(v2.version);
    expect(changed).toHaveBeenCalledTimes(1);
    expect(changed).toHaveBeenCalledWith(live.manifest());
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
    await alterStored(t, shard.sha256);
    expect(await live.findFile('birds', v2.version, shard.path)!.open()).toBe(first);
    const other = await openLiveModels(writer, { refreshMs: 60_000, ...CACHE });
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

  it('keeps serving the last manifest when the registry cannot be reached', async () => {
    live.close();
    const before = live.manifest();
    await served.close();
    await expect(live.refresh()).rejects.toThrow();
    expect(live.manifest()).toBe(before);
  });
});

/** A manifest whose candidate is at `percent`: one per registry revision below. */
function manifestAt(percent: number): ChannelManifest {
  return {
    schemaVersion: CHANNEL_MANIFEST_VERSION,
    generatedAt: new Date(Date.UTC(2026, 4, 1, 10, percent)).toISOString(),
    defaultModel: 'birds',
    models: {
      birds: {
        stable: entryOf(v1),
        candidate: { ...entryOf(v2), percent, salt: '0'.repeat(32), shadowRate: 0 },
      },
    },
  };
}

/**
 * A registry as the live models see it, in memory: its revision is what the test sets,
 * each manifest read waits until the test answers it (the one of the revision it was
 * asked at), and it fails while `down` holds.
 */
function stubRegistry() {
  const reads: { revision: number; answer: () => void }[] = [];
  const stub = {
    revision: 1,
    down: false,
    reads,
    /** Answers every read asked so far, newest first (the order that would expose a race). */
    answerNewestFirst() {
      for (const read of reads.splice(0).reverse()) read.answer();
    },
    registry: {
      revision: vi.fn(async () => {
        if (stub.down) throw new Error('the database is down');
        return stub.revision;
      }),
      manifest: () => {
        const revision = stub.revision;
        return new Promise<ChannelManifest>((resolve) => {
          reads.push({ revision, answer: () => resolve(manifestAt(revision)) });
        });
      },
      readFile: async () => ok(new Uint8Array()),
    },
  };
  return stub;
}

/** Opens the live models on a stub, answering its first manifest read. */
async function openOnStub(stub: ReturnType<typeof stubRegistry>, refreshMs = 60_000) {
  const opening = openLiveModels(stub.registry, { refreshMs, ...CACHE });
  await vi.waitFor(() => expect(stub.reads).toHaveLength(1));
  stub.answerNewestFirst();
  return opening;
}

describe('the live models, refreshed', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs one refresh at a time, so an older manifest never replaces a newer one', async () => {
    const stub = stubRegistry();
    const live = await openOnStub(stub);
    const seen: number[] = [];
    live.subscribe({ changed: (m) => seen.push(m.models.birds?.candidate?.percent ?? -1) });
    try {
      stub.revision = 2;
      const first = live.refresh();
      await vi.waitFor(() => expect(stub.reads).toHaveLength(1));
      stub.revision = 3;
      const second = live.refresh();
      // The second waits for the first: no read of its own, however long it is given.
      await new Promise((resolve) => setImmediate(resolve));
      expect(stub.reads).toHaveLength(1);
      stub.answerNewestFirst();
      expect(await first).toBe(true);
      await vi.waitFor(() => expect(stub.reads).toHaveLength(1));
      stub.answerNewestFirst();
      expect(await second).toBe(true);
      expect(seen).toEqual([2, 3]);
      expect(live.manifest().models.birds?.candidate?.percent).toBe(3);
    } finally {
      live.close();
    }
  });

  it('shares one more refresh among the calls made during one', async () => {
    const stub = stubRegistry();
    const live = await openOnStub(stub);
    try {
      stub.revision = 2;
      const first = live.refresh();
      const calls = [live.refresh(), live.refresh(), live.refresh()];
      await vi.waitFor(() => expect(stub.reads).toHaveLength(1));
      stub.revision = 3;
      stub.answerNewestFirst();
      await vi.waitFor(() => expect(stub.reads).toHaveLength(1));
      stub.answerNewestFirst();
      expect(await Promise.all([first, ...calls])).toEqual([true, true, true, true]);
      expect(stub.registry.revision).toHaveBeenCalledTimes(3);
    } finally {
      live.close();
    }
  });

  it('reports an outage once, and the next outage again after a recovery', async () => {
    vi.useFakeTimers();
    const stub = stubRegistry();
    const opening = openLiveModels(stub.registry, { refreshMs: 1000, ...CACHE });
    await vi.waitFor(() => expect(stub.reads).toHaveLength(1));
    stub.answerNewestFirst();
    const live = await opening;
    const failed = vi.fn();
    live.subscribe({ failed });
    const before = live.manifest();
    const polls = () => stub.registry.revision.mock.calls.length - 1;
    try {
      stub.down = true;
      await vi.advanceTimersByTimeAsync(3000);
      expect(polls()).toBe(3);
      expect(failed).toHaveBeenCalledTimes(1);
      expect(live.manifest()).toBe(before);

      stub.down = false;
      await vi.advanceTimersByTimeAsync(2000);
      expect(polls()).toBe(5);
      expect(failed).toHaveBeenCalledTimes(1);

      stub.down = true;
      await vi.advanceTimersByTimeAsync(2000);
      expect(polls()).toBe(7);
      expect(failed).toHaveBeenCalledTimes(2);
      expect(live.manifest()).toBe(before);
    } finally {
      live.close();
    }
  });
});
