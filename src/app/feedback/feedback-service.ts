import type { Answer } from '../../core/answer';
import { appError, type AppError } from '../../core/errors';
import { newUuid, type Verdict } from '../../core/history-policy';
import type { ModelRef } from '../../core/model-ref';
import { backoffDelayMs, localDay } from '../../core/outbox-policy';
import { buildVerdictRecord, stampVerdict, type VerdictChoice } from '../../core/verdict-record';
import { enqueue, outboxSnapshot, sendAgain } from '../../outbox/outbox-db';
import { flushOutbox, OUTBOX_CHANNEL, SYNC_TAG } from '../../outbox/sender';
import { setObservationVerdict } from '../history/history-store';
import { flushRecording } from '../history/recording';
import {
  flushFailed,
  notQueuedVerdict,
  outboxRead,
  sendAgainFailed,
  submissionEnded,
  submissionStarted,
  verdictNotQueued,
  verdictQueued,
  type NotQueuedVerdict,
} from './feedback-store';
import { shareablePhoto } from './photo-share';

/**
 * A verdict becomes an anonymous feedback record in the outbox, and the outbox is sent
 * whenever there is a network: at start, on the `online` event, right after a verdict,
 * at the next scheduled retry, and through Background Sync where the browser has it.
 * These are the feedback feature's actions; the state they change is in feedback-store.
 */

export type { VerdictChoice };

export interface VerdictInput {
  observationId: string | null;
  /** The model that gave the answer. */
  model: ModelRef;
  answer: Answer;
  choice: VerdictChoice;
  /** The original photo, only when the user opted in to sharing it. */
  photo: Blob | null;
}

export type VerdictSubmission =
  /** In the outbox; `notices` are what the user should know about it. */
  | { kind: 'queued'; verdict: Verdict; notices: AppError[] }
  /** The outbox could not keep it: `retryQueueing(recordId)` tries again. */
  | { kind: 'not-queued'; recordId: string; error: AppError }
  /** Not a record the server would take: nothing to retry. */
  | { kind: 'invalid'; error: AppError };

let retryTimer: ReturnType<typeof setTimeout> | undefined;
/** Sends in a row that failed before any answer: their own backoff, as the records have. */
let failedFlushes = 0;

function retryIn(delayMs: number): void {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => void sendNow(), delayMs);
}

export async function refreshOutbox(): Promise<void> {
  const snapshot = await outboxSnapshot();
  outboxRead(snapshot);
  clearTimeout(retryTimer);
  if (snapshot.waiting > 0 && snapshot.nextAttemptAt !== null) {
    retryIn(Math.max(0, snapshot.nextAttemptAt - Date.now()) + 50);
  }
}

function describeFailure(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Never rejects: a failure (the outbox could not be read or written) is shown, and another
 * attempt is armed, so the corrections do not wait for the next start of the app.
 */
export async function sendNow(options: { ignoreSchedule?: boolean } = {}): Promise<void> {
  if (!navigator.onLine) return;
  let failure: unknown = null;
  try {
    await flushOutbox(fetch, options);
  } catch (error) {
    failure = error;
  } finally {
    await refreshOutbox().catch((error: unknown) => {
      failure ??= error;
    });
  }
  if (failure === null) {
    failedFlushes = 0;
    flushFailed(null);
    return;
  }
  flushFailed(appError('OUTBOX_FAILED', describeFailure(failure)));
  retryIn(backoffDelayMs(failedFlushes++, Math.random()));
}

async function askForBackgroundSync(): Promise<void> {
  const registration = await navigator.serviceWorker?.getRegistration();
  const sync = (registration as { sync?: { register(tag: string): Promise<void> } } | undefined)
    ?.sync;
  await sync?.register(SYNC_TAG).catch(() => {});
}

function sendSoon(): void {
  if (navigator.onLine) void sendNow();
  else void askForBackgroundSync();
}

export function startFeedback(): void {
  void refreshOutbox().then(() => sendNow({ ignoreSchedule: true }));
  window.addEventListener('online', () => void sendNow({ ignoreSchedule: true }));
  if (typeof BroadcastChannel !== 'undefined') {
    // The service worker sent something (Background Sync): show the new count.
    new BroadcastChannel(OUTBOX_CHANNEL).onmessage = () => void refreshOutbox();
  }
}

/** The photo as base64, or why it cannot go: the correction is then sent without it. */
async function photoToShare(
  photo: Blob | null,
): Promise<{ photo: string | null; notices: AppError[] }> {
  if (photo === null) return { photo: null, notices: [] };
  const shared = await shareablePhoto(photo);
  if (shared.ok) return { photo: shared.value, notices: [] };
  return {
    photo: null,
    notices: [appError('PHOTO_NOT_SHARED', shared.error.detail ?? shared.error.message)],
  };
}

async function queue(pending: Omit<NotQueuedVerdict, 'error'>): Promise<VerdictSubmission> {
  const queued = await enqueue(pending.record, pending.observationId, Date.now());
  if (!queued.ok) {
    verdictNotQueued({ ...pending, error: queued.error });
    return { kind: 'not-queued', recordId: pending.recordId, error: queued.error };
  }
  verdictQueued(pending.recordId);
  const notices =
    queued.value === 'held-back' ? [...pending.notices, appError('ALREADY_SENT')] : pending.notices;
  if (pending.observationId !== null) {
    await flushRecording();
    await setObservationVerdict(pending.observationId, pending.verdict);
  }
  await refreshOutbox();
  sendSoon();
  return { kind: 'queued', verdict: pending.verdict, notices };
}

/** One at a time per observation: the panel's buttons wait while `submitting` holds it. */
export async function submitVerdict(input: VerdictInput): Promise<VerdictSubmission> {
  const { observationId } = input;
  if (observationId === null) return submitOne(input);
  submissionStarted(observationId);
  try {
    return await submitOne(input);
  } finally {
    submissionEnded(observationId);
  }
}

async function submitOne(input: VerdictInput): Promise<VerdictSubmission> {
  const { photo, notices } = await photoToShare(input.photo);
  const built = buildVerdictRecord(
    { model: input.model, answer: input.answer, choice: input.choice },
    { id: newUuid(), day: localDay(new Date()), appVersion: __APP_VERSION__, photo },
  );
  if (!built.ok) return { kind: 'invalid', error: built.error };
  return queue({
    recordId: built.value.record.id,
    observationId: input.observationId,
    record: built.value.record,
    verdict: stampVerdict(built.value.choice, Date.now()),
    notices,
  });
}

/** "Retry" on a verdict the outbox could not keep: the same record, so never sent twice. */
export async function retryQueueing(recordId: string): Promise<VerdictSubmission | null> {
  const pending = notQueuedVerdict(recordId);
  return pending === null ? null : queue(pending);
}

/** "Send again" on a set-aside record. */
export async function sendSetAsideAgain(id: string): Promise<void> {
  const moved = await sendAgain(id, Date.now());
  if (!moved.ok) sendAgainFailed(id, moved.error);
  await refreshOutbox();
  if (moved.ok) sendSoon();
}
