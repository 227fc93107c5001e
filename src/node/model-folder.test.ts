import { rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseModelCard, type ModelCard } from '../core/model-card';
import { entryOf, readModelFolder, versionOf } from './model-folder';
import { loadModelRegistry } from './model-registry';
import { copyModel, editFile, makeTempDir, SHARED_MODELS_DIR } from '../../test-support/helpers';

const BIRDS = 'inat-birds-mobilenet-v2';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function birdsCopy(): Promise<string> {
  const dir = await makeTempDir('model-folder');
  cleanups.push(dir.remove);
  return copyModel(dir.path, BIRDS);
}

async function read(dir: string, id = BIRDS) {
  const folder = await readModelFolder(dir, id);
  if (!folder.ok) throw new Error(`${folder.error.code}: ${folder.error.detail}`);
  return folder.value;
}

describe('readModelFolder', () => {
  it('gives the shared models the versions and entries the served manifest has', async () => {
    const registry = await loadModelRegistry(SHARED_MODELS_DIR);
    for (const served of registry.manifest.models) {
      const folder = await read(join(SHARED_MODELS_DIR, served.id), served.id);
      expect(folder.version).toBe(served.version);
      expect(entryOf(folder)).toEqual(served);
      expect(folder.files.map((f) => f.path)).toEqual(served.files.map((f) => f.path));
      expect(folder.files.every((f) => f.data.byteLength === f.bytes)).toBe(true);
    }
  });

  it('takes card.json when the folder has one, and its calibration into the entry', async () => {
    const dir = await birdsCopy();
    const derived = (await read(dir)).card;
    const card: ModelCard = {
      ...derived,
      name: 'Birds, retrained',
      source: 'retrained from inat-birds-mobilenet-v2@0123456789 on 40 corrections',
      calibration: { temperature: 0.9, fittedOn: 'birds-cub fit half' },
      evaluation: [{ dataset: 'birds-cub report half', metric: 'top-1', value: 0.8, n: 46 }],
      parent: '0123456789',
    };
    await writeFile(join(dir, 'card.json'), JSON.stringify(card));
    const folder = await read(dir);
    expect(folder.card).toEqual(card);
    expect(entryOf(folder).labels.temperature).toBe(0.9);
    expect(entryOf(folder).name).toBe('Birds, retrained');
    // The card is part of the version: the same files under another card are another one.
    const shared = await read(join(SHARED_MODELS_DIR, BIRDS));
    const listed = (f: { files: { path: string; sha256: string }[] }) =>
      f.files.map(({ path, sha256 }) => `${path} ${sha256}`);
    expect(listed(folder)).toEqual(listed(shared));
    expect(folder.version).not.toBe(shared.version);
    expect(folder.version).toBe(versionOf(folder.files, card));
    // And a card.json that says what the derived card says gives the same version.
    await writeFile(join(dir, 'card.json'), JSON.stringify(derived));
    expect((await read(dir)).version).toBe(shared.version);
  });

  it('gives the same files under another card another version, one per field changed', async () => {
    const files = [{ path: 'model.json', sha256: 'a'.repeat(64) }];
    const { card } = await read(join(SHARED_MODELS_DIR, BIRDS));
    const versions = [
      card,
      { ...card, calibration: { temperature: 1.25, fittedOn: 'another photo set' } },
      { ...card, labels: { ...card.labels, backgroundIndex: null } },
      { ...card, notes: 'a catalogue fix' },
    ].map((c) => versionOf(files, c));
    expect(new Set(versions).size).toBe(versions.length);
    // Key order is not content.
    const reordered = Object.fromEntries(Object.entries(card).reverse()) as typeof card;
    expect(versionOf(files, reordered)).toBe(versions[0]);
  });

  it('derives the same card, hence the same version, for every copy of a folder', async () => {
    const [first, second] = [await birdsCopy(), await birdsCopy()];
    // Another clone, another day: file times say nothing about the model.
    const day = (iso: string) => new Date(iso);
    for (const file of ['model.json', 'labels.txt', 'source.json', 'group1-shard1of1.bin']) {
      await utimes(join(first, file), day('2020-01-01'), day('2020-01-01'));
      await utimes(join(second, file), day('2026-06-01'), day('2026-06-01'));
    }
    const [a, b] = [await read(first), await read(second)];
    expect(a.card).toEqual(b.card);
    expect(a.card.created).toBeNull();
    // Nor does where the folder sits.
    expect(JSON.stringify(a.card)).not.toContain(first);
    expect(a.version).toBe(b.version);
    expect(a.version).toBe((await read(join(SHARED_MODELS_DIR, BIRDS))).version);
  });

  it('says what is wrong, with a code, instead of throwing', async () => {
    const dir = await birdsCopy();
    await editFile(join(dir, 'labels.txt'), (text) => text.split('\n').slice(1).join('\n'));
    expect(await readModelFolder(dir, BIRDS)).toMatchObject({
      ok: false,
      error: { code: 'MODEL_LABELS_MISMATCH' },
    });

    const noShard = await birdsCopy();
    await rm(join(noShard, 'group1-shard1of1.bin'));
    expect(await readModelFolder(noShard, BIRDS)).toMatchObject({
      ok: false,
      error: { code: 'MODEL_INVALID', detail: expect.stringContaining('group1-shard1of1.bin') },
    });

    const badCard = await birdsCopy();
    await writeFile(join(badCard, 'card.json'), JSON.stringify({ name: 'no more than a name' }));
    expect(await readModelFolder(badCard, BIRDS)).toMatchObject({
      ok: false,
      error: { code: 'MODEL_INVALID', detail: expect.stringContaining('card.json') },
    });

    const escaping = await birdsCopy();
    await editFile(join(escaping, 'model.json'), (text) =>
      text.replace('group1-shard1of1.bin', '../../etc/passwd'),
    );
    expect(await readModelFolder(escaping, BIRDS)).toMatchObject({
      ok: false,
      error: { code: 'MODEL_INVALID' },
    });
  });

  it('writes a card that parses back', async () => {
    const card = (await read(join(SHARED_MODELS_DIR, BIRDS))).card;
    expect(parseModelCard(JSON.parse(JSON.stringify(card)))).toEqual({ ok: true, card });
    expect(card.calibration?.temperature).toBeGreaterThan(0);
  });
});
