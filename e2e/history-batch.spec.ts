import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { imagenetAnimals } from './data';

/** What axe finds that is serious or critical, as "rule: selector" lines. */
async function seriousViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
}

test.beforeEach(async ({ app }) => {
  await app.pinBackend('wasm');
  await app.open();
});

test('a batch is one entry in the history, opens to its photos and is removed at once', async ({
  app,
  page,
}) => {
  const [single, ...batch] = imagenetAnimals().slice(0, 4);
  await app.choose(single!.path);
  await app.resultFor(single!.file);
  await app.choose(...batch.map((p) => p.path));
  await expect(page.getByTestId('batch-count')).toHaveText('3 of 3');

  await page.getByRole('button', { name: 'History', exact: true }).click();
  const group = page.getByTestId('history-batch');
  await expect(group).toHaveCount(1);
  await expect(group).toHaveAttribute('data-count', '3');
  const toggle = group.getByRole('button', { name: /^Batch of 3 photos/ });
  await expect(toggle).toContainText(/identified|not sure|no animal/);
  // Closed, the batch's photos are not listed; the photo identified on its own is.
  await expect(page.getByTestId('history-item')).toHaveCount(1);
  await expect(
    page.locator(`[data-testid="history-item"][data-file="${single!.file}"]`),
  ).toBeVisible();
  for (const photo of batch) {
    await expect(page.locator(`[data-file="${photo.file}"]`)).toHaveCount(0);
  }

  // By keyboard, as a disclosure.
  await toggle.focus();
  await page.keyboard.press('Enter');
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  const members = group.locator('[data-testid="history-item"]');
  await expect(members).toHaveCount(3);
  expect(await seriousViolations(page), 'history with a batch open').toEqual([]);
  const files = await members.evaluateAll((els) => els.map((e) => e.getAttribute('data-file')));
  // Photos answered in the same moment have no order among them: compare the sets.
  expect(files.sort()).toEqual(batch.map((p) => p.file).sort());
  await page.keyboard.press('Enter');
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await expect(members).toHaveCount(0);

  // Asked first; keeping it changes nothing.
  await group.getByRole('button', { name: 'Remove batch…' }).click();
  const confirm = page.getByRole('dialog', { name: 'Remove this batch?' });
  await expect(confirm).toContainText('All 3 observations');
  expect(await seriousViolations(page), 'remove a batch?').toEqual([]);
  await confirm.getByRole('button', { name: 'Keep batch' }).click();
  await expect(confirm).toBeHidden();
  await expect(group).toHaveAttribute('data-count', '3');

  await group.getByRole('button', { name: 'Remove batch…' }).click();
  await confirm.getByRole('button', { name: 'Remove batch', exact: true }).click();
  await expect(group).toHaveCount(0);
  await expect(page.getByTestId('history-storage')).toContainText(/^1 observation on this device/);
  await expect(
    page.locator(`[data-testid="history-item"][data-file="${single!.file}"]`),
  ).toBeVisible();

  // Gone from the device, not only from the screen.
  await page.reload();
  await expect(page.getByTestId('backend')).toBeVisible();
  await page.getByRole('button', { name: 'History', exact: true }).click();
  await expect(page.getByTestId('history-storage')).toContainText(/^1 observation on this device/);
  await expect(page.getByTestId('history-batch')).toHaveCount(0);
  await expect(page.getByTestId('history-item')).toHaveCount(1);
});
