import type { LabelIndex } from '../core/feedback';
import type { ModelManifest } from '../core/model-manifest';
import type { FeedbackStore, ServedModel } from './feedback-store';

/**
 * The labels feedback is checked against: those of every model version this server, or
 * any earlier start of it (or another server on the same database), has served. A phone
 * may hold corrections queued offline for a version that a model update has since
 * replaced; they stay valid, and are checked against that version's own labels.
 */
export interface ModelMemory {
  /** Writes the versions served now to the database; run once at start-up. */
  rememberServed(): Promise<void>;
  /** An index answering for these models: served now, remembered, or unknown (null). */
  indexFor(models: readonly { id: string; version: string }[]): Promise<LabelIndex>;
}

/** What the memory needs of the registry: the models served now and their labels. */
export type ServedModels = LabelIndex & { manifest: Pick<ModelManifest, 'models'> };

export function servedModels(registry: ServedModels): ServedModel[] {
  return registry.manifest.models.map(({ id, version }) => ({
    id,
    version,
    labels: [...(registry.labels(id, version) ?? [])],
  }));
}

export function createModelMemory(registry: ServedModels, store: FeedbackStore): ModelMemory {
  // Remembered versions never change (a version is a hash of the model's files), so what
  // was found stays cached. A miss is not cached: another server on the same database may
  // remember the version a moment later, and a miss costs one primary-key lookup.
  const remembered = new Map<string, Promise<ReadonlySet<string> | null>>();
  const keyOf = (id: string, version: string) => `${id}@${version}`;

  const lookUp = (id: string, version: string): Promise<ReadonlySet<string> | null> => {
    const key = keyOf(id, version);
    let found = remembered.get(key);
    if (found === undefined) {
      found = store.servedModelLabels(id, version).then((labels) => {
        if (labels === null) remembered.delete(key);
        return labels === null ? null : new Set(labels);
      });
      // A failed lookup (the database is down) is asked again next time.
      found.catch(() => remembered.delete(key));
      remembered.set(key, found);
    }
    return found;
  };

  return {
    rememberServed: () => store.rememberModels(servedModels(registry)),
    async indexFor(models) {
      const labels = new Map<string, ReadonlySet<string> | null>();
      const pending: Promise<void>[] = [];
      for (const { id, version } of models) {
        const key = keyOf(id, version);
        if (labels.has(key)) continue;
        // Served now: no database round trip.
        const current = registry.labels(id, version);
        labels.set(key, current);
        if (current === null) {
          pending.push(lookUp(id, version).then((found) => void labels.set(key, found)));
        }
      }
      await Promise.all(pending);
      return { labels: (id, version) => labels.get(keyOf(id, version)) ?? null };
    },
  };
}
