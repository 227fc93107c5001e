import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChannelManifest } from '../../core/model-channels';
import { stableManifest, TEST_SALT, withCandidate } from '../../core/model-channels.fixtures';
import { fakeModelEntry } from '../../core/model-manifest.fixtures';
import { bucketOf } from '../../core/rollout';
import { resolveForInstallation } from './device-manifest';

/**
 * One installation's resolution of a published manifest. The buckets themselves (shares,
 * stickiness, salts) are tested over 100,000 installations in src/core/rollout.test.ts;
 * here, what the installation makes of its bucket. The secrets are fixed, so every run
 * checks the same installations.
 */

const GENERAL = fakeModelEntry('imagenet-mobilenet-v2', 'g1');
const BIRDS = fakeModelEntry('inat-birds-mobilenet-v2', 'b1');
const SECRETS = Array.from({ length: 20 }, (_, i) => i.toString(16).padStart(2, '0').repeat(32));

/** General and birds on stable; birds@b2 rolled out to `percent`. */
function rollout(percent: number): ChannelManifest {
  return withCandidate(stableManifest(GENERAL, BIRDS), BIRDS.id, 'b2', {
    percent,
    shadowRate: 0.1,
  });
}

async function onCandidate(published: ChannelManifest, secret: string, tryCandidates = true) {
  const { choices } = await resolveForInstallation(published, secret, tryCandidates);
  return choices.find((c) => c.id === BIRDS.id)?.channel === 'candidate';
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('resolveForInstallation', () => {
  it('puts an installation on the candidate exactly while its bucket is below percent × 1000', async () => {
    for (const secret of SECRETS) {
      const bucket = await bucketOf(secret, TEST_SALT);
      expect(await onCandidate(rollout(bucket / 1000), secret), 'at its bucket').toBe(false);
      expect(await onCandidate(rollout((bucket + 1) / 1000), secret), 'one step above').toBe(true);
    }
  });

  it('gives the candidate entry without its rollout fields, and the other models their stable one', async () => {
    const { manifest, choices } = await resolveForInstallation(rollout(100), SECRETS[0]!, true);
    expect(manifest.models.map((m) => `${m.id}@${m.version}`)).toEqual([
      'imagenet-mobilenet-v2@g1',
      'inat-birds-mobilenet-v2@b2',
    ]);
    expect(manifest.models[1]).not.toHaveProperty('salt');
    expect(choices).toEqual([
      { id: GENERAL.id, channel: 'stable', version: 'g1', otherVersion: null },
      { id: BIRDS.id, channel: 'candidate', version: 'b2', otherVersion: 'b1' },
    ]);
  });

  it('keeps an installation that opted out on stable, even at 100 %', async () => {
    for (const secret of SECRETS) {
      expect(await onCandidate(rollout(100), secret, false)).toBe(false);
    }
  });

  it('puts a device back on stable when the candidate is no longer published', async () => {
    expect(await onCandidate(rollout(100), SECRETS[0]!)).toBe(true);
    const rolledBack = stableManifest(GENERAL, BIRDS);
    const { manifest } = await resolveForInstallation(rolledBack, SECRETS[0]!, true);
    expect(manifest.models.map((m) => m.version)).toEqual(['g1', 'b1']);
  });

  it('stays on stable where there is no SubtleCrypto (a page outside a secure context)', async () => {
    vi.spyOn(crypto.subtle, 'digest').mockRejectedValue(new TypeError('no subtle'));
    expect(await onCandidate(rollout(100), SECRETS[0]!)).toBe(false);
  });
});
