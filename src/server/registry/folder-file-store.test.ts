import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../node/model-folder';
import { PROJECT_ROOT } from '../../node/shared-paths';
import { ensureStored, readChecked } from './file-store';
import { openFolderFileStore } from './folder-file-store';
import { makeTempDir } from '../../../test-support/helpers';

let temp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  temp = await makeTempDir('folder-store');
});
afterEach(() => temp.remove());

const bytes = (text: string) => new TextEncoder().encode(text);

describe('the folder file store', () => {
  it('keeps a file at <dir>/<first two hex>/<sha256>, and nothing else', async () => {
    const store = openFolderFileStore(temp.path);
    const data = bytes('model weights');
    const sha256 = sha256Hex(data);
    expect(await store.read(sha256)).toBeNull();
    await store.write(sha256, data);
    expect(Buffer.from((await store.read(sha256)) ?? []).toString()).toBe('model weights');
    expect(await readdir(temp.path)).toEqual([sha256.slice(0, 2)]);
    expect(await readdir(join(temp.path, sha256.slice(0, 2)))).toEqual([sha256]);
  });

  it('takes two writers of the same file at once', async () => {
    const store = openFolderFileStore(temp.path);
    const data = bytes('x'.repeat(100_000));
    const sha256 = sha256Hex(data);
    await Promise.all([store.write(sha256, data), store.write(sha256, data)]);
    expect(sha256Hex((await store.read(sha256)) ?? new Uint8Array())).toBe(sha256);
    expect(await readdir(join(temp.path, sha256.slice(0, 2)))).toEqual([sha256]);
  });

  it('refuses a name that is not a sha256 (nothing outside the folder)', async () => {
    const store = openFolderFileStore(temp.path);
    await expect(store.read('../../etc/passwd')).rejects.toThrow(/not a sha256/);
    await expect(store.write('AB'.repeat(32), bytes('x'))).rejects.toThrow(/not a sha256/);
  });

  it('restores a missing file and refuses an altered one, never overwriting it', async () => {
    const store = openFolderFileStore(temp.path);
    const file = { path: 'labels.txt', data: bytes('a\nb\n'), sha256: sha256Hex('a\nb\n') };
    expect(await ensureStored(store, file)).toEqual({ ok: true, value: undefined });
    expect(await readChecked(store, file)).toMatchObject({ ok: true });

    const onDisk = join(temp.path, file.sha256.slice(0, 2), file.sha256);
    await writeFile(onDisk, 'a\nc\n');
    expect(await readChecked(store, file)).toMatchObject({
      ok: false,
      error: { code: 'MODEL_FILE_CHANGED' },
    });
    expect(await ensureStored(store, file)).toMatchObject({
      ok: false,
      error: { code: 'MODEL_FILE_CHANGED' },
    });
    expect(await readFile(onDisk, 'utf8')).toBe('a\nc\n');
  });

  it('leaves no partial file under its final name when the writer is killed mid-write', async () => {
    // A large file, so that the kill lands while it is written or synced: the child says
    // when it starts, and is killed as soon as its temporary file shows.
    const script = `
      import { openFolderFileStore } from ${JSON.stringify(join(PROJECT_ROOT, 'src/server/registry/folder-file-store.ts'))};
      import { createHash } from 'node:crypto';
      const data = new Uint8Array(256 * 1024 * 1024).fill(7);
      const sha256 = createHash('sha256').update(data).digest('hex');
      console.log(sha256);
      await openFolderFileStore(${JSON.stringify(temp.path)}).write(sha256, data);
      console.log('done');
    `;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: PROJECT_ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (output += chunk));
    const exited = once(child, 'exit');
    while (!/^[0-9a-f]{64}\n/.test(output)) await new Promise((r) => setTimeout(r, 5));
    const sha256 = output.slice(0, 64);
    const folder = join(temp.path, sha256.slice(0, 2));
    for (;;) {
      const names = await readdir(folder).catch(() => [] as string[]);
      if (names.some((name) => name.endsWith('.tmp')) || output.includes('done')) break;
      await new Promise((r) => setImmediate(r));
    }
    child.kill('SIGKILL');
    await exited;

    const store = openFolderFileStore(temp.path);
    const final = join(folder, sha256);
    const finished = await stat(final).then(
      (s) => s.size,
      () => null,
    );
    if (finished === null) {
      // Killed mid-write: what it wrote is under a temporary name, which is never read.
      expect((await readdir(folder)).filter((name) => name.endsWith('.tmp'))).toHaveLength(1);
      expect(await store.read(sha256)).toBeNull();
    } else {
      // The rename came before the kill: then the file is whole.
      expect(finished).toBe(256 * 1024 * 1024);
    }
    // A later write of the same file succeeds beside any leftover temporary file.
    const small = bytes('after the crash');
    await store.write(sha256Hex(small), small);
    expect(await store.read(sha256Hex(small))).not.toBeNull();
  });
});
