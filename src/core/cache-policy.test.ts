import { describe, expect, it } from 'vitest';
import {
  entryPath,
  findModelFile,
  isComplete,
  modelCacheName,
  parseModelCacheName,
  parseModelFilePath,
  staleModelCaches,
} from './cache-policy';
import type { ModelEntry, ModelManifest } from './model-manifest';

function entry(id: string, version: string): ModelEntry {
  return {
    id,
    version,
    name: id,
    description: '',
    baseUrl: `/models/${id}/${version}/`,
    modelFile: 'model.json',
    labelsFile: 'labels.txt',
    files: [
      { path: 'model.json', bytes: 10, sha256: 'a'.repeat(64) },
      { path: 'group1-shard1of1.bin', bytes: 20, sha256: 'b'.repeat(64) },
      { path: 'labels.txt', bytes: 5, sha256: 'c'.repeat(64) },
    ],
    totalBytes: 35,
    input: { name: 'input', size: 224, channels: 3, range: [-1, 1] },
    output: { classes: 3, isProbability: true },
    labels: { format: 'plain', count: 3, backgroundIndex: null, animalRanges: null },
  };
}

function manifest(...models: ModelEntry[]): ModelManifest {
  return { schemaVersion: 1, generatedAt: '', defaultModel: models[0]!.id, models };
}

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
