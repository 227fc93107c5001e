/**
 * The device's localStorage as the channel code uses it: reading it may throw where
 * storage is blocked, writing it where it is full, and neither may stop the app. Every
 * failure reads as "nothing stored" or "not kept", for the caller to fall back on what it
 * remembers for the session.
 */

export type DeviceStorage = Pick<Storage, 'getItem' | 'setItem'>;

export function readItem(storage: () => DeviceStorage | null, key: string): string | null {
  try {
    return storage()?.getItem(key) ?? null;
  } catch {
    return null; // reading `localStorage` itself throws where storage is blocked
  }
}

export function writeItem(storage: () => DeviceStorage | null, key: string, value: string): void {
  try {
    storage()?.setItem(key, value);
  } catch {
    // Blocked or full: the caller's copy in memory serves this session.
  }
}

/** This browser profile's storage, or null where there is none (tests without a window). */
export const browserStorage = (): DeviceStorage | null =>
  typeof localStorage === 'undefined' ? null : localStorage;
