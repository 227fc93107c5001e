import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelEntry } from '../core/model-manifest';
import { loadModelRegistry } from '../node/model-registry';
import { sha256Hex } from '../core/digest';
import { loadModelArtifacts, type DownloadProgress, type FileReader } from './artifacts';
import { DEFAULT_MODELS_DIR } from '../node/shared-paths';

/**
 * The integrity gate before TF.js sees a byte, on the real ImageNet model's files held
 * in memory, so a test can corrupt or drop one of them.
 */
const MODELS_DIR = DEFAULT_MODELS_DIR;
const SHARD = 'group1-shard1of1.bin';

let entry: ModelEntry;
let files: Map<string, ArrayBuffer>;

beforeAll(async () => {
  const registry = await loadModelRegistry(MODELS_DIR);
  entry = registry.manifest.models.find((m) => m.id === 'imagenet-mobilenet-v2')!;
  files = new Map(
    await Promise.all(
      entry.files.map(async ({ path: file }) => {
        const data = await readFile(registry.resolveFile(entry.id, entry.version, file)!);
        const copy = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
        return [file, copy as ArrayBuffer] as const;
      }),
    ),
  );
});

/** Serves the files from memory, after `change` has had its way with a copy of them. */
function memoryReader(change: (files: Map<string, ArrayBuffer>) => void = () => {}): FileReader {
  const served = new Map([...files].map(([file, data]) => [file, data.slice(0)]));
  change(served);
  return async (file, onBytes) => {
    const data = served.get(file);
    if (data === undefined) throw new Error(`ENOENT: no such file, open '${file}'`);
    onBytes(data.byteLength);
    return data;
  };
}

function flipByte(data: ArrayBuffer | undefined, at: number): void {
  const view = new Uint8Array(data!);
  view[at] = view[at]! ^ 0xff;
}

describe('loadModelArtifacts', () => {
  it('hands over the real files with their weights and labels, reporting progress', async () => {
    const progress: DownloadProgress[] = [];
    const loaded = await loadModelArtifacts(entry, memoryReader(), (p) => progress.push(p));
    if (!loaded.ok) throw new Error(loaded.error.code);
    const { artifacts, labelsText } = loaded.value;
    expect(artifacts.weightData).toEqual([files.get(SHARD)]);
    expect(artifacts.weightSpecs?.length).toBeGreaterThan(100);
    expect(artifacts.format).toBe('graph-model');
    expect(labelsText.split('\n')[1]).toBe('tench, Tinca tinca');
    expect(progress.at(-1)).toEqual({
      loadedBytes: entry.totalBytes,
      totalBytes: entry.totalBytes,
    });
  });

  it('refuses a weight shard with one byte changed as MODEL_INTEGRITY_FAILED', async () => {
    const reader = memoryReader((served) => flipByte(served.get(SHARD), 123_456));
    const loaded = await loadModelArtifacts(entry, reader);
    expect(loaded).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'MODEL_INTEGRITY_FAILED', detail: SHARD }),
    });
  });

  it('refuses a changed label file and a shard cut short', async () => {
    const labels = memoryReader((served) => flipByte(served.get('labels.txt'), 0));
    expect(await loadModelArtifacts(entry, labels)).toMatchObject({
      ok: false,
      error: { code: 'MODEL_INTEGRITY_FAILED', detail: 'labels.txt' },
    });
    const short = memoryReader((served) => served.set(SHARD, served.get(SHARD)!.slice(0, -1)));
    expect(await loadModelArtifacts(entry, short)).toMatchObject({
      ok: false,
      error: { code: 'MODEL_INTEGRITY_FAILED', detail: SHARD },
    });
  });

  it('reports a file that cannot be read as MODEL_LOAD_FAILED', async () => {
    const reader = memoryReader((served) => served.delete(SHARD));
    const loaded = await loadModelArtifacts(entry, reader);
    expect(loaded).toMatchObject({ ok: false, error: { code: 'MODEL_LOAD_FAILED' } });
    expect(!loaded.ok && loaded.error.detail).toContain(SHARD);
  });

  it('reports a model.json that matches its hash but is not JSON as MODEL_LOAD_FAILED', async () => {
    const broken = new TextEncoder().encode('{ not json').buffer as ArrayBuffer;
    const lying: ModelEntry = {
      ...entry,
      files: await Promise.all(
        entry.files.map(async (file) =>
          file.path === 'model.json'
            ? { ...file, bytes: broken.byteLength, sha256: await sha256Hex(broken) }
            : file,
        ),
      ),
    };
    const reader = memoryReader((served) => served.set('model.json', broken));
    const loaded = await loadModelArtifacts(lying, reader);
    expect(loaded).toMatchObject({ ok: false, error: { code: 'MODEL_LOAD_FAILED' } });
    expect(!loaded.ok && loaded.error.detail).toMatch(/^model\.json: /);
  });
});
