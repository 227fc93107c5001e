import { afterEach, describe, expect, it, vi } from 'vitest';
import { stableOnly, type ChannelManifest } from '../../core/model-channels';
import { fakeManifest, fakeModelEntry } from '../../core/model-manifest.fixtures';
import { bucketOf, randomHex } from '../../core/rollout';
import { resolveForInstallation, sameVersionsInUse, versionsInUse } from './device-manifest';

const GENERAL = fakeModelEntry('imagenet-mobilenet-v2', 'g1');
const BIRDS = fakeModelEntry('inat-birds-mobilenet-v2', 'b1');
const SALT = '0123456789abcdef';

/** General and birds on stable; birds@b2 rolled out to `percent`. */
function rollout(percent: number, salt = SALT): ChannelManifest {
  const published = stableOnly([GENERAL, BIRDS], GENERAL.id, '');
  const candidate = { ...fakeModelEntry(BIRDS.id, 'b2'), percent, salt, shadowRate: 0.1 };
  return {
    ...published,
    models: { ...published.models, [BIRDS.id]: { stable: BIRDS, candidate } },
  };
}

const secrets = Array.from({ length: 400 }, () => randomHex(32));

async function onCandidate(published: ChannelManifest, secret: string, takePart = true) {
  const { choices } = await resolveForInstallation(published, secret, takePart);
  return choices.find((c) => c.id === BIRDS.id)?.channel === 'candidate';
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('resolveForInstallation', () => {
  it('puts an installation on the candidate exactly while its bucket is below percent × 1000', async () => {
    for (const secret of secrets.slice(0, 20)) {
      const bucket = await bucketOf(secret, SALT);
      expect(await onCandidate(rollout(bucket / 1000), secret), `at its bucket`).toBe(false);
      expect(await onCandidate(rollout((bucket + 1) / 1000), secret), 'one step above').toBe(true);
    }
  });

  it('gives the candidate entry without its rollout fields, and the other models their stable one', async () => {
    const secret = secrets[0]!;
    const { manifest, choices } = await resolveForInstallation(rollout(100), secret, true);
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
    for (const secret of secrets.slice(0, 20)) {
      expect(await onCandidate(rollout(100), secret, false)).toBe(false);
    }
  });

  it('never moves an installation back when the percentage rises', async () => {
    const steps = [1, 5, 25, 50, 100];
    for (const secret of secrets) {
      const on = await Promise.all(steps.map((p) => onCandidate(rollout(p), secret)));
      const firstOn = on.indexOf(true);
      if (firstOn >= 0) expect(on.slice(firstOn).every(Boolean), secret).toBe(true);
    }
  });

  it('picks other installations for a rollout with another salt', async () => {
    const onA = await Promise.all(secrets.map((s) => onCandidate(rollout(50, 'a'.repeat(16)), s)));
    const onB = await Promise.all(secrets.map((s) => onCandidate(rollout(50, 'b'.repeat(16)), s)));
    const same = onA.filter((on, i) => on === onB[i]).length;
    // Independent draws agree about half the time; the same draw would agree always.
    expect(same).toBeGreaterThan(secrets.length * 0.35);
    expect(same).toBeLessThan(secrets.length * 0.65);
  });

  it('puts a device back on stable when the candidate is no longer published', async () => {
    const secret = secrets[0]!;
    expect(await onCandidate(rollout(100), secret)).toBe(true);
    const rolledBack = stableOnly([GENERAL, BIRDS], GENERAL.id, '');
    const { manifest } = await resolveForInstallation(rolledBack, secret, true);
    expect(manifest.models.map((m) => m.version)).toEqual(['g1', 'b1']);
  });

  it('answers the same for the same manifest and secret: offline, the cached copy keeps the version', async () => {
    for (const secret of secrets.slice(0, 50)) {
      const cachedCopy = JSON.parse(JSON.stringify(rollout(30))) as ChannelManifest;
      expect(await onCandidate(cachedCopy, secret)).toBe(await onCandidate(rollout(30), secret));
    }
  });

  it('stays on stable where there is no SubtleCrypto (a page outside a secure context)', async () => {
    vi.spyOn(crypto.subtle, 'digest').mockRejectedValue(new TypeError('no subtle'));
    expect(await onCandidate(rollout(100), secrets[0]!)).toBe(false);
  });
});

describe('versions in use', () => {
  const before = fakeManifest(GENERAL, BIRDS);
  const birdsMoved = fakeManifest(GENERAL, fakeModelEntry(BIRDS.id, 'b2'));

  it('are the general model and, under Auto, the specialists', () => {
    expect(versionsInUse(before, null)).toEqual([
      'imagenet-mobilenet-v2@g1',
      'inat-birds-mobilenet-v2@b1',
    ]);
    expect(sameVersionsInUse(before, birdsMoved, null)).toBe(false);
  });

  it('ignore a model the setting does not use', () => {
    expect(sameVersionsInUse(before, birdsMoved, GENERAL.id)).toBe(true);
    expect(sameVersionsInUse(before, before, null)).toBe(true);
  });
});
