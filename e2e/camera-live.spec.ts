import { test as base, expect, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../playwright.config';
import { writePhotoAsY4m, type PhotoVideoOptions } from '../test-support/y4m';
import { imagenetAnimals } from './data';
import { AppPage } from './fixtures';

/**
 * The live camera on Chromium's fake device, fed a real photo as a y4m video written at
 * test time: every frame is that photo, so the answer over the preview is known from the
 * photo's label, however many frames the page has identified by then.
 */

/** No specialist model covers mammals, so the general model's label line is the answer's. */
const panda = imagenetAnimals().find((p) => p.file === 'n02510455_giant_panda.JPEG')!;

interface FakeCamera {
  photo: string;
  video?: PhotoVideoOptions;
}

/**
 * The fake device reads its file when the browser starts, so each test launches its own
 * browser on its own scene (a worker-scoped option could not change per describe block).
 * Like the shared fixtures, any uncaught error on the page fails the test.
 */
const test = base.extend<{ fakeCamera: FakeCamera; app: AppPage; page: Page }>({
  fakeCamera: [{ photo: panda.path }, { option: true }],
  page: async ({ fakeCamera, playwright, baseURL }, use) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldid-camera-'));
    const file = path.join(dir, 'camera.y4m');
    await writePhotoAsY4m(fakeCamera.photo, file, fakeCamera.video);
    const browser = await playwright.chromium.launch({
      executablePath: CHROMIUM_EXECUTABLE,
      args: [...CHROMIUM_ARGS, `--use-file-for-fake-video-capture=${file}`],
    });
    try {
      const page = await (await browser.newContext({ baseURL })).newPage();
      const errors: Error[] = [];
      page.on('pageerror', (error) => errors.push(error));
      await use(page);
      expect(
        errors.map((e) => e.message),
        'uncaught errors on the page',
      ).toEqual([]);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
  app: async ({ page }, use) => {
    await use(new AppPage(page));
  },
});

interface ClassifyStats {
  sent: number;
  maxInFlight: number;
}

test.beforeEach(async ({ app, page }) => {
  // Counts the classify requests the page sends its workers, and how many wait at once.
  await page.addInitScript(() => {
    const stats = { sent: 0, maxInFlight: 0 };
    (window as unknown as { classifyStats: typeof stats }).classifyStats = stats;
    let inFlight = 0;
    const Original = window.Worker;
    window.Worker = class extends Original {
      private readonly open = new Set<number>();
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, options);
        this.addEventListener('message', (event: MessageEvent) => {
          const data = event.data as { type?: string; requestId?: number };
          if (data?.type === 'reply' && this.open.delete(data.requestId ?? -1)) inFlight--;
        });
      }
      override postMessage(message: unknown, transfer?: unknown) {
        const request = message as { type?: string; requestId?: number };
        if (request?.type === 'classify' && request.requestId !== undefined) {
          this.open.add(request.requestId);
          stats.sent++;
          stats.maxInFlight = Math.max(stats.maxInFlight, ++inFlight);
        }
        super.postMessage(message, transfer as Transferable[]);
      }
    };
  });
  await app.pinBackend('wasm');
  await app.open();
  await page.getByRole('button', { name: 'Use camera' }).click();
  await expect(page.getByLabel('Camera preview')).toBeVisible();
});

const classifyStats = (page: Page) =>
  page.evaluate(() => (window as unknown as { classifyStats: ClassifyStats }).classifyStats);

test('the live camera shows the answer over the preview, and Capture keeps it in the history', async ({
  app,
  page,
}) => {
  const overlay = page.getByTestId('live-answer');
  await expect(overlay).toHaveAttribute('data-state', 'answered');
  const shownLabel = await overlay.getAttribute('data-label');
  expect(panda.accepted).toContain(shownLabel);
  await expect(overlay.getByTestId('answer-title')).toBeVisible();

  // Identified continuously, one frame at a time.
  await page.waitForFunction(
    () => (window as unknown as { classifyStats: ClassifyStats }).classifyStats.sent >= 3,
  );
  expect((await classifyStats(page)).maxInFlight).toBe(1);

  await page.getByRole('button', { name: 'Capture' }).click();
  const result = await app.resultFor('camera photo');
  expect(panda.accepted).toContain((await app.topLabels())[0]);
  await expect(result.getByTestId('warnings')).toHaveCount(0);

  // A second capture in a row, and the two combined as one animal.
  await page.getByRole('button', { name: 'Capture' }).click();
  await page.getByRole('button', { name: /One animal: combine the 2 captures/ }).click();
  const combined = page.getByTestId('result');
  await expect(combined).toHaveAttribute('data-file', /one animal$/);
  await expect(combined.getByTestId('same-animal-part')).toHaveCount(2);
  expect(panda.accepted).toContain((await app.topLabels())[0]);

  await page.getByRole('button', { name: 'Close camera' }).click();
  await page.getByRole('button', { name: 'History' }).click();
  const entries = page.locator('[data-testid="history-item"][data-file="camera photo"]');
  await expect(entries).toHaveCount(2);
  for (const label of await entries.evaluateAll((els) =>
    els.map((e) => e.getAttribute('data-label')),
  )) {
    expect(panda.accepted).toContain(label);
  }
  await expect(entries.first()).toHaveAttribute('data-kind', 'animal');
  expect((await classifyStats(page)).maxInFlight).toBe(1);
});

test.describe('a frame through a covered lens', () => {
  test.use({ fakeCamera: { photo: panda.path, video: { brightness: 0.04 } } });

  test('is warned about over the preview, not named', async ({ app, page }) => {
    const overlay = page.getByTestId('live-answer');
    await expect(overlay).toHaveAttribute('data-state', 'answered');
    await expect(overlay.getByTestId('live-warnings').locator('li')).toHaveAttribute(
      'data-code',
      'TOO_DARK',
    );
    await expect(overlay).not.toHaveAttribute('data-label');
    await expect(overlay.getByTestId('answer-title')).toHaveCount(0);

    // Captured all the same (the user asked), the result carries the warning.
    await page.getByRole('button', { name: 'Capture' }).click();
    const result = await app.resultFor('camera photo');
    await expect(result.locator('[data-testid="warnings"] li')).toHaveAttribute(
      'data-code',
      'TOO_DARK',
    );
  });
});

test.describe('a camera with a tiny picture', () => {
  test.use({ fakeCamera: { photo: panda.path, video: { size: { width: 16, height: 16 } } } });

  test('is warned about over the preview, not named', async ({ page }) => {
    const overlay = page.getByTestId('live-answer');
    await expect(overlay).toHaveAttribute('data-state', 'answered');
    await expect(overlay.getByTestId('live-warnings').locator('li')).toHaveAttribute(
      'data-code',
      'TINY_IMAGE',
    );
    await expect(overlay).not.toHaveAttribute('data-label');
  });
});
