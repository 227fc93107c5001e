import { randomHex } from '../../core/rollout';

/**
 * The installation's secret: the one input of its rollout buckets that nobody else knows, so
 * the published salts and percentages alone cannot tell which devices are on a candidate.
 * Made once per installation and kept beside the settings (localStorage survives reloads
 * and works offline); it never leaves the device and is never shown. It is not in a store:
 * nothing renders it, and a store's state is what debugging tools display.
 */

const STORAGE_KEY = 'fieldid-installation-secret';
const SECRET_BYTES = 32;
const SECRET_PATTERN = /^[0-9a-f]{64}$/;

export type SecretStorage = Pick<Storage, 'getItem' | 'setItem'>;

/**
 * `storage` is asked on every read rather than once: two tabs opened together converge on the
 * secret written last instead of each keeping its own. Without usable storage (blocked,
 * full) the secret is kept in memory, so the device is at least stable for the session.
 */
export function createInstallationSecret(storage: () => SecretStorage | null): () => string {
  let inMemory: string | null = null;
  return () => {
    const store = reachable(storage);
    const stored = read(store);
    if (stored !== null) return stored;
    inMemory ??= randomHex(SECRET_BYTES);
    try {
      store?.setItem(STORAGE_KEY, inMemory);
    } catch {
      // Blocked or full: the in-memory secret serves this session.
    }
    return inMemory;
  };
}

function reachable(storage: () => SecretStorage | null): SecretStorage | null {
  try {
    return storage();
  } catch {
    return null; // reading `localStorage` itself throws where storage is blocked
  }
}

/** A stored value is untrusted (hand edits, older builds): anything but a full secret is replaced. */
function read(store: SecretStorage | null): string | null {
  try {
    const value = store?.getItem(STORAGE_KEY) ?? null;
    return value !== null && SECRET_PATTERN.test(value) ? value : null;
  } catch {
    return null;
  }
}

/** This browser profile's secret. */
export const installationSecret = createInstallationSecret(() =>
  typeof localStorage === 'undefined' ? null : localStorage,
);
