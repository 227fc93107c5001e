import { create } from 'zustand';
import type { ErrorCode } from '../../core/errors';
import type { Verdict } from '../../core/history-policy';
import { formatModelRef } from '../../core/model-ref';
import {
  EXPORTED_CANDIDATES,
  type BatchResultRow,
  type ExportCandidate,
} from '../../core/results-export';
import type { Classification } from '../../worker/api/protocol';

/** What the worker answered for a photo, without the thumbnail (kept on the item). */
export type BatchClassification = Omit<Classification, 'thumbnail'>;

export type BatchOutcome =
  | {
      kind: 'identified';
      result: BatchClassification;
      /** Its entry in the history, which a verdict updates (null if it could not be queued). */
      observationId: string | null;
      verdict: Verdict | null;
    }
  | { kind: 'failed'; errorCode: ErrorCode };

export interface BatchItem {
  id: string;
  /** Position in the order the photos were given: the default sort. */
  order: number;
  name: string;
  /** The photo itself, for a correction the user chooses to send it with. */
  photo: Blob | null;
  /** Null until the photo is answered (identified or failed). */
  outcome: BatchOutcome | null;
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
  outcome: BatchOutcome;
  thumbnail: Blob | null;
}

export const useBatchStore = create<BatchState>()(() => ({
  run: { kind: 'idle' },
  items: [],
}));

const { setState } = useBatchStore;

/** Derived from the outcome, so the state and the answer can never disagree. */
export function batchItemState(item: Pick<BatchItem, 'outcome'>): BatchItemState {
  if (item.outcome === null) return 'queued';
  return item.outcome.kind === 'failed' ? 'error' : 'done';
}

/** Photos answered so far, identified or failed. */
export function countAnswered(items: readonly BatchItem[]): number {
  return items.filter((item) => item.outcome !== null).length;
}

export function batchStarted(
  photos: readonly { id: string; name: string; photo?: Blob | null }[],
  startedAt: number,
): void {
  setState({
    run: { kind: 'running', startedAt },
    items: photos.map(({ id, name, photo }, order) => ({
      id,
      order,
      name,
      photo: photo ?? null,
      outcome: null,
      thumbnail: null,
    })),
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

/** Marks every photo not yet answered as failed with `errorCode` (a crashed worker). */
export function unansweredFailed(errorCode: ErrorCode): void {
  setState((s) => ({
    items: s.items.map((item) =>
      item.outcome === null ? { ...item, outcome: { kind: 'failed', errorCode } } : item,
    ),
  }));
}

/** The user's verdict on one card, once the feedback service has queued it. */
export function batchVerdictGiven(itemId: string, verdict: Verdict): void {
  setState((s) => ({
    items: s.items.map((item) =>
      item.id === itemId && item.outcome?.kind === 'identified'
        ? { ...item, outcome: { ...item.outcome, verdict } }
        : item,
    ),
  }));
}

export function batchFinished(finishedAt: number, cancelled: boolean): void {
  setState((s) =>
    s.run.kind === 'running'
      ? { run: { kind: 'finished', startedAt: s.run.startedAt, finishedAt, cancelled } }
      : {},
  );
}

function candidate({ label, name, scientificName, probability }: ExportCandidate) {
  return { label, name, scientificName, probability };
}

/** The export's row for one answered photo; null while it waits. */
export function batchRow(item: BatchItem): BatchResultRow | null {
  const { outcome } = item;
  if (outcome === null) return null;
  const none = { top: [], answer: null, via: null };
  const noVerdict = { verdict: null, correctedLabel: null, freeTextName: null };
  if (outcome.kind === 'failed') {
    return {
      file: item.name,
      status: 'error',
      label: null,
      name: null,
      probability: null,
      model: '',
      backend: '',
      ms: null,
      errorCode: outcome.errorCode,
      ...none,
      ...noVerdict,
    };
  }
  const { answer, summary, routing, model, backend, timings } = outcome.result;
  const { verdict } = outcome;
  const top = answer.top.slice(0, EXPORTED_CANDIDATES).map(candidate);
  const best = top[0] ?? null;
  const via = routing?.via ?? null;
  return {
    file: item.name,
    status: answer.kind,
    label: best?.label ?? null,
    name: best?.name ?? null,
    probability: best?.probability ?? null,
    model: formatModelRef(model),
    backend,
    ms: timings.decodeMs + timings.inferenceMs,
    errorCode: null,
    top,
    answer: summary ?? null,
    via: via && {
      model: formatModelRef(via.model),
      group: via.group,
      probability: via.probability,
    },
    verdict: verdict?.kind ?? null,
    correctedLabel: verdict?.kind === 'corrected' ? verdict.correctedLabel : null,
    freeTextName: verdict?.kind === 'unknown-species' ? verdict.freeTextName : null,
  };
}

export function batchRows(items: readonly BatchItem[]): BatchResultRow[] {
  return items.flatMap((item) => batchRow(item) ?? []);
}
