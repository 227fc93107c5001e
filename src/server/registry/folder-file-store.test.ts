import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../node/model-folder';
import { PROJECT_ROOT } from '../../node/shared-paths';
import { ensureStored, readChecked } from './file-store';
import { openFolderFileStore } from './folder-file-store';
import { makeTempDir } from '../../../test-support/helpers';
import { waitForLine, watchOutput } from '../../../test-support/server-process';

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

  it('leaves no partial file under its final name when the writer is killed before the rename', async () => {
    // The child writes a file and stops once it is synced under its temporary name (the
    // hook never returns): killed there, as a crash between write and rename would be.
    const size = 64 * 1024;
    const script = `
      import { openFolderFileStore } from ${JSON.stringify(join(PROJECT_ROOT, 'src/server/registry/folder-file-store.ts'))};
      import { createHash } from 'node:crypto';
      const data = new Uint8Array(${size}).fill(7);
      const sha256 = createHash('sha256').update(data).digest('hex');
      const store = openFolderFileStore(${JSON.stringify(temp.path)}, {
        beforeRename: (tempPath) => {
          console.log('written ' + sha256 + ' ' + tempPath);
          return new Promise(() => {});
        },
      });
      await store.write(sha256, data);
      console.log('renamed');
    `;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    watchOutput(child);
    const exited = once(child, 'exit');
    try {
      const line = await waitForLine(child, /^written /, { timeoutMs: 20_000 });
      const [, sha256 = '', tempPath = ''] = line.split(' ');
      expect((await stat(tempPath)).size).toBe(size);
      child.kill('SIGKILL');
      await exited;

      const store = openFolderFileStore(temp.path);
      const folder = join(temp.path, sha256.slice(0, 2));
      // What it wrote is under a temporary name, which is never read.
      expect(await readdir(folder)).toEqual([basename(tempPath)]);
      expect(await store.read(sha256)).toBeNull();
      // A later write of the same file succeeds beside the leftover temporary file.
      const again = new Uint8Array(size).fill(7);
      expect(sha256Hex(again)).toBe(sha256);
      await store.write(sha256, again);
      expect((await store.read(sha256))?.byteLength).toBe(size);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
