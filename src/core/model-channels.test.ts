import { describe, expect, it } from 'vitest';
import { fakeModelEntry } from './model-manifest.fixtures';
import {
  listedEntries,
  parseChannelManifest,
  parseServedManifest,
  resolveManifest,
  stableOnly,
  type CandidateEntry,
  type ChannelManifest,
} from './model-channels';

const GENERAL = 'imagenet-mobilenet-v2';
const BIRDS = 'inat-birds-mobilenet-v2';

function candidate(id: string, version: string, percent = 10): CandidateEntry {
  return { ...fakeModelEntry(id, version), percent, salt: '0123456789abcdef', shadowRate: 0.1 };
}

function manifestWith(candidates: CandidateEntry[]): ChannelManifest {
  const manifest = stableOnly(
    [fakeModelEntry(GENERAL, 'aaaa'), fakeModelEntry(BIRDS, 'bbbb')],
    GENERAL,
    '2026-12-01T00:00:00Z',
  );
  for (const c of candidates) manifest.models[c.id]!.candidate = c;
  return manifest;
}

describe('the manifest with channels', () => {
  it('round-trips through JSON and parses', () => {
    const manifest = manifestWith([candidate(GENERAL, 'cccc')]);
    const parsed = parseChannelManifest(JSON.parse(JSON.stringify(manifest)));
    expect(parsed).toEqual({ ok: true, manifest });
  });

  it('refuses a candidate that is the stable version, entries of another id, a bad percent', () => {
    const same = manifestWith([candidate(GENERAL, 'aaaa')]);
    expect(parseChannelManifest(same)).toMatchObject({ ok: false });
    const misplaced = manifestWith([]);
    misplaced.models[GENERAL]!.stable = fakeModelEntry(BIRDS, 'dddd');
    expect(parseChannelManifest(misplaced)).toMatchObject({ ok: false });
    for (const percent of [-1, 101, 0.0001]) {
      expect(
        parseChannelManifest(manifestWith([candidate(GENERAL, 'cccc', percent)])),
        `${percent}`,
      ).toMatchObject({ ok: false });
    }
    const noDefault = { ...manifestWith([]), defaultModel: 'nope' };
    expect(parseChannelManifest(noDefault)).toMatchObject({ ok: false });
    expect(parseChannelManifest({ schemaVersion: 1, models: [] })).toMatchObject({ ok: false });
  });

  it('resolves to the candidate only where the device takes it, without its rollout fields', () => {
    const manifest = manifestWith([candidate(GENERAL, 'cccc')]);
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
    const listed = listedEntries(manifestWith([candidate(BIRDS, 'eeee')]));
    expect(listed.map((m) => `${m.id}@${m.version}`)).toEqual([
      `${GENERAL}@aaaa`,
      `${BIRDS}@bbbb`,
      `${BIRDS}@eeee`,
    ]);
    expect(listed[2]).not.toHaveProperty('percent');
  });
});
