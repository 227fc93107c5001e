import { fail, type Result } from '../../core/errors';
import { formatModelRef } from '../../core/model-ref';
import { batchResultColumns, toCsv, toJson, type BatchResultRow } from '../../core/results-export';
import type { Classification } from '../../worker/api/protocol';
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

/** Several photos through the batch queue, into the grid and the history. */

let batchAbort: AbortController | null = null;
/** Grid updates are applied at most this often, so a fast batch cannot flood React. */
const BATCH_FLUSH_MS = 200;

export function cancelBatch(): void {
  batchAbort?.abort();
}

function toRow(name: string, result: Result<Classification>): BatchResultRow {
  if (!result.ok) {
    return {
      file: name,
      status: 'error',
      label: null,
      name: null,
      probability: null,
      model: '',
      backend: '',
      ms: null,
      errorCode: result.error.code,
    };
  }
  const { answer, model, backend, timings } = result.value;
  const best = answer.top[0] ?? null;
  return {
    file: name,
    status: answer.kind,
    label: best?.label ?? null,
    name: best?.name ?? null,
    probability: best?.probability ?? null,
    model: formatModelRef(model),
    backend,
    ms: timings.decodeMs + timings.inferenceMs,
    errorCode: null,
  };
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
  batchStarted(photos, startedAt);

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
        if (result.ok) recordIdentification(name, result.value);
        answers.set(itemId, {
          row: toRow(name, result),
          thumbnail: result.ok ? result.value.thumbnail : null,
        });
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
    const code = outcome.error.code;
    unansweredFailed((item) => toRow(item.name, fail(code)));
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
