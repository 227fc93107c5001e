import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test';
import { modelCacheName } from '../src/core/cache-policy';
import type { ModelEntry } from '../src/core/model-manifest';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../playwright.config';
import { AppPage } from './fixtures';
import { imagenetAnimals } from './data';

/**
 * Offline for real: a persistent profile (as on a phone), the service worker from the
 * production build, and the network switched off for the page and the worker alike.
 */
let context: BrowserContext;

test.beforeEach(async () => {
  context = await chromium.launchPersistentContext(
    mkdtempSync(path.join(tmpdir(), 'fieldid-profile-')),
    { executablePath: CHROMIUM_EXECUTABLE, args: CHROMIUM_ARGS },
  );
});

test.afterEach(async () => {
  await context.close();
});

async function controlledApp(baseURL: string) {
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const app = new AppPage(page);
  await app.pinBackend('wasm');
  await page.goto(baseURL);
  await expect(page.getByTestId('backend')).toBeVisible();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  return { page, app, errors };
}

/** The manifest's default model, and the name of its cache. */
async function defaultModel(page: Page): Promise<{ entry: ModelEntry; cacheName: string }> {
  const entry: ModelEntry = await page.evaluate(async () => {
    const manifest = await (await fetch('/models/manifest.json')).json();
    return manifest.models[manifest.defaultModel].stable;
  });
  return { entry, cacheName: modelCacheName(entry.id, entry.version) };
}

/** Every file of the current model version is in its cache (the page checks the same way). */
async function modelCached(page: Page) {
  const { entry, cacheName } = await defaultModel(page);
  await expect
    .poll(
      () =>
        page.evaluate(
          async ({ cacheName, files }) => {
            const cache = await caches.open(cacheName);
            const paths = (await cache.keys()).map((r) => new URL(r.url).pathname.split('/').pop());
            return files.every((f) => paths.includes(f.path));
          },
          { cacheName, files: entry.files },
        ),
      { timeout: 60_000 },
    )
    .toBe(true);
}

test('identifies offline after one online visit, and keeps the history across reloads', async ({
  baseURL,
}) => {
  const [first, second] = imagenetAnimals();
  const { page, app, errors } = await controlledApp(baseURL!);
  await app.choose(first!.path);
  await app.resultFor(first!.file);
  await modelCached(page);

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('offline')).toBeVisible();
  await expect(page.getByTestId('backend')).toHaveText('wasm');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await app.choose(second!.path);
  await app.resultFor(second!.file);
  expect(second!.accepted).toContain((await app.topLabels())[0]);

  for (let visit = 0; visit < 2; visit++) {
    await page.getByRole('button', { name: 'History', exact: true }).click();
    for (const photo of [first!, second!]) {
      await expect(
        page.locator(`[data-testid="history-item"][data-file="${photo.file}"]`),
      ).toBeVisible();
    }
    await page.reload();
    await expect(page.getByTestId('backend')).toBeVisible();
  }
  expect(errors).toEqual([]);
});

test('a corrupted model shard in the cache is detected and replaced', async ({ baseURL }) => {
  const photo = imagenetAnimals()[0]!;
  const { page, app, errors } = await controlledApp(baseURL!);
  await modelCached(page);

  const { entry, cacheName } = await defaultModel(page);
  const shard = entry.files.find((f) => f.path.endsWith('.bin'))!;
  const shardUrl = `${entry.baseUrl}${shard.path}`;
  await page.evaluate(
    async ({ cacheName, url }) => {
      const cache = await caches.open(cacheName);
      const bytes = new Uint8Array(await (await cache.match(url))!.arrayBuffer());
      bytes[1000] = bytes[1000]! ^ 0xff; // one flipped byte deep in the weights
      await cache.put(url, new Response(bytes.slice(0, bytes.length - 10))); // and cut short
    },
    { cacheName, url: shardUrl },
  );

  await page.reload();
  await expect(page.getByTestId('backend')).toBeVisible();
  await app.choose(photo.path);
  await app.resultFor(photo.file);
  expect(photo.accepted).toContain((await app.topLabels())[0]);

  const stored = await page.evaluate(
    async ({ cacheName, url }) => {
      const cached = await (await caches.open(cacheName)).match(url);
      const digest = await crypto.subtle.digest('SHA-256', await cached!.arrayBuffer());
      return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
    },
    { cacheName, url: shardUrl },
  );
  expect(stored).toBe(shard.sha256);
  expect(errors).toEqual([]);
});
