import { create } from 'zustand';
import type { AppError } from '../../core/errors';
import type { Verdict } from '../../core/history-policy';
import type { Classification } from '../../worker/api/protocol';

/**
 * The photo on the Identify screen: working on it, identified, or refused with a reason.
 * `preview` is the photo itself; the panel that shows it makes (and revokes) its URL.
 */
export type CurrentPhoto =
  | { state: 'working'; id: number; name: string; preview: Blob | null }
  | {
      state: 'done';
      id: number;
      name: string;
      preview: Blob | null;
      result: Classification;
      /** From the user's choice to the result on screen, measured on the page. */
      totalMs: number | null;
      /** Its entry in the history, which a verdict updates. */
      observationId: string | null;
      verdict: Verdict | null;
      /** For several photos of one animal: each photo's own answer, one tap away. */
      parts: { name: string; result: Classification }[];
    }
  | { state: 'error'; id: number; name: string; preview: Blob | null; error: AppError };

export interface IdentifyState {
  current: CurrentPhoto | null;
}

export const useIdentifyStore = create<IdentifyState>()(() => ({ current: null }));

const { getState, setState } = useIdentifyStore;
let lastId = 0;

/** Replaces whatever is on screen with a photo being identified; returns its id. */
export function photoStarted(name: string, preview: Blob | null): number {
  const id = ++lastId;
  setState({ current: { state: 'working', id, name, preview } });
  return id;
}

/** Answers for a photo that a newer one has replaced are dropped. */
function updateCurrent(id: number, next: (current: CurrentPhoto) => CurrentPhoto | null): void {
  const { current } = getState();
  if (current === null || current.id !== id) return;
  const updated = next(current);
  if (updated !== null) setState({ current: updated });
}

export function photoIdentified(
  id: number,
  result: Classification,
  observationId: string | null,
  parts: { name: string; result: Classification }[] = [],
): void {
  updateCurrent(id, ({ name, preview }) => ({
    state: 'done',
    id,
    name,
    preview,
    result,
    totalMs: null,
    observationId,
    verdict: null,
    parts,
  }));
}

export function photoFailed(id: number, error: AppError): void {
  updateCurrent(id, ({ name, preview }) => ({ state: 'error', id, name, preview, error }));
}

/** A photo refused before it reached the worker (a bad address, say). */
export function inputRefused(name: string, error: AppError): void {
  setState({ current: { state: 'error', id: ++lastId, name, preview: null, error } });
}

export function resultPainted(id: number, totalMs: number): void {
  updateCurrent(id, (current) => (current.state === 'done' ? { ...current, totalMs } : null));
}

export function verdictGiven(id: number, verdict: Verdict): void {
  updateCurrent(id, (current) => (current.state === 'done' ? { ...current, verdict } : null));
}

export function isCurrentPhoto(id: number): boolean {
  return getState().current?.id === id;
}
