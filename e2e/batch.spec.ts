import { readFileSync } from 'node:fs';
import { expect, test } from './fixtures';
import { imagenetAnimals } from './data';
import { parseCsvRows } from '../src/node/csv';

test.beforeEach(async ({ app }) => {
  await app.pinBackend('wasm');
  await app.open();
});

test('a 20-photo batch shows progress and exports a CSV matching its results', async ({
  app,
  page,
}) => {
  const photos = imagenetAnimals()
    .filter((_, i) => i % 19 === 0)
    .slice(0, 20);
  expect(photos).toHaveLength(20);

  // Record every progress value the page shows, to see it move rather than jump to the end.
  await page.evaluate(() => {
    const seen = new Set<string>();
    (window as unknown as { progressSeen: Set<string> }).progressSeen = seen;
    new MutationObserver(() => {
      const bar = document.querySelector('[data-testid="batch-progress"]');
      if (bar) seen.add(bar.getAttribute('value') ?? '');
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });

  await app.choose(...photos.map((p) => p.path));
  await expect(page.getByTestId('batch-progress')).toBeVisible();
  await expect(page.getByTestId('batch-count')).toHaveText('20 of 20');
  const seen = await page.evaluate(() => [
    ...(window as unknown as { progressSeen: Set<string> }).progressSeen,
  ]);
  expect(
    seen.filter((v) => v !== '0' && v !== '20').length,
    `progress values seen: ${seen}`,
  ).toBeGreaterThan(0);

  const items = await page.getByTestId('batch-item').evaluateAll((els) =>
    els.map((e) => ({
      file: e.getAttribute('data-file'),
      state: e.getAttribute('data-state'),
      label: e.getAttribute('data-label'),
      probability: Number(e.getAttribute('data-probability')),
    })),
  );
  expect(items.map((i) => i.file)).toEqual(photos.map((p) => p.file));
  expect(items.every((i) => i.state === 'done')).toBe(true);
  const right = items.filter((item, i) => photos[i]!.accepted.includes(item.label!)).length;
  expect(right, 'top-1 right on the batch').toBeGreaterThanOrEqual(16);

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const csv = parseCsvRows(readFileSync(await (await download).path(), 'utf8'));
  expect(csv.map((r) => r.file)).toEqual(items.map((i) => i.file));
  for (const [i, row] of csv.entries()) {
    expect(row.label).toBe(items[i]!.label);
    expect(Number(row.probability)).toBeCloseTo(items[i]!.probability, 4);
    expect(row.backend).toBe('wasm');
  }

  const json = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export JSON' }).click();
  const exported = JSON.parse(readFileSync(await (await json).path(), 'utf8'));
  expect(exported.map((r: { label: string }) => r.label)).toEqual(items.map((i) => i.label));
});

test('a batch can be cancelled, and the page goes on working', async ({ app, page }) => {
  const photos = imagenetAnimals().slice(0, 60);
  await app.choose(...photos.map((p) => p.path));
  await expect(page.getByTestId('batch-count')).not.toHaveText('0 of 60');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByText(/^Cancelled in/)).toBeVisible();
  const done = Number((await page.getByTestId('batch-count').textContent())!.split(' ')[0]);
  expect(done).toBeLessThan(60);

  await page.getByRole('button', { name: 'Identify', exact: true }).click();
  await app.choose(photos[0]!.path);
  await app.resultFor(photos[0]!.file);
  expect(photos[0]!.accepted).toContain((await app.topLabels())[0]);
});
