import { createObservation, newUuid } from '../../core/history-policy';
import type { Classification } from '../../worker/api/protocol';
import { historyLocated, historyRecorded, historyWriteFailed } from './history-store';
import { historyDb } from './history-db';
import { currentCoarseLocation } from './location';
import { createRecorder, type Recorder } from './recorder';

/**
 * The one call the photo flow makes for each identification. It returns at once: the
 * record is queued and written in the background (see recorder.ts).
 */

let recorder: Recorder | null = null;

function theRecorder(): Recorder {
  if (recorder === null) {
    recorder = createRecorder({
      write: (items) => historyDb.addObservations(items),
      locate: currentCoarseLocation,
      addLocation: (ids, location) => historyDb.addLocation(ids, location),
      onWritten: historyRecorded,
      onLocated: historyLocated,
      onError: historyWriteFailed,
    });
    const flushNow = () => void recorder?.flush();
    // A write still gathering results when the page is hidden (a reload, a switch to
    // another app) is started at once, before the browser may freeze the page.
    window.addEventListener('pagehide', flushNow);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') flushNow();
    });
  }
  return recorder;
}

/** Writes whatever is still queued: before a verdict updates an observation, for one. */
export function flushRecording(): Promise<void> {
  return recorder?.flush() ?? Promise.resolve();
}

export interface RecordingOptions {
  /** The batch the photo came in, shared by all of its photos; absent for a photo alone. */
  batchId?: string;
}

/**
 * Queues the observation and returns its id (null if it could not even be queued). The
 * model recorded is the one that answered (in Auto mode the specialist, with the general
 * model kept as `via`), so that a verdict given later from the history names it.
 */
export function recordIdentification(
  fileName: string,
  result: Classification,
  options: RecordingOptions = {},
): string | null {
  const id = newUuid();
  try {
    theRecorder().record({
      record: {
        ...createObservation({
          id,
          createdAt: Date.now(),
          fileName,
          answer: result.answer,
          model: result.model,
          backend: result.backend,
          location: null, // added once written, if the user allowed it
        }),
        batchId: options.batchId ?? null,
        summary: result.summary ?? null,
        via: result.routing?.via ?? null,
      },
      thumbnail: result.thumbnail,
    });
    return id;
  } catch (error) {
    historyWriteFailed(error); // the identification itself is never affected
    return null;
  }
}
