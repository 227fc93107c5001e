import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { modelCacheName } from '../src/core/cache-policy';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE, pinBackendScript } from '../playwright.config';

/**
 * The field worker's case: the first visit with a signal (cold, nothing cached), then a
 * visit with the network off, then one with it back. Time to the first result of each,
 * and the bytes the server actually sent, counted by the server itself.
 */

export interface TrafficCounter {
  reset(): void;
  read(): { requests: number; bytes: number; paths: string[] };
}

export interface VisitReport {
  /** From navigation to the first photo's result on screen. */
  toFirstResultMs: number;
  requests: number;
  bytes: number;
  /** What was fetched over the network, for the repeat visits (every path once). */
  paths: string[];
}

export interface OfflineReport {
  firstVisit: VisitReport;
  repeatVisitOffline: VisitReport;
  repeatVisitOnline: VisitReport;
  target: string;
}

async function firstResult(
  page: Page,
  photo: string,
  navigate: () => Promise<unknown>,
): Promise<number> {
  const started = Date.now();
  await navigate();
  await page
    .getByTestId('backend')
    .or(page.getByTestId('model-error'))
    .waitFor({ timeout: 120_000 });
  const error = page.getByTestId('model-error');
  if (await error.isVisible()) {
    throw new Error(
      `the model did not start: ${await error.getAttribute('data-code')} ${await error.textContent()}`,
    );
  }
  await page.getByLabel('Choose photos').setInputFiles(photo);
  await page
    .locator(`[data-testid="result"][data-file="${path.basename(photo)}"]`)
    .waitFor({ timeout: 120_000 });
  return Date.now() - started;
}

interface ManifestShape {
  defaultModel: string;
  models: { id: string; version: string; files: { path: string }[] }[];
}

/** Every file of the default model is in its offline cache (as the app checks it). */
async function modelCached(page: Page): Promise<void> {
  const entry = await page.evaluate(async () => {
    const manifest = (await (await fetch('/models/manifest.json')).json()) as ManifestShape;
    return manifest.models.find((m) => m.id === manifest.defaultModel)!;
  });
  await page.waitForFunction(
    async ({ cacheName, files }) => {
      const cache = await caches.open(cacheName);
      const paths = (await cache.keys()).map((r) => new URL(r.url).pathname.split('/').pop());
      return files.every((f) => paths.includes(f.path));
    },
    { cacheName: modelCacheName(entry.id, entry.version), files: entry.files },
    { timeout: 120_000, polling: 500 },
  );
}

export async function runOfflineBench(options: {
  baseUrl: string;
  photos: [string, string, string];
  traffic: TrafficCounter;
  log: (message: string) => void;
}): Promise<OfflineReport> {
  const { baseUrl, photos, traffic, log } = options;
  const profile = await mkdtemp(path.join(tmpdir(), 'fieldid-bench-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_EXECUTABLE,
    args: CHROMIUM_ARGS,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.addInitScript(pinBackendScript('wasm'));

    log('offline: first visit (cold)');
    traffic.reset();
    const coldMs = await firstResult(page, photos[0], () => page.goto(baseUrl));
    // The visit is over once the app and the model are stored for offline use.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, {
      timeout: 60_000,
    });
    await modelCached(page);
    const cold = traffic.read();

    log('offline: repeat visit with the network off');
    await context.setOffline(true);
    traffic.reset();
    const offlineMs = await firstResult(page, photos[1], () => page.reload());
    const offline = traffic.read();

    log('offline: repeat visit with the network back');
    await context.setOffline(false);
    traffic.reset();
    const onlineMs = await firstResult(page, photos[2], () => page.reload());
    await page.waitForTimeout(1000); // let the update check finish
    const online = traffic.read();

    return {
      firstVisit: {
        toFirstResultMs: coldMs,
        requests: cold.requests,
        bytes: cold.bytes,
        paths: [],
      },
      repeatVisitOffline: { toFirstResultMs: offlineMs, ...offline },
      repeatVisitOnline: { toFirstResultMs: onlineMs, ...online },
      target:
        'a repeat visit fetches nothing but the manifest check (model manifest, service worker script)',
    };
  } catch (error) {
    if (process.env.BENCH_DEBUG)
      await context.pages()[0]?.screenshot({ path: '/tmp/offline-fail.png' });
    throw error;
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}
