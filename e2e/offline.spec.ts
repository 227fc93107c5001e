import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM_ARGS } from '../playwright.config';
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
    {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    },
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

/** Every file of the current model version is in its cache (the page checks the same way). */
async function modelCached(page: Page) {
  await expect
    .poll(
      () =>
        page.evaluate(async () => {
          const manifest = await (await fetch('/models/manifest.json')).json();
          const entry = manifest.models.find((m: { id: string }) => m.id === manifest.defaultModel);
          const cache = await caches.open(`fieldid-model:${entry.id}@${entry.version}`);
          const paths = (await cache.keys()).map((r) => new URL(r.url).pathname.split('/').pop());
          return entry.files.every((f: { path: string }) => paths.includes(f.path));
        }),
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

  const shardUrl = await page.evaluate(async () => {
    const manifest = await (await fetch('/models/manifest.json')).json();
    const entry = manifest.models.find((m: { id: string }) => m.id === manifest.defaultModel);
    const shard = entry.files.find((f: { path: string }) => f.path.endsWith('.bin'));
    const url = `${entry.baseUrl}${shard.path}`;
    const cache = await caches.open(`fieldid-model:${entry.id}@${entry.version}`);
    const bytes = new Uint8Array(await (await cache.match(url))!.arrayBuffer());
    bytes[1000] = bytes[1000]! ^ 0xff; // one flipped byte deep in the weights
    await cache.put(url, new Response(bytes.slice(0, bytes.length - 10))); // and cut short
    return url;
  });

  await page.reload();
  await expect(page.getByTestId('backend')).toBeVisible();
  await app.choose(photo.path);
  await app.resultFor(photo.file);
  expect(photo.accepted).toContain((await app.topLabels())[0]);

  const repaired = await page.evaluate(async (url) => {
    const manifest = await (await fetch('/models/manifest.json')).json();
    const entry = manifest.models.find((m: { id: string }) => m.id === manifest.defaultModel);
    const expected = entry.files.find((f: { path: string }) => url.endsWith(f.path)).sha256;
    const cache = await caches.open(`fieldid-model:${entry.id}@${entry.version}`);
    const digest = await crypto.subtle.digest(
      'SHA-256',
      await (await cache.match(url))!.arrayBuffer(),
    );
    const actual = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join(
      '',
    );
    return actual === expected;
  }, shardUrl);
  expect(repaired).toBe(true);
  expect(errors).toEqual([]);
});
