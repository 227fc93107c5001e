import { readFileSync } from 'node:fs';
import { parseModelCacheName } from '../src/core/cache-policy';
import { expect, test } from './fixtures';
import { imagenetAnimals } from './data';

test('a model is made available offline from Settings, with progress, and removed again', async ({
  app,
  page,
}) => {
  await app.pinBackend('wasm');
  await app.open();
  // The usual case: the service worker checks and stores the files, the page shows progress.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  const birds = page.locator('[data-testid="offline-pack"][data-model="inat-birds-mobilenet-v2"]');
  await expect(birds).toHaveAttribute('data-offline', 'no');
  await expect(page.getByTestId('storage-estimate')).toContainText('Storage used');

  await birds.getByRole('button', { name: 'Make available offline' }).click();
  await expect(birds).toHaveAttribute('data-offline', 'yes');
  await expect(birds).toContainText('Available offline');
  await expect(page.getByTestId('persistence')).not.toContainText('downloading a model asks');
  const birdCaches = async () =>
    (await page.evaluate(() => caches.keys())).filter(
      (name) => parseModelCacheName(name)?.id === 'inat-birds-mobilenet-v2',
    );
  const [name] = await birdCaches();
  const cached = await page.evaluate(
    async (name) =>
      (await (await caches.open(name)).keys())
        .map((r) => new URL(r.url).pathname.split('/').pop())
        .sort(),
    name!,
  );
  expect(cached).toEqual(['entry.json', 'group1-shard1of1.bin', 'labels.txt', 'model.json']);

  await birds.getByRole('button', { name: 'Remove' }).click();
  await expect(birds).toHaveAttribute('data-offline', 'no');
  expect(await birdCaches()).toEqual([]);
});

test('photos shared to the installed app (Web Share Target) are identified', async ({
  app,
  page,
}) => {
  await app.pinBackend('wasm');
  await app.open();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  const photo = imagenetAnimals()[0]!;
  const base64 = readFileSync(photo.path).toString('base64');
  // What the OS does when a user shares a photo to the app: a multipart POST to the share target.
  const landed = await page.evaluate(
    async ({ name, base64 }) => {
      const form = new FormData();
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      form.append('photos', new File([bytes], name, { type: 'image/jpeg' }));
      const response = await fetch('/share-target', { method: 'POST', body: form });
      return response.url;
    },
    { name: photo.file, base64 },
  );
  expect(new URL(landed).search).toBe('?shared=1');
  await page.goto(landed);
  await app.resultFor(photo.file);
  expect(photo.accepted).toContain((await app.topLabels())[0]);
  expect(new URL(page.url()).search).toBe('');
});
