import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseChannelManifest } from '../../core/model-channels';
import { entryOf, versionOf } from '../../node/model-folder';
import { pgLockKey } from '../pg-transaction';
import type { ModelRegistryService, NewVersion } from './registry';
import { WRITE_LOCK_WAIT_MS } from './registry-db';
import { fakeVersion, withCard } from './registry.fixtures';
import {
  alterStored,
  makeTestRegistry,
  onPostgres,
  REGISTRY_SETUPS,
  removeStored,
  type TestRegistry,
} from '../../../test-support/stores';

const BY = { actor: 'alice', note: null };
const START = Date.parse('2026-05-01T10:00:00.000Z');

/** Registers and expects success. */
async function register(registry: ModelRegistryService, version: NewVersion) {
  const result = await registry.register(version);
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.detail}`);
  return result.value;
}

/** Runs `work` on a connection of its own to the test registry's database, in SQL. */
async function onDatabase(
  t: TestRegistry,
  work: {
    sqlite: (db: Database.Database) => Promise<void> | void;
    postgres: (client: import('pg').Client, schema: string) => Promise<void>;
  },
): Promise<void> {
  const config = t.database.config;
  if (config.kind === 'postgres') return onPostgres(t.database, work.postgres);
  const db = new Database(config.path);
  try {
    await work.sqlite(db);
  } finally {
    db.close();
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

    it('gives the existing version for the same files and card, changing nothing', async () => {
      await register(registry, v1);
      const revision = await registry.revision();
      tick();
      const again = { ...v1, note: 'again', actor: 'someone else' };
      expect(await register(registry, again)).toEqual({
        version: v1.version,
        created: false,
        becameStable: false,
      });
      expect(await registry.revision()).toBe(revision);
      expect((await registry.history('birds')).length).toBe(1);
    });

    it('makes the same files under another card another version, with its own card', async () => {
      await register(registry, v1);
      // A new calibration is a new version: devices must fetch its temperature.
      const recalibrated = withCard(v1, {
        ...v1.card,
        calibration: { temperature: 2.5, fittedOn: 'more photos' },
      });
      expect(recalibrated.version).not.toBe(v1.version);
      expect(await register(registry, recalibrated)).toEqual({
        version: recalibrated.version,
        created: true,
        becameStable: false,
      });
      const versions = (await registry.model('birds'))?.versions ?? [];
      expect(versions.map((v) => [v.version, v.card.calibration?.temperature])).toEqual([
        [v1.version, 1.5],
        [recalibrated.version, 2.5],
      ]);
      expect(versions[0]?.cardSha256).not.toBe(versions[1]?.cardSha256);
      // Same files: stored once, read back under either version.
      for (const version of [v1.version, recalibrated.version]) {
        expect((await registry.readFile('birds', version, 'labels.txt')).ok).toBe(true);
      }
      await registry.promote('birds', recalibrated.version, BY);
      expect((await manifest()).models.birds?.stable.labels.temperature).toBe(2.5);
    });

    it('gives one version for one card however its keys are ordered or extended', async () => {
      const reordered = Object.fromEntries(Object.entries(v1.card).reverse());
      const extended = { ...v1.card, unknownKey: 'dropped' } as typeof v1.card;
      expect(await register(registry, { ...v1, card: reordered as typeof v1.card })).toMatchObject({
        version: v1.version,
        created: true,
      });
      expect(await register(registry, { ...v1, card: extended })).toMatchObject({
        version: v1.version,
        created: false,
      });
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
          return { ...v, files, version: versionOf(files, v.card) };
        },
      ],
      [
        'a model.json whose shard is not among the files',
        (v: NewVersion) => {
          const files = v.files.filter((f) => f.path !== 'group1-shard1of1.bin');
          return { ...v, files, version: versionOf(files, v.card) };
        },
      ],
      [
        'a version that is the address of the files under another card',
        (v: NewVersion) => ({ ...v, card: { ...v.card, notes: 'another card' } }),
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

    it('refuses a change without an actor, with a note that is not text, or too long', async () => {
      expect(await registry.register({ ...v1, actor: ' ' })).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION_FAILED' },
      });
      expect(await registry.register({ ...v1, note: 42 as unknown as string })).toMatchObject({
        ok: false,
        error: { code: 'VALIDATION_FAILED', detail: 'the note must be text, or null' },
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
      const result = await registry.register({
        ...sharing,
        version: versionOf(sharing.files, sharing.card),
      });
      expect(result).toMatchObject({ ok: false, error: { code: 'MODEL_FILE_CHANGED' } });
      expect((await registry.model('birds'))?.versions).toHaveLength(1);
    });

    it('writes a stored file back when it is missing and the same files are registered again', async () => {
      await register(registry, v1);
      const labels = v1.files[2]!;
      await removeStored(t, labels.sha256);
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

    it('dates the manifest by the last change of a channel, not of the log', async () => {
      await register(registry, v1);
      const first = await manifest();
      tick(60_000);
      // Registered and removed off the channels: nothing served changes, nor its date.
      await register(registry, v2);
      await registry.remove('birds', v2.version, BY);
      expect(await manifest()).toEqual(first);
      tick(60_000);
      await register(registry, v3);
      await registry.rollout('birds', v3.version, { ...BY, percent: 1 });
      expect((await manifest()).generatedAt).toBe('2026-05-01T10:02:00.000Z');
    });

    it('keeps the log append-only and the versions immutable in the database itself', async () => {
      await register(registry, v1);
      await onDatabase(t, {
        sqlite(db) {
          expect(() => db.exec("UPDATE model_log SET actor = 'mallory'")).toThrow(/append-only/);
          expect(() => db.exec('DELETE FROM model_log')).toThrow(/append-only/);
          expect(() => db.exec("UPDATE model_versions SET card = '{}'")).toThrow(/immutable/);
          expect(() => db.exec("UPDATE model_versions SET note = 'edited'")).toThrow(/immutable/);
        },
        async postgres(client, schema) {
          await expect(
            client.query(`UPDATE ${schema}.model_log SET actor = 'mallory'`),
          ).rejects.toThrow(/append-only/);
          await expect(client.query(`DELETE FROM ${schema}.model_log`)).rejects.toThrow(
            /append-only/,
          );
          await expect(
            client.query(`UPDATE ${schema}.model_versions SET card = '{}'`),
          ).rejects.toThrow(/immutable/);
          await expect(
            client.query(`UPDATE ${schema}.model_versions SET note = 'edited'`),
          ).rejects.toThrow(/immutable/);
        },
      });
      expect((await registry.history('birds'))[0]?.actor).toBe('tester');
      expect((await registry.model('birds'))?.versions[0]).toMatchObject({
        card: v1.card,
        note: 'variant one',
      });
    });

    it('says so when the log does not end on the stable version, rather than "its first"', async () => {
      await register(registry, v1);
      await register(registry, v2);
      // A row appended by hand (the log takes inserts): it claims a promote that never
      // moved the channel.
      const details = JSON.stringify({ stable: { from: v1.version, to: v2.version } });
      await onDatabase(t, {
        sqlite(db) {
          db.prepare(
            `INSERT INTO model_log (model_id, at, actor, action, version, note, details)
             VALUES ('birds', '2026-05-01T11:00:00.000Z', 'mallory', 'promote', ?, NULL, ?)`,
          ).run(v2.version, details);
        },
        async postgres(client, schema) {
          await client.query(
            `INSERT INTO ${schema}.model_log (model_id, at, actor, action, version, note, details)
             VALUES ('birds', now(), 'mallory', 'promote', $1, NULL, $2)`,
            [v2.version, details],
          );
        },
      });
      const result = await registry.rollback('birds', BY);
      expect(result).toMatchObject({ ok: false, error: { code: 'NOTHING_TO_ROLL_BACK' } });
      expect(!result.ok && result.error.detail).toMatch(/does not end on its stable version/);
      expect((await registry.model('birds'))?.stable).toBe(v1.version);
    });
  });

  describe('another connection holding the write lock', () => {
    it('gives REGISTRY_BUSY after a short wait, without holding up the event loop', async () => {
      await register(registry, v1);
      await register(registry, v2);
      let ticks = 0;
      const ticker = setInterval(() => (ticks += 1), 10);
      const started = Date.now();
      let busy: Awaited<ReturnType<ModelRegistryService['rollout']>> | null = null;
      const rollout = () => registry.rollout('birds', v2.version, { ...BY, percent: 10 });
      try {
        await onDatabase(t, {
          async sqlite(db) {
            db.exec('BEGIN IMMEDIATE');
            try {
              busy = await rollout();
            } finally {
              db.exec('ROLLBACK');
            }
          },
          async postgres(client, schema) {
            await client.query('BEGIN');
            await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
              pgLockKey(schema, 'registry'),
            ]);
            try {
              busy = await rollout();
            } finally {
              await client.query('ROLLBACK');
            }
          },
        });
      } finally {
        clearInterval(ticker);
      }
      const tookMs = Date.now() - started;
      expect(busy).toMatchObject({ ok: false, error: { code: 'REGISTRY_BUSY' } });
      expect(tookMs).toBeGreaterThanOrEqual(WRITE_LOCK_WAIT_MS - 50);
      expect(tookMs).toBeLessThan(WRITE_LOCK_WAIT_MS + 3000);
      // A process stopped in a lock wait would have ticked once or not at all.
      expect(ticks).toBeGreaterThan(tookMs / 10 / 4);
      expect((await registry.model('birds'))?.candidate).toBeNull();
      // The lock released, the same change goes through.
      expect((await rollout()).ok).toBe(true);
    });
  });
});
