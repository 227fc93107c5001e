import { expect, test } from './fixtures';

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
