import type { ModelCard } from '../../core/model-card';
import { sha256Hex, versionOf, type FolderFile } from '../../node/model-folder';
import type { NewVersion } from './registry';

/**
 * Small model versions for the registry's tests: the files a folder would hold (a graph,
 * one shard, the labels), a few hundred bytes each, so the rules can be tested in
 * milliseconds. `variant` changes the shard's bytes and the card, hence the version.
 */
export function fakeVersion(
  id: string,
  variant: string,
  options: { labels?: string[]; actor?: string; note?: string | null } = {},
): NewVersion {
  const labels = options.labels ?? [
    'Alpha alpha (Alpha)',
    'Beta beta (Beta)',
    'Gamma gamma (Gamma)',
  ];
  const files = [
    fileOf(
      'model.json',
      JSON.stringify({
        format: 'graph-model',
        weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [] }],
        signature: { inputs: { input: {} } },
      }),
    ),
    fileOf('group1-shard1of1.bin', `weights of ${id} ${variant} `.repeat(20)),
    fileOf('labels.txt', `${labels.join('\n')}\n`),
  ];
  const card = fakeCard(labels.length, variant);
  return {
    id,
    version: versionOf(files, card),
    files,
    card,
    note: options.note === undefined ? `variant ${variant}` : options.note,
    actor: options.actor ?? 'tester',
  };
}

/** The same files under another card: another version. */
export function withCard(version: NewVersion, card: ModelCard): NewVersion {
  return { ...version, card, version: versionOf(version.files, card) };
}

export function fakeCard(classes: number, variant = 'a'): ModelCard {
  return {
    name: `Test model ${variant}`,
    description: 'A model for the registry tests',
    source: `fixture ${variant}`,
    license: null,
    labels: {
      format: 'scientific-common',
      count: classes,
      backgroundIndex: null,
      animalRanges: null,
    },
    input: { name: 'input', size: 224, channels: 3, range: [0, 1] },
    output: { classes, isProbability: true },
    calibration: { temperature: 1.5, fittedOn: 'fixture photos' },
    evaluation: [{ dataset: 'fixture', metric: 'top-1', value: 0.5, n: 10 }],
    created: '2026-01-01T00:00:00.000Z',
    parent: null,
    notes: '',
  };
}

function fileOf(path: string, text: string): FolderFile {
  const data = new TextEncoder().encode(text);
  return { path, data, bytes: data.byteLength, sha256: sha256Hex(data) };
}
