import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseModelCard, type ModelCard } from '../core/model-card';
import { entryOf, readModelFolder } from './model-folder';
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
    // The card is not a downloaded file: the same model and labels keep their version.
    expect(folder.version).toBe((await read(join(SHARED_MODELS_DIR, BIRDS))).version);
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
