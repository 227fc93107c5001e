import AxeBuilder from '@axe-core/playwright';
import { readFileSync } from 'node:fs';
import type { APIRequestContext, Locator, Page } from '@playwright/test';
import { expect, test, exportedFeedback } from './fixtures';
import { dataPath, imagenetAnimals, imagenetLabels, readCsv } from './data';
import { parseCsvRows } from '../src/node/csv';

const TAXONOMY = JSON.parse(
  readFileSync(new URL('../src/core/imagenet-taxonomy.json', import.meta.url), 'utf8'),
) as {
  groups: { name: string; parent: number | null }[];
  classes: { group: number | null }[];
};

/** The ImageNet groups, broad to narrow, of the class a photo of imagenet-animals shows. */
function imagenetPath(file: string): string[] {
  const row = readCsv(dataPath('imagenet-animals/labels.csv')).find((r) => r.file === file)!;
  const path: string[] = [];
  let group = TAXONOMY.classes[Number(row.imagenet_indices!.split(' ')[0])]?.group ?? null;
  while (group !== null) {
    path.unshift(TAXONOMY.groups[group]!.name);
    group = TAXONOMY.groups[group]!.parent;
  }
  return path;
}

/** What axe finds that is serious or critical, as "rule: selector" lines. */
async function seriousViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
}

/** The card of the photo named `file`. */
function card(page: Page, file: string): Locator {
  return page.locator(`[data-testid="batch-item"][data-file="${file}"]`);
}

/** Opens a card to its full answer and reads the candidates it lists there. */
async function openCard(item: Locator) {
  const toggle = item.getByRole('button', { name: 'Full answer' });
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  await expect(item.getByTestId('verdict')).toBeVisible();
  return item.getByTestId('batch-prediction').evaluateAll((els) =>
    els.map((e) => ({
      label: e.getAttribute('data-label')!,
      probability: Number(e.getAttribute('data-probability')),
    })),
  );
}

async function download(page: Page, button: string): Promise<string> {
  const file = page.waitForEvent('download');
  await page.getByRole('button', { name: button }).click();
  return readFileSync(await (await file).path(), 'utf8');
}

interface StoredFeedback {
  record: {
    id: string;
    verdict: string;
    predicted: string | null;
    correctedLabel?: string;
    model: { id: string; version: string };
  };
}

function storedFeedback(request: APIRequestContext): Promise<StoredFeedback[]> {
  return exportedFeedback<StoredFeedback>(request);
}

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
    els.map((e) => {
      const title = e.querySelector('[data-testid="answer-title"]');
      return {
        file: e.getAttribute('data-file'),
        state: e.getAttribute('data-state'),
        label: e.getAttribute('data-label'),
        probability: Number(e.getAttribute('data-probability')),
        model: e.getAttribute('data-model'),
        via: e.getAttribute('data-via'),
        answerKind: title?.getAttribute('data-answer-kind') ?? null,
        path: title?.getAttribute('data-path') ?? null,
      };
    }),
  );
  expect(items.map((i) => i.file)).toEqual(photos.map((p) => p.file));
  expect(items.every((i) => i.state === 'done')).toBe(true);

  // Every card names its answer with the groups above it: all animals of the models sit
  // under "animal", so an answer that names something has a path.
  for (const item of items) {
    expect(['species', 'group', 'not-sure', 'no-animal'], item.file!).toContain(item.answerKind);
    if (item.answerKind === 'species' || item.answerKind === 'group') {
      expect(item.path, item.file!).toMatch(/\S/);
    }
  }
  // Three cards opened to their full answer: the candidates the export must list.
  const opened = new Map<string, { label: string; probability: number }[]>();
  for (const photo of photos.slice(0, 3)) {
    const item = card(page, photo.file);
    opened.set(photo.file, await openCard(item));
    await expect(item.getByTestId('batch-model')).toHaveText(
      (await item.getAttribute('data-model'))!,
    );
  }

  const csv = parseCsvRows(await download(page, 'Export CSV'));
  expect(csv.map((r) => r.file)).toEqual(items.map((i) => i.file));
  for (const [i, row] of csv.entries()) {
    const item = items[i]!;
    expect(row.label).toBe(item.label);
    expect(Number(row.probability)).toBeCloseTo(item.probability, 4);
    expect(row.backend).toBe('wasm');
    expect(row.model).toBe(item.model);
    expect(row.viaModel).toBe(item.via ?? '');
    expect(row.answerKind).toBe(item.answerKind);
    expect(row.answerPath).toBe(item.path);
    if (row.scientificName) expect(row.label).toContain(row.scientificName);
    expect(row.verdict).toBe('');
  }
  for (const [file, candidates] of opened) {
    const row = csv.find((r) => r.file === file)!;
    expect(candidates).toHaveLength(5);
    for (const [i, candidate] of candidates.entries()) {
      const rank = i === 0 ? '' : String(i + 1);
      expect(row[`label${rank}`]).toBe(candidate.label);
      expect(Number(row[`probability${rank}`])).toBeCloseTo(candidate.probability, 4);
      expect(row[`name${rank}`], `name${rank}`).toMatch(/\S/);
    }
  }

  // Auto mode: the general model answers, or hands a bird or an insect to its specialist.
  // The 20 photos hold birds and insects, so some are handed over; a photo handed over is
  // right when its ImageNet class lies in the group it was handed over for, one answered
  // by the general model when its label is one the data set accepts.
  const routed = csv.filter((row) => row.viaModel !== '');
  const general = csv.filter((row) => row.viaModel === '');
  expect(routed.length, 'photos handed to a specialist').toBeGreaterThan(0);
  expect(new Set(general.map((row) => row.model)).size).toBe(1);
  for (const row of routed) {
    expect(row.viaModel, row.file).toBe(general[0]!.model);
    expect(row.model, row.file).not.toBe(row.viaModel);
    expect(['bird', 'insect'], row.file).toContain(row.viaGroup);
    // The group the specialist covers heads the path of groups it answers with.
    expect(row.answerPath!.split(' > '), row.file).toContain(row.viaGroup);
  }
  const right = csv.filter((row, i) =>
    row.viaModel === ''
      ? photos[i]!.accepted.includes(row.label!)
      : imagenetPath(photos[i]!.file).includes(row.viaGroup!),
  ).length;
  expect(right, 'right on the batch').toBeGreaterThanOrEqual(16);

  const exported = JSON.parse(await download(page, 'Export JSON')) as {
    label: string;
    model: string;
    top: { label: string }[];
    answer: { kind: string; path: string[] } | null;
    via: { model: string; group: string } | null;
  }[];
  expect(exported.map((r) => r.label)).toEqual(items.map((i) => i.label));
  expect(exported.map((r) => r.answer?.kind ?? null)).toEqual(items.map((i) => i.answerKind));
  expect(exported.map((r) => r.via?.model ?? null)).toEqual(items.map((i) => i.via));
  expect(exported[0]!.top.map((c) => c.label)).toEqual(
    opened.get(photos[0]!.file)!.map((c) => c.label),
  );
});

test('each card takes "Correct" and "Wrong species?", naming the model that answered', async ({
  app,
  page,
  request,
}) => {
  const all = imagenetAnimals();
  // A fish the general model answers, a bird Auto mode hands to the birds model, a shark.
  const photos = [all[0]!, all.find((p) => p.file.endsWith('_chickadee.JPEG'))!, all[2]!];
  const before = (await storedFeedback(request)).length;
  await app.choose(...photos.map((p) => p.path));
  await expect(page.getByTestId('batch-count')).toHaveText('3 of 3');
  const [corrected, confirmed, untouched] = photos.map((p) => card(page, p.file));
  await expect(confirmed!).toHaveAttribute('data-via', /@/);
  const specialist = (await confirmed!.getAttribute('data-model'))!;
  const general = (await corrected!.getAttribute('data-model'))!;
  expect(specialist).not.toBe(general);

  await openCard(confirmed!);
  const confirmedLabel = (await confirmed!.getAttribute('data-label'))!;
  await confirmed!.getByRole('button', { name: 'Correct', exact: true }).click();
  await expect(confirmed!.getByTestId('verdict')).toHaveAttribute('data-kind', 'correct');
  await expect(confirmed!).toHaveAttribute('data-verdict', 'correct');

  await openCard(corrected!);
  const predicted = (await corrected!.getAttribute('data-label'))!;
  // Any other species of the model will do: what matters is that the choice is recorded.
  const chosen = [imagenetLabels[2]!, imagenetLabels[3]!].find((label) => label !== predicted)!;
  await corrected!.getByRole('button', { name: 'Wrong species?' }).click();
  const picker = page.getByRole('dialog', { name: 'Which species is it?' });
  await picker.getByLabel('Search species').fill(chosen.split(',')[0]!);
  await picker.locator(`[data-testid="species-option"][data-label="${chosen}"]`).click();
  await picker.getByRole('button', { name: 'Save correction' }).click();
  await expect(corrected!.getByTestId('verdict')).toHaveAttribute('data-kind', 'corrected');
  await expect(untouched!).not.toHaveAttribute('data-verdict', /./);
  expect(await seriousViolations(page), 'batch with two cards open').toEqual([]);

  // Both reach the server through the outbox, each naming the model that answered.
  await expect.poll(async () => (await storedFeedback(request)).length).toBe(before + 2);
  const sent = (await storedFeedback(request)).slice(before).map((line) => line.record);
  const ref = (model: string) => {
    const at = model.lastIndexOf('@');
    return { id: model.slice(0, at), version: model.slice(at + 1) };
  };
  expect(sent).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        verdict: 'correct',
        predicted: confirmedLabel,
        model: ref(specialist),
      }),
      expect.objectContaining({
        verdict: 'corrected',
        predicted,
        correctedLabel: chosen,
        model: ref(general),
      }),
    ]),
  );

  const csv = parseCsvRows(await download(page, 'Export CSV'));
  expect(csv.map((r) => [r.file, r.verdict, r.correctedLabel, r.model, r.viaModel])).toEqual([
    [photos[0]!.file, 'corrected', chosen, general, ''],
    [photos[1]!.file, 'correct', '', specialist, general],
    [photos[2]!.file, '', '', general, ''],
  ]);

  // The batch is one entry in the history, with the same verdicts and models.
  await page.getByRole('button', { name: 'History', exact: true }).click();
  const group = page.getByTestId('history-batch');
  await expect(group).toHaveAttribute('data-count', '3');
  await group.getByRole('button', { name: /^Batch of 3 photos/ }).click();
  const details = page.getByTestId('history-details');
  await group.locator(`[data-testid="history-item"][data-file="${photos[0]!.file}"]`).click();
  await expect(details.getByTestId('verdict')).toHaveAttribute('data-kind', 'corrected');
  await details.getByRole('button', { name: 'Close' }).click();
  await group.locator(`[data-testid="history-item"][data-file="${photos[1]!.file}"]`).click();
  await expect(details.getByTestId('verdict')).toHaveAttribute('data-kind', 'correct');
  await expect(details).toContainText(specialist);
  await expect(details.locator('dt:text-is("Handed over by") + dd')).toContainText(general);
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
