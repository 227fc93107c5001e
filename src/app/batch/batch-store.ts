import { create } from 'zustand';
import type { BatchResultRow } from '../../core/results-export';

export interface BatchItem {
  id: string;
  /** Position in the order the photos were given: the default sort. */
  order: number;
  name: string;
  /** Null until the photo is answered (identified or failed). */
  row: BatchResultRow | null;
  /** The worker's small JPEG; the card that shows it owns its object URL. */
  thumbnail: Blob | null;
}

export type BatchItemState = 'queued' | 'done' | 'error';

export type BatchRun =
  | { kind: 'idle' }
  | { kind: 'running'; startedAt: number }
  | { kind: 'finished'; startedAt: number; finishedAt: number; cancelled: boolean };

export interface BatchState {
  run: BatchRun;
  items: BatchItem[];
}

/** What a photo's answer brings to its item. */
export interface BatchAnswer {
  row: BatchResultRow;
  thumbnail: Blob | null;
}

export const useBatchStore = create<BatchState>()(() => ({
  run: { kind: 'idle' },
  items: [],
}));

const { setState } = useBatchStore;

/** Derived from the row, so the state and the row can never disagree. */
export function batchItemState(item: Pick<BatchItem, 'row'>): BatchItemState {
  if (item.row === null) return 'queued';
  return item.row.status === 'error' ? 'error' : 'done';
}

/** Photos answered so far, identified or failed. */
export function countAnswered(items: readonly BatchItem[]): number {
  return items.filter((item) => item.row !== null).length;
}

export function batchStarted(
  photos: readonly { id: string; name: string }[],
  startedAt: number,
): void {
  setState({
    run: { kind: 'running', startedAt },
    items: photos.map(({ id, name }, order) => ({ id, order, name, row: null, thumbnail: null })),
  });
}

/** Several answers at once: one render for many results. */
export function batchAnswered(answers: ReadonlyMap<string, BatchAnswer>): void {
  if (answers.size === 0) return;
  setState((s) => ({
    items: s.items.map((item) => {
      const answer = answers.get(item.id);
      return answer ? { ...item, ...answer } : item;
    }),
  }));
}

/** Gives every photo not yet answered the row `rowFor` makes (a crashed worker). */
export function unansweredFailed(rowFor: (item: BatchItem) => BatchResultRow): void {
  setState((s) => ({
    items: s.items.map((item) => (item.row === null ? { ...item, row: rowFor(item) } : item)),
  }));
}

export function batchFinished(finishedAt: number, cancelled: boolean): void {
  setState((s) =>
    s.run.kind === 'running'
      ? { run: { kind: 'finished', startedAt: s.run.startedAt, finishedAt, cancelled } }
      : {},
  );
}

export function batchRows(items: readonly BatchItem[]): BatchResultRow[] {
  return items.flatMap((item) => (item.row === null ? [] : [item.row]));
}
