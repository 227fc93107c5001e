import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryStorage } from '../memory-storage.fixtures';

/**
 * The persisted settings, through the store's own validating merge: each case loads the
 * store afresh on a localStorage that holds what an earlier visit (or a hand edit) left.
 */

const KEY = 'fieldid-settings';

async function storeAfterVisit(saved: unknown) {
  const storage = memoryStorage(saved === undefined ? {} : { [KEY]: JSON.stringify(saved) });
  vi.stubGlobal('localStorage', storage);
  vi.resetModules();
  const { useSettingsStore } = await import('./settings-store');
  return { useSettingsStore, storage };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the rollout setting', () => {
  it('takes part in rollouts on a first visit and with settings saved before it existed', async () => {
    for (const saved of [undefined, { state: { modelId: null }, version: 1 }]) {
      const { useSettingsStore } = await storeAfterVisit(saved);
      expect(useSettingsStore.getState().tryCandidates, JSON.stringify(saved)).toBe(true);
    }
  });

  it('keeps an opt-out across reloads', async () => {
    const first = await storeAfterVisit(undefined);
    first.useSettingsStore.getState().setTryCandidates(false);
    const saved = JSON.parse(first.storage.getItem(KEY)!);
    expect(saved.state.tryCandidates).toBe(false);
    const { useSettingsStore } = await storeAfterVisit(saved);
    expect(useSettingsStore.getState().tryCandidates).toBe(false);
  });

  it('reads only an explicit false as an opt-out', async () => {
    for (const value of ['false', 0, null, 'no']) {
      const { useSettingsStore } = await storeAfterVisit({
        state: { tryCandidates: value },
        version: 1,
      });
      expect(useSettingsStore.getState().tryCandidates, String(value)).toBe(true);
    }
  });

  it('persists exactly its four settings, the rollout setting among them', async () => {
    const { useSettingsStore, storage } = await storeAfterVisit(undefined);
    useSettingsStore.getState().setTryCandidates(true);
    expect(Object.keys(JSON.parse(storage.getItem(KEY)!).state).sort()).toEqual([
      'backendPreference',
      'modelId',
      'saveCoarseLocation',
      'tryCandidates',
    ]);
  });
});
