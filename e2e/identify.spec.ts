import { expect, test } from './fixtures';
import { imagenetAnimals } from './data';

const photos = imagenetAnimals();
const photo = (file: string) => photos.find((p) => p.file === file)!;

test.beforeEach(async ({ app }) => {
  await app.pinBackend('wasm');
  await app.open();
});

test('a photo chosen through "Choose photos" is identified on the device', async ({
  app,
  page,
}) => {
  const tench = photo('n01440764_tench.JPEG');
  await app.choose(tench.path);
  await app.resultFor(tench.file);
  const labels = await app.topLabels();
  expect(labels).toHaveLength(5);
  expect(tench.accepted).toContain(labels[0]);
  const probabilities = await app
    .predictions()
    .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-probability'))));
  expect([...probabilities].sort((a, b) => b - a)).toEqual(probabilities);
  await expect(page.getByTestId('backend')).toHaveText('wasm');
  const manifest = await (await page.request.get('/models/manifest.json')).json();
  const entry = manifest.models[manifest.defaultModel].stable;
  await expect(page.getByTestId('model-version')).toHaveText(`${entry.id}@${entry.version}`);
});

test('a dropped photo is identified', async ({ app }) => {
  // Not a bird: Auto would hand a bird to the birds model, whose labels are another list.
  const goldfish = photo('n01443537_goldfish.JPEG');
  await app.drop(goldfish.path);
  await app.resultFor(goldfish.file);
  expect(goldfish.accepted).toContain((await app.topLabels())[0]);
});

test('a pasted image is identified', async ({ app }) => {
  const frog = photo('n01644373_tree_frog.JPEG');
  await app.paste(frog.path);
  await app.resultFor(frog.file);
  expect(frog.accepted).toContain((await app.topLabels())[0]);
});

test('a data: URL is identified', async ({ app, page }) => {
  const tench = photo('n01440764_tench.JPEG');
  const { readFileSync } = await import('node:fs');
  const dataUrl = `data:image/jpeg;base64,${readFileSync(tench.path).toString('base64')}`;
  await page.getByLabel('Image address or data: URL').fill(dataUrl);
  await page.getByRole('button', { name: 'Fetch and identify' }).click();
  await app.resultFor('pasted-image');
  expect(tench.accepted).toContain((await app.topLabels())[0]);
});

test('a chosen folder becomes a batch, sub-folders included', async ({ app, page }) => {
  await page
    .getByLabel('Choose folder')
    .setInputFiles(photos[0]!.path.replace(/[^/]+$/, '../butterflies-leeds'));
  await expect(page.getByTestId('batch-count')).toHaveText(/^60 of 60$/, { timeout: 120_000 });
  await expect(page.getByTestId('batch-item')).toHaveCount(60);
  await expect(page.getByTestId('batch-waiting')).toHaveCount(0);
  void app;
});
