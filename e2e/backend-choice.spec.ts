import { expect, test } from './fixtures';
import { imagenetAnimals } from './data';

test('automatic backend: answers at once on wasm, then measures the others in idle time', async ({
  app,
  page,
}) => {
  test.setTimeout(300_000);
  await app.open();
  const tench = imagenetAnimals()[0]!;
  await app.choose(tench.path);
  await app.resultFor(tench.file);
  await expect(page.getByTestId('backend')).toHaveText('wasm');
  expect(tench.accepted).toContain((await app.topLabels())[0]);

  await page.getByRole('button', { name: 'Settings' }).click();
  const figures = page.getByTestId('backend-measurements');
  await expect(figures).toBeVisible({ timeout: 240_000 });
  const remembered = await page.evaluate(() =>
    Object.keys(localStorage)
      .filter((k) => k.startsWith('fieldid-backend-choice:'))
      .map((k) => JSON.parse(localStorage.getItem(k)!)),
  );
  expect(remembered).toHaveLength(1);
  const { backend, mediansMs } = remembered[0] as {
    backend: string;
    mediansMs: Record<string, number | null>;
  };
  const measured = Object.entries(mediansMs).filter((e): e is [string, number] => e[1] !== null);
  const fastest = measured.reduce((a, b) => (b[1] < a[1] ? b : a));
  expect(mediansMs[backend]).not.toBeNull();
  // The choice is the fastest measured, or within the switch margin of it.
  expect(mediansMs[backend]!).toBeLessThanOrEqual(fastest[1] / 0.9);
  await expect(page.getByTestId('backend')).toHaveText(backend);
});
