import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ERROR_MESSAGES } from '../core/errors';
import { parseChannelManifest, type ChannelManifest } from '../core/model-channels';
import type { ModelRegistryService } from '../server/registry/registry';
import { editFile, makeTempDir } from '../../test-support/helpers';
import { readModelFolder } from '../node/model-folder';
import { copyModel, IMAGENET, spoil } from './model-folders.fixtures';
import { runModelCommand } from './model-command';
import {
  makeTestRegistry,
  REGISTRY_SETUPS,
  type RegistrySetup,
  type TestRegistry,
} from '../../test-support/stores';
import { alterStoredFile } from './registry-stores.fixtures';

/**
 * `npm run model` as its functions, on the real models and a fresh real registry per test
 * (SQLite, and PostgreSQL with the files in a folder or in the database when a server is
 * available): each command opens the registry and closes it again, as a CLI run does.
 */

const ACTOR = 'tester';

let temp: Awaited<ReturnType<typeof makeTempDir>>;
let copies = 0;
beforeAll(async () => {
  temp = await makeTempDir('model-command');
});
afterAll(() => temp.remove());

async function copyOf(id: string, edit?: (dir: string) => Promise<void>): Promise<string> {
  const dir = await copyModel(temp.path, id, `${id}-${++copies}`);
  await edit?.(dir);
  return dir;
}

/** Another version of the same model: the same weights and labels, a different model.json. */
async function nextVersionOf(id: string, tag: string): Promise<string> {
  return copyOf(id, (dir) =>
    editFile(join(dir, 'model.json'), (text) =>
      JSON.stringify({ ...JSON.parse(text), generatedBy: `retrained ${tag}` }),
    ),
  );
}

async function versionOf(dir: string, id: string): Promise<string> {
  const folder = await readModelFolder(dir, id);
  if (!folder.ok) throw new Error(folder.error.code);
  return folder.value.version;
}

const name = ({ database, files }: RegistrySetup) => `${database}, files in a ${files}`;

describe.each(REGISTRY_SETUPS.map((setup) => [name(setup), setup] as const))(
  'npm run model on %s',
  (_, setup) => {
    let registry: TestRegistry;
    beforeEach(async () => {
      registry = await makeTestRegistry(setup);
    });
    afterEach(() => registry.remove());

    async function run(...argv: string[]) {
      let stdout = '';
      let stderr = '';
      const openRegistry = vi.fn(() => registry.open());
      const code = await runModelCommand(argv, {
        out: { write: (text: string) => (stdout += text) },
        err: { write: (text: string) => (stderr += text) },
        defaultActor: ACTOR,
        cwd: temp.path,
        openRegistry,
      });
      return { code, stdout, stderr, opened: openRegistry.mock.calls.length > 0 };
    }

    async function manifest(): Promise<ChannelManifest> {
      const service = await registry.open();
      try {
        const served = await service.manifest();
        const parsed = parseChannelManifest(served);
        if (!parsed.ok) throw new Error(parsed.reason);
        return served;
      } finally {
        await service.close();
      }
    }

    async function listed() {
      const service = await registry.open();
      try {
        return await service.list();
      } finally {
        await service.close();
      }
    }

    /** `add` of a folder as `id`, which must succeed: the ID@VERSION it printed. */
    async function added(dir: string, id = IMAGENET, ...flags: string[]): Promise<string> {
      const result = await run('add', dir, '--id', id, ...flags);
      expect(result.stderr).not.toMatch(/^error/m);
      expect(result.code).toBe(0);
      return result.stdout.trim();
    }

    it('adds a folder as ID@VERSION, and the same folder again as the same version', async () => {
      const dir = await copyOf(IMAGENET);
      const version = await versionOf(dir, IMAGENET);
      const first = await run('add', dir, '--id', IMAGENET, '--note', 'first');
      expect(first).toMatchObject({ code: 0, stdout: `${IMAGENET}@${version}\n` });
      expect(first.stderr).toMatch(/is the first version .*, so it is stable/);

      const again = await run('add', dir, '--id', IMAGENET);
      expect(again).toMatchObject({ code: 0, stdout: `${IMAGENET}@${version}\n` });
      expect(again.stderr).toMatch(/was already registered/);

      const [state] = await listed();
      expect(state?.versions.map((v) => v.version)).toEqual([version]);
      expect(state?.versions[0]?.note).toBe('first');
    });

    it('takes the id from the folder name', async () => {
      const dir = await copyModel(temp.path, IMAGENET, `fresh-${++copies}`);
      const id = `fresh-${copies}`;
      // Unknown to the catalogue, the folder still reads as a plain model.
      expect(await added(dir, id)).toMatch(new RegExp(`^${id}@[0-9a-f]{10}$`));
      const plain = await run('add', dir);
      expect(plain).toMatchObject({ code: 0, stdout: `${id}@${await versionOf(dir, id)}\n` });
    });

    it.each([
      ['labels that do not match the output size', spoil.labelLineRemoved, 'MODEL_LABELS_MISMATCH'],
      ['a truncated weight shard', spoil.truncatedShard, 'MODEL_LOAD_FAILED'],
      ['a swapped weight shard', (dir: string) => spoil.swappedShard(dir), 'MODEL_LOAD_FAILED'],
      // Only the smoke inference finds these three.
      ['a graph TF.js cannot run', spoil.unknownOp, 'MODEL_LOAD_FAILED'],
      ['logits where the card says probabilities', spoil.softmaxRemoved, 'MODEL_INVALID'],
      [
        'a graph without a signature whose output is not its labels',
        spoil.oneClassFewerWithoutSignature,
        'MODEL_LABELS_MISMATCH',
      ],
    ])('refuses %s with exit 1, before it opens the registry', async (_, edit, code) => {
      await added(await copyOf(IMAGENET));
      const before = await listed();
      const result = await run('add', await copyOf(IMAGENET, edit), '--id', IMAGENET);
      expect(result).toMatchObject({ code: 1, stdout: '', opened: false });
      expect(result.stderr).toMatch(new RegExp(`^error ${code}: .+ \\(${IMAGENET}: .+\\)\\n$`));
      expect(await listed()).toEqual(before);
    });

    it('adds a folder given relative to where the command was typed', async () => {
      const dir = await copyOf(IMAGENET);
      const result = await run('add', `./${basename(dir)}`, '--id', IMAGENET);
      expect(result).toMatchObject({
        code: 0,
        stdout: `${IMAGENET}@${await versionOf(dir, IMAGENET)}\n`,
      });
    });

    it('refuses to roll out or promote a stored version whose graph cannot run, and changes nothing', async () => {
      await added(await copyOf(IMAGENET));
      // As the server registers MODELS_DIR at start: stored without being run.
      const folder = await readModelFolder(await copyOf(IMAGENET, spoil.unknownOp), IMAGENET);
      if (!folder.ok) throw new Error(folder.error.code);
      const service = await registry.open();
      try {
        const registered = await service.register({ ...folder.value, note: null, actor: 'server' });
        expect(registered.ok).toBe(true);
      } finally {
        await service.close();
      }
      const ref = `${IMAGENET}@${folder.value.version}`;
      const before = await manifest();
      for (const argv of [
        ['rollout', ref, '--percent', '5'],
        ['promote', ref],
      ]) {
        const result = await run(...argv);
        expect(result, argv[0]).toMatchObject({ code: 1, stdout: '' });
        expect(result.stderr).toMatch(
          new RegExp(`^error MODEL_LOAD_FAILED: .+ \\(${IMAGENET}: .*could not build or run`),
        );
      }
      expect(await manifest()).toEqual(before);
    });

    it('reports a stored file that changed after registration, in show and in add', async () => {
      const dir = await nextVersionOf(IMAGENET, 'for the alteration');
      const ref = await added(dir);
      const folder = await readModelFolder(dir, IMAGENET);
      if (!folder.ok) throw new Error(folder.error.code);
      const modelJson = folder.value.files.find((f) => f.path === 'model.json')!;

      const intact = await run('show', ref);
      expect(intact.code).toBe(0);
      for (const file of folder.value.files) {
        expect(intact.stdout).toMatch(
          new RegExp(`${file.path} +${file.bytes}  sha256 ${file.sha256}  ok`),
        );
      }

      await alterStoredFile(registry, modelJson.sha256);
      const shown = await run('show', ref);
      expect(shown.code).toBe(1);
      expect(shown.stdout).toMatch(
        new RegExp(`model.json .*${modelJson.sha256}  MODEL_FILE_CHANGED`),
      );
      expect(shown.stderr).toMatch(/^error MODEL_FILE_CHANGED: .*model\.json/);
      const json = JSON.parse((await run('show', ref, '--json')).stdout) as {
        files: { path: string; intact: boolean }[];
      };
      expect(json.files.map((f) => [f.path, f.intact])).toEqual([
        ['model.json', false],
        ['group1-shard1of1.bin', true],
        ['labels.txt', true],
      ]);

      const again = await run('add', dir, '--id', IMAGENET);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/^error MODEL_FILE_CHANGED: .*model\.json/);
    });

    it('moves the channels of the manifest with rollout, promote and rollback', async () => {
      const v1 = (await added(await copyOf(IMAGENET))).split('@')[1]!;
      const v2Dir = await nextVersionOf(IMAGENET, 'v2');
      const v2 = (await added(v2Dir, IMAGENET, '--by', 'ana')).split('@')[1]!;
      expect((await manifest()).models[IMAGENET]).toEqual({
        stable: expect.objectContaining({ version: v1 }),
      });

      const started = await run(
        'rollout',
        `${IMAGENET}@${v2}`,
        '--percent',
        '5',
        '--shadow',
        '0.1',
        '--note',
        'canary',
      );
      expect(started).toMatchObject({ code: 0 });
      expect(started.stdout).toMatch(/is the candidate for 5 % of installations, shadow 0\.1/);
      const first = (await manifest()).models[IMAGENET]!;
      expect(first.stable.version).toBe(v1);
      expect(first.candidate).toMatchObject({ version: v2, percent: 5, shadowRate: 0.1 });
      const v2Folder = await readModelFolder(v2Dir, IMAGENET);
      expect(first.candidate?.files).toEqual(
        v2Folder.ok &&
          v2Folder.value.files.map(({ path, bytes, sha256 }) => ({ path, bytes, sha256 })),
      );
      const salt = first.candidate!.salt;
      expect(salt).toMatch(/^[0-9a-f]{16,64}$/);

      // Raising the share keeps the salt (nobody moves back) and the shadow rate.
      expect((await run('rollout', `${IMAGENET}@${v2}`, '--percent', '25.5')).code).toBe(0);
      expect((await manifest()).models[IMAGENET]?.candidate).toMatchObject({
        version: v2,
        percent: 25.5,
        salt,
        shadowRate: 0.1,
      });

      const withdrawn = await run('rollback', IMAGENET, '--note', 'too many corrections');
      expect(withdrawn).toMatchObject({
        code: 0,
        stdout: `${IMAGENET}: candidate ${v2} withdrawn\n`,
      });
      expect((await manifest()).models[IMAGENET]).toEqual({
        stable: expect.objectContaining({ version: v1 }),
      });

      // A new rollout gets a new salt, so other installations go first.
      expect((await run('rollout', `${IMAGENET}@${v2}`, '--percent', '1')).code).toBe(0);
      const second = (await manifest()).models[IMAGENET]!.candidate!;
      expect(second).toMatchObject({ version: v2, percent: 1, shadowRate: 0 });
      expect(second.salt).not.toBe(salt);

      const promoted = await run('promote', `${IMAGENET}@${v2}`, '--by', 'ana');
      expect(promoted).toMatchObject({ code: 0, stdout: `${IMAGENET}@${v2} is stable\n` });
      expect((await manifest()).models[IMAGENET]).toEqual({
        stable: expect.objectContaining({ version: v2 }),
      });

      const returned = await run('rollback', IMAGENET);
      expect(returned).toMatchObject({
        code: 0,
        stdout: `${IMAGENET}: stable returned from ${v2} to ${v1}\n`,
      });
      expect((await manifest()).models[IMAGENET]).toEqual({
        stable: expect.objectContaining({ version: v1 }),
      });

      const nothing = await run('rollback', IMAGENET);
      expect(nothing.code).toBe(1);
      expect(nothing.stderr).toMatch(/^error NOTHING_TO_ROLL_BACK: /);

      const history = JSON.parse((await run('history', IMAGENET, '--json')).stdout) as {
        action: string;
        actor: string;
        version: string;
        note: string | null;
        details: Record<string, unknown>;
      }[];
      expect(history.map((e) => [e.action, e.actor, e.version])).toEqual([
        ['register', ACTOR, v1],
        ['register', 'ana', v2],
        ['rollout', ACTOR, v2],
        ['rollout', ACTOR, v2],
        ['rollback', ACTOR, v2],
        ['rollout', ACTOR, v2],
        ['promote', 'ana', v2],
        ['rollback', ACTOR, v1],
      ]);
      expect(history[2]).toMatchObject({
        note: 'canary',
        details: { percent: 5, shadowRate: 0.1 },
      });
      expect(history[4]?.note).toBe('too many corrections');

      const text = (await run('history', IMAGENET)).stdout.trim().split('\n');
      expect(text).toHaveLength(8);
      expect(text[2]).toMatch(
        new RegExp(`^#\\d+  \\S+Z  ${ACTOR} +rollout +${v2}  .*percent=5 .*"canary"$`),
      );
    });

    it('removes only a version no channel points to', async () => {
      const v1 = await added(await copyOf(IMAGENET));
      const v2 = await added(await nextVersionOf(IMAGENET, 'to remove'));
      expect((await run('rollout', v2, '--percent', '10')).code).toBe(0);

      for (const ref of [v1, v2]) {
        const refused = await run('remove', ref);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(/^error VERSION_IN_USE: /);
      }
      expect((await run('rollback', IMAGENET)).code).toBe(0);
      expect(await run('remove', v2, '--note', 'superseded')).toMatchObject({
        code: 0,
        stdout: `${v2} removed\n`,
      });
      expect((await listed())[0]?.versions.map((v) => `${IMAGENET}@${v.version}`)).toEqual([v1]);
    });

    it('lists and shows in text and in JSON', async () => {
      const v1 = await added(await copyOf(IMAGENET));
      const v2 = await added(await nextVersionOf(IMAGENET, 'listed'));
      await run('rollout', v2, '--percent', '0.125', '--shadow', '1');

      const text = await run('list');
      expect(text.code).toBe(0);
      const [, version1, version2] = text.stdout.trim().split('\n');
      expect(text.stdout.split('\n')[0]).toBe(IMAGENET);
      expect(version1).toMatch(new RegExp(`^  ${v1.split('@')[1]}  registered \\S+Z  stable$`));
      expect(version2).toMatch(
        new RegExp(
          `^  ${v2.split('@')[1]}  registered \\S+Z  candidate \\(0\\.125 % of installations, shadow 1, since \\S+Z\\)$`,
        ),
      );

      const json = JSON.parse((await run('list', '--json')).stdout) as unknown;
      expect(json).toEqual([
        {
          id: IMAGENET,
          stable: v1.split('@')[1],
          candidate: expect.objectContaining({
            version: v2.split('@')[1],
            percent: 0.125,
            shadowRate: 1,
          }),
          versions: [
            expect.objectContaining({ version: v1.split('@')[1] }),
            expect.objectContaining({ version: v2.split('@')[1] }),
          ],
        },
      ]);

      // Without @VERSION, the stable one.
      const stable = await run('show', IMAGENET);
      expect(stable.stdout.split('\n').slice(0, 2)).toEqual([v1, 'channels     stable']);
      expect(stable.stdout).toMatch(/^input +"input" 224×224×3, range \[-1, 1\]$/m);
      expect(stable.stdout).toMatch(/^labels +1001 \(imagenet\), background 0, animals 1–398$/m);
      const shown = JSON.parse((await run('show', v2, '--json')).stdout) as Record<string, unknown>;
      expect(shown).toMatchObject({
        id: IMAGENET,
        version: v2.split('@')[1],
        stable: false,
        candidate: { percent: 0.125 },
        card: { input: { size: 224 }, output: { classes: 1001, isProbability: true } },
      });

      const unknown = await run('show', `${IMAGENET}@0000000000`);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/^error UNKNOWN_MODEL: .*has no version 0000000000/);
      expect((await run('history', 'never-registered')).stderr).toMatch(/^error UNKNOWN_MODEL: /);
      expect((await run('list', '--json')).code).toBe(0);
    });

    it('prints the usage with exit 2 before it opens the registry', async () => {
      for (const argv of [
        ['publish'],
        ['list', '--all'],
        ['rollout', `${IMAGENET}@abc`, '--percent', '101'],
        ['rollout', `${IMAGENET}@abc`, '--percent', '5', '--shadow', '2'],
        ['promote', IMAGENET],
      ]) {
        const result = await run(...argv);
        expect(result).toMatchObject({ code: 2, stdout: '', opened: false });
        expect(result.stderr).toMatch(/\nusage: npm run model -- <verb> \[options\]\n/);
      }
      const help = await run('help');
      expect(help).toMatchObject({ code: 0, stderr: '', opened: false });
      expect(help.stdout).toMatch(/^usage: npm run model/);
    });
  },
);

describe('npm run model when something unexpected happens', () => {
  /** A registry whose `list` and `close` throw what `broken` says; `closed` counts the closes. */
  function brokenRegistry(broken: { list?: Error; close?: Error }) {
    const registry = {
      closed: 0,
      list: async () => {
        if (broken.list) throw broken.list;
        return [];
      },
      close: async () => {
        registry.closed++;
        if (broken.close) throw broken.close;
      },
    };
    return registry as typeof registry & ModelRegistryService;
  }

  async function runWith(openRegistry: () => Promise<ModelRegistryService>, ...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runModelCommand(argv, {
      out: { write: (text: string) => (stdout += text) },
      err: { write: (text: string) => (stderr += text) },
      defaultActor: ACTOR,
      cwd: temp.path,
      openRegistry,
    });
    return { code, stdout, stderr };
  }

  it('reports a throw in the middle of a verb as one INTERNAL line, exit 1', async () => {
    const registry = brokenRegistry({ list: new Error('database disk image is malformed') });
    const result = await runWith(async () => registry, 'list');
    expect(registry.closed).toBe(1);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `error INTERNAL: ${ERROR_MESSAGES.INTERNAL} (list failed: database disk image is malformed)\n`,
    });
  });

  it('reports a registry that cannot be opened with a code, exit 1', async () => {
    const result = await runWith(async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    }, 'list');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^error INTERNAL: .+ \(the registry could not be opened: connect ECONNREFUSED 127\.0\.0\.1:5432\)\n$/,
    );
  });

  it("keeps the verb's exit status when closing the registry fails, and says so", async () => {
    const result = await runWith(
      async () => brokenRegistry({ close: new Error('connection terminated') }),
      'list',
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('no model is registered\n');
    expect(result.stderr).toMatch(/connection terminated/);
  });
});
