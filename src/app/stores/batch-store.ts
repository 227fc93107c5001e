import { create } from 'zustand';
import type { BatchResultRow } from '../../core/results-export';

export type BatchItemState = 'queued' | 'done' | 'error';

export interface BatchItem {
  id: string;
  /** Position in the order the photos were given: the default sort. */
  order: number;
  name: string;
  state: BatchItemState;
  row: BatchResultRow | null;
  thumbnailUrl: string | null;
}

export type BatchRun =
  | { kind: 'idle' }
  | { kind: 'running'; startedAt: number }
  | { kind: 'finished'; startedAt: number; finishedAt: number; cancelled: boolean };

export interface BatchState {
  run: BatchRun;
  items: BatchItem[];
}

export const useBatchStore = create<BatchState>()(() => ({
  run: { kind: 'idle' },
  items: [],
}));

/** Photos answered so far, identified or failed: derived, so it cannot drift from the items. */
export function countAnswered(items: readonly BatchItem[]): number {
  return items.filter((item) => item.state !== 'queued').length;
}
