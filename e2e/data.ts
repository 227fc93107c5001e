import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DATA_DIR, DEFAULT_MODELS_DIR as MODELS_DIR } from '../src/node/shared-paths';

/** Test data is read in place from ../shared (or SHARED_DIR), never copied into the project. */
export { DATA_DIR, MODELS_DIR };

export function dataPath(...parts: string[]): string {
  return path.join(DATA_DIR, ...parts);
}

/** Minimal CSV reader for the data set's label files (quoted fields, commas inside). */
export function readCsv(file: string): Record<string, string>[] {
  const text = readFileSync(file, 'utf8');
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  const [header, ...body] = rows.filter((r) => r.length > 1 || r[0] !== '');
  return body.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ''])));
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
