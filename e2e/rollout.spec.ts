import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, expect, test, type Page } from '@playwright/test';
import { modelCacheName } from '../src/core/cache-policy';
import { parseChannelManifest, type ChannelManifest } from '../src/core/model-channels';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../playwright.config';
import { imagenetAnimals, MODELS_DIR } from './data';
import { AppPage } from './fixtures';
import { freePort, startServer, stopServer, waitForUrl } from '../test-support/server-process';

const run = promisify(execFile);
const GENERAL = 'imagenet-mobilenet-v2';

/**
 * A release as the team makes it, against a server of its own (its own database, model
 * store and origin, so no other spec sees the candidate): `npm run model` registers a new
 * version of the general model and rolls it out; the app takes it at the next manifest
 * check when its installation is in the share, and falls back to stable after a rollback,
 * offline included.
 */
test('a candidate at 0 % stays unused, at 100 % is used after the next check, and after a rollback the device is back on stable, offline too', async () => {
  test.setTimeout(300_000);
  const work = mkdtempSync(path.join(tmpdir(), 'fieldid-rollout-'));
  const env = {
    SQLITE_PATH: path.join(work, 'registry.sqlite'),
    MODEL_STORE_DIR: path.join(work, 'store'),
    MODEL_REFRESH_MS: '500',
    DATABASE_URL: '',
    PG_SCHEMA: '',
    MODEL_STORE: '',
  };
  const cleanup: (() => Promise<void>)[] = [];
  try {
    const server = startServer({ ...env, PORT: String(await freePort()), DIST_DIR: 'dist' });
    cleanup.push(() => stopServer(server));
    const origin = await waitForUrl(server);
    const model = (...args: string[]) =>
      run('npm', ['run', '--silent', 'model', '--', ...args, '--by', 'e2e'], {
        env: { ...process.env, ...env },
      });
    const manifest = async (): Promise<ChannelManifest> => {
      const parsed = parseChannelManifest(
        await (await fetch(`${origin}/models/manifest.json`)).json(),
      );
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.manifest;
    };
    const stable = (await manifest()).models[GENERAL]!.stable.version;

    // The new version: the same weights and labels, converted again (another converter
    // note in model.json), so its files and therefore its content version differ.
    const folder = path.join(work, 'candidate', GENERAL);
    cpSync(path.join(MODELS_DIR, GENERAL), folder, { recursive: true });
    const graph = JSON.parse(readFileSync(path.join(folder, 'model.json'), 'utf8'));
    writeFileSync(
      path.join(folder, 'model.json'),
      JSON.stringify({ ...graph, convertedBy: 'fieldid e2e re-conversion' }),
    );
    const added = (await model('add', folder, '--note', 'a re-conversion')).stdout.trim();
    const candidate = added.split('@')[1]!;
    expect(added).toBe(`${GENERAL}@${candidate}`);
    expect(candidate).not.toBe(stable);

    const rollout = async (percent: number) => {
      await model('rollout', `${GENERAL}@${candidate}`, '--percent', String(percent));
      // The server picks the change up from the database, without a restart.
      await expect
        .poll(async () => (await manifest()).models[GENERAL]!.candidate?.percent ?? null)
        .toBe(percent);
    };
    await rollout(0);

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
    await page.goto(origin);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    const version = page.getByTestId('model-version');
    await expect(version).toHaveText(`${GENERAL}@${stable}`);

    // 100 %: every installation is in; a reload is the next manifest check.
    await rollout(100);
    await page.reload();
    await expect(version).toHaveText(`${GENERAL}@${candidate}`);
    await identifies(app, page);
    await page.getByRole('button', { name: 'Settings' }).click();
    const channel = page.locator(`[data-testid="model-channel"][data-model="${GENERAL}"]`);
    await expect(channel).toHaveAttribute('data-channel', 'candidate');
    await expect(channel).toContainText('Trying a new version (candidate)');

    // Rolled back: stable again at the next check, downloaded, and kept for offline use.
    await model('rollback', GENERAL, '--note', 'e2e: back to stable');
    await expect.poll(async () => (await manifest()).models[GENERAL]!.candidate ?? null).toBeNull();
    await page.reload();
    await expect(version).toHaveText(`${GENERAL}@${stable}`);
    await identifies(app, page);
    await cached(page, stable);

    await context.setOffline(true);
    await page.reload();
    await expect(version).toHaveText(`${GENERAL}@${stable}`);
    await identifies(app, page);
    expect(errors).toEqual([]);
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
});

/** A goldfish photo (not a bird, so Auto keeps it with the general model) gets an answer. */
async function identifies(app: AppPage, page: Page): Promise<void> {
  const goldfish = imagenetAnimals().find((p) => p.file === 'n01443537_goldfish.JPEG')!;
  await page.getByRole('button', { name: 'Identify', exact: true }).click();
  await app.choose(goldfish.path);
  await expect(app.predictions().first()).toHaveAttribute('data-label', goldfish.accepted[0]!);
}

/** Every file of the stable version is in its own cache. */
async function cached(page: Page, version: string): Promise<void> {
  await expect
    .poll(
      () =>
        page.evaluate(
          async (name) => {
            const cache = await caches.open(name);
            return (await cache.keys()).length;
          },
          modelCacheName(GENERAL, version),
        ),
      { timeout: 60_000 },
    )
    .toBeGreaterThanOrEqual(3);
}
