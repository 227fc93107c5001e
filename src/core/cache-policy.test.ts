import { describe, expect, it } from 'vitest';
import {
  entryPath,
  fallbackOrder,
  findModelFile,
  isComplete,
  modelCacheName,
  offlineModels,
  offlineVersion,
  parseCompletedAt,
  parseModelCacheName,
  parseModelFilePath,
  staleModelCaches,
  type FallbackOrder,
} from './cache-policy';
import { stableManifest as manifest, withCandidate } from './model-channels.fixtures';
import type { ChannelChoice } from './model-channels';
import { fakeModelEntry } from './model-manifest.fixtures';

const entry = fakeModelEntry;

const ALL_FILES = ['model.json', 'group1-shard1of1.bin', 'labels.txt'];

describe('cache names', () => {
  it('round-trip id and version, including ids and versions with dots and dashes', () => {
    const name = modelCacheName('inat-birds-mobilenet-v2', '1.0.0+build.2');
    expect(parseModelCacheName(name)).toEqual({
      id: 'inat-birds-mobilenet-v2',
      version: '1.0.0+build.2',
    });
  });

  it('ignore caches that are not model caches or are malformed', () => {
    for (const name of [
      'workbox-precache-v2-http://x/',
      'fieldid-model:',
      'fieldid-model:@v',
      'fieldid-model:a@',
    ]) {
      expect(parseModelCacheName(name), name).toBeNull();
    }
  });
});

describe('model file routes', () => {
  it('parse /models/<id>/<version>/<file> and nothing else', () => {
    expect(parseModelFilePath('/models/a/1/model.json')).toEqual({
      id: 'a',
      version: '1',
      path: 'model.json',
    });
    for (const path of [
      '/models/manifest.json',
      '/models/a/1',
      '/models/a/1/x/y',
      '/other/a/1/b',
      '/models/a//b',
    ]) {
      expect(parseModelFilePath(path), path).toBeNull();
    }
  });

  it('find the listed file with its size and hash, and only that', () => {
    const m = manifest(entry('a', '1'));
    expect(findModelFile(m, { id: 'a', version: '1', path: 'labels.txt' })).toMatchObject({
      bytes: 5,
      sha256: 'c'.repeat(64),
    });
    expect(findModelFile(m, { id: 'a', version: '2', path: 'labels.txt' })).toBeNull();
    expect(findModelFile(m, { id: 'a', version: '1', path: 'entry.json' })).toBeNull();
  });

  it('find the files of a candidate too: a device on it downloads them', () => {
    const m = withCandidate(manifest(entry('a', '1')), 'a', '2');
    for (const version of ['1', '2']) {
      expect(findModelFile(m, { id: 'a', version, path: 'labels.txt' }), version).toMatchObject({
        entry: { id: 'a', version },
        sha256: 'c'.repeat(64),
      });
    }
    // The rollout fields are not part of the version's entry, which is stored with its files.
    expect(
      findModelFile(m, { id: 'a', version: '2', path: 'model.json' })?.entry,
    ).not.toHaveProperty('percent');
  });

  it('keep the stored entry beside the files of its version', () => {
    expect(entryPath('a', '1')).toBe('/models/a/1/entry.json');
  });
});

describe('completeness', () => {
  it('needs every file of the version, extra entries do not matter', () => {
    expect(isComplete(entry('a', '1'), ALL_FILES)).toBe(true);
    expect(isComplete(entry('a', '1'), [...ALL_FILES, 'entry.json'])).toBe(true);
    expect(isComplete(entry('a', '1'), ['model.json', 'labels.txt'])).toBe(false);
    expect(isComplete(entry('a', '1'), [])).toBe(false);
  });
});

describe('which caches go', () => {
  const m = manifest(entry('a', '2'), entry('b', '1'));
  const names = [
    modelCacheName('a', '1'),
    modelCacheName('a', '2'),
    modelCacheName('b', '1'),
    modelCacheName('gone', '7'),
    'workbox-precache-v2-http://localhost/',
    'fieldid-shared-photos',
  ];

  it('an old version goes once the current one is complete', () => {
    const stale = staleModelCaches(names, m, new Set([modelCacheName('a', '2')]));
    expect(stale).toContain(modelCacheName('a', '1'));
    expect(stale).not.toContain(modelCacheName('a', '2'));
  });

  it('an old version stays while the current one is incomplete: it is what works offline', () => {
    expect(staleModelCaches(names, m, new Set())).not.toContain(modelCacheName('a', '1'));
  });

  it('models the manifest no longer lists go; current versions and other caches never do', () => {
    const stale = staleModelCaches(names, m, new Set());
    expect(stale).toEqual([modelCacheName('gone', '7')]);
    expect(stale).not.toContain('workbox-precache-v2-http://localhost/');
    expect(stale).not.toContain(modelCacheName('b', '1'));
  });
});

describe('which caches go during a rollout', () => {
  const names = [modelCacheName('a', '1'), modelCacheName('a', '2'), modelCacheName('a', '0')];
  const rollout = withCandidate(manifest(entry('a', '1')), 'a', '2');
  const all = new Set(names);

  it('never deletes a listed version, stable or candidate, however complete the other is', () => {
    expect(staleModelCaches(names, rollout, all)).toEqual([modelCacheName('a', '0')]);
  });

  it('an unlisted version goes once any listed version of its model is complete', () => {
    for (const complete of [modelCacheName('a', '1'), modelCacheName('a', '2')]) {
      expect(staleModelCaches(names, rollout, new Set([complete])), complete).toEqual([
        modelCacheName('a', '0'),
      ]);
    }
    expect(staleModelCaches(names, rollout, new Set([modelCacheName('a', '0')]))).toEqual([]);
  });

  it('a rolled back candidate goes once the stable version is complete, not before', () => {
    const rolledBack = manifest(entry('a', '1'));
    const cached = [modelCacheName('a', '1'), modelCacheName('a', '2')];
    expect(staleModelCaches(cached, rolledBack, new Set([modelCacheName('a', '2')]))).toEqual([]);
    expect(staleModelCaches(cached, rolledBack, new Set(cached))).toEqual([
      modelCacheName('a', '2'),
    ]);
  });

  it('a promoted candidate makes the old stable version go once it is complete', () => {
    const promoted = manifest(entry('a', '2'));
    expect(staleModelCaches(names, promoted, new Set([modelCacheName('a', '2')]))).toEqual([
      modelCacheName('a', '1'),
      modelCacheName('a', '0'),
    ]);
  });
});

describe('the offline fallback', () => {
  const at = (id: string, version: string, completedAt: number | null) => ({
    entry: entry(id, version),
    completedAt,
  });
  const byTime: FallbackOrder = { preferred: [], demoted: [] };

  it('takes the version completed last, not the first one the caches list', () => {
    // Cache keys come back in an order of their own: here the older version first.
    const stored = [
      at('birds', 'old', 1_000),
      at('birds', 'new', 2_000),
      at('birds', 'mid', 1_500),
    ];
    expect(offlineVersion(stored, 'birds', byTime)?.version).toBe('new');
  });

  it('ranks a version without a completion time below any with one', () => {
    const stored = [at('birds', 'unknown', null), at('birds', 'timed', 5)];
    expect(offlineVersion(stored, 'birds', byTime)?.version).toBe('timed');
    expect(
      offlineVersion([at('birds', 'a', null), at('birds', 'b', null)], 'birds', byTime)?.version,
    ).toBe('a');
  });

  it('only looks at the model asked for, and says when none is stored', () => {
    const stored = [at('insects', 'x', 9_000), at('birds', 'y', 1)];
    expect(offlineVersion(stored, 'birds', byTime)?.version).toBe('y');
    expect(offlineVersion(stored, 'fish', byTime)).toBeNull();
  });

  it('takes the versions listed for the device first, in order, whenever they were completed', () => {
    const stored = [at('birds', 'old', 3_000), at('birds', 'stable', 1_000)];
    const order = { preferred: ['candidate', 'stable'], demoted: [] };
    expect(offlineVersion(stored, 'birds', order)?.version).toBe('stable');
    const both = [...stored, at('birds', 'candidate', 500)];
    expect(offlineVersion(both, 'birds', order)?.version).toBe('candidate');
  });

  it('runs a demoted version only when no other version of the model is stored', () => {
    const withdrawn = at('birds', 'withdrawn', 2_000);
    const order = { preferred: ['stable'], demoted: ['withdrawn'] };
    expect(offlineVersion([withdrawn, at('birds', 'older', 1_000)], 'birds', order)?.version).toBe(
      'older',
    );
    expect(offlineVersion([withdrawn], 'birds', order)?.version).toBe('withdrawn');
  });

  it('lists one version per model without a manifest, a former candidate last, the most recently completed model first', () => {
    const stored = [
      at('birds', '1', 10),
      at('insects', '1', 30),
      at('birds', '2', 20),
      at('birds', 'tried', 40),
    ];
    expect(
      offlineModels(stored, [{ id: 'birds', version: 'tried' }]).map((e) => `${e.id}@${e.version}`),
    ).toEqual(['insects@1', 'birds@2']);
  });

  it('reads the completion time back only when it is a plain number', () => {
    expect(parseCompletedAt('1750000000000')).toBe(1_750_000_000_000);
    for (const bad of [null, '', 'soon', '-1', '1e3', '12.5']) {
      expect(parseCompletedAt(bad), String(bad)).toBeNull();
    }
  });
});

describe('the fallback order of a device', () => {
  const published = withCandidate(manifest(entry('birds', 'v3')), 'birds', 'v4');
  const choice = (channel: ChannelChoice['channel']): ChannelChoice => ({
    id: 'birds',
    channel,
    version: channel === 'candidate' ? 'v4' : 'v3',
    otherVersion: channel === 'candidate' ? 'v3' : 'v4',
  });

  it('on the candidate: the candidate, then stable', () => {
    expect(fallbackOrder(published, 'birds', choice('candidate'), [])).toEqual({
      preferred: ['v4', 'v3'],
      demoted: [],
    });
  });

  it('on stable (outside the share or opted out): stable only, the candidate last', () => {
    expect(fallbackOrder(published, 'birds', choice('stable'), [])).toEqual({
      preferred: ['v3'],
      demoted: ['v4'],
    });
  });

  it('after a rollback: the withdrawn candidate last, a former candidate since promoted not', () => {
    const rolledBack = manifest(entry('birds', 'v3'));
    const former = [
      { id: 'birds', version: 'v4' },
      { id: 'insects', version: 'i9' },
    ];
    expect(fallbackOrder(rolledBack, 'birds', choice('stable'), former)).toEqual({
      preferred: ['v3'],
      demoted: ['v4'],
    });
    const promoted = manifest(entry('birds', 'v4'));
    expect(fallbackOrder(promoted, 'birds', undefined, former)).toEqual({
      preferred: ['v4'],
      demoted: [],
    });
  });

  it('without a manifest: every former candidate of the model last', () => {
    expect(fallbackOrder(null, 'birds', undefined, [{ id: 'birds', version: 'v4' }])).toEqual({
      preferred: [],
      demoted: ['v4'],
    });
  });
});
