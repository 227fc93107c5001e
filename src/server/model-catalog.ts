import type { LabelSpec } from '../core/model-manifest';

/**
 * What the files in a model folder cannot say about themselves: a human name and the
 * meaning of the label lines. Keyed by folder name (= model id). A folder that is not
 * listed here still gets served, with plain labels.
 */
interface CatalogEntry {
  name: string;
  description: string;
  format: LabelSpec['format'];
  background: 'first-line' | 'last-line';
  animalRanges: [number, number][] | null;
}

export const DEFAULT_MODEL_ID = 'imagenet-mobilenet-v2';

const CATALOG: Record<string, CatalogEntry> = {
  'imagenet-mobilenet-v2': {
    name: 'General (ImageNet)',
    description:
      'MobileNetV2 trained on the 1,000 ImageNet classes, 398 of them animals. A first guess for any photo.',
    format: 'imagenet',
    background: 'first-line',
    animalRanges: [[1, 398]],
  },
  'inat-birds-mobilenet-v2': {
    name: 'Birds (iNaturalist)',
    description: 'MobileNetV2 trained on 964 bird species from iNaturalist 2017.',
    format: 'scientific-common',
    background: 'last-line',
    animalRanges: null,
  },
  'inat-insects-mobilenet-v2': {
    name: 'Insects (iNaturalist)',
    description: 'MobileNetV2 trained on 1,021 insect species from iNaturalist 2017.',
    format: 'scientific-common',
    background: 'last-line',
    animalRanges: null,
  },
};

export interface ModelDescription {
  name: string;
  description: string;
  labels: LabelSpec;
}

/** Throws when the label file contradicts the catalogue (e.g. a model dropped into the wrong folder). */
export function describeModel(id: string, labelLines: readonly string[]): ModelDescription {
  const count = labelLines.length;
  const entry = CATALOG[id];
  if (!entry) {
    const found = labelLines.indexOf('background');
    return {
      name: id,
      description: '',
      labels: {
        format: 'plain',
        count,
        backgroundIndex: found === -1 ? null : found,
        animalRanges: null,
      },
    };
  }
  const backgroundIndex = entry.background === 'first-line' ? 0 : count - 1;
  if (labelLines[backgroundIndex] !== 'background') {
    throw new Error(`${id}: label line ${backgroundIndex} should be "background"`);
  }
  return {
    name: entry.name,
    description: entry.description,
    labels: { format: entry.format, count, backgroundIndex, animalRanges: entry.animalRanges },
  };
}
