import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCsvRows } from '../src/node/csv';
import { DATA_DIR, DEFAULT_MODELS_DIR as MODELS_DIR } from '../src/node/shared-paths';

/** Test data is read in place from ../shared (or SHARED_DIR), never copied into the project. */
export { DATA_DIR, MODELS_DIR };

export function dataPath(...parts: string[]): string {
  return path.join(DATA_DIR, ...parts);
}

/** A data set's labels.csv as rows keyed by column. */
export function readCsv(file: string): Record<string, string>[] {
  return parseCsvRows(readFileSync(file, 'utf8'));
}

export const imagenetLabels = readFileSync(
  path.join(MODELS_DIR, 'imagenet-mobilenet-v2/labels.txt'),
  'utf8',
)
  .split('\n')
  .map((line) => line.replace(/\r$/, ''));

/** The ImageNet animal photos with the label lines that count as right for each. */
export function imagenetAnimals(): { file: string; path: string; accepted: string[] }[] {
  return readCsv(dataPath('imagenet-animals/labels.csv')).map((row) => ({
    file: row.file!,
    path: dataPath('imagenet-animals', row.file!),
    accepted: row.imagenet_indices!.split(' ').map((i) => imagenetLabels[Number(i) + 1]!),
  }));
}
