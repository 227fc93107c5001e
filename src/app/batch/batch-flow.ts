import { newUuid } from '../../core/history-policy';
import { batchResultColumns, toCsv, toJson } from '../../core/results-export';
import { recordIdentification } from '../history/recording';
import { classifyMany, newItemId } from '../inference/inference';
import { downloadText } from '../ui/download';
import {
  batchAnswered,
  batchFinished,
  batchRows,
  batchStarted,
  unansweredFailed,
  useBatchStore,
  type BatchAnswer,
} from './batch-store';

/**
 * Several photos through the batch queue, into the grid and the history, where they share
 * one batch id so that the History screen shows (and removes) them as one.
 */

let batchAbort: AbortController | null = null;
/** Grid updates are applied at most this often, so a fast batch cannot flood React. */
const BATCH_FLUSH_MS = 200;

export function cancelBatch(): void {
  batchAbort?.abort();
}

function displayPath(file: File): string {
  return file.webkitRelativePath || file.name;
}

export async function startBatch(files: File[]): Promise<void> {
  batchAbort?.abort();
  const abort = new AbortController();
  batchAbort = abort;
  const photos = files.map((file) => ({ id: newItemId(), name: displayPath(file), file }));
  const startedAt = performance.now();
  const batchId = newUuid();
  batchStarted(
    photos.map(({ id, name, file }) => ({ id, name, photo: file })),
    startedAt,
  );

  const answers = new Map<string, BatchAnswer>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    timer = null;
    // A restarted batch owns the store now; this run's late results must not leak into it.
    if (batchAbort !== abort) return;
    batchAnswered(new Map(answers));
    answers.clear();
  };
  const names = new Map(photos.map((photo) => [photo.id, photo.name]));

  const outcome = await classifyMany(
    photos.map(({ id, name, file }) => ({
      itemId: id,
      name,
      source: { kind: 'blob', blob: file },
    })),
    {
      signal: abort.signal,
      onItem: (itemId, result) => {
        if (abort.signal.aborted) return;
        const name = names.get(itemId) ?? itemId;
        if (result.ok) {
          const { thumbnail, ...classification } = result.value;
          const observationId = recordIdentification(name, result.value, { batchId });
          answers.set(itemId, {
            outcome: { kind: 'identified', result: classification, observationId, verdict: null },
            thumbnail,
          });
        } else {
          answers.set(itemId, {
            outcome: { kind: 'failed', errorCode: result.error.code },
            thumbnail: null,
          });
        }
        timer ??= setTimeout(flush, BATCH_FLUSH_MS);
      },
    },
  );
  if (timer !== null) clearTimeout(timer);
  if (batchAbort !== abort) return;
  flush();
  batchAbort = null;
  const cancelled = !outcome.ok && outcome.error.code === 'CANCELLED';
  if (!outcome.ok && !cancelled) {
    // The worker crashed: the photos it had not answered are marked, not silently lost.
    unansweredFailed(outcome.error.code);
  }
  batchFinished(performance.now(), cancelled);
}

export function exportBatch(format: 'csv' | 'json'): void {
  const rows = batchRows(useBatchStore.getState().items);
  const text = format === 'csv' ? toCsv(rows, batchResultColumns, { bom: true }) : toJson(rows);
  downloadText(
    text,
    format === 'csv' ? 'text/csv' : 'application/json',
    `identifications.${format}`,
  );
}
