import { isBackendName } from '../../src/core/backend-choice';
import { stableView } from '../../src/core/model-channels';
import { formatModelRef } from '../../src/core/model-ref';
import { createInferenceBridge } from '../../src/worker/api/bridge';
import { fetchChannelManifest } from '../../src/app/inference/manifest';
import { runBaseline } from './baseline';
import { runEngineOnMainThread } from './engine-main-thread';
import { BENCH_GLOBAL, type BenchPageApi } from './protocol';
import { runWorker } from './worker-run';

/**
 * bench.html: a diagnostics page with no UI, driven by `npm run bench` through
 * Playwright. It runs the default model through the real worker bridge and, as the
 * baseline, through plain TF.js on this page's main thread.
 */
async function start(): Promise<void> {
  const published = await fetchChannelManifest();
  if (!published.ok) throw new Error(`manifest: ${published.error.detail ?? published.error.code}`);
  // The benchmark measures what every device has: the stable version, never a candidate.
  const manifest = stableView(published.value);
  const entry = manifest.models.find((m) => m.id === manifest.defaultModel)!;

  const api: BenchPageApi = {
    async facts() {
      const probe = createInferenceBridge();
      try {
        const available = await probe.availableBackends();
        return {
          userAgent: navigator.userAgent,
          hardwareConcurrency: navigator.hardwareConcurrency,
          crossOriginIsolated: globalThis.crossOriginIsolated,
          availableBackends: available.ok ? available.value.filter(isBackendName) : [],
          model: { id: entry.id, version: entry.version, ref: formatModelRef(entry) },
        };
      } finally {
        probe.terminate();
      }
    },
    runWorker: (plan) => runWorker(entry, plan),
    runBaseline: (plan) => runBaseline(entry, plan),
    runEngineOnMainThread: (plan) => runEngineOnMainThread(entry, plan),
  };
  Object.assign(globalThis, { [BENCH_GLOBAL]: api });
  document.body.dataset.ready = 'true';
}

start().catch((error: unknown) => {
  document.body.dataset.ready = 'failed';
  document.body.textContent = `bench page failed: ${String(error)}`;
});
