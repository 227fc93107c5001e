import { create } from 'zustand';
import type { AppError } from '../../core/errors';
import type { Verdict } from '../../core/history-policy';
import type { Classification } from '../../worker/protocol';

/** The photo on the Identify screen: working on it, identified, or refused with a reason. */
export type CurrentPhoto =
  | { state: 'working'; id: number; name: string; previewUrl: string | null }
  | {
      state: 'done';
      id: number;
      name: string;
      previewUrl: string | null;
      result: Classification;
      /** From the user's choice to the result on screen, measured on the page. */
      totalMs: number | null;
      /** Its entry in the history, which a verdict updates. */
      observationId: string | null;
      verdict: Verdict | null;
    }
  | { state: 'error'; id: number; name: string; previewUrl: string | null; error: AppError };

export interface IdentifyState {
  current: CurrentPhoto | null;
}

export const useIdentifyStore = create<IdentifyState>()(() => ({ current: null }));
