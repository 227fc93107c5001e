import type { Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test-support/server-process';
import { expect, test } from './fixtures';
import { imagenetAnimals } from './data';

/**
 * An image address on another site: one that allows other sites to read its images (CORS),
 * one that answers without allowing it, one nobody answers at, and a device that is offline.
 * The other site is a real https server on another port of this machine (the app fetches
 * other sites over https only), with a certificate made for the run.
 */

const photo = imagenetAnimals()[0]!;

let server: Server;
let site: string;
let certDir: string;
/** Each request the other site received: its path and how the browser fetched it. */
const received: { path: string; mode: string }[] = [];

test.use({ ignoreHTTPSErrors: true });

test.beforeAll(async () => {
  certDir = mkdtempSync(path.join(os.tmpdir(), 'fieldid-other-site-'));
  const key = path.join(certDir, 'key.pem');
  const cert = path.join(certDir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const jpeg = readFileSync(photo.path);
  server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    received.push({ path: url.pathname, mode: String(req.headers['sec-fetch-mode']) });
    const headers: Record<string, string> = { 'content-type': 'image/jpeg' };
    if (url.pathname.startsWith('/open/')) headers['access-control-allow-origin'] = '*';
    // Lets the page embed the image (CORP) but still not read it (no CORS header).
    if (url.pathname.startsWith('/embeddable/')) {
      headers['cross-origin-resource-policy'] = 'cross-origin';
    }
    res.writeHead(200, headers);
    res.end(jpeg);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  site = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

test.afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

test.beforeEach(async ({ app }) => {
  received.length = 0;
  await app.pinBackend('wasm');
  await app.open();
});

async function fetchAddress(page: Page, address: string) {
  await page.getByLabel('Image address or data: URL').fill(address);
  await page.getByRole('button', { name: 'Fetch and identify' }).click();
}

test('an image on a site that allows other sites to read it is identified', async ({
  app,
  page,
}) => {
  await fetchAddress(page, `${site}/open/${photo.file}`);
  await app.resultFor(photo.file);
  expect(photo.accepted).toContain((await app.topLabels())[0]);
});

test('a site that answers without allowing CORS is told apart from one that cannot be reached', async ({
  page,
}) => {
  const error = (file: string) => page.locator(`[data-testid="error"][data-file="${file}"]`);

  await fetchAddress(page, `${site}/closed/refused.jpg`);
  await expect(error('refused.jpg')).toHaveAttribute('data-code', 'CORS_BLOCKED');
  await expect(error('refused.jpg')).toContainText('does not allow other sites to read it');
  // The second request is the one that needs no permission: it showed the site answers.
  expect(received).toEqual([
    { path: '/closed/refused.jpg', mode: 'cors' },
    { path: '/closed/refused.jpg', mode: 'no-cors' },
  ]);

  await fetchAddress(page, `${site}/embeddable/embeddable.jpg`);
  await expect(error('embeddable.jpg')).toHaveAttribute('data-code', 'CORS_BLOCKED');

  const nobody = await freePort();
  await fetchAddress(page, `https://127.0.0.1:${nobody}/unreachable.jpg`);
  await expect(error('unreachable.jpg')).toHaveAttribute('data-code', 'HOST_UNREACHABLE');
  await expect(error('unreachable.jpg')).toContainText('could not be reached');
});

test('offline, an image address says the device is offline', async ({ page, context }) => {
  await context.setOffline(true);
  try {
    await fetchAddress(page, `${site}/open/offline.jpg`);
    const error = page.locator('[data-testid="error"][data-file="offline.jpg"]');
    await expect(error).toHaveAttribute('data-code', 'OFFLINE');
    await expect(error).toContainText('This device is offline');
  } finally {
    await context.setOffline(false);
  }
  expect(received).toEqual([]);
});

test('plain http from another site is refused before any request', async ({ page }) => {
  await fetchAddress(page, `${site.replace('https:', 'http:')}/open/insecure.jpg`);
  const error = page.locator('[data-testid="error"][data-file="insecure.jpg"]');
  await expect(error).toHaveAttribute('data-code', 'INSECURE_URL');
  await expect(error).toContainText('https://');
  expect(received).toEqual([]);
});
