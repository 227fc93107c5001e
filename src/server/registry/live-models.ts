import { canonicalJson } from '../../core/feedback';
import { splitLabelLines } from '../../core/labels';
import {
  listedEntries,
  parseChannelManifest,
  type ChannelManifest,
} from '../../core/model-channels';
import type { ModelFile } from '../../core/model-manifest';
import { LABELS_FILE } from '../../node/model-folder';
import type { ModelSource, ModelSourceListener } from '../model-source';
import { createByteCache } from './byte-cache';
import type { ModelRegistryService } from './registry';

export interface LiveModelsOptions {
  /** How often to ask the registry for its revision. */
  refreshMs: number;
  /** The budget of the in-memory cache of file contents. */
  cacheBytes: number;
}

export interface LiveModels extends ModelSource {
  /**
   * Asks the registry now, after any refresh already running; reloads the manifest when the
   * registry's revision moved, and serves it (true then) when it differs from the one served.
   */
  refresh(): Promise<boolean>;
  /** Stops asking. */
  close(): void;
}

/**
 * The registry as a server serves it: the manifest in memory, refreshed when the
 * registry's revision moves (another server or `npm run model` changed it), so a change
 * reaches every server within one refresh interval with no restart. A registry that cannot
 * be reached leaves the last manifest in service: devices keep what works. Files are read
 * from the store on first request, sha256-checked, then kept in a small cache.
 */
export async function openLiveModels(
  registry: Pick<ModelRegistryService, 'revision' | 'manifest' | 'readFile'>,
  options: LiveModelsOptions,
): Promise<LiveModels> {
  const listeners = new Set<ModelSourceListener>();
  const cache = createByteCache(options.cacheBytes);
  const reading = new Map<string, Promise<Uint8Array>>();

  let revision = await registry.revision();
  let state = served(await registry.manifest());

  const reload = async (): Promise<boolean> => {
    const next = await registry.revision();
    if (next === revision) return false;
    // Read after the revision: at least as new as it, so nothing is missed (at worst the
    // next refresh reloads the same manifest once more).
    const fresh = served(await registry.manifest());
    revision = next;
    // A version registered or removed off the channels moves the revision, not what is
    // served: the same manifest object stays, and with it the ETag devices hold.
    if (fresh.content === state.content) return false;
    state = fresh;
    for (const listener of listeners) listener.changed?.(state.manifest);
    return true;
  };
  // One refresh at a time, so that an older manifest never replaces a newer one. A call
  // made during a refresh may follow a change that refresh has read too early: one more
  // runs after it, shared by every call made meanwhile.
  let running: Promise<boolean> | null = null;
  let queued: Promise<boolean> | null = null;
  const refresh = (): Promise<boolean> => {
    if (running === null) {
      running = reload().finally(() => {
        running = null;
      });
      return running;
    }
    queued ??= running
      .then(
        () => {},
        () => {},
      )
      .then(() => {
        queued = null;
        return refresh();
      });
    return queued;
  };

  const read = (id: string, version: string, file: ModelFile): Promise<Uint8Array> => {
    const cached = cache.get(file.sha256);
    if (cached !== undefined) return Promise.resolve(cached);
    let pending = reading.get(file.sha256);
    if (pending === undefined) {
      pending = registry.readFile(id, version, file.path).then((result) => {
        if (!result.ok) {
          throw new Error(
            `${id}@${version}/${file.path}: ${result.error.code} ${result.error.detail ?? ''}`,
          );
        }
        cache.set(file.sha256, result.value);
        return result.value;
      });
      const settled = pending.finally(() => reading.delete(file.sha256));
      settled.catch(() => {});
      reading.set(file.sha256, pending);
    }
    return pending;
  };

  let closed = false;
  let failing = false;
  let timer: NodeJS.Timeout | null = null;
  const schedule = () => {
    timer = setTimeout(() => {
      refresh()
        .then(() => {
          failing = false;
        })
        .catch((error: unknown) => {
          // Once per outage, not once per poll.
          if (failing) return;
          failing = true;
          for (const listener of listeners) listener.failed?.(error);
        })
        .finally(() => {
          if (!closed) schedule();
        });
    }, options.refreshMs);
    // The server's socket keeps the process alive, not this.
    timer.unref();
  };
  schedule();

  return {
    manifest: () => state.manifest,
    findFile(id, version, path) {
      const file = state.files.get(keyOf(id, version))?.get(path);
      return file === undefined ? null : { ...file, open: () => read(id, version, file) };
    },
    async labels(id, version) {
      const listed = state.files.get(keyOf(id, version))?.get(LABELS_FILE);
      if (listed !== undefined) return labelSet(await read(id, version, listed));
      // An earlier version (or one registered but never rolled out): records queued
      // offline for it are still checked against its own labels.
      const result = await registry.readFile(id, version, LABELS_FILE);
      if (result.ok) return labelSet(result.value);
      if (result.error.code === 'UNKNOWN_MODEL') return null;
      throw new Error(
        `${id}@${version}/${LABELS_FILE}: ${result.error.code} ${result.error.detail ?? ''}`,
      );
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    refresh,
    close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
    },
  };
}

const keyOf = (id: string, version: string) => `${id}@${version}`;

/**
 * The manifest, checked as a device will check it; what it serves (all of it but its date),
 * to tell a change from a reload; and an index of the files it lists.
 */
function served(manifest: ChannelManifest): {
  manifest: ChannelManifest;
  content: string;
  files: Map<string, Map<string, ModelFile>>;
} {
  const parsed = parseChannelManifest(manifest);
  if (!parsed.ok) throw new Error(`the registry gives an invalid manifest: ${parsed.reason}`);
  const files = new Map(
    listedEntries(parsed.manifest).map((entry) => [
      keyOf(entry.id, entry.version),
      new Map(entry.files.map((file) => [file.path, file])),
    ]),
  );
  const content = canonicalJson({ ...parsed.manifest, generatedAt: undefined });
  return { manifest: parsed.manifest, content, files };
}

/** Label lines as the client splits them (core/labels.ts): feedback names classes by line. */
function labelSet(data: Uint8Array): ReadonlySet<string> {
  return new Set(splitLabelLines(new TextDecoder().decode(data)));
}
