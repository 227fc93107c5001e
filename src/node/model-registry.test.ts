import { catalogTemperature } from '../core/model-catalog';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseModelManifest, type ModelEntry } from '../core/model-manifest';
import { loadModelRegistry, type ModelRegistry } from './model-registry';
import { copyModel, editFile, makeTempDir, SHARED_MODELS_DIR } from '../../test-support/helpers';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function model(registry: ModelRegistry, id: string): ModelEntry {
  const entry = registry.manifest.models.find((m) => m.id === id);
  if (!entry) throw new Error(`no model ${id}`);
  return entry;
}

describe('loadModelRegistry on the shared models', () => {
  let registry: ModelRegistry;
  beforeAll(async () => {
    registry = await loadModelRegistry(SHARED_MODELS_DIR);
  });

  it('builds a manifest that parses, with the three models and the default', () => {
    const parsed = parseModelManifest(JSON.parse(JSON.stringify(registry.manifest)));
    expect(parsed.ok).toBe(true);
    expect(registry.manifest.defaultModel).toBe('imagenet-mobilenet-v2');
    const summary = registry.manifest.models.map((m) => [m.id, m.output.classes, m.labels.count]);
    expect(summary).toEqual([
      ['imagenet-mobilenet-v2', 1001, 1001],
      ['inat-birds-mobilenet-v2', 965, 965],
      ['inat-insects-mobilenet-v2', 1022, 1022],
    ]);
  });

  it('describes inputs, outputs and label semantics from source.json and the catalogue', () => {
    const imagenet = model(registry, 'imagenet-mobilenet-v2');
    expect(imagenet.input).toEqual({ name: 'input', size: 224, channels: 3, range: [-1, 1] });
    expect(imagenet.output.isProbability).toBe(true);
    expect(imagenet.labels).toEqual({
      format: 'imagenet',
      count: 1001,
      backgroundIndex: 0,
      animalRanges: [[1, 398]],
      // The calibrating temperature travels with the label semantics to every client.
      temperature: catalogTemperature('imagenet-mobilenet-v2'),
    });
    expect(model(registry, 'inat-birds-mobilenet-v2').labels).toMatchObject({
      format: 'scientific-common',
      backgroundIndex: 964,
      animalRanges: null,
    });
    expect(model(registry, 'inat-insects-mobilenet-v2').labels.backgroundIndex).toBe(1021);
  });

  it('lists model.json, every shard and labels.txt with their real size and sha256', async () => {
    for (const entry of registry.manifest.models) {
      expect(entry.version).toMatch(/^[0-9a-f]{10}$/);
      expect(entry.baseUrl).toBe(`/models/${entry.id}/${entry.version}/`);
      expect(entry.files.map((f) => f.path)).toEqual([
        'model.json',
        'group1-shard1of1.bin',
        'labels.txt',
      ]);
      for (const file of entry.files) {
        const bytes = await readFile(join(SHARED_MODELS_DIR, entry.id, file.path));
        expect(file.bytes).toBe(bytes.length);
        expect(file.sha256).toBe(sha256(bytes));
      }
      expect(entry.totalBytes).toBe(entry.files.reduce((sum, f) => sum + f.bytes, 0));
    }
  });

  it('resolves only the listed files of the current version', () => {
    const { id, version } = model(registry, 'imagenet-mobilenet-v2');
    expect(registry.resolveFile(id, version, 'labels.txt')).toBe(
      join(SHARED_MODELS_DIR, id, 'labels.txt'),
    );
    expect(registry.resolveFile(id, version, 'source.json')).toBeNull();
    expect(registry.resolveFile(id, version, '../README.md')).toBeNull();
    expect(registry.resolveFile(id, '0000000000', 'labels.txt')).toBeNull();
    expect(registry.resolveFile('tflite', version, 'LICENSE')).toBeNull();
  });
});

describe('loadModelRegistry on a changed copy', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  afterEach(() => temp.remove());

  it('gives a model a new version when one byte of labels.txt changes', async () => {
    temp = await makeTempDir('models');
    const dir = await copyModel(temp.path, 'imagenet-mobilenet-v2');
    const before = model(await loadModelRegistry(temp.path), 'imagenet-mobilenet-v2');

    await editFile(join(dir, 'labels.txt'), (text) => text.replace('tench', 'Tench'));
    const after = await loadModelRegistry(temp.path);
    const changed = model(after, 'imagenet-mobilenet-v2');

    expect(changed.version).not.toBe(before.version);
    expect(changed.files[0]).toEqual(before.files[0]);
    expect(changed.files[2]?.sha256).not.toBe(before.files[2]?.sha256);
    expect(after.resolveFile(changed.id, before.version, 'labels.txt')).toBeNull();
    expect(after.resolveFile(changed.id, changed.version, 'labels.txt')).toBe(
      join(dir, 'labels.txt'),
    );
  });

  it('serves an unknown model with plain labels and ignores folders without model.json', async () => {
    temp = await makeTempDir('models');
    await copyModel(temp.path, 'inat-birds-mobilenet-v2', 'my-model');
    await mkdir(join(temp.path, 'tflite'));
    await writeFile(join(temp.path, 'tflite', 'labels.txt'), 'a\n');

    const { manifest } = await loadModelRegistry(temp.path);
    expect(manifest.defaultModel).toBe('my-model');
    expect(manifest.models).toHaveLength(1);
    expect(manifest.models[0]).toMatchObject({
      id: 'my-model',
      name: 'my-model',
      labels: { format: 'plain', count: 965, backgroundIndex: 964, animalRanges: null },
    });
  });

  it('reads a labels.txt that starts with a BOM the way the client does', async () => {
    temp = await makeTempDir('models');
    const dir = await copyModel(temp.path, 'imagenet-mobilenet-v2');
    await editFile(join(dir, 'labels.txt'), (text) => `\uFEFF${text}`);

    const registry = await loadModelRegistry(temp.path);
    const entry = model(registry, 'imagenet-mobilenet-v2');
    expect(entry.labels).toMatchObject({ count: 1001, backgroundIndex: 0 });
    const labels = registry.labels(entry.id, entry.version);
    expect(labels?.has('background')).toBe(true);
    expect(labels?.has('\uFEFFbackground')).toBe(false);
  });

  it('refuses a model whose labels do not match its output', async () => {
    temp = await makeTempDir('models');
    const dir = await copyModel(temp.path, 'inat-insects-mobilenet-v2');
    await editFile(join(dir, 'labels.txt'), (text) => text.replace(/^.*\n/, ''));
    await expect(loadModelRegistry(temp.path)).rejects.toThrow(
      /inat-insects-mobilenet-v2: labels.txt has 1021 lines, the model outputs 1022/,
    );
  });

  it('refuses a shard path that leaves the model folder', async () => {
    temp = await makeTempDir('models');
    const dir = await copyModel(temp.path, 'inat-birds-mobilenet-v2');
    await editFile(join(dir, 'model.json'), (text) =>
      text.replace('"group1-shard1of1.bin"', '"../group1-shard1of1.bin"'),
    );
    await expect(loadModelRegistry(temp.path)).rejects.toThrow(/model.json/);
  });

  it('refuses a folder with no model at all', async () => {
    temp = await makeTempDir('models');
    await expect(loadModelRegistry(temp.path)).rejects.toThrow(/no model folder/);
  });
});
