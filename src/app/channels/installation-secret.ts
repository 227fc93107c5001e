import { randomHex } from '../../core/rollout';
import { browserStorage, readItem, writeItem, type DeviceStorage } from './device-storage';

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

export type SecretStorage = DeviceStorage;

/**
 * `storage` is asked on every read rather than once: two tabs opened together converge on the
 * secret written last instead of each keeping its own. The secret last read or made is
 * remembered, so that storage becoming unreachable later in the session (blocked, full)
 * never gives the device another secret, and with it other buckets and perhaps another
 * channel.
 */
export function createInstallationSecret(storage: () => SecretStorage | null): () => string {
  let remembered: string | null = null;
  return () => {
    const stored = readItem(storage, STORAGE_KEY);
    // A stored value is untrusted (hand edits, older builds): anything but a full secret is replaced.
    if (stored !== null && SECRET_PATTERN.test(stored)) {
      remembered = stored;
      return stored;
    }
    remembered ??= randomHex(SECRET_BYTES);
    writeItem(storage, STORAGE_KEY, remembered);
    return remembered;
  };
}

/** This browser profile's secret. */
export const installationSecret = createInstallationSecret(browserStorage);
