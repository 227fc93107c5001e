import { expect, test } from './fixtures';
import { dataPath, imagenetAnimals, readCsv } from './data';

/**
 * The agreed outcome of every hostile file in the shared data set, as the user sees it:
 * a result (with the warnings that apply) or a clear message with its code.
 */
type Outcome = { result: true; warnings?: string[] } | { result: false; code: string };

const OUTCOMES: Record<string, Outcome> = {
  'png_rgba_alpha_ocelot.png': { result: true },
  'webp_lossy_ocelot.webp': { result: true },
  'webp_alpha_ocelot.webp': { result: true },
  'gif_static_ocelot.gif': { result: true },
  'gif_animated_3frames_ocelot.gif': { result: true, warnings: ['ANIMATED_FIRST_FRAME'] },
  'png_16bit_rgb_ocelot.png': { result: true },
  'png_palette_8bit_ocelot.png': { result: true },
  'png_tiny_16x16_ocelot.png': { result: true, warnings: ['TINY_IMAGE'] },
  'jpeg_tiny_16x16_ocelot.jpg': { result: true, warnings: ['TINY_IMAGE'] },
  'png_1x1_ocelot.png': { result: true, warnings: ['TINY_IMAGE'] },
  'bmp_ocelot.bmp': { result: true },
  'tiff_ocelot.tif': { result: false, code: 'UNSUPPORTED_FORMAT' },
  'jpeg_upright_reference_domestic_dog.jpg': { result: true },
  'jpeg_exif_orientation6_domestic_dog.jpg': { result: true },
  'jpeg_exif_orientation3_domestic_dog.jpg': { result: true },
  'jpeg_exif_orientation8_domestic_dog.jpg': { result: true },
  'jpeg_grayscale_domestic_dog.jpg': { result: true },
  'jpeg_cmyk_domestic_dog.jpg': { result: true },
  'jpeg_progressive_domestic_dog.jpg': { result: true },
  'jpeg_truncated_45pct_domestic_dog.jpg': { result: true, warnings: ['PARTIAL_IMAGE'] },
  'jpeg_header_only_2000bytes_domestic_dog.jpg': { result: false, code: 'TRUNCATED' },
  'jpeg_soi_then_random_garbage.jpg': { result: false, code: 'DECODE_FAILED' },
  'heic_domestic_dog.heic': { result: false, code: 'UNSUPPORTED_FORMAT' },
  'avif_domestic_dog.avif': { result: true },
  'png_content_named_as.jpg': { result: true },
  'jpeg_content_named_as.png': { result: true },
  'text_file_named.jpg': { result: false, code: 'NOT_AN_IMAGE' },
  'zero_bytes.jpg': { result: false, code: 'EMPTY_FILE' },
  'jpeg_huge_5000x3750_domestic_cattle.jpg': { result: true },
  'jpeg_panorama_6000x300_cattle.jpg': { result: true, warnings: ['UNUSUAL_ASPECT'] },
  'gif_real_imageNotFound_from_hymenoptera_train_ants.gif': { result: true },
};

const rows = readCsv(dataPath('odd-inputs/labels.csv'));

test('the outcome table covers every odd input and agrees with the data set', () => {
  expect(Object.keys(OUTCOMES).sort()).toEqual(rows.map((r) => r.file).sort());
  for (const row of rows) {
    const refused = /should fail|not decodable|unsupported-format/i.test(row.expected!);
    expect(OUTCOMES[row.file!]!.result, `${row.file}: ${row.expected}`).toBe(!refused);
  }
});

test('every odd input shows its result or its message, and the page stays usable', async ({
  app,
}) => {
  await app.pinBackend('wasm');
  await app.open();
  const dims: Record<string, string> = {};
  const top1: Record<string, string> = {};
  for (const row of rows) {
    const file = row.file!;
    const expected = OUTCOMES[file]!;
    await app.choose(dataPath('odd-inputs', file));
    const outcome = await app.outcomeFor(file);
    if (!expected.result) {
      await expect(outcome, file).toHaveAttribute('data-testid', 'error');
      await expect(outcome, file).toHaveAttribute('data-code', expected.code);
      expect((await outcome.textContent())!.length, file).toBeGreaterThan(10);
      continue;
    }
    await expect(outcome, file).toHaveAttribute('data-testid', 'result');
    await expect(app.predictions()).toHaveCount(5);
    const warnings = await outcome
      .locator('[data-testid="warnings"] li')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-code')));
    expect(warnings.sort(), file).toEqual([...(expected.warnings ?? [])].sort());
    dims[file] = (await outcome.getByTestId('result-details').textContent())!.split(' · ')[1]!;
    top1[file] = (await app.topLabels())[0]!;
  }

  // EXIF orientation is applied: the rotated copies look like the upright reference.
  const reference = 'jpeg_upright_reference_domestic_dog.jpg';
  for (const rotated of [3, 6, 8].map((o) => `jpeg_exif_orientation${o}_domestic_dog.jpg`)) {
    expect(dims[rotated], rotated).toBe(dims[reference]);
    expect(top1[rotated], rotated).toBe(top1[reference]);
  }

  // After all of that, an ordinary photo still works.
  const tench = imagenetAnimals()[0]!;
  await app.choose(tench.path);
  await app.resultFor(tench.file);
  expect(tench.accepted).toContain((await app.topLabels())[0]);
});
