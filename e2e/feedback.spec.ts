import { readFileSync } from 'node:fs';
import type { APIRequestContext } from '@playwright/test';
import { E2E_EXPORT_TOKEN } from '../playwright.config';
import { expect, test, exportedFeedback } from './fixtures';
import { imagenetAnimals, imagenetLabels } from './data';

interface ExportedLine {
  record: {
    id: string;
    verdict: string;
    predicted: string | null;
    correctedLabel?: string;
    day: string;
  };
}

/**
 * Records the server has answered as already stored. Its export cannot show a second send
 * (it keeps one copy per id); this counter can.
 */
async function duplicatesReceived(request: APIRequestContext): Promise<number> {
  const text = await (await request.get('/metrics')).text();
  const line = /^fieldid_feedback_records_total\{status="duplicate"\} (\d+)$/m.exec(text);
  return Number(line?.[1] ?? 0);
}

function storedRecords(request: APIRequestContext): Promise<ExportedLine[]> {
  return exportedFeedback<ExportedLine>(request);
}

test('a correction made offline reaches the server exactly once when the network is back', async ({
  app,
  page,
  context,
  request,
}) => {
  const before = (await storedRecords(request)).length;
  const duplicatesBefore = await duplicatesReceived(request);
  const tench = imagenetAnimals()[0]!;
  const goldfish = imagenetLabels[2]!; // "goldfish, Carassius auratus"
  await app.pinBackend('wasm');
  await app.open();
  await app.choose(tench.path);
  const result = await app.resultFor(tench.file);

  await context.setOffline(true);
  await expect(page.getByTestId('offline')).toBeVisible();
  await result.getByRole('button', { name: 'Wrong species?' }).click();
  const picker = page.getByRole('dialog', { name: 'Which species is it?' });
  await picker.getByLabel('Search species').fill('goldfsh'); // a typo on purpose
  await picker.locator(`[data-testid="species-option"][data-label="${goldfish}"]`).click();
  await picker.getByRole('button', { name: 'Save correction' }).click();
  await expect(result.getByTestId('verdict')).toHaveAttribute('data-kind', 'corrected');
  await expect(page.getByTestId('outbox-count')).toHaveAttribute('data-count', '1');
  expect((await storedRecords(request)).length).toBe(before);

  await context.setOffline(false);
  await expect(page.getByTestId('outbox-count')).toHaveCount(0);
  const after = await storedRecords(request);
  expect(after.length).toBe(before + 1);
  const stored = after.at(-1)!.record;
  expect(stored).toMatchObject({
    verdict: 'corrected',
    correctedLabel: goldfish,
    predicted: tench.accepted[0],
  });
  expect(stored.day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  // Coming online wakes both the page and the worker's Background Sync; only one may send.
  // (That a delivered record is never sent again is unit-tested in src/outbox/outbox.test.ts.)
  expect(await duplicatesReceived(request)).toBe(duplicatesBefore);

  // The verdict is in the history entry too.
  await page.getByRole('button', { name: 'History', exact: true }).click();
  await page.locator(`[data-testid="history-item"][data-file="${tench.file}"]`).first().click();
  await expect(page.getByTestId('history-details').getByTestId('verdict')).toHaveAttribute(
    'data-kind',
    'corrected',
  );
});

test('a photo shared with a correction leaves the device re-encoded, small and without metadata', async ({
  app,
  page,
  request,
}) => {
  const { dataPath } = await import('./data');
  const { checkPhoto } = await import('../src/core/photo-policy');
  // A phone photo with EXIF (orientation), which must not survive the re-encoding.
  const file = 'jpeg_exif_orientation6_domestic_dog.jpg';
  expect(readFileSync(dataPath('odd-inputs', file)).includes(Buffer.from('Exif'))).toBe(true);
  await app.pinBackend('wasm');
  await app.open();
  await app.choose(dataPath('odd-inputs', file));
  const result = await app.resultFor(file);
  await result.getByRole('button', { name: /Wrong species\?|Pick the species/ }).click();
  const picker = page.getByRole('dialog', { name: 'Which species is it?' });
  await picker.getByRole('button', { name: 'Other / unknown species' }).click();
  await picker.getByLabel('Its name, if you know it (optional)').fill('Czechoslovakian wolfdog');
  await picker.getByLabel(/Also send the photo/).check();
  await picker.getByRole('button', { name: 'Save correction' }).click();
  await expect(result.getByTestId('verdict')).toHaveAttribute('data-kind', 'unknown-species');
  await expect(page.getByTestId('outbox-count')).toHaveCount(0);

  const response = await request.get('/api/v1/feedback/export?photos=1', {
    headers: { authorization: `Bearer ${E2E_EXPORT_TOKEN}` },
  });
  const lines = (await response.text())
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const mine = lines.find((l) => l.record.freeTextName === 'Czechoslovakian wolfdog');
  expect(mine.hasPhoto).toBe(true);
  const jpeg = new Uint8Array(Buffer.from(mine.record.photo, 'base64'));
  const check = checkPhoto(jpeg);
  expect(check).toMatchObject({ ok: true });
  if (check.ok) expect(Math.max(check.width, check.height)).toBeLessThanOrEqual(512);
  expect(Buffer.from(jpeg).includes(Buffer.from('Exif'))).toBe(false);
});
