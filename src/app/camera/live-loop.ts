import { fail } from '../../core/errors';
import type { ImageSource, ItemResult } from '../../worker/api/protocol';

/**
 * The rhythm of the live camera: grab a frame, wait for its answer, wait out the rest of
 * the interval, grab the next. One frame at most is ever with the worker, so a slow
 * backend makes the answers rarer, never a queue of stale frames behind the live one.
 */

/**
 * At most two frames a second: enough for the answer to follow the camera as it moves,
 * while the preview, the page and a phone's battery keep most of a small CPU.
 */
export const LIVE_FRAME_INTERVAL_MS = 500;

/** The name frames carry to the worker (they never reach the history under it). */
export const LIVE_FRAME_NAME = 'camera frame';

export interface GrabbedFrame<Kept> {
  /** Goes to the worker, which closes it. */
  source: ImageSource;
  /** The same picture, kept on the page until its answer is known. */
  kept: Kept;
}

export interface LiveLoopDeps<Kept> {
  /** The current frame, or null when the video has none yet. */
  grab(): Promise<GrabbedFrame<Kept> | null>;
  identify(source: ImageSource, name: string): Promise<ItemResult>;
  /** A frame and its answer; the callee now owns the kept picture. */
  onAnswer(kept: Kept, result: ItemResult): void;
  /** A kept picture whose answer is no longer wanted. */
  release(kept: Kept): void;
  /** Nothing is grabbed while the page is hidden. */
  isVisible(): boolean;
  intervalMs?: number;
  now?(): number;
  setTimer?(run: () => void, ms: number): unknown;
  clearTimer?(timer: unknown): void;
}

export interface LiveLoop {
  start(): void;
  /** No more frames; the answer of a frame still with the worker is dropped. */
  stop(): void;
  /**
   * Drops the answer of the frame with the worker, if any: it was grabbed before something
   * changed (a capture), so it must not show as the answer for what the camera sees now.
   */
  discardInFlight(): void;
}

export function createLiveLoop<Kept>(deps: LiveLoopDeps<Kept>): LiveLoop {
  const intervalMs = deps.intervalMs ?? LIVE_FRAME_INTERVAL_MS;
  const now = deps.now ?? (() => performance.now());
  const setTimer = deps.setTimer ?? ((run, ms) => setTimeout(run, ms));
  const clearTimer =
    deps.clearTimer ?? ((timer) => clearTimeout(timer as ReturnType<typeof setTimeout>));
  let running = false;
  let inFlight = false;
  /** Bumped by stop and discardInFlight: an answer from an older generation is dropped. */
  let generation = 0;
  let timer: unknown = null;
  let lastGrabAt = Number.NEGATIVE_INFINITY;

  function schedule() {
    if (!running || inFlight || timer !== null) return;
    const waitMs = Math.max(0, lastGrabAt + intervalMs - now());
    timer = setTimer(() => {
      timer = null;
      void next();
    }, waitMs);
  }

  async function next() {
    if (!running || inFlight) return;
    if (!deps.isVisible()) {
      // Checked again an interval later; the panel closes the camera when the page hides.
      lastGrabAt = now();
      schedule();
      return;
    }
    inFlight = true;
    lastGrabAt = now();
    const own = generation;
    try {
      const grabbed = await deps.grab().catch(() => null);
      if (grabbed === null) return;
      if (own !== generation) {
        closeSource(grabbed.source);
        deps.release(grabbed.kept);
        return;
      }
      const result = await deps
        .identify(grabbed.source, LIVE_FRAME_NAME)
        .catch((error: unknown) => fail('INFERENCE_FAILED', String(error)));
      if (own === generation) deps.onAnswer(grabbed.kept, result);
      else deps.release(grabbed.kept);
    } finally {
      inFlight = false;
      schedule();
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule();
    },
    stop() {
      running = false;
      generation++;
      if (timer !== null) clearTimer(timer);
      timer = null;
    },
    discardInFlight() {
      if (inFlight) generation++;
    },
  };
}

function closeSource(source: ImageSource) {
  if (source.kind === 'bitmap') source.bitmap.close();
}
