import { create } from 'zustand';
import type { Answer } from '../../core/answer';
import type { Routing } from '../../core/cascade';
import type { AppError, WarningCode } from '../../core/errors';
import { newUuid } from '../../core/history-policy';
import type { AnswerSummary } from '../../core/taxonomy-answer';
import type { Classification } from '../../worker/api/protocol';

/**
 * The live camera: whether it is open (the update prompt waits for it to close), what the
 * latest identified frame shows, and the session its captures belong to. The frames
 * themselves are not here (bitmaps are not data); live-camera.ts keeps the one on show.
 */

/** What the overlay on the preview says about the latest frame. */
export type LiveView =
  /** No frame answered since the camera opened, or since the last capture. */
  | { state: 'waiting' }
  | {
      state: 'answered';
      /** Counts the frames answered since the camera opened. */
      frameId: number;
      answer: Answer;
      summary: AnswerSummary | undefined;
      routing: Routing | undefined;
      /** A frame with warnings (too dark, too small) shows them instead of a name. */
      warnings: WarningCode[];
    }
  | { state: 'failed'; frameId: number; error: AppError };

/** Where a capture stands in its session: what marks captures taken in a row. */
export interface CaptureRef {
  sessionId: string;
  /** 1 for the first capture of the session, then 2, 3… */
  index: number;
}

/**
 * One opening of the camera. Captures taken before it is closed are "in a row": likely
 * the same animal from several angles, which the history can later offer to combine.
 */
export interface CaptureSession {
  id: string;
  startedAt: number;
  /** Null while the camera is open. */
  endedAt: number | null;
  /** In capture order; `observationId` is the capture's history entry, if it was queued. */
  captures: { index: number; observationId: string | null }[];
}

export interface CameraState {
  open: boolean;
  live: LiveView;
  /** Capture was pressed before any frame was answered: the next answered frame is kept. */
  captureWaiting: boolean;
  /** The open session, or after closing the last one, until the camera opens again. */
  session: CaptureSession | null;
}

export const useCameraStore = create<CameraState>()(() => ({
  open: false,
  live: { state: 'waiting' },
  captureWaiting: false,
  session: null,
}));

const { getState, setState } = useCameraStore;

export function openCamera(): void {
  if (getState().open) return;
  setState({
    open: true,
    live: { state: 'waiting' },
    captureWaiting: false,
    session: { id: newUuid(), startedAt: Date.now(), endedAt: null, captures: [] },
  });
}

export function closeCamera(): void {
  const { open, session } = getState();
  if (!open) return;
  setState({
    open: false,
    live: { state: 'waiting' },
    captureWaiting: false,
    session: session && { ...session, endedAt: Date.now() },
  });
}

export function frameAnswered(frameId: number, result: Classification): void {
  if (!getState().open) return;
  const { answer, summary, routing, warnings } = result;
  setState({ live: { state: 'answered', frameId, answer, summary, routing, warnings } });
}

export function frameFailed(frameId: number, error: AppError): void {
  if (!getState().open) return;
  setState({ live: { state: 'failed', frameId, error }, captureWaiting: false });
}

/** The preview stopped (the panel went away): what it showed is no longer on screen. */
export function liveStopped(): void {
  setState({ live: { state: 'waiting' }, captureWaiting: false });
}

export function captureRequested(): void {
  if (getState().open) setState({ captureWaiting: true });
}

/**
 * Adds a capture to the session and returns its place there. The overlay goes back to
 * waiting: the answer on show was for the captured frame, not for what comes next.
 */
export function captureTaken(observationId: string | null): CaptureRef | null {
  const { session } = getState();
  if (session === null) return null;
  const index = session.captures.length + 1;
  setState({
    live: { state: 'waiting' },
    captureWaiting: false,
    session: { ...session, captures: [...session.captures, { index, observationId }] },
  });
  return { sessionId: session.id, index };
}
