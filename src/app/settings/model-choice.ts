import { cascadeChoiceFor } from '../../core/cascade';
import type { ModelEntry, ModelManifest } from '../../core/model-manifest';

/**
 * What the model setting means against the manifest of the day. `modelId: null` in the
 * settings is Auto: the general model (the manifest's default) looks at every photo first
 * and hands birds to the birds model, insects to the insects model. A model chosen by hand
 * answers alone; a specialist chosen by hand answers only for photos of its group, which
 * the general model is still asked to recognise.
 */
export type ModelChoice =
  | { kind: 'auto'; general: ModelEntry; specialists: SpecialistEntry[] }
  | {
      kind: 'chosen';
      entry: ModelEntry;
      /** Set for a specialist: its group, and the general model that checks a photo is of it. */
      specialism: { group: string; general: ModelEntry } | null;
    };

export interface SpecialistEntry {
  entry: ModelEntry;
  group: string;
}

/**
 * A chosen id the manifest no longer lists (a model withdrawn since) is Auto, as it is for
 * loading: both read the setting through `cascadeChoiceFor`, so Settings never describe
 * another set of models than the worker is asked to load.
 */
export function modelChoice(manifest: ModelManifest, modelId: string | null): ModelChoice {
  const { general, specialists, handChosen } = cascadeChoiceFor(manifest, modelId);
  const listed = modelId !== null && manifest.models.some((m) => m.id === modelId);
  if (!listed) return { kind: 'auto', general, specialists };
  const [specialist] = specialists;
  if (handChosen && specialist !== undefined) {
    return {
      kind: 'chosen',
      entry: specialist.entry,
      specialism: { group: specialist.group, general },
    };
  }
  return { kind: 'chosen', entry: general, specialism: null };
}

/** The manifest's default model: the one Auto asks first. */
export function generalModelOf(manifest: ModelManifest): ModelEntry {
  return cascadeChoiceFor(manifest, null).general;
}

/** The specialists of the manifest, besides the general model, in manifest order. */
export function specialistsOf(manifest: ModelManifest): SpecialistEntry[] {
  return cascadeChoiceFor(manifest, null).specialists;
}

export { plural, withArticle } from '../ui/answer-text';

/** "a", "a or b", "a, b or c". */
export function orList(words: readonly string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}
