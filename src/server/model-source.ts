import type { ReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { stableOnly, type ChannelManifest } from '../core/model-channels';
import type { ModelFile } from '../core/model-manifest';
import type { ModelRegistry, ServedFile } from '../node/model-registry';

/**
 * What /models serves and what feedback is checked against, wherever it comes from: the
 * registry (the server, registry/live-models.ts) or a models folder read once (the Vite
 * dev and preview servers, tests and tools, `folderSource`).
 */
export interface ModelSource {
  /** The manifest as served now; a new object after each change. */
  manifest(): ChannelManifest;
  /** A file of a version the manifest lists (stable or candidate), or null for any other. */
  findFile(id: string, version: string, path: string): ServedModelFile | null;
  /**
   * The label lines of a version feedback may name: one listed now or registered before;
   * null when the source does not know it.
   */
  labels(id: string, version: string): Promise<ReadonlySet<string> | null>;
  /** Called after each change of the manifest, and when it cannot learn of changes (once per outage). */
  subscribe(listener: ModelSourceListener): () => void;
}

export interface ModelSourceListener {
  changed?(manifest: ChannelManifest): void;
  failed?(error: unknown): void;
}

export interface ServedModelFile extends ModelFile {
  /** The file's bytes, checked: from disk (size checked), or from the registry (sha256 checked). */
  open(): Promise<ReadStream | Uint8Array>;
}

/** A models folder as read at start-up: stable only, never changing. */
export function folderSource(registry: ModelRegistry): ModelSource {
  const { models, defaultModel, generatedAt } = registry.manifest;
  const manifest = stableOnly(models, defaultModel, generatedAt);
  return {
    manifest: () => manifest,
    findFile(id, version, path) {
      const file = registry.findFile(id, version, path);
      if (file === null) return null;
      const { bytes, sha256 } = file;
      return { path: file.path, bytes, sha256, open: () => openChecked(file) };
    },
    labels: async (id, version) => registry.labels(id, version),
    subscribe: () => () => {},
  };
}

/**
 * Opens a file of the folder and checks it still has the size the manifest announced: a
 * model replaced on disk while the server runs must not be sent under the old version's URL.
 */
async function openChecked(file: ServedFile): Promise<ReadStream> {
  const handle = await open(file.absolutePath, 'r');
  const { size } = await handle.stat();
  if (size !== file.bytes) {
    await handle.close();
    throw new Error(`${file.absolutePath} changed on disk since start-up; restart the server`);
  }
  return handle.createReadStream();
}
