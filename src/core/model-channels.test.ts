import { describe, expect, it } from 'vitest';
import { fakeModelEntry } from './model-manifest.fixtures';
import { stableManifest, withCandidate } from './model-channels.fixtures';
import {
  listedEntries,
  noteCandidates,
  parseChannelManifest,
  parseServedManifest,
  resolveManifest,
  stableOnly,
  withdrawnCandidates,
  type ChannelManifest,
} from './model-channels';

const GENERAL = 'imagenet-mobilenet-v2';
const BIRDS = 'inat-birds-mobilenet-v2';

/** General and birds on stable (aaaa, bbbb), with `version` of `id` rolled out to `percent`. */
function manifestWith(id?: string, version?: string, percent = 10): ChannelManifest {
  const manifest = stableManifest(fakeModelEntry(GENERAL, 'aaaa'), fakeModelEntry(BIRDS, 'bbbb'));
  manifest.generatedAt = '2026-12-01T00:00:00Z';
  return id === undefined || version === undefined
    ? manifest
    : withCandidate(manifest, id, version, { percent, shadowRate: 0.1 });
}

describe('the manifest with channels', () => {
  it('round-trips through JSON and parses', () => {
    const manifest = manifestWith(GENERAL, 'cccc');
    const parsed = parseChannelManifest(JSON.parse(JSON.stringify(manifest)));
    expect(parsed).toEqual({ ok: true, manifest });
  });

  it('refuses a candidate that is the stable version, entries of another id, a bad percent', () => {
    const same = manifestWith(GENERAL, 'aaaa');
    expect(parseChannelManifest(same)).toMatchObject({ ok: false });
    const misplaced = manifestWith();
    misplaced.models[GENERAL]!.stable = fakeModelEntry(BIRDS, 'dddd');
    expect(parseChannelManifest(misplaced)).toMatchObject({ ok: false });
    for (const percent of [-1, 101, 0.0001]) {
      expect(
        parseChannelManifest(manifestWith(GENERAL, 'cccc', percent)),
        `${percent}`,
      ).toMatchObject({ ok: false });
    }
    const noDefault = { ...manifestWith(), defaultModel: 'nope' };
    expect(parseChannelManifest(noDefault)).toMatchObject({ ok: false });
    expect(parseChannelManifest({ schemaVersion: 1, models: [] })).toMatchObject({ ok: false });
  });

  it('resolves to the candidate only where the device takes it, without its rollout fields', () => {
    const manifest = manifestWith(GENERAL, 'cccc');
    const onCandidate = resolveManifest(manifest, () => true);
    expect(onCandidate.manifest.models.map((m) => `${m.id}@${m.version}`)).toEqual([
      `${GENERAL}@cccc`,
      `${BIRDS}@bbbb`,
    ]);
    expect(onCandidate.manifest.models[0]).toEqual(fakeModelEntry(GENERAL, 'cccc'));
    expect(onCandidate.choices).toEqual([
      { id: GENERAL, channel: 'candidate', version: 'cccc', otherVersion: 'aaaa' },
      { id: BIRDS, channel: 'stable', version: 'bbbb', otherVersion: null },
    ]);
    const onStable = resolveManifest(manifest, () => false);
    expect(onStable.manifest.models[0]!.version).toBe('aaaa');
    expect(onStable.choices[0]).toEqual({
      id: GENERAL,
      channel: 'stable',
      version: 'aaaa',
      otherVersion: 'cccc',
    });
    expect(parseServedManifest(manifest)).toEqual({ ok: true, manifest: onStable.manifest });
  });

  it('lists every version a device may keep: stable and candidate', () => {
    const listed = listedEntries(manifestWith(BIRDS, 'eeee'));
    expect(listed.map((m) => `${m.id}@${m.version}`)).toEqual([
      `${GENERAL}@aaaa`,
      `${BIRDS}@bbbb`,
      `${BIRDS}@eeee`,
    ]);
    expect(listed[2]).not.toHaveProperty('percent');
  });

  it('refuses a shadow rate outside 0 to 1', () => {
    for (const shadowRate of [-0.1, 1.5]) {
      const manifest = withCandidate(manifestWith(), GENERAL, 'cccc', { shadowRate });
      expect(parseChannelManifest(manifest), `${shadowRate}`).toMatchObject({ ok: false });
    }
  });
});

describe('former candidates', () => {
  const rollout = manifestWith(BIRDS, 'b2');
  const ref = (version: string) => ({ id: BIRDS, version });

  it('are noted once each, and forgotten once they are stable', () => {
    const noted = noteCandidates([], rollout);
    expect(noted).toEqual([ref('b2')]);
    expect(noteCandidates(noted, rollout)).toEqual([ref('b2')]);
    const promoted = stableOnly(
      [fakeModelEntry(GENERAL, 'aaaa'), fakeModelEntry(BIRDS, 'b2')],
      GENERAL,
      '',
    );
    expect(noteCandidates(noted, promoted)).toEqual([]);
  });

  it('are kept after a rollback, and then withdrawn', () => {
    const noted = noteCandidates([], rollout);
    const rolledBack = manifestWith();
    expect(noteCandidates(noted, rolledBack)).toEqual([ref('b2')]);
    expect(withdrawnCandidates(rolledBack, noted)).toEqual([ref('b2')]);
    expect(withdrawnCandidates(rollout, noted)).toEqual([]);
  });

  it('are a bounded list, the oldest dropped first', () => {
    let noted = noteCandidates([], rollout);
    for (let i = 0; i < 40; i++) noted = noteCandidates(noted, manifestWith(BIRDS, `n${i}`));
    expect(noted).toHaveLength(32);
    expect(noted.at(-1)).toEqual(ref('n39'));
    expect(noted).not.toContainEqual(ref('b2'));
  });
});
