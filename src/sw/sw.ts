/// <reference lib="webworker" />
import {
  cleanupOutdatedCaches,
  createHandlerBoundToURL,
  precacheAndRoute,
  type PrecacheEntry,
} from 'workbox-precaching';
import { clientsClaim } from 'workbox-core';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { NetworkFirst } from 'workbox-strategies';
import { MODEL_MANIFEST_CACHE, MODEL_MANIFEST_PATH, SHARE_TARGET_PATH } from '../core/cache-policy';
import { handleModelFile, isModelFile, removeStaleVersions } from './model-cache';
import { receiveShare } from './share-target';
import { flushOutbox, SYNC_TAG } from '../outbox/sender';

/**
 * The service worker: the app shell, the inference worker and the wasm binaries are
 * precached; models are cached per version on first use (model-cache.ts); navigations are
 * answered from the precached index.html, so the app starts with the network off. A new
 * version waits until the page tells it to take over (the user pressed Reload).
 */
declare const self: ServiceWorkerGlobalScope & {
  __WB_MANIFEST: (PrecacheEntry | string)[];
};

// The first visit is controlled as soon as this worker activates, so the model it fetches
// is cached for offline use straight away; updates still wait for the user (SKIP_WAITING).
clientsClaim();
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

registerRoute(
  new NavigationRoute(createHandlerBoundToURL('/index.html'), {
    denylist: [/^\/api\//, /^\/models\//, /^\/healthz/, /^\/metrics/],
  }),
);

// The manifest decides which model version is current: fresh when online, cached offline.
registerRoute(
  ({ url }) => url.origin === self.location.origin && url.pathname === MODEL_MANIFEST_PATH,
  new NetworkFirst({ cacheName: MODEL_MANIFEST_CACHE, networkTimeoutSeconds: 5 }),
);

registerRoute(
  ({ url }) => isModelFile(url),
  ({ event, url }) => handleModelFile(event as FetchEvent, url),
);

registerRoute(
  ({ url }) => url.origin === self.location.origin && url.pathname === SHARE_TARGET_PATH,
  ({ request }) => receiveShare(request),
  'POST',
);

self.addEventListener('message', (event) => {
  if (event.data?.type === 'SKIP_WAITING') void self.skipWaiting();
});

// Background Sync: the browser wakes this worker when the network is back, even with the app closed.
self.addEventListener('sync', (event) => {
  const sync = event as ExtendableEvent & { tag: string };
  if (sync.tag !== SYNC_TAG) return;
  // A rejected promise tells the browser to try this sync again later, with its own backoff.
  sync.waitUntil(
    flushOutbox(fetch, { ignoreSchedule: true }).then((summary) => {
      if (summary.retryLater > 0) throw new Error(`${summary.retryLater} records still waiting`);
    }),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(removeStaleVersions());
});
