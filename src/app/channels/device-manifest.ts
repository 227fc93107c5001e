import {
  resolveManifest,
  type CandidateEntry,
  type ChannelChoice,
  type ChannelManifest,
} from '../../core/model-channels';
import type { ModelManifest } from '../../core/model-manifest';
import { bucketOf, inRollout } from '../../core/rollout';

/**
 * The manifest as this installation uses it: for each model the candidate while the
 * installation's bucket for that rollout is inside its percentage (and the user lets it try
 * candidates), the stable version otherwise. The same published manifest and secret always
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
  const onCandidate = new Set<string>();
  if (tryCandidates) {
    await Promise.all(
      candidates.map(async (candidate) => {
        if (await bucketInside(secret, candidate)) onCandidate.add(candidate.id);
      }),
    );
  }
  return resolveManifest(published, (candidate) => onCandidate.has(candidate.id));
}

/** Whether the installation's bucket for this candidate's rollout is inside its percentage. */
async function bucketInside(secret: string, candidate: CandidateEntry): Promise<boolean> {
  try {
    return inRollout(await bucketOf(secret, candidate.salt), candidate.percent);
  } catch {
    // SubtleCrypto exists only in a secure context: without it, stable is the safe answer.
    return false;
  }
}
