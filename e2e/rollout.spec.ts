import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test';
import { isComplete, modelCacheName } from '../src/core/cache-policy';
import type { ModelEntry } from '../src/core/model-manifest';
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
 * offline included: the installation that had stable stored before the rollout at an
 * in-page check (the network coming back), and one that joined during the rollout, with
 * only the candidate stored, at the check after the rollback, which downloads stable.
 */
test('a candidate at 0 % stays unused, at 100 % is used after the next check, and after a rollback the device is back on stable, offline too', async () => {
  test.setTimeout(420_000);
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
    const stableEntry = (await manifest()).models[GENERAL]!.stable;
    const stable = stableEntry.version;

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

    const first = await installation(path.join(work, 'profile'), origin);
    cleanup.push(() => first.context.close());
    const { page, app } = first;
    const version = page.getByTestId('model-version');
    await expect(version).toHaveText(`${GENERAL}@${stable}`);
    await storedComplete(page, stableEntry);

    // 100 %: every installation is in; a reload is the next manifest check.
    await rollout(100);
    await page.reload();
    await expect(version).toHaveText(`${GENERAL}@${candidate}`);
    await identifies(app, page);
    await page.getByRole('button', { name: 'Settings' }).click();
    const channel = page.locator(`[data-testid="model-channel"][data-model="${GENERAL}"]`);
    await expect(channel).toHaveAttribute('data-channel', 'candidate');
    await expect(channel).toContainText('Trying a new version (candidate)');

    // A second installation joins during the rollout: it never downloads stable.
    const second = await installation(path.join(work, 'profile-2'), origin);
    cleanup.push(() => second.context.close());
    const secondVersion = second.page.getByTestId('model-version');
    await expect(secondVersion).toHaveText(`${GENERAL}@${candidate}`);
    await identifies(second.app, second.page);
    expect(await cachedPaths(second.page, stable)).toEqual([]);

    await model('rollback', GENERAL, '--note', 'e2e: back to stable');
    await expect.poll(async () => (await manifest()).models[GENERAL]!.candidate ?? null).toBeNull();

    // The first installation checks in the page when the network comes back ("online").
    await first.context.setOffline(true);
    await page.waitForFunction(() => !navigator.onLine);
    await first.context.setOffline(false);
    await expect(version).toHaveText(`${GENERAL}@${stable}`);
    await expect(channel).toHaveAttribute('data-channel', 'stable');
    await expect(channel).toContainText('Stable version');
    // Stable was stored already: the withdrawn candidate's files go at that check.
    await expect.poll(() => hasCache(page, candidate)).toBe(false);
    await identifies(app, page);

    await first.context.setOffline(true);
    await page.reload();
    await expect(version).toHaveText(`${GENERAL}@${stable}`);
    await identifies(app, page);
    expect(first.errors).toEqual([]);
    await first.context.close();

    // The second installation's next check downloads stable, which then works offline.
    await second.page.reload();
    await expect(secondVersion).toHaveText(`${GENERAL}@${stable}`);
    await identifies(second.app, second.page);
    await storedComplete(second.page, stableEntry);
    await expect.poll(() => hasCache(second.page, candidate)).toBe(false);
    await second.context.setOffline(true);
    await second.page.reload();
    await expect(secondVersion).toHaveText(`${GENERAL}@${stable}`);
    await identifies(second.app, second.page);
    expect(second.errors).toEqual([]);
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
});

/** A browser profile of its own (its own secret, caches and service worker) on the app. */
async function installation(
  profile: string,
  origin: string,
): Promise<{ context: BrowserContext; page: Page; app: AppPage; errors: string[] }> {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_EXECUTABLE,
    args: CHROMIUM_ARGS,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const app = new AppPage(page);
  await app.pinBackend('wasm');
  await page.goto(origin);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  return { context, page, app, errors };
}

/** A goldfish photo (not a bird, so Auto keeps it with the general model) gets an answer. */
async function identifies(app: AppPage, page: Page): Promise<void> {
  const goldfish = imagenetAnimals().find((p) => p.file === 'n01443537_goldfish.JPEG')!;
  await page.getByRole('button', { name: 'Identify', exact: true }).click();
  await app.choose(goldfish.path);
  await expect(app.predictions().first()).toHaveAttribute('data-label', goldfish.accepted[0]!);
}

/** The file names in a version's cache of the general model; none when it has no cache. */
function cachedPaths(page: Page, version: string): Promise<string[]> {
  return page.evaluate(
    async (name) => {
      if (!(await caches.has(name))) return [];
      const keys = await (await caches.open(name)).keys();
      return keys.map((request) => new URL(request.url).pathname.split('/').pop() ?? '');
    },
    modelCacheName(GENERAL, version),
  );
}

function hasCache(page: Page, version: string): Promise<boolean> {
  return page.evaluate((name) => caches.has(name), modelCacheName(GENERAL, version));
}

/** Every file the manifest lists for `entry` is in its version's cache (the stored entry does not count). */
async function storedComplete(page: Page, entry: ModelEntry): Promise<void> {
  await expect
    .poll(async () => isComplete(entry, await cachedPaths(page, entry.version)), {
      timeout: 60_000,
    })
    .toBe(true);
}
