import type { CoarseLocation, ObservationRecord } from '../../core/history-policy';
import type { AddOutcome, NewObservation } from './history-db';

/**
 * Writes identifications to the history off the hot path: each result is queued at once
 * (no await, nothing for the identification to wait on) and written a chunk per
 * transaction a moment later. A batch of 500 photos thus becomes a handful of small
 * writes between results, never 500 transactions or one long one. The coarse location,
 * when the user allowed it, is added to the written records once the device has a fix:
 * a write never waits for one, so a reload meanwhile loses the location, not the record.
 */

export interface RecorderDeps {
  write(items: NewObservation[]): Promise<AddOutcome>;
  /** The coarse location to add, or null (setting off, no fix in time). */
  locate(): Promise<CoarseLocation | null>;
  /** Adds the location to records written without one; resolves to the records changed. */
  addLocation(ids: string[], location: CoarseLocation): Promise<ObservationRecord[]>;
  onWritten(outcome: AddOutcome): void;
  onLocated(records: ObservationRecord[]): void;
  onError(error: unknown): void;
  /** How long results gather before a write. */
  flushDelayMs?: number;
  /** Records per transaction. */
  chunkSize?: number;
}

export interface Recorder {
  record(item: NewObservation): void;
  /** Writes everything queued now (page hiding, tests); resolves when it is written. */
  flush(): Promise<void>;
  /** Resolves once what is queued is written and the locations asked for are added. */
  settled(): Promise<void>;
  pending(): number;
}

/**
 * Written at once: an identification must be stored before the user can close the app
 * (a reload a moment later lost it in testing). Results that arrive while a write is
 * running still gather into the next transaction, which is what batches a fast batch.
 */
const DEFAULT_FLUSH_DELAY_MS = 0;
const DEFAULT_CHUNK_SIZE = 50;

function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export function createRecorder(deps: RecorderDeps): Recorder {
  const flushDelayMs = deps.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS;
  const chunkSize = Math.max(1, deps.chunkSize ?? DEFAULT_CHUNK_SIZE);
  const queue: NewObservation[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running: Promise<void> | null = null;
  const locating = new Set<Promise<void>>();

  /** Asked for as the chunk is written, so the fix is of where the photos were taken. */
  function locateLater(written: Promise<AddOutcome>): void {
    const done: Promise<void> = Promise.all([deps.locate().catch(() => null), written])
      .then(async ([location, outcome]) => {
        const ids = outcome.added.filter((r) => r.location === null).map((r) => r.id);
        if (location === null || ids.length === 0) return;
        const updated = await deps.addLocation(ids, location);
        if (updated.length > 0) deps.onLocated(updated);
      })
      // A failed write is reported below; a lost location is not worth a message.
      .catch(() => {})
      .finally(() => locating.delete(done));
    locating.add(done);
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const chunk = queue.splice(0, chunkSize);
      try {
        const written = deps.write(chunk);
        locateLater(written);
        deps.onWritten(await written);
      } catch (error) {
        // A failed write (storage full, private mode) loses this chunk, not the app.
        deps.onError(error);
      }
      // Let the page render and the worker's next results arrive between chunks.
      if (queue.length > 0) await nextTask();
    }
  }

  function flush(): Promise<void> {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    running ??= drain().finally(() => {
      running = null;
    });
    return running.then(() => (queue.length > 0 ? flush() : undefined));
  }

  return {
    record(item) {
      queue.push(item);
      if (timer === null && running === null) {
        timer = setTimeout(() => void flush(), flushDelayMs);
      }
    },
    flush,
    async settled() {
      await flush();
      while (locating.size > 0) await Promise.all(locating);
    },
    pending: () => queue.length,
  };
}
