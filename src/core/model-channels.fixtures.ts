import { stableOnly, type ChannelManifest } from './model-channels';
import type { ModelEntry } from './model-manifest';
import { fakeModelEntry } from './model-manifest.fixtures';

/**
 * Published manifests for the tests of code that reads channels (the caches, the device's
 * resolution, the page's service): every model on stable, and a candidate rolled out
 * beside one of them.
 */

/** A salt of the valid form; a test that compares two rollouts passes its own. */
export const TEST_SALT = '0123456789abcdef';

/** Every model on its stable version, no candidate; the first is the default model. */
export function stableManifest(...models: ModelEntry[]): ChannelManifest {
  return stableOnly(models, models[0]!.id, '');
}

/**
 * `published` with `version` of model `id` rolled out beside its stable version, to
 * `percent` of installations (5 unless given), with its own salt and shadow rate.
 */
export function withCandidate(
  published: ChannelManifest,
  id: string,
  version: string,
  rollout: { percent?: number; salt?: string; shadowRate?: number } = {},
): ChannelManifest {
  const channels = published.models[id];
  if (channels === undefined) throw new Error(`${id} is not in the manifest`);
  const candidate = {
    ...fakeModelEntry(id, version),
    percent: rollout.percent ?? 5,
    salt: rollout.salt ?? TEST_SALT,
    shadowRate: rollout.shadowRate ?? 0,
  };
  return { ...published, models: { ...published.models, [id]: { ...channels, candidate } } };
}
