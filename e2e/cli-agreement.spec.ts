import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from './fixtures';
import { imagenetAnimals, imagenetLabels } from './data';

const run = promisify(execFile);

/** Output indices 1..398 of the ImageNet model are animals: the only answers the UI offers. */
const animalLines = new Set(imagenetLabels.slice(1, 399));

test('top-1 in the browser agrees with the CLI on shared photos', async ({ app, page }) => {
  test.setTimeout(300_000);
  const photos = imagenetAnimals()
    .filter((_, i) => i % 6 === 3)
    .slice(0, 60);
  expect(photos.length).toBe(60);

  const { stdout } = await run(
    'node',
    ['--import', 'tsx', 'src/cli/classify.ts', '--top', '30', ...photos.map((p) => p.path)],
    { maxBuffer: 64 * 1024 * 1024 },
  ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  const cli = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { file: string; top?: { label: string }[] });
  expect(cli).toHaveLength(photos.length);
  const cliTop1 = cli.map((line) => line.top?.find((t) => animalLines.has(t.label))?.label ?? null);

  await app.pinBackend('wasm');
  await app.open();
  await app.choose(...photos.map((p) => p.path));
  await expect(page.getByTestId('batch-count')).toHaveText(`${photos.length} of ${photos.length}`);
  const browserTop1 = await page
    .getByTestId('batch-item')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-label')));

  const agreeing = browserTop1.filter((label, i) => label !== null && label === cliTop1[i]).length;
  console.log(`browser and CLI agree on ${agreeing} of ${photos.length} photos`);
  expect(agreeing).toBeGreaterThanOrEqual(50);
});
