import { fail, ok, type Result } from '../../core/errors';
import { sha256Hex } from '../../node/model-folder';

/**
 * Where the registry keeps the contents of model files, addressed by their sha256: a
 * folder (folder-file-store.ts) or the PostgreSQL database itself (its model_blobs
 * table). Versions share whatever files they have in common.
 */
export interface FileStore {
  readonly kind: 'folder' | 'database';
  /** The stored bytes, or null when nothing is stored under this sha256. */
  read(sha256: string): Promise<Uint8Array | null>;
  /**
   * Stores bytes the caller has hashed to `sha256`; durable when it resolves, and never
   * visible half-written.
   */
  write(sha256: string, data: Uint8Array): Promise<void>;
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Makes sure the store holds exactly these bytes: a missing file is written (the bytes in
 * hand are the right ones), a stored file that differs is refused, never overwritten, so
 * damage to the store is seen rather than papered over.
 */
export async function ensureStored(
  store: FileStore,
  file: { path: string; sha256: string; data: Uint8Array },
): Promise<Result<void>> {
  const stored = await store.read(file.sha256);
  if (stored === null) {
    await store.write(file.sha256, file.data);
    return ok(undefined);
  }
  return sha256Hex(stored) === file.sha256 ? ok(undefined) : changed(store, file);
}

/** The stored bytes of a registered file, checked against the sha256 it was registered with. */
export async function readChecked(
  store: FileStore,
  file: { path: string; sha256: string },
): Promise<Result<Uint8Array>> {
  const stored = await store.read(file.sha256);
  if (stored === null) {
    return fail('MODEL_FILE_CHANGED', `${file.path} (${file.sha256}) is missing from the store`);
  }
  return sha256Hex(stored) === file.sha256 ? ok(stored) : changed(store, file);
}

function changed<T>(store: FileStore, file: { path: string; sha256: string }): Result<T> {
  return fail(
    'MODEL_FILE_CHANGED',
    `the stored copy of ${file.path} (${store.kind} store, sha256 ${file.sha256}) was altered`,
  );
}
