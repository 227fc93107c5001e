import AxeBuilder from '@axe-core/playwright';
import { expect, test } from './fixtures';
import { imagenetAnimals } from './data';

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

test('the web app manifest and the service worker make the app installable', async ({
  page,
  request,
}) => {
  await page.goto('/');
  const href = await page.locator('link[rel="manifest"]').getAttribute('href');
  expect(href).toBeTruthy();
  const manifest = await (await request.get(href!)).json();
  expect(manifest).toMatchObject({
    name: expect.any(String),
    short_name: expect.any(String),
    start_url: '/',
    display: 'standalone',
    theme_color: expect.stringMatching(/^#/),
    background_color: expect.stringMatching(/^#/),
  });
  expect(manifest.share_target).toMatchObject({ action: '/share-target', method: 'POST' });

  const images = [...manifest.icons, ...manifest.screenshots] as {
    src: string;
    sizes: string;
    purpose?: string;
  }[];
  for (const image of images) {
    const response = await request.get(image.src);
    expect(response.status(), image.src).toBe(200);
    expect(response.headers()['content-type'], image.src).toBe('image/png');
    const { width, height } = pngSize(await response.body());
    expect(`${width}x${height}`, image.src).toBe(image.sizes);
  }
  const sizes = manifest.icons.map((i: { sizes: string }) => i.sizes);
  expect(sizes).toEqual(expect.arrayContaining(['192x192', '512x512']));
  expect(manifest.icons.some((i: { purpose?: string }) => i.purpose?.includes('maskable'))).toBe(
    true,
  );

  await expect(page.getByTestId('backend')).toBeVisible();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  const scriptURL = await page.evaluate(() => navigator.serviceWorker.controller!.scriptURL);
  expect(new URL(scriptURL).pathname).toBe('/sw.js');
});

test('no serious or critical accessibility violation on any screen', async ({ app, page }) => {
  await app.pinBackend('wasm');
  await app.open();
  const scan = async (screen: string) => {
    const { violations } = await new AxeBuilder({ page }).analyze();
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(
      bad.map(
        (v) =>
          `${screen}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
      ),
    ).toEqual([]);
  };
  await scan('identify, empty');

  const photos = imagenetAnimals().slice(0, 3);
  await app.choose(photos[0]!.path);
  await app.resultFor(photos[0]!.file);
  await scan('identify, with a result');

  await app.choose(...photos.map((p) => p.path));
  await expect(page.getByTestId('batch-count')).toHaveText('3 of 3');
  await scan('batch');

  await page.getByRole('button', { name: 'History', exact: true }).click();
  await expect(page.getByTestId('history-item').first()).toBeVisible();
  await scan('history');

  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  await expect(page.getByTestId('offline-pack').first()).toBeVisible();
  await scan('settings');
});
