import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../memory-storage.fixtures';
import { createInstallationSecret, type SecretStorage } from './installation-secret';

const KEY = 'fieldid-installation-secret';
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
      const storage = memoryStorage({ [KEY]: bad });
      const secret = createInstallationSecret(() => storage)();
      expect(secret, bad).toMatch(HEX_64);
      expect(storage.getItem(KEY)).toBe(secret);
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

  it('keeps the stored secret it read when storage becomes unreachable later', () => {
    const stored = 'c'.repeat(64);
    let reachable = true;
    const secret = createInstallationSecret(() => {
      if (!reachable) throw new DOMException('denied', 'SecurityError');
      return memoryStorage({ [KEY]: stored });
    });
    expect(secret()).toBe(stored);
    reachable = false;
    expect(secret()).toBe(stored);
  });

  it('follows the secret another tab wrote, rather than keeping one of its own', () => {
    const storage = memoryStorage();
    const thisTab = createInstallationSecret(() => storage);
    const first = thisTab();
    storage.setItem(KEY, 'b'.repeat(64));
    expect(thisTab()).toBe('b'.repeat(64));
    expect(first).not.toBe('b'.repeat(64));
  });
});
