import type { Classification, ImageSource, ItemResult } from '../../worker/api/protocol';
import { recordIdentification } from '../history/recording';
import { photoIdentified, photoStarted } from '../identify/identify-store';
import { holdReloads, identify } from '../inference/inference';
import {
  captureRequested,
  captureTaken,
  frameAnswered,
  frameFailed,
  liveStopped,
  useCameraStore,
  type CaptureRef,
} from './camera-store';
import { createLiveLoop, type GrabbedFrame, type LiveLoopDeps } from './live-loop';

/**
 * The live camera on a video element: frames go to the worker one at a time (live-loop.ts),
 * the latest answer shows over the preview, and Capture keeps the frame that answer is for,
 * with that answer, in the history and on the Identify screen. Nothing is identified twice.
 */

/** The history's and the result panel's name for a captured frame. */
export const CAPTURE_NAME = 'camera photo';

export interface LiveCamera {
  start(): void;
  stop(): void;
  /** Keeps the frame whose answer is on show, or the next one answered if none is yet. */
  capture(): Promise<CaptureRef | null>;
  /**
   * The captures taken since this camera started, as photos, in order: captures in a row,
   * which the user may say show one animal.
   */
  captures(): File[];
}

export interface LiveCameraDeps {
  identify(source: ImageSource, name: string): Promise<ItemResult>;
  isVisible(): boolean;
  /**
   * Holds model reloads from started to stopped: between two frames the worker is idle, and
   * a manifest check must not change the version in the middle of a session.
   */
  holdReloads(): () => void;
}

interface ShownFrame {
  bitmap: ImageBitmap;
  result: Classification;
}

export function createLiveCamera(
  video: HTMLVideoElement,
  deps: LiveCameraDeps = {
    identify,
    isVisible: () => document.visibilityState === 'visible',
    holdReloads,
  },
): LiveCamera {
  /** The frame whose answer the overlay shows; the page owns it until it is replaced. */
  let shown: ShownFrame | null = null;
  let frameCount = 0;
  let waiting: ((ref: CaptureRef | null) => void) | null = null;
  const kept: File[] = [];
  let releaseReloads: (() => void) | null = null;

  function replaceShown(next: ShownFrame | null) {
    shown?.bitmap.close();
    shown = next;
  }

  const loopDeps: LiveLoopDeps<ImageBitmap> = {
    grab: () => grabFrame(video),
    identify: deps.identify,
    isVisible: deps.isVisible,
    release: (bitmap) => bitmap.close(),
    onAnswer(bitmap, result) {
      frameCount++;
      if (!result.ok) {
        bitmap.close();
        replaceShown(null);
        frameFailed(frameCount, result.error);
        settleWaiting(null);
        return;
      }
      replaceShown({ bitmap, result: result.value });
      frameAnswered(frameCount, result.value);
      if (waiting !== null) settleWaiting(keepShown());
    },
  };
  const loop = createLiveLoop(loopDeps);

  function settleWaiting(ref: Promise<CaptureRef | null> | null) {
    const resolve = waiting;
    waiting = null;
    if (resolve === null) return;
    if (ref === null) resolve(null);
    else void ref.then(resolve, () => resolve(null));
  }

  /** Stores the frame on show with its answer, then shows it as the Identify screen's photo. */
  async function keepShown(): Promise<CaptureRef | null> {
    const frame = shown;
    if (frame === null) return null;
    shown = null;
    // The frame with the worker was grabbed before Capture: its answer is not for what follows.
    loop.discardInFlight();
    let ref: CaptureRef | null;
    try {
      const observationId = recordIdentification(CAPTURE_NAME, frame.result);
      ref = captureTaken(observationId);
      const preview = await snapshot(frame.bitmap);
      if (preview !== null) {
        kept.push(
          new File([preview], `${CAPTURE_NAME} ${kept.length + 1}.jpg`, { type: preview.type }),
        );
      }
      const id = photoStarted(CAPTURE_NAME, preview);
      photoIdentified(id, frame.result, observationId);
    } finally {
      frame.bitmap.close();
    }
    return ref;
  }

  return {
    captures: () => [...kept],
    start() {
      releaseReloads ??= deps.holdReloads();
      loop.start();
    },
    stop() {
      loop.stop();
      releaseReloads?.();
      releaseReloads = null;
      replaceShown(null);
      settleWaiting(null);
      // Shown again later (back from another screen), the panel must not start on an old answer.
      liveStopped();
    },
    capture() {
      if (shown !== null) return keepShown();
      if (!useCameraStore.getState().open) return Promise.resolve(null);
      captureRequested();
      // A second press while waiting waits for the same frame.
      const previous = waiting;
      return new Promise((resolve) => {
        waiting = (ref) => {
          previous?.(ref);
          resolve(ref);
        };
      });
    },
  };
}

/** The video's current picture twice: one for the worker (transferred), one kept here. */
async function grabFrame(video: HTMLVideoElement): Promise<GrabbedFrame<ImageBitmap> | null> {
  if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || video.videoWidth === 0) {
    return null;
  }
  const kept = await createImageBitmap(video);
  try {
    const sent = await createImageBitmap(kept);
    return { source: { kind: 'bitmap', bitmap: sent }, kept };
  } catch (error) {
    kept.close();
    throw error;
  }
}

/** A JPEG of the captured frame, to show beside the result and to share with a correction. */
function snapshot(bitmap: ImageBitmap): Promise<Blob | null> {
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  canvas.getContext('2d')?.drawImage(bitmap, 0, 0);
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.85));
}
