import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, SHARED_DIR } from '../node/shared-paths';
import { readModelFolder } from '../node/model-folder';
import { copyModel, IMAGENET, spoil } from './model-folders.fixtures';
import { makeTempDir } from '../../test-support/helpers';
import { runModelCommand } from './model-command';
import { makeTestRegistry, type TestRegistry } from '../../test-support/stores';
import { registryEnv } from './registry-stores.fixtures';

/** `npm run model` as a user runs it, on a temp SQLite file and files folder only. */

function npm(
  args: string[],
  env: Record<string, string>,
  cwd = PROJECT_ROOT,
): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, {
      cwd,
      // Empty values count as unset: a developer's DATABASE_URL or MODEL_STORE is never used.
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
  });
}

describe('npm run model', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await makeTestRegistry({ database: 'sqlite', files: 'folder' });
  });
  afterAll(() => registry.remove());

  it('lists what the registry of its environment holds', async () => {
    const dir = join(SHARED_DIR, 'models', IMAGENET);
    const folder = await readModelFolder(dir, IMAGENET);
    if (!folder.ok) throw new Error(folder.error.code);
    const added = await runModelCommand(['add', dir], {
      out: { write: () => true },
      err: { write: () => true },
      defaultActor: 'tester',
      cwd: PROJECT_ROOT,
      openRegistry: () => registry.open(),
    });
    expect(added).toBe(0);

    const { exitCode, stdout, stderr } = await npm(
      ['run', 'model', '--', 'list'],
      registryEnv(registry),
    );
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(
      new RegExp(`^${IMAGENET}\n  ${folder.value.version}  registered \\S+Z  stable$`, 'm'),
    );
  });

  it('refuses a bad folder, given relative to where npm was typed, with exit 1 and one error line', async () => {
    const temp = await makeTempDir('model-cli');
    try {
      await copyModel(temp.path, IMAGENET, 'short-labels');
      await spoil.labelLineRemoved(join(temp.path, 'short-labels'));
      // Typed in the temp folder: npm runs the script in the package, and says where in INIT_CWD.
      const { exitCode, stdout, stderr } = await npm(
        [
          '--prefix',
          PROJECT_ROOT,
          'run',
          '-s',
          'model',
          '--',
          'add',
          './short-labels',
          '--id',
          IMAGENET,
        ],
        registryEnv(registry),
        temp.path,
      );
      expect(exitCode).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toMatch(
        /^error MODEL_LABELS_MISMATCH: .+ \(imagenet-mobilenet-v2: labels\.txt has 1000 lines, the model outputs 1001\)\n$/,
      );
    } finally {
      await temp.remove();
    }
  });

  it('gives exit 2 and the usage for a verb it does not know', async () => {
    const { exitCode, stdout, stderr } = await npm(
      ['run', '-s', 'model', '--', 'publish'],
      registryEnv(registry),
    );
    expect(exitCode).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^unknown verb "publish"\nusage: npm run model -- <verb> \[options\]\n/);
  });
});
