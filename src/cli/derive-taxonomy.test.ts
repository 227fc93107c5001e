import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IMAGENET_TAXONOMY } from '../core/taxonomy';
import { DATA_DIR } from '../node/shared-paths';
import { readTaxonomySources, TABLE_FILE } from './derive-taxonomy';
import { deriveTaxonomyTable, NAMED_GROUPS } from './derive-taxonomy-table';

describe('the committed ImageNet taxonomy table', () => {
  it('is exactly what `npm run derive:taxonomy` derives from the shared data', async () => {
    const derived = deriveTaxonomyTable(await readTaxonomySources());
    const committed = JSON.parse(await readFile(TABLE_FILE, 'utf8')) as unknown;
    expect(committed).toEqual(derived);
    expect(IMAGENET_TAXONOMY).toEqual(derived);
  });

  it('keeps the curated groups, each a real synset of the shared WordNet', async () => {
    const { words } = await readTaxonomySources();
    const wnids = new Set(words.split('\n').map((line) => line.slice(0, line.indexOf('\t'))));
    for (const [wnid] of NAMED_GROUPS) expect(wnids.has(wnid), wnid).toBe(true);
    expect(IMAGENET_TAXONOMY.groups.map((g) => [g.wnid, g.name])).toEqual(
      NAMED_GROUPS.map(([wnid, name]) => [wnid, name]),
    );
  });

  it('gives the general model the scientific names its own label lines carry', async () => {
    // The label lines are the synsets' lemmas, which the table was derived from; the one
    // that differs is the machine crane, "crane2" in words.txt.
    const lines = (
      await readFile(path.join(DATA_DIR, '../models/imagenet-mobilenet-v2/labels.txt'), 'utf8')
    ).split('\n');
    const { words, classesCsv } = await readTaxonomySources();
    const lemmas = new Map(words.split('\n').map((line) => line.split('\t') as [string, string]));
    const wnids = classesCsv
      .split('\n')
      .slice(1, 1001)
      .map((row) => row.split(',')[1]!);
    const differing = wnids.flatMap((wnid, i) => (lemmas.get(wnid) === lines[i + 1] ? [] : [i]));
    expect(differing.map((i) => lines[i + 1])).toEqual(['crane']);
    const tench = IMAGENET_TAXONOMY.classes[0]!;
    expect(lines[1]).toBe(`${tench.name}, ${tench.scientificName}`);
  });
});
