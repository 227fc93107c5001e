import { create } from 'zustand';
import type { AppError } from '../../core/errors';
import type { FeedbackRecord } from '../../core/feedback';
import type { Verdict } from '../../core/history-policy';
import type { OutboxSnapshot, SetAsideRecord } from '../../outbox/outbox-db';

/**
 * What the outbox holds, as the page last read it, and the verdicts that could not even
 * be queued. Plain data only; every change goes through the functions below.
 */

/** A verdict whose record the outbox could not keep: shown with a retry, never dropped unseen. */
export interface NotQueuedVerdict {
  recordId: string;
  observationId: string | null;
  record: FeedbackRecord;
  verdict: Verdict;
  /** Told to the user once it is queued (e.g. the photo could not be prepared). */
  notices: AppError[];
  error: AppError;
}

export interface FeedbackState {
  waiting: number;
  /** Epoch ms of the next retry, when one is scheduled. */
  nextAttemptAt: number | null;
  /** Oldest first. */
  setAside: SetAsideRecord[];
  notQueued: NotQueuedVerdict[];
  /** Why the last "Send again" of a set-aside record failed, by record id. */
  sendAgainErrors: Record<string, AppError>;
  /** Why the last attempt to send the outbox failed before any answer; null once one works. */
  flushError: AppError | null;
  /** Observations whose verdict is being queued: a second one waits until it is. */
  submitting: string[];
}

export const useFeedbackStore = create<FeedbackState>()(() => ({
  waiting: 0,
  nextAttemptAt: null,
  setAside: [],
  notQueued: [],
  sendAgainErrors: {},
  flushError: null,
  submitting: [],
}));

const { setState } = useFeedbackStore;

export function outboxRead(snapshot: OutboxSnapshot): void {
  setState((state) => ({
    waiting: snapshot.waiting,
    nextAttemptAt: snapshot.nextAttemptAt,
    setAside: snapshot.setAside,
    // An error about a record that is no longer set aside has nothing left to explain.
    sendAgainErrors: Object.fromEntries(
      Object.entries(state.sendAgainErrors).filter(([id]) =>
        snapshot.setAside.some((record) => record.id === id),
      ),
    ),
  }));
}

export function verdictNotQueued(entry: NotQueuedVerdict): void {
  setState((state) => ({
    notQueued: [...state.notQueued.filter((e) => e.recordId !== entry.recordId), entry],
  }));
}

export function verdictQueued(recordId: string): void {
  setState((state) => ({ notQueued: state.notQueued.filter((e) => e.recordId !== recordId) }));
}

export function sendAgainFailed(id: string, error: AppError): void {
  setState((state) => ({ sendAgainErrors: { ...state.sendAgainErrors, [id]: error } }));
}

export function notQueuedVerdict(recordId: string | null): NotQueuedVerdict | null {
  if (recordId === null) return null;
  return useFeedbackStore.getState().notQueued.find((e) => e.recordId === recordId) ?? null;
}

export function flushFailed(error: AppError | null): void {
  setState({ flushError: error });
}

export function submissionStarted(observationId: string): void {
  setState((state) => ({ submitting: [...state.submitting, observationId] }));
}

export function submissionEnded(observationId: string): void {
  setState((state) => {
    const at = state.submitting.indexOf(observationId);
    return at < 0 ? {} : { submitting: state.submitting.toSpliced(at, 1) };
  });
}
