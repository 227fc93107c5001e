import { create } from 'zustand';

/** What the outbox holds, as the page last read it. */
export interface FeedbackState {
  waiting: number;
  rejected: number;
  /** Epoch ms of the next retry, when one is scheduled. */
  nextAttemptAt: number | null;
}

export const useFeedbackStore = create<FeedbackState>()(() => ({
  waiting: 0,
  rejected: 0,
  nextAttemptAt: null,
}));
