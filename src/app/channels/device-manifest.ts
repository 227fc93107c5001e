import { cascadeChoiceFor } from '../../core/cascade';
import {
  resolveManifest,
  type CandidateEntry,
  type ChannelChoice,
  type ChannelManifest,
} from '../../core/model-channels';
import type { ModelManifest } from '../../core/model-manifest';
import { formatModelRef } from '../../core/model-ref';
import { bucketOf, inRollout } from '../../core/rollout';

/**
 * The manifest as this installation uses it: for each model the candidate while the
 * installation's bucket for that rollout is inside its percentage (and the user takes part
 * in rollouts), the stable version otherwise. The same published manifest and secret always
 * give the same answer, online or from the cached manifest offline; a candidate that is no
 * longer published simply is not there to be chosen.
 */
export interface DeviceManifest {
  manifest: ModelManifest;
  choices: ChannelChoice[];
}

export async function resolveForInstallation(
  published: ChannelManifest,
  secret: string,
  tryCandidates: boolean,
): Promise<DeviceManifest> {
  const candidates = Object.values(published.models).flatMap(({ candidate }) =>
    candidate === undefined ? [] : [candidate],
  );
  const taken = new Set<string>();
  if (tryCandidates) {
    await Promise.all(
      candidates.map(async (candidate) => {
        if (await takes(secret, candidate)) taken.add(candidate.id);
      }),
    );
  }
  return resolveManifest(published, (candidate) => taken.has(candidate.id));
}

async function takes(secret: string, candidate: CandidateEntry): Promise<boolean> {
  try {
    return inRollout(await bucketOf(secret, candidate.salt), candidate.percent);
  } catch {
    // SubtleCrypto exists only in a secure context: without it, stable is the safe answer.
    return false;
  }
}

/**
 * The versions the model setting runs, general model and specialists: when a new check of
 * the manifest changes none of them, the model in the worker stays as it is.
 */
export function versionsInUse(manifest: ModelManifest, modelId: string | null): string[] {
  const { general, specialists } = cascadeChoiceFor(manifest, modelId);
  return [general, ...specialists.map((s) => s.entry)].map(formatModelRef);
}

export function sameVersionsInUse(
  before: ModelManifest,
  after: ModelManifest,
  modelId: string | null,
): boolean {
  const a = versionsInUse(before, modelId);
  const b = versionsInUse(after, modelId);
  return a.length === b.length && a.every((ref, i) => ref === b[i]);
}
