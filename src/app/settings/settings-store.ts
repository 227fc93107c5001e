import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { isBackendName, type BackendPreference } from '../../core/backend-choice';

/** What the user chose; persisted on the device, restored through a validating merge. */
export interface SettingsState {
  /** A model chosen by hand, or null for Auto (the default; see ./model-choice). */
  modelId: string | null;
  backendPreference: BackendPreference;
  /** Store a location rounded to 0.1° with each observation; off until the user allows it. */
  saveCoarseLocation: boolean;
  /**
   * Take part in rollouts: this device may get a new model version (a candidate) before
   * everyone else. On by default; off keeps every model on its stable version.
   */
  tryCandidates: boolean;
  setModelId(modelId: string | null): void;
  setBackendPreference(preference: BackendPreference): void;
  setSaveCoarseLocation(on: boolean): void;
  setTryCandidates(on: boolean): void;
}

export const useSettingsStore = create<SettingsState>()(
  persist(
    (set) => ({
      modelId: null,
      backendPreference: 'auto',
      saveCoarseLocation: false,
      tryCandidates: true,
      setModelId: (modelId) => set({ modelId }),
      setBackendPreference: (backendPreference) => set({ backendPreference }),
      setSaveCoarseLocation: (saveCoarseLocation) => set({ saveCoarseLocation }),
      setTryCandidates: (tryCandidates) => set({ tryCandidates }),
    }),
    {
      name: 'fieldid-settings',
      version: 1,
      storage: createJSONStorage(() => localStorage),
      partialize: ({ modelId, backendPreference, saveCoarseLocation, tryCandidates }) => ({
        modelId,
        backendPreference,
        saveCoarseLocation,
        tryCandidates,
      }),
      // Stored data is untrusted (older versions, hand edits): keep only what is valid.
      merge: (persisted, current) => {
        const p = (persisted ?? {}) as Record<string, unknown>;
        return {
          ...current,
          modelId: typeof p.modelId === 'string' ? p.modelId : current.modelId,
          backendPreference:
            p.backendPreference === 'auto' || isBackendName(p.backendPreference)
              ? p.backendPreference
              : current.backendPreference,
          // Only an explicit true turns location on; anything else leaves it off.
          saveCoarseLocation: p.saveCoarseLocation === true,
          // Only an explicit false opts out: settings saved before rollouts existed take part.
          tryCandidates: p.tryCandidates !== false,
        };
      },
    },
  ),
);
