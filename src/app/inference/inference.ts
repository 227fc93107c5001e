import { createInferenceBridge } from '../../worker/api/bridge';
import { useSettingsStore } from '../settings/settings-store';
import { localBackendMemory } from './backend-memory';
import { createInferenceService } from './inference-service';
import { fetchModelManifest } from './manifest';
import { packStatus, storedVersions } from './model-packs';

/** The page's inference service, on the real worker, caches and settings. */
const service = createInferenceService({
  bridge: createInferenceBridge(),
  createTrialBridge: () => createInferenceBridge(),
  fetchManifest: fetchModelManifest,
  isPackComplete: async (entry) => (await packStatus(entry)).complete,
  storedVersions,
  backendMemory: localBackendMemory,
  isOnline: () => navigator.onLine,
  // Guarded: this module is also imported by tests that run without a window.
  onOnline: (listener) => {
    if (typeof window !== 'undefined') window.addEventListener('online', listener);
  },
  settings: () => useSettingsStore.getState(),
  saveBackendPreference: (preference) =>
    useSettingsStore.getState().setBackendPreference(preference),
});

export const {
  startModel,
  applyBackendPreference,
  identify,
  identifyAnimal,
  classifyMany,
  loadedLabels,
  newItemId,
} = service;
