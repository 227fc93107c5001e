import { createInferenceBridge } from '../../worker/api/bridge';
import { resolveForInstallation } from '../channels/device-manifest';
import { formerCandidates } from '../channels/former-candidates';
import { installationSecret } from '../channels/installation-secret';
import { useSettingsStore } from '../settings/settings-store';
import { localBackendMemory } from './backend-memory';
import { createInferenceService } from './inference-service';
import { fetchChannelManifest } from './manifest';
import { packStatus, removePack, storedVersions } from './model-packs';

/** The page's inference service, on the real worker, caches and settings. */
const service = createInferenceService({
  bridge: createInferenceBridge(),
  createTrialBridge: () => createInferenceBridge(),
  fetchManifest: fetchChannelManifest,
  resolveForDevice: (published, tryCandidates) =>
    resolveForInstallation(published, installationSecret(), tryCandidates),
  formerCandidates,
  isPackComplete: async (entry) => (await packStatus(entry)).complete,
  storedVersions,
  removeStoredVersion: removePack,
  backendMemory: localBackendMemory,
  isOnline: () => navigator.onLine,
  // Guarded: this module is also imported by tests that run without a window.
  onOnline: (listener) => {
    if (typeof window !== 'undefined') window.addEventListener('online', listener);
  },
  onVisible: (listener) => {
    if (typeof document === 'undefined') return;
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') listener();
    });
  },
  settings: () => useSettingsStore.getState(),
  saveBackendPreference: (preference) =>
    useSettingsStore.getState().setBackendPreference(preference),
  saveTryCandidates: (on) => useSettingsStore.getState().setTryCandidates(on),
});

export const {
  startModel,
  applyBackendPreference,
  applyCandidatePreference,
  holdReloads,
  identify,
  identifyAnimal,
  classifyMany,
  loadedLabels,
  newItemId,
} = service;
