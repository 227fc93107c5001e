import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, expect, test } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../playwright.config';
import { MODELS_DIR } from './data';
import { AppPage } from './fixtures';
import { readModelFolder } from '../src/node/model-folder';
import {
  freePort,
  openServerRegistry,
  startServer,
  stopServer,
  waitForUrl,
} from '../test-support/server-process';

const run = promisify(execFile);

test('a new app version with a changed model manifest is offered, and runs after Reload', async () => {
  test.setTimeout(300_000);
  const work = mkdtempSync(path.join(tmpdir(), 'fieldid-update-'));
  const PORT = String(await freePort());
  const cleanup: (() => Promise<void>)[] = [];
  try {
    // Version 2: the same app rebuilt with another build id, serving a changed model
    // (one label line edited, so the model gets a new content version in the manifest).
    const dist2 = path.join(work, 'dist-2');
    await run('npx', ['vite', 'build', '--outDir', dist2, '--emptyOutDir'], {
      env: { ...process.env, APP_BUILD_ID: 'e2e-2' },
      maxBuffer: 64 * 1024 * 1024,
    });
    const models2 = path.join(work, 'models');
    cpSync(MODELS_DIR, models2, { recursive: true });
    const labels = path.join(models2, 'imagenet-mobilenet-v2/labels.txt');
    writeFileSync(
      labels,
      readFileSync(labels, 'utf8').replace(
        'tench, Tinca tinca',
        'tench, Tinca tinca (doctor fish)',
      ),
    );

    const context = await chromium.launchPersistentContext(path.join(work, 'profile'), {
      executablePath: CHROMIUM_EXECUTABLE,
      args: CHROMIUM_ARGS,
    });
    cleanup.push(() => context.close());
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const app = new AppPage(page);
    await app.pinBackend('wasm');

    // The built app, as `npm start` serves it, on a fixed port: the origin must survive the restart.
    const database = { SQLITE_PATH: path.join(work, 'feedback.sqlite') };
    const serve = async (env: Record<string, string>) => {
      const child = startServer({ PORT, DIST_DIR: 'dist', ...database, ...env });
      cleanup.push(() => stopServer(child));
      await waitForUrl(child);
      return child;
    };
    let server = await serve({});
    await page.goto(`http://localhost:${PORT}/`);
    await expect(page.getByTestId('backend')).toBeVisible();
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    const oldModel = await page.getByTestId('model-version').textContent();
    await stopServer(server);

    // A changed folder is only registered at start; the release makes it stable, as
    // `npm run model -- promote` would.
    const registry = await openServerRegistry(database);
    try {
      const id = 'imagenet-mobilenet-v2';
      const folder = await readModelFolder(path.join(models2, id), id);
      if (!folder.ok) throw new Error(folder.error.detail);
      const { version, files, card } = folder.value;
      const release = { actor: 'e2e', note: 'the updated labels' };
      expect((await registry.register({ id, version, files, card, ...release })).ok).toBe(true);
      expect((await registry.promote(id, version, release)).ok).toBe(true);
    } finally {
      await registry.close();
    }
    server = await serve({ DIST_DIR: dist2, MODELS_DIR: models2 });
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
    const prompt = page.getByTestId('update-prompt');
    await expect(prompt).toContainText('A new version is ready');
    await prompt.getByRole('button', { name: 'Reload' }).click();

    await expect(page.getByTestId('model-version')).not.toHaveText(oldModel!);
    await page.getByRole('button', { name: 'Settings' }).click();
    await expect(page.getByTestId('app-version')).toContainText('+e2e-2');
    await expect(page.getByTestId('update-prompt')).toHaveCount(0);
    expect(errors).toEqual([]);
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
});
