import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SHA256_HEX, type FileStore } from './file-store';

export interface FolderStoreHooks {
  /**
   * Called once a file is written and synced under its temporary name, before the rename:
   * where a test stops (and kills) a writer, to see what a crash there leaves.
   */
  beforeRename?(tempPath: string): Promise<void>;
}

/**
 * Files at `<dir>/<first two hex digits>/<sha256>` (so no folder grows to thousands of
 * entries). A file is written under a temporary name, fsynced, then renamed: a process
 * killed mid-write leaves at most a temporary file, never a short file under its final
 * name, and the rename is made durable by fsyncing the folder.
 */
export function openFolderFileStore(dir: string, hooks: FolderStoreHooks = {}): FileStore {
  const pathOf = (sha256: string) => {
    if (!SHA256_HEX.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return { folder: join(dir, sha256.slice(0, 2)), file: join(dir, sha256.slice(0, 2), sha256) };
  };

  return {
    kind: 'folder',
    async read(sha256) {
      try {
        return new Uint8Array(await readFile(pathOf(sha256).file));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    async write(sha256, data) {
      const { folder, file } = pathOf(sha256);
      const created = await mkdir(folder, { recursive: true });
      // Dot-prefixed and random: never a final name, and two writers never share one.
      const temp = join(folder, `.${sha256}.${randomBytes(6).toString('hex')}.tmp`);
      try {
        const handle = await open(temp, 'wx');
        try {
          await handle.writeFile(data);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await hooks.beforeRename?.(temp);
        await rename(temp, file);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
      await syncFolder(folder);
      // A new folder is an entry of its parent: durable only once the parent is synced too.
      if (created !== undefined) await syncFolder(dir);
    },
  };
}

async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
