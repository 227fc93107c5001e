import { describe, expect, it } from 'vitest';
import { createInstallationSecret, type SecretStorage } from './installation-secret';

/** A storage like localStorage: what one browser profile keeps across reloads. */
function memoryStorage(initial: Record<string, string> = {}) {
  const values = new Map(Object.entries(initial));
  return {
    values,
    getItem: (key: string) => values.get(key) ?? null,
    setItem: (key: string, value: string) => void values.set(key, value),
  } satisfies SecretStorage & { values: Map<string, string> };
}

const HEX_64 = /^[0-9a-f]{64}$/;

describe('the installation secret', () => {
  it('is made once, 32 random bytes, and the same after a reload', () => {
    const storage = memoryStorage();
    const secret = createInstallationSecret(() => storage)();
    expect(secret).toMatch(HEX_64);
    expect([...storage.values.values()]).toEqual([secret]);
    // A reload: a new module instance on the same storage.
    expect(createInstallationSecret(() => storage)()).toBe(secret);
  });

  it('differs between installations', () => {
    const a = createInstallationSecret(() => memoryStorage())();
    const b = createInstallationSecret(() => memoryStorage())();
    expect(a).not.toBe(b);
  });

  it('replaces a stored value that is not a whole secret', () => {
    for (const bad of ['', 'abc', 'Z'.repeat(64), 'a'.repeat(63), 'A'.repeat(64)]) {
      const storage = memoryStorage({ 'fieldid-installation-secret': bad });
      const secret = createInstallationSecret(() => storage)();
      expect(secret, bad).toMatch(HEX_64);
      expect(storage.getItem('fieldid-installation-secret')).toBe(secret);
    }
  });

  it('keeps one secret for the session when storage is blocked or full', () => {
    const full: SecretStorage = {
      getItem: () => null,
      setItem: () => {
        throw new DOMException('full', 'QuotaExceededError');
      },
    };
    const blocked = () => {
      throw new DOMException('denied', 'SecurityError');
    };
    for (const storage of [() => full, blocked, () => null]) {
      const secret = createInstallationSecret(storage);
      expect(secret()).toMatch(HEX_64);
      expect(secret()).toBe(secret());
    }
  });

  it('follows the secret another tab wrote, rather than keeping one of its own', () => {
    const storage = memoryStorage();
    const thisTab = createInstallationSecret(() => storage);
    const first = thisTab();
    storage.setItem('fieldid-installation-secret', 'b'.repeat(64));
    expect(thisTab()).toBe('b'.repeat(64));
    expect(first).not.toBe('b'.repeat(64));
  });
});
