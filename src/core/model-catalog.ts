import type { LabelSpec } from './model-manifest';

/**
 * The label line of a model's "nothing recognised" output: `describeModel` requires it at
 * the catalogued index, and finds it by this text in an uncatalogued model. It is a line of
 * the model but no species: the app never offers it (`animalIndexMask`), so a feedback
 * record that shows it as predicted, chosen or among the candidates did not come from the app.
 */
export const BACKGROUND_LABEL_LINE = 'background';

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
    const found = labelLines.indexOf(BACKGROUND_LABEL_LINE);
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
  if (labelLines[backgroundIndex] !== BACKGROUND_LABEL_LINE) {
    throw new Error(`${id}: label line ${backgroundIndex} should be "background"`);
  }
  return {
    name: entry.name,
    description: entry.description,
    labels: { format: entry.format, count, backgroundIndex, animalRanges: entry.animalRanges },
  };
}
