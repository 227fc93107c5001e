import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { imagenetAnimals } from './data';
import { expect, test } from './fixtures';

const photos = imagenetAnimals();
const tench = photos.find((p) => p.file === 'n01440764_tench.JPEG')!;

/** What axe finds that is serious or critical, as "rule: selector" lines. */
async function seriousViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
}

/** Relative luminance of a computed `rgb(…)` colour, 0 for black to 1 for white. */
function luminance(rgb: string): number {
  const [r, g, b] = (rgb.match(/[\d.]+/g) ?? []).slice(0, 3).map((c) => {
    const v = Number(c) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

for (const colorScheme of ['light', 'dark'] as const) {
  test.describe(`in ${colorScheme} mode`, () => {
    test.use({ colorScheme });

    test('axe finds no serious or critical violation on any screen or dialog', async ({
      app,
      page,
      context,
    }) => {
      await app.pinBackend('wasm');
      await app.open();

      // Without this the dark run could pass on the light colours, which axe finds as readable.
      const colours = await page.evaluate(() => {
        const style = (el: Element) => getComputedStyle(el);
        return {
          page: style(document.documentElement).backgroundColor,
          text: style(document.body).color,
          statusBar: style(document.querySelector('.status-bar')!).backgroundColor,
        };
      });
      if (colorScheme === 'dark') {
        expect(luminance(colours.page), 'page background').toBeLessThan(0.05);
        expect(luminance(colours.text), 'text colour').toBeGreaterThan(0.6);
        expect(luminance(colours.statusBar), 'status bar').toBeLessThan(0.1);
      } else {
        expect(luminance(colours.page), 'page background').toBeGreaterThan(0.9);
        expect(luminance(colours.text), 'text colour').toBeLessThan(0.05);
      }

      const found: string[] = [];
      const scan = async (where: string) => {
        for (const line of await seriousViolations(page)) found.push(`${where} | ${line}`);
      };

      await scan('identify, empty');

      await app.choose(tench.path);
      await app.resultFor(tench.file);
      await scan('identify, with an answer');

      await page.getByRole('button', { name: /Wrong species\?|Pick the species/ }).click();
      const picker = page.getByRole('dialog', { name: 'Which species is it?' });
      await expect(picker.getByTestId('species-option').first()).toBeVisible();
      await picker.getByTestId('species-option').nth(1).click();
      await scan('species picker');
      await picker.getByRole('button', { name: 'Cancel' }).click();
      await expect(picker).toBeHidden();

      // Offline, a verdict waits in the outbox: the notices that say so are read on every
      // screen from here on. Nothing this test says reaches the feedback database.
      await context.setOffline(true);
      await expect(page.getByTestId('offline')).toBeVisible();
      await page.getByTestId('verdict').getByRole('button', { name: 'Correct' }).click();
      await expect(page.getByTestId('outbox-count')).toHaveAttribute('data-count', '1');
      await scan('identify, offline, a verdict waiting to be sent');

      const batch = photos.slice(0, 3);
      await app.choose(...batch.map((p) => p.path));
      await expect(page.getByTestId('batch-count')).toHaveText('3 of 3');
      await scan('batch');

      await page.getByRole('button', { name: 'History', exact: true }).click();
      await expect(page.getByTestId('history-item').first()).toBeVisible();
      await scan('history');

      await page.getByTestId('history-item').first().getByRole('button').click();
      const details = page.getByTestId('history-details');
      await expect(details).toBeVisible();
      await scan('history, one observation');
      await details.getByRole('button', { name: 'Close' }).click();
      await expect(details).toBeHidden();

      await page.getByRole('button', { name: 'Delete all…' }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete the whole history?' });
      await expect(confirm).toBeVisible();
      await scan('history, delete all?');
      await confirm.getByRole('button', { name: 'Keep history' }).click();
      await expect(confirm).toBeHidden();

      await page.getByRole('button', { name: 'Settings', exact: true }).click();
      await expect(page.getByTestId('offline-pack').first()).toBeVisible();
      await scan('settings');

      expect(found).toEqual([]);
    });
  });
}

/**
 * Everything that sticks out past the right or left edge of the viewport, except what a
 * clipping box (a scroll area, the visually hidden pattern) keeps from widening the page.
 */
async function sidewaysOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const root = document.documentElement;
    const width = root.clientWidth;
    const found: string[] = [];
    if (root.scrollWidth > width) found.push(`page: scrollWidth ${root.scrollWidth} > ${width}`);
    const name = (el: Element) => {
      const id = el.getAttribute('data-testid');
      const classes = [...el.classList].join('.');
      const text = (el.textContent ?? '').trim().slice(0, 40);
      return `${el.tagName.toLowerCase()}${id ? `[data-testid=${id}]` : ''}${classes ? `.${classes}` : ''} "${text}"`;
    };
    const visit = (el: Element) => {
      const rect = el.getBoundingClientRect();
      if (rect.width > 0 && (rect.right > width + 0.5 || rect.left < -0.5)) {
        found.push(`${name(el)}: ${rect.left.toFixed(0)}..${rect.right.toFixed(0)} of ${width}`);
      }
      const style = getComputedStyle(el);
      if (style.overflowX !== 'visible' || style.display === 'none') return;
      for (const child of el.children) visit(child);
    };
    visit(document.body);
    return found;
  });
}

test.describe('at 200 % text size on a phone', () => {
  test.use({ viewport: { width: 360, height: 740 } });

  test('nothing needs sideways scrolling, with or without an answer, in History and Settings', async ({
    app,
    page,
  }) => {
    await app.pinBackend('wasm');
    await app.open();

    // A browser's text-size setting scales the root font size; the layout must follow it.
    const heading = page.getByRole('heading', { name: 'Field ID' });
    const fontPx = () => heading.evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    const before = await fontPx();
    await page.evaluate(() => {
      document.documentElement.style.fontSize = '200%';
    });
    expect(await fontPx(), 'text follows the root font size').toBeCloseTo(2 * before, 1);
    const buttonPx = await page
      .getByRole('button', { name: 'Fetch and identify' })
      .evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    expect(buttonPx, 'buttons follow the root font size').toBeGreaterThanOrEqual(30);

    expect(await sidewaysOverflow(page), 'identify, empty').toEqual([]);

    await app.choose(tench.path);
    await app.resultFor(tench.file);
    expect(await sidewaysOverflow(page), 'identify, with an answer').toEqual([]);

    await page.getByRole('button', { name: 'History', exact: true }).click();
    await expect(page.getByTestId('history-item').first()).toBeVisible();
    expect(await sidewaysOverflow(page), 'history').toEqual([]);

    await page.getByTestId('history-item').first().getByRole('button').click();
    const details = page.getByTestId('history-details');
    await expect(details).toBeVisible();
    expect(await sidewaysOverflow(page), 'history, one observation').toEqual([]);
    await details.getByRole('button', { name: 'Close' }).click();
    await expect(details).toBeHidden();

    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    await expect(page.getByTestId('offline-pack').first()).toBeVisible();
    expect(await sidewaysOverflow(page), 'settings').toEqual([]);
  });
});
