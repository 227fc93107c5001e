import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { DATA_DIR, PROJECT_ROOT } from '../node/shared-paths';
import { deriveTaxonomyTable, type TaxonomySources } from './derive-taxonomy-table';

/**
 * npm run derive:taxonomy: rewrites src/core/imagenet-taxonomy.json from the shared
 * taxonomy data. Run it after changing the named groups; the drift test fails until the
 * committed table matches what this writes.
 */
export const TABLE_FILE = path.join(PROJECT_ROOT, 'src/core/imagenet-taxonomy.json');

export async function readTaxonomySources(dataDir = DATA_DIR): Promise<TaxonomySources> {
  const read = (file: string) => readFile(path.join(dataDir, file), 'utf8');
  const [isA, words, classesCsv, simpleLabels] = await Promise.all([
    read('taxonomy/wordnet.is_a.txt'),
    read('taxonomy/words.txt'),
    read('imagenet_classes.csv'),
    read('taxonomy/imagenet-simple-labels.json'),
  ]);
  return { isA, words, classesCsv, simpleLabels };
}

async function main(): Promise<void> {
  const table = deriveTaxonomyTable(await readTaxonomySources());
  // Written the way the formatter would, so the format check passes on a fresh derivation.
  const options = (await resolveConfig(TABLE_FILE)) ?? {};
  const text = await format(JSON.stringify(table), { ...options, filepath: TABLE_FILE });
  await writeFile(TABLE_FILE, text);
  const animals = table.classes.filter((entry) => entry.group !== null).length;
  process.stderr.write(
    `wrote ${path.relative(PROJECT_ROOT, TABLE_FILE)}: ${table.classes.length} classes ` +
      `(${animals} animals), ${table.groups.length} groups, ${Buffer.byteLength(text)} bytes\n`,
  );
}

if (process.argv[1] === import.meta.filename) await main();
