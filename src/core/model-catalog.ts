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
  /**
   * The temperature that calibrates the model's probabilities (`applyTemperature` in
   * ./calibration): the value `npm run calibrate` fits on the fit half of the model's shared
   * photo set (imagenet-animals, the CUB species the birds model knows, the Leeds species the
   * insects model knows; split by content hash), checked by src/cli/calibrate.test.ts. Below 1
   * the model was under-confident on those photos. The specialists' sets are a few dozen
   * photos, so their values are rough (the report prints bootstrap intervals). Re-fit, and
   * paste the printed line, when a model, the preprocessing or a photo set changes.
   */
  temperature: number;
  taxonomy: TaxonomySource;
}

/**
 * Where the groups above a model's classes come from (see ./taxonomy): the ImageNet table
 * derived from WordNet, or, for a specialist, the genus of each scientific name under the
 * named general group it specialises in, so that its answers and the general model's share
 * one tree ("bird" is the same group in both).
 */
export type TaxonomySource = { kind: 'imagenet' } | { kind: 'genus'; group: string };

export const DEFAULT_MODEL_ID = 'imagenet-mobilenet-v2';

const CATALOG: Record<string, CatalogEntry> = {
  'imagenet-mobilenet-v2': {
    name: 'General (ImageNet)',
    description:
      'MobileNetV2 trained on the 1,000 ImageNet classes, 398 of them animals. A first guess for any photo.',
    format: 'imagenet',
    background: 'first-line',
    animalRanges: [[1, 398]],
    taxonomy: { kind: 'imagenet' },
    temperature: 0.9591,
  },
  'inat-birds-mobilenet-v2': {
    name: 'Birds (iNaturalist)',
    description: 'MobileNetV2 trained on 964 bird species from iNaturalist 2017.',
    format: 'scientific-common',
    background: 'last-line',
    animalRanges: null,
    taxonomy: { kind: 'genus', group: 'bird' },
    temperature: 0.8471,
  },
  'inat-insects-mobilenet-v2': {
    name: 'Insects (iNaturalist)',
    description: 'MobileNetV2 trained on 1,021 insect species from iNaturalist 2017.',
    format: 'scientific-common',
    background: 'last-line',
    animalRanges: null,
    taxonomy: { kind: 'genus', group: 'insect' },
    temperature: 0.5149,
  },
};

/**
 * The calibrating temperature of a catalogued model; 1 (the probabilities as the model
 * gives them) for a model that is not catalogued or was never calibrated.
 */
export function catalogTemperature(id: string): number {
  return CATALOG[id]?.temperature ?? 1;
}

/** Null for a model the catalogue does not know: its answers name classes, never groups. */
export function taxonomySourceOf(id: string): TaxonomySource | null {
  return CATALOG[id]?.taxonomy ?? null;
}

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
    labels: {
      format: entry.format,
      count,
      backgroundIndex,
      animalRanges: entry.animalRanges,
      temperature: entry.temperature,
    },
  };
}
