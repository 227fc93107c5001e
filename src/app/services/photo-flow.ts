import { fail, type Result } from '../../core/errors';
import { batchResultColumns, toCsv, toJson, type BatchResultRow } from '../../core/results-export';
import type { Classification, ImageSource } from '../../worker/protocol';
import { recordIdentification } from '../history/recording';
import { useBatchStore, type BatchItem } from '../stores/batch-store';
import { useIdentifyStore } from '../stores/identify-store';
import { downloadText } from './download';
import { classifyMany, identify, newItemId } from './inference';

/**
 * What happens to photos once the user hands them over: one photo goes to the Identify
 * screen, several go through the batch queue. Object URLs are revoked when replaced.
 */

let currentId = 0;
let batchAbort: AbortController | null = null;
/** Grid updates are applied at most this often, so a fast batch cannot flood React. */
const BATCH_FLUSH_MS = 200;

function afterPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

export async function identifyPhoto(
  source: ImageSource,
  name: string,
  previewUrl: string | null,
  startedAt = performance.now(),
): Promise<void> {
  const id = ++currentId;
  // The photo goes to the worker first; the page renders its "working" state meanwhile.
  const identified = identify(source, name);
  const previous = useIdentifyStore.getState().current;
  if (previous?.previewUrl && previous.previewUrl !== previewUrl)
    URL.revokeObjectURL(previous.previewUrl);
  useIdentifyStore.setState({ current: { state: 'working', id, name, previewUrl } });
  const result = await identified;
  const observationId = result.ok ? recordIdentification(name, result.value) : null;
  if (id !== currentId) return; // a newer photo took its place
  if (!result.ok) {
    useIdentifyStore.setState({
      current: { state: 'error', id, name, previewUrl, error: result.error },
    });
    return;
  }
  useIdentifyStore.setState({
    current: {
      state: 'done',
      id,
      name,
      previewUrl,
      result: result.value,
      totalMs: null,
      observationId,
      verdict: null,
    },
  });
  await afterPaint();
  const current = useIdentifyStore.getState().current;
  if (current?.state === 'done' && current.id === id) {
    useIdentifyStore.setState({ current: { ...current, totalMs: performance.now() - startedAt } });
  }
}

export function identifyFile(file: File, startedAt?: number): Promise<void> {
  return identifyPhoto(
    { kind: 'blob', blob: file },
    file.name,
    URL.createObjectURL(file),
    startedAt,
  );
}

export function showInputError(name: string, error: Result<never> & { ok: false }): void {
  const id = ++currentId;
  useIdentifyStore.setState({
    current: { state: 'error', id, name, previewUrl: null, error: error.error },
  });
}

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
    model,
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
  for (const item of useBatchStore.getState().items) {
    if (item.thumbnailUrl) URL.revokeObjectURL(item.thumbnailUrl);
  }
  const abort = new AbortController();
  batchAbort = abort;
  const items: BatchItem[] = files.map((file, order) => ({
    id: newItemId(),
    order,
    name: displayPath(file),
    state: 'queued',
    row: null,
    thumbnailUrl: null,
  }));
  const startedAt = performance.now();
  useBatchStore.setState({ run: { kind: 'running', startedAt }, items });

  const updates = new Map<string, Partial<BatchItem>>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    timer = null;
    // A restarted batch owns the store now; this run's late results must not leak into it.
    if (batchAbort !== abort || updates.size === 0) return;
    const pending = new Map(updates);
    updates.clear();
    useBatchStore.setState((s) => ({
      items: s.items.map((item) => {
        const update = pending.get(item.id);
        return update ? { ...item, ...update } : item;
      }),
    }));
  };
  const names = new Map(items.map((item) => [item.id, item.name]));

  const outcome = await classifyMany(
    items.map((item, i) => ({
      itemId: item.id,
      name: item.name,
      source: { kind: 'blob', blob: files[i]! },
    })),
    {
      signal: abort.signal,
      onItem: (itemId, result) => {
        if (abort.signal.aborted) return;
        if (result.ok) recordIdentification(names.get(itemId) ?? itemId, result.value);
        const thumbnail = result.ok ? result.value.thumbnail : null;
        updates.set(itemId, {
          state: result.ok ? 'done' : 'error',
          row: toRow(names.get(itemId) ?? itemId, result),
          thumbnailUrl: thumbnail ? URL.createObjectURL(thumbnail) : null,
        });
        timer ??= setTimeout(flush, BATCH_FLUSH_MS);
      },
    },
  );
  if (timer !== null) clearTimeout(timer);
  if (batchAbort !== abort) return;
  flush();
  batchAbort = null;
  if (!outcome.ok && outcome.error.code !== 'CANCELLED') {
    // The worker crashed: the photos it had not answered are marked, not silently lost.
    useBatchStore.setState((s) => ({
      items: s.items.map((item) =>
        item.state === 'queued'
          ? { ...item, state: 'error', row: toRow(item.name, fail(outcome.error.code)) }
          : item,
      ),
    }));
  }
  useBatchStore.setState({
    run: {
      kind: 'finished',
      startedAt,
      finishedAt: performance.now(),
      cancelled: !outcome.ok && outcome.error.code === 'CANCELLED',
    },
  });
}

export function batchRows(): BatchResultRow[] {
  return useBatchStore
    .getState()
    .items.filter((item) => item.row !== null)
    .map((item) => item.row!);
}

export function exportBatch(format: 'csv' | 'json'): void {
  const rows = batchRows();
  const text = format === 'csv' ? toCsv(rows, batchResultColumns, { bom: true }) : toJson(rows);
  downloadText(
    text,
    format === 'csv' ? 'text/csv' : 'application/json',
    `identifications.${format}`,
  );
}
