import { describeModel } from './model-catalog';
import { parseLabels, splitLabelLines, type Label } from './labels';
import type { LabelSpec } from './model-manifest';

/**
 * The label specs of the served models, built the way the server builds them (catalogue
 * plus labels.txt), so tests cannot drift from what the client really receives. Reading
 * labels.txt is left to the tests: this file sits in core, which must not import Node.
 */

export type RealModelId =
  'imagenet-mobilenet-v2' | 'inat-birds-mobilenet-v2' | 'inat-insects-mobilenet-v2';

export interface RealModel {
  spec: LabelSpec;
  labels: Label[];
}

export function realLabelSpec(id: RealModelId, labelsText: string): LabelSpec {
  const spec = describeModel(id, splitLabelLines(labelsText)).labels;
  // A model missing from the catalogue would come back as 'plain' and quietly test less.
  if (spec.format === 'plain') throw new Error(`${id} is not in the model catalogue`);
  return spec;
}

export function realModel(id: RealModelId, labelsText: string): RealModel {
  const spec = realLabelSpec(id, labelsText);
  const parsed = parseLabels(labelsText, spec);
  if (!parsed.ok) throw new Error(`${id}: ${parsed.error.detail}`);
  return { spec, labels: parsed.value };
}
