import type { CoarseLocation, ObservationRecord } from '../../core/history-policy';
import type { AddOutcome, NewObservation } from './history-db';

/**
 * Writes identifications to the history off the hot path: each result is queued at once
 * (no await, nothing for the identification to wait on) and written a chunk per
 * transaction a moment later. A batch of 500 photos thus becomes a handful of small
 * writes between results, never 500 transactions or one long one.
 */

export interface RecorderDeps {
  write(items: NewObservation[]): Promise<AddOutcome>;
  /** The coarse location to attach, or null; must not take long (it has a timeout). */
  locate(): Promise<CoarseLocation | null>;
  onWritten(outcome: AddOutcome): void;
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

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const chunk = queue.splice(0, chunkSize);
      try {
        const location = await deps.locate().catch(() => null);
        const items = location
          ? chunk.map(({ record, thumbnail }) => ({
              record: withLocation(record, location),
              thumbnail,
            }))
          : chunk;
        deps.onWritten(await deps.write(items));
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
    pending: () => queue.length,
  };
}

function withLocation(record: ObservationRecord, location: CoarseLocation): ObservationRecord {
  return record.location === null ? { ...record, location } : record;
}
