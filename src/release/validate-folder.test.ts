import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelCard } from '../core/model-card';
import { tensorCount } from '../model/backend';
import { activateNodeBackend } from '../node/inference/node-model';
import { readModelFolder, type ModelFolder } from '../node/model-folder';
import { makeTempDir, SHARED_MODELS_DIR } from '../../test-support/helpers';
import { BIRDS, copyModel, IMAGENET, SHARD, spoil } from './model-folders.fixtures';
import { checkOutputSize, checkSmokeOutput, validateModelFolder } from './validate-folder';

let temp: Awaited<ReturnType<typeof makeTempDir>>;
let copies = 0;
beforeAll(async () => {
  temp = await makeTempDir('validate');
});
afterAll(() => temp.remove());

/** A fresh copy of a shared model, spoilt by `edit`. */
async function copyOf(id: string, edit?: (dir: string) => Promise<void>): Promise<string> {
  const dir = await copyModel(temp.path, id, `${id}-${++copies}`);
  await edit?.(dir);
  return dir;
}

async function refusal(dir: string, id = IMAGENET) {
  const result = await validateModelFolder(dir, id);
  if (result.ok) throw new Error(`${dir} was accepted`);
  return result.error;
}

describe('validateModelFolder on the real models', () => {
  it('accepts the shared models, with the versions readModelFolder gives, and leaks no tensor', async () => {
    // tf.memory() needs an active backend before the first load.
    await activateNodeBackend('wasm');
    const before = tensorCount();
    for (const id of [IMAGENET, BIRDS, 'inat-insects-mobilenet-v2']) {
      const dir = join(SHARED_MODELS_DIR, id);
      const validated = await validateModelFolder(dir, id);
      const read = await readModelFolder(dir, id);
      if (!validated.ok) throw new Error(`${id}: ${validated.error.detail}`);
      if (!read.ok) throw new Error(`${id}: ${read.error.detail}`);
      expect(validated.value.version, id).toBe(read.value.version);
    }
    await validateModelFolder(await copyOf(IMAGENET, spoil.unknownOp), IMAGENET);
    expect(tensorCount()).toBe(before);
  });

  it('refuses labels that do not match the output size', async () => {
    expect(await refusal(await copyOf(IMAGENET, spoil.labelLineRemoved))).toMatchObject({
      code: 'MODEL_LABELS_MISMATCH',
      detail: expect.stringMatching(/labels\.txt has 1000 lines, the model outputs 1001/),
    });
    // Labels and source.json agree with each other, not with the graph: the size the graph
    // really gives tells, whether or not model.json has a signature that states it.
    for (const edit of [spoil.oneClassFewerThanTheGraph, spoil.oneClassFewerWithoutSignature]) {
      expect(await refusal(await copyOf(IMAGENET, edit)), edit.name).toMatchObject({
        code: 'MODEL_LABELS_MISMATCH',
        detail: expect.stringMatching(
          /the graph outputs 1001 values per photo, labels\.txt has 1000 lines and the card 1000 classes/,
        ),
      });
    }
  });

  it('refuses a truncated or swapped weight shard, naming the file and the figures', async () => {
    expect(await refusal(await copyOf(IMAGENET, spoil.truncatedShard))).toMatchObject({
      code: 'MODEL_LOAD_FAILED',
      detail: expect.stringMatching(
        new RegExp(`${SHARD}: ${3543276 - 4096} bytes, model.json's weights need 3543276`),
      ),
    });
    expect(await refusal(await copyOf(IMAGENET, (dir) => spoil.swappedShard(dir)))).toMatchObject({
      code: 'MODEL_LOAD_FAILED',
      detail: expect.stringMatching(new RegExp(`${SHARD}: 3497052 bytes`)),
    });
  });

  it('refuses a graph TF.js cannot run', async () => {
    expect(await refusal(await copyOf(IMAGENET, spoil.unknownOp))).toMatchObject({
      code: 'MODEL_LOAD_FAILED',
      detail: expect.stringContaining('could not build or run the graph'),
    });
  });

  it("refuses a graph whose input is not the card's", async () => {
    expect(await refusal(await copyOf(IMAGENET, (dir) => spoil.inputSize(dir, 192)))).toMatchObject(
      {
        code: 'MODEL_INVALID',
        detail: expect.stringContaining(
          `input "input" is [-1, 192, 192, 3], the card says 224×224×3`,
        ),
      },
    );
  });

  it('refuses logits where the card says probabilities', async () => {
    expect(await refusal(await copyOf(IMAGENET, spoil.softmaxRemoved))).toMatchObject({
      code: 'MODEL_INVALID',
      detail: expect.stringMatching(/the card says probabilities, the smoke inference/),
    });
  });
});

describe('checkOutputSize', () => {
  const card = { output: { classes: 4, isProbability: true } } as ModelCard;
  const folder = { card, labelLines: ['a', 'b', 'c', 'd'] } as unknown as ModelFolder;

  it('takes the size the labels and the card give, and no other', () => {
    expect(checkOutputSize(4, folder).ok).toBe(true);
    expect(checkOutputSize(3, folder)).toMatchObject({
      ok: false,
      error: {
        code: 'MODEL_LABELS_MISMATCH',
        detail: expect.stringMatching(/outputs 3 values per photo, labels\.txt has 4 lines/),
      },
    });
    const disagreeing = { ...folder, labelLines: ['a', 'b', 'c'] } as ModelFolder;
    expect(checkOutputSize(4, disagreeing).ok).toBe(false);
  });
});

describe('checkSmokeOutput', () => {
  const card = { output: { classes: 4, isProbability: true } } as ModelCard;
  const folder = { card, labelLines: ['a', 'b', 'c', 'd'] } as unknown as ModelFolder;
  const scores = { ...folder, card: { output: { classes: 4, isProbability: false } } };
  const check = (values: number[], of: ModelFolder = folder) =>
    checkSmokeOutput(Float32Array.from(values), of);

  it('takes probabilities that sum to 1, and any finite scores', () => {
    expect(check([0.1, 0.2, 0.3, 0.4]).ok).toBe(true);
    expect(check([-3, 12, 0.5, 7], scores as ModelFolder).ok).toBe(true);
  });

  it.each([
    [[0.5, NaN, 0.5, 0], 'MODEL_INVALID', /gave NaN at output 1/],
    [[0.5, 0.5, Infinity, 0], 'MODEL_INVALID', /gave Infinity at output 2/],
    [[1.2, -0.2, 0, 0], 'MODEL_INVALID', /gave -0\.2.* at output 1/],
    [[0.2, 0.2, 0.2, 0.2], 'MODEL_INVALID', /sum to 0\.8000/],
  ])('refuses %j', (values, code, detail) => {
    expect(check(values)).toMatchObject({
      ok: false,
      error: { code, detail: expect.stringMatching(detail) },
    });
  });
});
