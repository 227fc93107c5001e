import type { Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { parseModelCacheName } from '../src/core/cache-policy';
import { expect, test } from './fixtures';
import { imagenetAnimals } from './data';

/** The names of the caches that hold a version of the model `id`. */
async function modelCaches(page: Page, id: string): Promise<string[]> {
  return (await page.evaluate(() => caches.keys())).filter(
    (name) => parseModelCacheName(name)?.id === id,
  );
}

/** The settings a user who chose the general model alone (and the wasm backend) has stored. */
function generalOnlySettings(): { content: string } {
  const settings = JSON.stringify({
    state: { modelId: 'imagenet-mobilenet-v2', backendPreference: 'wasm' },
    version: 1,
  });
  return {
    content: `if (localStorage.getItem('fieldid-settings') === null) localStorage.setItem('fieldid-settings', ${JSON.stringify(settings)});`,
  };
}

test('a model is made available offline from Settings, with progress, and removed again', async ({
  page,
}) => {
  // The general model alone: the birds model is not in use, so it goes without a question.
  await page.addInitScript(generalOnlySettings());
  await page.goto('/');
  await expect(page.getByTestId('backend')).toBeVisible();
  // The usual case: the service worker checks and stores the files, the page shows progress.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  await expect(page.getByRole('radio', { name: /^General \(ImageNet\) only/ })).toBeChecked();
  const birds = page.locator('[data-testid="offline-pack"][data-model="inat-birds-mobilenet-v2"]');
  await expect(birds).toHaveAttribute('data-offline', 'no');
  await expect(birds).toHaveAttribute('data-in-use', 'no');
  await expect(page.getByTestId('storage-estimate')).toContainText('Storage used');

  await birds.getByRole('button', { name: 'Make available offline' }).click();
  await expect(birds).toHaveAttribute('data-offline', 'yes');
  await expect(birds).toContainText('Available offline');
  await expect(page.getByTestId('persistence')).not.toContainText('downloading a model asks');
  const [name] = await modelCaches(page, 'inat-birds-mobilenet-v2');
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
  await expect(page.getByRole('dialog')).toHaveCount(0);
  expect(await modelCaches(page, 'inat-birds-mobilenet-v2')).toEqual([]);
});

test('in Auto mode every model it uses is offered offline, and removing one asks first', async ({
  app,
  page,
}) => {
  await app.pinBackend('wasm');
  await app.open();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  await expect(page.getByRole('radio', { name: /^Auto \(recommended\)/ })).toBeChecked();
  const packs = page.getByTestId('offline-pack');
  for (const id of [
    'imagenet-mobilenet-v2',
    'inat-birds-mobilenet-v2',
    'inat-insects-mobilenet-v2',
  ]) {
    await expect(packs.and(page.locator(`[data-model="${id}"]`))).toHaveAttribute(
      'data-in-use',
      'yes',
    );
  }

  // Everything Auto uses, in one go: the specialists too, which it would otherwise fetch
  // only when the first bird or insect shows up.
  await page.getByRole('button', { name: 'Make all in use available offline' }).click();
  for (const pack of await packs.all()) await expect(pack).toHaveAttribute('data-offline', 'yes');
  await expect(page.getByTestId('offline-in-use')).toHaveCount(0);

  const birds = page.locator('[data-testid="offline-pack"][data-model="inat-birds-mobilenet-v2"]');
  const dialog = page.getByRole('dialog', { name: 'Remove Birds (iNaturalist) from this device?' });
  await birds.getByRole('button', { name: 'Remove' }).click();
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('which needs the network');
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(birds).toHaveAttribute('data-offline', 'yes');
  expect(await modelCaches(page, 'inat-birds-mobilenet-v2')).toHaveLength(1);

  // Escape is no answer either: the model stays.
  await birds.getByRole('button', { name: 'Remove' }).click();
  await expect(dialog).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(birds).toHaveAttribute('data-offline', 'yes');

  await birds.getByRole('button', { name: 'Remove' }).click();
  await dialog.getByRole('button', { name: 'Remove' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(birds).toHaveAttribute('data-offline', 'no');
  expect(await modelCaches(page, 'inat-birds-mobilenet-v2')).toEqual([]);
  await expect(page.getByTestId('offline-in-use')).toContainText(
    'Birds (iNaturalist) is in use but needs the network.',
  );
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
