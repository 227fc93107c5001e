import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseChannelManifest } from '../../core/model-channels';
import { entryOf, versionOf } from '../../node/model-folder';
import type { ModelRegistryService, NewVersion } from './registry';
import { fakeVersion } from './registry.fixtures';
import { makeTestRegistry, REGISTRY_SETUPS, type TestRegistry } from '../../../test-support/stores';

const BY = { actor: 'alice', note: null };
const START = Date.parse('2026-05-01T10:00:00.000Z');

/** Registers and expects success. */
async function register(registry: ModelRegistryService, version: NewVersion) {
  const result = await registry.register(version);
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.detail}`);
  return result.value;
}

/** Overwrites a stored file's contents behind the registry's back. */
async function alterStored(t: TestRegistry, sha256: string): Promise<void> {
  if (t.storeDir !== null) {
    await writeFile(join(t.storeDir, sha256.slice(0, 2), sha256), 'tampered');
    return;
  }
  await onPostgres(t, (client, schema) =>
    client.query(`UPDATE ${schema}.model_blobs SET data = 'tampered'::bytea WHERE sha256 = $1`, [
      sha256,
    ]),
  );
}

async function onPostgres(
  t: TestRegistry,
  work: (client: pg.Client, schema: string) => Promise<unknown>,
): Promise<void> {
  const config = t.database.config;
  if (config.kind !== 'postgres' || config.schema === null) throw new Error('not PostgreSQL');
  const client = new pg.Client({ connectionString: config.connectionString });
  await client.connect();
  try {
    await work(client, config.schema);
  } finally {
    await client.end();
  }
}

// One suite, every database and file store: what passes on SQLite must pass on PostgreSQL.
describe.each(REGISTRY_SETUPS)('the model registry on $database, files in a $files', (setup) => {
  let t: TestRegistry;
  let registry: ModelRegistryService;
  let clock: number;
  const now = () => clock;
  const tick = (ms = 1000) => {
    clock += ms;
  };
  const v1 = fakeVersion('birds', 'one');
  const v2 = fakeVersion('birds', 'two');
  const v3 = fakeVersion('birds', 'three');

  beforeEach(async () => {
    clock = START;
    t = await makeTestRegistry(setup);
    registry = await t.open(now);
  });
  afterEach(async () => {
    await registry.close();
    await t.remove();
  });

  const manifest = async () => {
    const parsed = parseChannelManifest(await registry.manifest());
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.manifest;
  };

  describe('register', () => {
    it('makes the first version of an id stable, logged, and lists it in the manifest', async () => {
      expect(await registry.revision()).toBe(0);
      expect(await registry.model('birds')).toBeNull();
      expect(await register(registry, v1)).toEqual({
        version: v1.version,
        created: true,
        becameStable: true,
      });
      const state = await registry.model('birds');
      expect(state).toMatchObject({ id: 'birds', stable: v1.version, candidate: null });
      expect(state?.versions).toEqual([
        {
          id: 'birds',
          version: v1.version,
          card: v1.card,
          files: v1.files.map(({ path, bytes, sha256 }) => ({ path, bytes, sha256 })),
          totalBytes: v1.files.reduce((sum, f) => sum + f.bytes, 0),
          registeredAt: '2026-05-01T10:00:00.000Z',
          note: 'variant one',
          cardSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
      ]);
      expect(await registry.history('birds')).toEqual([
        {
          seq: expect.any(Number),
          modelId: 'birds',
          at: '2026-05-01T10:00:00.000Z',
          actor: 'tester',
          action: 'register',
          version: v1.version,
          note: 'variant one',
          details: expect.objectContaining({
            files: 3,
            stable: { from: null, to: v1.version },
          }),
        },
      ]);
      expect(await registry.revision()).toBeGreaterThan(0);
      const served = await manifest();
      expect(served.schemaVersion).toBe(2);
      expect(served.defaultModel).toBe('birds');
      expect(served.generatedAt).toBe('2026-05-01T10:00:00.000Z');
      expect(served.models.birds).toEqual({ stable: entryOf(v1) });
    });

    it('gives the existing version for the same files, changing nothing', async () => {
      await register(registry, v1);
      const revision = await registry.revision();
      tick();
      // The card is not part of the version: the first one registered stays.
      const again = { ...v1, card: { ...v1.card, notes: 'another card' }, note: 'again' };
      expect(await register(registry, again)).toEqual({
        version: v1.version,
        created: false,
        becameStable: false,
      });
      expect(await registry.revision()).toBe(revision);
      expect((await registry.history('birds')).length).toBe(1);
      expect((await registry.model('birds'))?.versions[0]?.card.notes).toBe('');
    });

    it('keeps stable on the first version when a second one is registered', async () => {
      await register(registry, v1);
      tick();
      expect(await register(registry, v2)).toEqual({
        version: v2.version,
        created: true,
        becameStable: false,
      });
      const state = await registry.model('birds');
      expect(state?.versions.map((v) => v.version)).toEqual([v1.version, v2.version]);
      expect(state?.stable).toBe(v1.version);
      expect((await manifest()).models.birds).toEqual({ stable: entryOf(v1) });
      const log = await registry.history('birds');
      expect(log.map((e) => e.action)).toEqual(['register', 'register']);
      expect(log[1]?.details.stable).toBeUndefined();
    });

    it.each([
      [
        'a version that is not the content address',
        (v: NewVersion) => ({ ...v, version: '0123456789' }),
      ],
      [
        'bytes that do not match their sha256',
        (v: NewVersion) => ({
          ...v,
          files: v.files.map((f, i) => (i === 1 ? { ...f, data: new Uint8Array(f.bytes) } : f)),
        }),
      ],
      [
        'no labels.txt',
        (v: NewVersion) => {
          const files = v.files.filter((f) => f.path !== 'labels.txt');
          return { ...v, files, version: versionOf(files) };
        },
      ],
      [
        'a file name with a slash',
        (v: NewVersion) => ({
          ...v,
          files: v.files.map((f, i) => (i === 1 ? { ...f, path: '../x.bin' } : f)),
        }),
      ],
      ['an invalid id', (v: NewVersion) => ({ ...v, id: 'Birds!' })],
      ['an invalid card', (v: NewVersion) => ({ ...v, card: { ...v.card, name: '' } })],
    ])('refuses %s (MODEL_INVALID) and registers nothing', async (_name, spoil) => {
      const result = await registry.register(spoil(v1));
      expect(result).toMatchObject({ ok: false, error: { code: 'MODEL_INVALID' } });
      expect(await registry.list()).toEqual([]);
      expect(await registry.revision()).toBe(0);
    });

    it('refuses a change without an actor, or with a note too long', async () => {
      expect(await registry.register({ ...v1, actor: ' ' })).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION_FAILED' },
      });
      await register(registry, v1);
      await register(registry, v2);
      expect(
        await registry.rollout('birds', v2.version, {
          actor: 'a',
          note: 'x'.repeat(2001),
          percent: 1,
        }),
      ).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    });

    it('stores the files once, and reads them back as registered', async () => {
      await register(registry, v1);
      for (const file of v1.files) {
        const read = await registry.readFile('birds', v1.version, file.path);
        expect(read.ok && Buffer.from(read.value).equals(Buffer.from(file.data))).toBe(true);
      }
      expect(await registry.readFile('birds', v1.version, 'nope.bin')).toMatchObject({
        ok: false,
        error: { code: 'NOT_FOUND' },
      });
      expect(await registry.readFile('birds', '0000000000', 'model.json')).toMatchObject({
        ok: false,
        error: { code: 'UNKNOWN_MODEL' },
      });
    });

    it('refuses a stored file altered since (MODEL_FILE_CHANGED), when read and when registered again', async () => {
      await register(registry, v1);
      const shard = v1.files[1]!;
      await alterStored(t, shard.sha256);
      expect(await registry.readFile('birds', v1.version, shard.path)).toMatchObject({
        ok: false,
        error: { code: 'MODEL_FILE_CHANGED' },
      });
      expect(await registry.register(v1)).toMatchObject({
        ok: false,
        error: { code: 'MODEL_FILE_CHANGED' },
      });
      // A new version that shares the altered file is refused too, and not recorded.
      const sharing = { ...v2, files: v2.files.map((f, i) => (i === 1 ? shard : f)) };
      const result = await registry.register({ ...sharing, version: versionOf(sharing.files) });
      expect(result).toMatchObject({ ok: false, error: { code: 'MODEL_FILE_CHANGED' } });
      expect((await registry.model('birds'))?.versions).toHaveLength(1);
    });

    it('writes a stored file back when it is missing and the same files are registered again', async () => {
      await register(registry, v1);
      const labels = v1.files[2]!;
      if (t.storeDir !== null) {
        await rm(join(t.storeDir, labels.sha256.slice(0, 2), labels.sha256));
      } else {
        await onPostgres(t, (client, schema) =>
          client.query(`DELETE FROM ${schema}.model_blobs WHERE sha256 = $1`, [labels.sha256]),
        );
      }
      expect(await registry.readFile('birds', v1.version, 'labels.txt')).toMatchObject({
        ok: false,
        error: { code: 'MODEL_FILE_CHANGED' },
      });
      expect(await register(registry, v1)).toMatchObject({ created: false });
      expect((await registry.readFile('birds', v1.version, 'labels.txt')).ok).toBe(true);
    });
  });

  describe('rollout', () => {
    beforeEach(async () => {
      await register(registry, v1);
      await register(registry, v2);
      await register(registry, v3);
      tick(60_000);
    });

    it('puts a version on the candidate channel with a new salt, as the manifest shows', async () => {
      const result = await registry.rollout('birds', v2.version, {
        ...BY,
        note: 'first 5 %',
        percent: 5,
        shadowRate: 0.25,
      });
      if (!result.ok) throw new Error(result.error.code);
      expect(result.value).toEqual({
        version: v2.version,
        percent: 5,
        shadowRate: 0.25,
        salt: expect.stringMatching(/^[0-9a-f]{32}$/),
        since: '2026-05-01T10:01:00.000Z',
      });
      expect((await registry.model('birds'))?.candidate).toEqual(result.value);
      expect((await manifest()).models.birds).toEqual({
        stable: entryOf(v1),
        candidate: { ...entryOf(v2), percent: 5, salt: result.value.salt, shadowRate: 0.25 },
      });
      const last = (await registry.history('birds')).at(-1);
      expect(last).toMatchObject({
        action: 'rollout',
        actor: 'alice',
        note: 'first 5 %',
        version: v2.version,
        at: '2026-05-01T10:01:00.000Z',
        details: {
          percent: 5,
          shadowRate: 0.25,
          salt: result.value.salt,
          newSalt: true,
          replaced: null,
        },
      });
    });

    it('keeps the salt and start while the same candidate moves; logs nothing for no change', async () => {
      const first = await registry.rollout('birds', v2.version, {
        ...BY,
        percent: 1,
        shadowRate: 0.5,
      });
      tick();
      const raised = await registry.rollout('birds', v2.version, { ...BY, percent: 33.333 });
      if (!first.ok || !raised.ok) throw new Error('rollout failed');
      // The shadow rate is kept when not given; the percentage kept to its step exactly.
      expect(raised.value).toEqual({ ...first.value, percent: 33.333, shadowRate: 0.5 });
      const revision = await registry.revision();
      const same = await registry.rollout('birds', v2.version, { ...BY, percent: 33.333 });
      expect(same).toEqual(raised);
      expect(await registry.revision()).toBe(revision);
      expect((await manifest()).models.birds?.candidate?.percent).toBe(33.333);
      expect((await registry.history('birds')).at(-1)?.details).toMatchObject({ newSalt: false });
    });

    it('gives another version a new salt and a new start, replacing the running candidate', async () => {
      const two = await registry.rollout('birds', v2.version, { ...BY, percent: 50 });
      tick();
      const three = await registry.rollout('birds', v3.version, { ...BY, percent: 10 });
      if (!two.ok || !three.ok) throw new Error('rollout failed');
      expect(three.value.salt).not.toBe(two.value.salt);
      expect(three.value.since).not.toBe(two.value.since);
      expect(three.value.shadowRate).toBe(0);
      expect((await registry.history('birds')).at(-1)?.details).toMatchObject({
        replaced: { version: v2.version, percent: 50, shadowRate: 0 },
      });
    });

    it.each([
      ['a percentage between steps', { percent: 12.3456 }],
      ['a negative percentage', { percent: -1 }],
      ['more than 100 %', { percent: 100.001 }],
      ['no number', { percent: Number.NaN }],
      ['a shadow rate above 1', { percent: 10, shadowRate: 1.5 }],
      ['a negative shadow rate', { percent: 10, shadowRate: -0.1 }],
    ])('refuses %s (VALIDATION_FAILED)', async (_name, figures) => {
      const result = await registry.rollout('birds', v2.version, { ...BY, ...figures });
      expect(result).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
      expect((await registry.model('birds'))?.candidate).toBeNull();
    });

    it('takes 0 and 100 %, and refuses the stable version and unknown versions', async () => {
      expect((await registry.rollout('birds', v2.version, { ...BY, percent: 0 })).ok).toBe(true);
      expect((await registry.rollout('birds', v2.version, { ...BY, percent: 100 })).ok).toBe(true);
      expect(await registry.rollout('birds', v1.version, { ...BY, percent: 10 })).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION_FAILED' },
      });
      expect(await registry.rollout('birds', '0000000000', { ...BY, percent: 10 })).toMatchObject({
        ok: false,
        error: { code: 'UNKNOWN_MODEL' },
      });
      expect(await registry.rollout('fish', v2.version, { ...BY, percent: 10 })).toMatchObject({
        ok: false,
        error: { code: 'UNKNOWN_MODEL' },
      });
    });
  });

  describe('promote, rollback and remove', () => {
    beforeEach(async () => {
      await register(registry, v1);
      await register(registry, v2);
      await register(registry, v3);
    });

    it('promotes the candidate: stable moves, the candidate channel is cleared', async () => {
      await registry.rollout('birds', v2.version, { ...BY, percent: 50 });
      tick();
      expect(
        await registry.promote('birds', v2.version, { actor: 'bob', note: 'looks good' }),
      ).toEqual({
        ok: true,
        value: undefined,
      });
      expect((await manifest()).models.birds).toEqual({ stable: entryOf(v2) });
      expect((await registry.history('birds')).at(-1)).toMatchObject({
        action: 'promote',
        actor: 'bob',
        note: 'looks good',
        version: v2.version,
        details: {
          stable: { from: v1.version, to: v2.version },
          clearedCandidate: { percent: 50 },
        },
      });
    });

    it('keeps a candidate that points elsewhere when another version is promoted', async () => {
      const candidate = await registry.rollout('birds', v3.version, { ...BY, percent: 20 });
      await registry.promote('birds', v2.version, BY);
      const state = await registry.model('birds');
      expect(state?.stable).toBe(v2.version);
      expect(candidate.ok && state?.candidate).toEqual(candidate.ok ? candidate.value : null);
    });

    it('withdraws the candidate first; rolling out the same version again draws a new salt', async () => {
      const first = await registry.rollout('birds', v2.version, { ...BY, percent: 30 });
      const revision = await registry.revision();
      expect(
        await registry.rollback('birds', { actor: 'carol', note: 'too many corrections' }),
      ).toEqual({
        ok: true,
        value: { kind: 'withdrew-candidate', version: v2.version },
      });
      expect(await registry.revision()).toBeGreaterThan(revision);
      expect((await manifest()).models.birds).toEqual({ stable: entryOf(v1) });
      expect((await registry.history('birds')).at(-1)).toMatchObject({
        action: 'rollback',
        actor: 'carol',
        note: 'too many corrections',
        version: v2.version,
        details: { withdrew: { version: v2.version, percent: 30 } },
      });
      const again = await registry.rollout('birds', v2.version, { ...BY, percent: 30 });
      expect(first.ok && again.ok && again.value.salt !== first.value.salt).toBe(true);
    });

    it('without a candidate returns stable to the one before, then the one before that', async () => {
      expect(await registry.rollback('birds', BY)).toMatchObject({
        ok: false,
        error: { code: 'NOTHING_TO_ROLL_BACK' },
      });
      await registry.promote('birds', v2.version, BY);
      await registry.promote('birds', v3.version, BY);
      expect(await registry.rollback('birds', BY)).toEqual({
        ok: true,
        value: { kind: 'returned-stable', from: v3.version, to: v2.version },
      });
      expect((await manifest()).models.birds).toEqual({ stable: entryOf(v2) });
      expect(await registry.rollback('birds', BY)).toEqual({
        ok: true,
        value: { kind: 'returned-stable', from: v2.version, to: v1.version },
      });
      expect(await registry.rollback('birds', BY)).toMatchObject({
        ok: false,
        error: { code: 'NOTHING_TO_ROLL_BACK' },
      });
      expect((await registry.history('birds')).at(-1)?.details).toEqual({
        stable: { from: v2.version, to: v1.version },
      });
      expect(await registry.rollback('fish', BY)).toMatchObject({
        ok: false,
        error: { code: 'UNKNOWN_MODEL' },
      });
    });

    it('refuses to remove a version a channel points to (VERSION_IN_USE), removes another', async () => {
      await registry.rollout('birds', v2.version, { ...BY, percent: 5 });
      for (const version of [v1.version, v2.version]) {
        expect(await registry.remove('birds', version, BY)).toMatchObject({
          ok: false,
          error: { code: 'VERSION_IN_USE' },
        });
      }
      expect(
        await registry.remove('birds', v3.version, { actor: 'dan', note: 'never used' }),
      ).toEqual({
        ok: true,
        value: undefined,
      });
      expect((await registry.model('birds'))?.versions.map((v) => v.version)).toEqual([
        v1.version,
        v2.version,
      ]);
      expect((await registry.history('birds')).at(-1)).toMatchObject({
        action: 'remove',
        actor: 'dan',
        version: v3.version,
      });
      expect(await registry.remove('birds', v3.version, BY)).toMatchObject({
        ok: false,
        error: { code: 'UNKNOWN_MODEL' },
      });
    });

    it('rolls back past a removed version to the one before it', async () => {
      await registry.promote('birds', v2.version, BY);
      await registry.promote('birds', v3.version, BY);
      await registry.promote('birds', v1.version, BY);
      expect((await registry.remove('birds', v3.version, BY)).ok).toBe(true);
      // v1 <- v3 (removed) <- v2 <- v1: back from v1 skips v3 and lands on v2.
      expect(await registry.rollback('birds', BY)).toEqual({
        ok: true,
        value: { kind: 'returned-stable', from: v1.version, to: v2.version },
      });
      expect(await registry.rollback('birds', BY)).toEqual({
        ok: true,
        value: { kind: 'returned-stable', from: v2.version, to: v1.version },
      });
    });

    it('promotes the stable version as no change, and refuses unknown versions', async () => {
      const revision = await registry.revision();
      expect((await registry.promote('birds', v1.version, BY)).ok).toBe(true);
      expect(await registry.revision()).toBe(revision);
      expect(await registry.promote('birds', '0000000000', BY)).toMatchObject({
        ok: false,
        error: { code: 'UNKNOWN_MODEL' },
      });
    });
  });

  describe('the manifest and the revision', () => {
    it('lists every id with a stable version; imagenet-mobilenet-v2 is the default when present', async () => {
      await register(registry, fakeVersion('zebras', 'z'));
      await register(registry, fakeVersion('ants', 'a'));
      expect((await manifest()).defaultModel).toBe('ants');
      await register(registry, fakeVersion('imagenet-mobilenet-v2', 'i'));
      const served = await manifest();
      expect(Object.keys(served.models)).toEqual(['ants', 'imagenet-mobilenet-v2', 'zebras']);
      expect(served.defaultModel).toBe('imagenet-mobilenet-v2');
      expect((await registry.list()).map((m) => m.id)).toEqual([
        'ants',
        'imagenet-mobilenet-v2',
        'zebras',
      ]);
    });

    it('grows with every change, whichever connection made it', async () => {
      const other = await t.open(now);
      try {
        const seen: number[] = [await registry.revision()];
        await register(other, v1);
        seen.push(await registry.revision());
        await register(other, v2);
        seen.push(await registry.revision());
        await other.rollout('birds', v2.version, { ...BY, percent: 1 });
        seen.push(await registry.revision());
        await other.rollback('birds', BY);
        seen.push(await registry.revision());
        expect(seen).toEqual([...seen].sort((a, b) => a - b));
        expect(new Set(seen).size).toBe(seen.length);
        expect((await registry.model('birds'))?.candidate).toBeNull();
      } finally {
        await other.close();
      }
    });

    it('records one version and one log row when two connections register it at once', async () => {
      const other = await t.open(now);
      try {
        const results = await Promise.all([registry.register(v1), other.register(v1)]);
        expect(results.map((r) => r.ok && r.value.created).sort()).toEqual([false, true]);
        expect(await registry.history('birds')).toHaveLength(1);
        expect((await registry.model('birds'))?.versions).toHaveLength(1);
      } finally {
        await other.close();
      }
    });

    it('keeps the log append-only in the database itself', async () => {
      await register(registry, v1);
      const config = t.database.config;
      if (config.kind === 'sqlite') {
        const db = new Database(config.path);
        try {
          expect(() => db.exec("UPDATE model_log SET actor = 'mallory'")).toThrow(/append-only/);
          expect(() => db.exec('DELETE FROM model_log')).toThrow(/append-only/);
        } finally {
          db.close();
        }
      } else {
        await onPostgres(t, async (client, schema) => {
          await expect(
            client.query(`UPDATE ${schema}.model_log SET actor = 'mallory'`),
          ).rejects.toThrow(/append-only/);
          await expect(client.query(`DELETE FROM ${schema}.model_log`)).rejects.toThrow(
            /append-only/,
          );
        });
      }
      expect((await registry.history('birds'))[0]?.actor).toBe('tester');
    });
  });
});
