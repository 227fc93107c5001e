import { readFileSync } from 'node:fs';
import type { APIRequestContext, Locator, Page } from '@playwright/test';
import { dataPath, imagenetAnimals, imagenetLabels, readCsv } from './data';
import { expect, test, exportedFeedback } from './fixtures';

/** WordNet's "domestic cat, house cat": the synset whose ImageNet classes "cat" must find. */
const HOUSE_CAT_WNID = 'n02121808';

/**
 * The label lines of the ImageNet classes under a synset, read from ImageNet's own WordNet
 * edges rather than from the app's derived table, so that a wrong table fails the test.
 */
function labelLinesUnder(wnid: string): string[] {
  const children = new Map<string, string[]>();
  for (const edge of readFileSync(dataPath('taxonomy', 'wordnet.is_a.txt'), 'utf8').split('\n')) {
    const [parent, child] = edge.trim().split(/\s+/);
    if (parent && child) children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const under = new Set<string>();
  const stack = [wnid];
  for (let at = stack.pop(); at !== undefined; at = stack.pop()) {
    for (const child of children.get(at) ?? []) {
      if (!under.has(child)) stack.push(child);
      under.add(child);
    }
  }
  return readCsv(dataPath('imagenet_classes.csv'))
    .filter((row) => under.has(row.wnid!))
    .map((row) => imagenetLabels[Number(row.index) + 1]!);
}

/** The ImageNet class one of whose words is `word`, and the short name people use for it. */
function classWithWord(word: string): { line: string; everydayName: string } {
  const simple = JSON.parse(
    readFileSync(dataPath('taxonomy', 'imagenet-simple-labels.json'), 'utf8'),
  ) as string[];
  const output = imagenetLabels.findIndex((line) => line.split(', ').includes(word));
  expect(output, `a class called ${word}`).toBeGreaterThan(0);
  return { line: imagenetLabels[output]!, everydayName: simple[output - 1]! };
}

function storedRecords(request: APIRequestContext) {
  return exportedFeedback<{
    record: { verdict: string; predicted: string | null; correctedLabel?: string };
  }>(request);
}

const labelsOf = (options: Locator) =>
  options.evaluateAll((els) => els.map((e) => e.getAttribute('data-label') ?? ''));

/** Text and effective background colour of an element, as the browser paints them. */
function paint(element: Locator): Promise<{ color: string; background: string }> {
  return element.evaluate((el) => {
    let background = 'rgb(255, 255, 255)';
    for (let at: Element | null = el; at !== null; at = at.parentElement) {
      const colour = getComputedStyle(at).backgroundColor;
      if (colour !== 'transparent' && !/^rgba\(.*,\s*0\)$/.test(colour)) {
        background = colour;
        break;
      }
    }
    return { color: getComputedStyle(el).color, background };
  });
}

/** WCAG 2 contrast ratio of two opaque `rgb()` colours. */
function contrast(a: string, b: string): number {
  const luminance = (colour: string) => {
    const [r, g, bl] = (colour.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light! + 0.05) / (dark! + 0.05);
}

async function pressTabUntil(page: Page, target: Locator, maxPresses = 20) {
  for (let i = 0; i < maxPresses; i++) {
    if (await target.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  await expect(target).toBeFocused();
}

test('the picker offers the photo’s candidates first and is operable with the keyboard alone', async ({
  app,
  page,
  request,
}) => {
  const houseCats = labelLinesUnder(HOUSE_CAT_WNID);
  expect(houseCats.length).toBeGreaterThan(1);
  const polarBear = classWithWord('ice bear');
  const photo = imagenetAnimals().find((p) => p.file.endsWith('_tabby.JPEG'))!;
  const before = (await storedRecords(request)).length;

  await app.pinBackend('wasm');
  await app.open();
  await app.choose(photo.path);
  const result = await app.resultFor(photo.file);
  const top = await app.topLabels();
  // A tabby seen as some house cat: its answer's narrowest group is then the house cats.
  expect(houseCats).toContain(top[0]);

  const opener = result.getByRole('button', { name: /Wrong species\?|Pick the species/ });
  await opener.focus();
  await page.keyboard.press('Enter');
  const picker = page.getByRole('dialog', { name: 'Which species is it?' });
  const search = picker.getByRole('combobox', { name: /Search species/ });
  await expect(search).toBeFocused();
  const options = picker.getByTestId('species-option');
  await expect(options).toHaveCount(top.length);
  expect(await labelsOf(options)).toEqual(top);

  const expectActive = async (at: number) => {
    const id = await options.nth(at).getAttribute('id');
    await expect(search).toHaveAttribute('aria-activedescendant', id!);
    await expect(options.nth(at)).toBeInViewport();
  };
  await expectActive(0);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowUp');
  await expectActive(1);
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const active = await paint(options.nth(1));
    const plain = await paint(options.nth(0));
    expect(active.background, `${colorScheme}: the active row stands out`).not.toBe(
      plain.background,
    );
    expect(contrast(active.color, active.background), colorScheme).toBeGreaterThanOrEqual(4.5);
    expect(contrast(plain.color, plain.background), colorScheme).toBeGreaterThanOrEqual(4.5);
    expect(contrast(active.background, plain.background), colorScheme).toBeGreaterThanOrEqual(3);
  }
  await page.emulateMedia({ colorScheme: null });

  await page.keyboard.press('Escape');
  await expect(picker).toBeHidden();
  await expect(opener).toBeFocused();

  // The groups of the answer come right after the search field, the house cats first.
  await page.keyboard.press('Enter');
  await expect(search).toBeFocused();
  await page.keyboard.press('Tab');
  const catGroup = picker.locator('[data-testid="picker-group"][data-group="cat"]');
  await expect(catGroup).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(catGroup).toHaveAttribute('aria-pressed', 'true');
  await expect.poll(async () => (await labelsOf(options)).sort()).toEqual([...houseCats].sort());
  await page.keyboard.press('Enter');
  await expect(catGroup).toHaveAttribute('aria-pressed', 'false');
  await expect.poll(() => labelsOf(options)).toEqual(top);
  // Escape closes from any control of the dialog, not only from the search field.
  await page.keyboard.press('Escape');
  await expect(picker).toBeHidden();
  await expect(opener).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(search).toBeFocused();

  // Typing searches every species: a group name, another name of a synset.
  await page.keyboard.type('cat');
  await expect
    .poll(async () => (await labelsOf(options)).slice(0, houseCats.length).sort())
    .toEqual([...houseCats].sort());
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.type('ice bear');
  await expect(options.first()).toHaveAttribute('data-label', polarBear.line);
  await expect(options.first()).toContainText(polarBear.everydayName);

  // Pick another house cat than the model's first choice, by arrows and Enter.
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.type('cat');
  await expect
    .poll(async () => (await labelsOf(options)).slice(0, houseCats.length).sort())
    .toEqual([...houseCats].sort());
  const shown = await labelsOf(options);
  const target = shown.findIndex((line) => line !== top[0]);
  for (let i = 0; i < target; i++) await page.keyboard.press('ArrowDown');
  await expectActive(target);
  await page.keyboard.press('Enter');
  const chosen = shown[target]!;
  await expect(options.nth(target)).toHaveAttribute('aria-selected', 'true');
  await expect(picker.getByTestId('picker-choice')).toContainText('Chosen:');

  const save = picker.getByRole('button', { name: 'Save correction' });
  await pressTabUntil(page, save);
  await page.keyboard.press('Enter');
  await expect(picker).toBeHidden();
  await expect(result.getByTestId('verdict')).toHaveAttribute('data-kind', 'corrected');
  // The button that opened the picker gave way to the verdict; its "Change" takes the focus.
  await expect(result.getByRole('button', { name: 'Change' })).toBeFocused();
  await expect(page.getByTestId('outbox-count')).toHaveCount(0);
  await expect.poll(async () => (await storedRecords(request)).length).toBe(before + 1);
  expect((await storedRecords(request)).at(-1)!.record).toMatchObject({
    verdict: 'corrected',
    correctedLabel: chosen,
    predicted: top[0],
  });
});
