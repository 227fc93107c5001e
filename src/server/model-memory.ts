import type { LabelIndex } from '../core/feedback';
import { listedEntries } from '../core/model-channels';
import type { FeedbackStore, ServedModel } from './feedback-store';
import type { ModelSource } from './model-source';

/**
 * The labels feedback is checked against: those of every version the model source knows
 * (on the server: every version ever registered, stable, candidate or earlier), and of
 * every version any earlier start of this server (or another server on the same database)
 * has served. A phone may hold corrections queued offline for a version that has since
 * been replaced; they stay valid, and are checked against that version's own labels.
 */
export interface ModelMemory {
  /** Writes the versions listed now (stable and candidate) to the database. */
  rememberServed(): Promise<void>;
  /** An index answering for these models: known to the source, remembered, or unknown (null). */
  indexFor(models: readonly { id: string; version: string }[]): Promise<LabelIndex>;
}

/** What the memory needs of the source: the listed versions and any version's labels. */
export type MemorySource = Pick<ModelSource, 'manifest' | 'labels'>;

/** Every version the manifest lists, with its label lines in order. */
export async function servedModels(source: MemorySource): Promise<ServedModel[]> {
  return Promise.all(
    listedEntries(source.manifest()).map(async ({ id, version }) => ({
      id,
      version,
      labels: [...((await source.labels(id, version)) ?? [])],
    })),
  );
}

export function createModelMemory(source: MemorySource, store: FeedbackStore): ModelMemory {
  // Versions never change (a version is a hash of the model's files), so what was found
  // stays cached. A miss is not cached: the version may be registered, or another server
  // may remember it, a moment later; a miss costs a primary-key lookup or two.
  const found = new Map<string, Promise<ReadonlySet<string> | null>>();
  const keyOf = (id: string, version: string) => `${id}@${version}`;

  const lookUp = (id: string, version: string): Promise<ReadonlySet<string> | null> => {
    const key = keyOf(id, version);
    let labels = found.get(key);
    if (labels === undefined) {
      labels = source.labels(id, version).then(async (known) => {
        const labels = known ?? toSet(await store.servedModelLabels(id, version));
        if (labels === null) found.delete(key);
        return labels;
      });
      // A failed lookup (the database is down) is asked again next time.
      labels.catch(() => found.delete(key));
      found.set(key, labels);
    }
    return labels;
  };

  return {
    rememberServed: async () => store.rememberModels(await servedModels(source)),
    async indexFor(models) {
      const labels = new Map<string, ReadonlySet<string> | null>();
      await Promise.all(
        [...new Map(models.map((m) => [keyOf(m.id, m.version), m])).entries()].map(
          async ([key, { id, version }]) => void labels.set(key, await lookUp(id, version)),
        ),
      );
      return { labels: (id, version) => labels.get(keyOf(id, version)) ?? null };
    },
  };
}

function toSet(lines: string[] | null): ReadonlySet<string> | null {
  return lines === null ? null : new Set(lines);
}
