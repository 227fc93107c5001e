import { Workbox } from 'workbox-window';
import { cacheCurrentModel } from '../inference/model-packs';
import { connectivityChanged, installOffered, updateWaiting } from './pwa-store';

/**
 * Service worker registration and updates (workbox-window). A new version never takes
 * over by itself: it waits until the user presses Reload, which the UI only offers when
 * no batch or camera session would be cut short. Nobody stays on an old version for long:
 * updates are checked hourly and whenever the app returns to the foreground, and a
 * waiting worker also takes over once every tab of the app is closed.
 */
const UPDATE_CHECK_MS = 60 * 60 * 1000;

let workbox: Workbox | null = null;
let reloadRequested = false;

interface BeforeInstallPromptEvent extends Event {
  prompt(): Promise<void>;
}
let installEvent: BeforeInstallPromptEvent | null = null;

export function startPwa(): void {
  const setOnline = () => connectivityChanged(navigator.onLine);
  window.addEventListener('online', setOnline);
  window.addEventListener('offline', setOnline);
  window.addEventListener('beforeinstallprompt', (event) => {
    event.preventDefault(); // shown from our own button instead of the browser's mini-bar
    installEvent = event as BeforeInstallPromptEvent;
    installOffered(true);
  });
  window.addEventListener('appinstalled', () => installOffered(false));

  if (!('serviceWorker' in navigator) || !import.meta.env.PROD) return;
  const wb = new Workbox('/sw.js');
  workbox = wb;
  wb.addEventListener('waiting', () => updateWaiting(true));
  wb.addEventListener('controlling', (event) => {
    // First install: the model may have been fetched before the worker was in control.
    if (!event.isUpdate) void cacheCurrentModel();
  });
  // Not workbox-window's 'controlling': it stays silent for an update found by a later
  // check (an "external" worker), which is how most updates of a long-open app arrive.
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (reloadRequested) window.location.reload();
  });
  void wb.register();
  setInterval(() => void wb.update(), UPDATE_CHECK_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void wb.update();
  });
}

export function applyUpdate(): void {
  if (workbox === null) return;
  reloadRequested = true;
  updateWaiting(false);
  workbox.messageSkipWaiting();
}

export async function promptInstall(): Promise<void> {
  if (installEvent === null) return;
  await installEvent.prompt();
  installEvent = null;
  installOffered(false);
}
