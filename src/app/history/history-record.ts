import type { ObservationContext } from '../../core/history-export';
import { restoreObservation, type ObservationRecord } from '../../core/history-policy';
import type { ModelRef } from '../../core/model-ref';
import type { AnswerSummary, SummaryKind } from '../../core/taxonomy-answer';

/**
 * An observation as the history keeps it: the record of src/core/history-policy plus its
 * context (the batch it came in, the answer as the app named it, the general model when a
 * specialist answered). The context sits in the same IndexedDB row as the record. Rows
 * written before it was kept have none of it and read back with nulls; a damaged part is
 * dropped on its own, never the observation.
 */
export type HistoryRecord = ObservationRecord & ObservationContext;

/** What a caller hands in: a record without context (the camera's, say) is a single photo. */
export type HistoryRecordInput = ObservationRecord & Partial<ObservationContext>;

const SUMMARY_KINDS: readonly SummaryKind[] = ['species', 'group', 'not-sure', 'no-animal'];
/** Batch ids are UUIDs; the bound only keeps a damaged row from carrying a huge key. */
const MAX_BATCH_ID_CHARS = 200;
const MAX_NAME_CHARS = 500;
const MAX_MODEL_CHARS = 200;
/** Deeper than any catalogue's tree (ImageNet's is about a dozen groups). */
const MAX_PATH_DEPTH = 40;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function probability(value: unknown): number | null {
  if (typeof value !== 'number' || Number.isNaN(value)) return null;
  // Sums of float32 outputs can overshoot 1 by a rounding step.
  return Math.min(1, Math.max(0, value));
}

function nullableText(value: unknown): string | null {
  return typeof value === 'string' ? value.slice(0, MAX_NAME_CHARS) : null;
}

function restoreBatchId(value: unknown): string | null {
  return typeof value === 'string' && value !== '' && value.length <= MAX_BATCH_ID_CHARS
    ? value
    : null;
}

function restoreSummary(value: unknown): AnswerSummary | null {
  if (!isObject(value)) return null;
  const kind = SUMMARY_KINDS.find((k) => k === value.kind);
  const p = probability(value.probability);
  if (kind === undefined || p === null || !Array.isArray(value.path)) return null;
  return {
    kind,
    name: nullableText(value.name),
    scientificName: nullableText(value.scientificName),
    path: value.path
      .filter((name): name is string => typeof name === 'string' && name !== '')
      .slice(0, MAX_PATH_DEPTH)
      .map((name) => name.slice(0, MAX_NAME_CHARS)),
    probability: p,
  };
}

function restoreModel(value: unknown): ModelRef | null {
  if (!isObject(value) || typeof value.id !== 'string' || typeof value.version !== 'string') {
    return null;
  }
  const id = value.id.slice(0, MAX_MODEL_CHARS);
  const version = value.version.slice(0, MAX_MODEL_CHARS);
  return id !== '' && version !== '' ? { id, version } : null;
}

function restoreVia(value: unknown): ObservationContext['via'] {
  if (!isObject(value)) return null;
  const model = restoreModel(value.model);
  const p = probability(value.probability);
  if (model === null || p === null || typeof value.group !== 'string' || value.group === '') {
    return null;
  }
  return { model, group: value.group.slice(0, MAX_NAME_CHARS), probability: p };
}

/**
 * The context of a row, field by field: what is written goes through it as well as what is
 * read, so that both hold to the same bounds.
 */
export function restoreContext(raw: unknown): ObservationContext {
  const source = isObject(raw) ? raw : {};
  return {
    batchId: restoreBatchId(source.batchId),
    summary: restoreSummary(source.summary),
    via: restoreVia(source.via),
  };
}

/** A row read back from storage, or null when not even its id can be used. */
export function restoreHistoryRecord(raw: unknown): HistoryRecord | null {
  const record = restoreObservation(raw);
  return record === null ? null : { ...record, ...restoreContext(raw) };
}

/** The row to store for a record handed in: its context checked and completed with nulls. */
export function toStoredRecord(input: HistoryRecordInput): HistoryRecord {
  return { ...input, ...restoreContext(input) };
}

/** What the History screen lists: a photo on its own, or a batch as one entry. */
export type HistoryRow =
  | { kind: 'single'; record: HistoryRecord }
  | { kind: 'batch'; batchId: string; records: HistoryRecord[] };

/**
 * Groups the records of each batch into one row, at the place of its newest record; the
 * order of everything else is kept. A photo identified on its own while a batch ran may
 * sit between two of the batch's records in time: the batch still stays one row.
 */
export function groupByBatch(records: readonly HistoryRecord[]): HistoryRow[] {
  const rows: HistoryRow[] = [];
  const batches = new Map<string, HistoryRecord[]>();
  for (const record of records) {
    if (record.batchId === null) {
      rows.push({ kind: 'single', record });
      continue;
    }
    const members = batches.get(record.batchId);
    if (members !== undefined) {
      members.push(record);
      continue;
    }
    const first = [record];
    batches.set(record.batchId, first);
    rows.push({ kind: 'batch', batchId: record.batchId, records: first });
  }
  return rows;
}
