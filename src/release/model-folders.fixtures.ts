import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { copyModel, editFile, SHARED_MODELS_DIR } from '../../test-support/helpers';

/**
 * Copies of the shared models, each spoilt in one way a real release could be: always in a
 * temp dir of the caller's, never in the shared folder.
 */

export const IMAGENET = 'imagenet-mobilenet-v2';
export const BIRDS = 'inat-birds-mobilenet-v2';
export const SHARD = 'group1-shard1of1.bin';

type ModelJson = {
  modelTopology: { node: { name: string; op: string }[] };
  signature?: { inputs: Record<string, TensorInfo>; outputs: Record<string, TensorInfo> };
};
type TensorInfo = { tensorShape: { dim: { size: string }[] } };

async function editModelJson(dir: string, edit: (model: ModelJson) => void): Promise<void> {
  await editFile(join(dir, 'model.json'), (text) => {
    const model = JSON.parse(text) as ModelJson;
    edit(model);
    return JSON.stringify(model);
  });
}

/** The shard as a writable file (the shared files are read-only, and so are their copies). */
async function writableShard(dir: string): Promise<string> {
  const path = join(dir, SHARD);
  await chmod(path, 0o644);
  return path;
}

export const spoil = {
  /** The last line, so that what the catalogue expects of the first lines still holds. */
  async labelLineRemoved(dir: string): Promise<void> {
    await editFile(join(dir, 'labels.txt'), (text) => {
      const lines = text.trimEnd().split('\n');
      return `${lines.slice(0, -1).join('\n')}\n`;
    });
  },
  /** What a download cut short leaves. */
  async truncatedShard(dir: string): Promise<void> {
    const path = await writableShard(dir);
    const data = await readFile(path);
    await writeFile(path, data.subarray(0, data.byteLength - 4096));
  },
  /** Another model's weights under this model's graph. */
  async swappedShard(dir: string, from = BIRDS): Promise<void> {
    await writeFile(await writableShard(dir), await readFile(join(SHARED_MODELS_DIR, from, SHARD)));
  },
  /** A graph TF.js cannot run: an op it does not know. */
  async unknownOp(dir: string): Promise<void> {
    await editModelJson(dir, (model) => {
      const softmax = model.modelTopology.node.find((node) => node.op === 'Softmax');
      if (!softmax) throw new Error('no Softmax node');
      softmax.op = 'NoSuchOp';
    });
  },
  /** Logits where the card promises probabilities. */
  async softmaxRemoved(dir: string): Promise<void> {
    await editModelJson(dir, (model) => {
      const softmax = model.modelTopology.node.find((node) => node.op === 'Softmax');
      if (!softmax) throw new Error('no Softmax node');
      softmax.op = 'Identity';
    });
  },
  async inputSize(dir: string, size: number): Promise<void> {
    await editModelJson(dir, (model) => {
      const dims = Object.values(model.signature!.inputs)[0]!.tensorShape.dim;
      dims[1]!.size = String(size);
      dims[2]!.size = String(size);
    });
  },
  /** source.json and labels.txt agree on one class fewer than the graph gives. */
  async oneClassFewerThanTheGraph(dir: string): Promise<void> {
    await spoil.labelLineRemoved(dir);
    await editFile(join(dir, 'source.json'), (text) => {
      const source = JSON.parse(text) as { outputShape: number[] };
      source.outputShape = [1, source.outputShape[1]! - 1];
      return JSON.stringify(source);
    });
  },
  /** As `oneClassFewerThanTheGraph`, in a model.json without a signature to read the size from. */
  async oneClassFewerWithoutSignature(dir: string): Promise<void> {
    await spoil.oneClassFewerThanTheGraph(dir);
    await editModelJson(dir, (model) => {
      delete model.signature;
    });
  },
};

export { copyModel };
