import { test as base, expect, type APIRequestContext, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { E2E_EXPORT_TOKEN, pinBackendScript } from '../playwright.config';

/**
 * Every test gets a page that fails the test on any uncaught page error, and an app
 * object with the few actions the specs share (the page object).
 */
export class AppPage {
  constructor(readonly page: Page) {}

  /** Pins a backend (as a user would in Settings) so no idle-time trial competes for CPU. */
  async pinBackend(backend: string) {
    await this.page.addInitScript(pinBackendScript(backend));
  }

  async open() {
    await this.page.goto('/');
    await expect(this.page.getByTestId('backend')).toBeVisible();
  }

  async choose(...files: string[]) {
    await this.page.getByLabel('Choose photos').setInputFiles(files);
  }

  /** Drops files on the page the way a browser does, through a real DataTransfer. */
  async drop(...files: string[]) {
    const payload = files.map((f) => ({
      name: path.basename(f),
      base64: readFileSync(f).toString('base64'),
    }));
    await this.page.evaluate((items) => {
      const transfer = new DataTransfer();
      for (const { name, base64 } of items) {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], name, { type: 'image/jpeg' }));
      }
      document.body.dispatchEvent(
        new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }),
      );
      document.body.dispatchEvent(
        new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }),
      );
    }, payload);
  }

  async paste(file: string) {
    const base64 = readFileSync(file).toString('base64');
    await this.page.evaluate(
      ({ name, base64 }) => {
        const transfer = new DataTransfer();
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], name, { type: 'image/png' }));
        document.dispatchEvent(
          new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }),
        );
      },
      { name: path.basename(file), base64 },
    );
  }

  predictions() {
    return this.page.getByTestId('prediction');
  }

  async topLabels(): Promise<string[]> {
    await expect(this.predictions().first()).toBeVisible();
    return this.predictions().evaluateAll((els) =>
      els.map((e) => e.getAttribute('data-label') ?? ''),
    );
  }

  /** The result of the photo named `name`, once shown (an older result may be on screen before). */
  async resultFor(name: string) {
    const result = this.page.locator(`[data-testid="result"][data-file="${name}"]`);
    await expect(result).toBeVisible();
    return result;
  }

  /** Result or error, whichever the photo named `name` ends in. */
  async outcomeFor(name: string) {
    const outcome = this.page.locator(
      `[data-testid="result"][data-file="${name}"], [data-testid="error"][data-file="${name}"]`,
    );
    await expect(outcome).toBeVisible();
    return outcome;
  }
}

export const test = base.extend<{ app: AppPage; pageErrors: Error[] }>({
  pageErrors: [
    async ({ page }, use) => {
      const errors: Error[] = [];
      page.on('pageerror', (error) => errors.push(error));
      await use(errors);
      expect(
        errors.map((e) => e.message),
        'uncaught errors on the page',
      ).toEqual([]);
    },
    { auto: true },
  ],
  app: async ({ page }, use) => {
    await use(new AppPage(page));
  },
});

/** What the server stored, through its export API (NDJSON): one parsed value per record. */
export async function exportedFeedback<T>(request: APIRequestContext): Promise<T[]> {
  const response = await request.get('/api/v1/feedback/export', {
    headers: { authorization: `Bearer ${E2E_EXPORT_TOKEN}` },
  });
  expect(response.status()).toBe(200);
  return (await response.text())
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

export { expect };
