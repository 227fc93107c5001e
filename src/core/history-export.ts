import {
  MAX_STORED_PREDICTIONS,
  type ObservationRecord,
  type StoredPrediction,
} from './history-policy';
import { formatModelRef, type ModelRef } from './model-ref';
import { answerColumns, fixed, type CsvColumn } from './results-export';
import type { AnswerSummary } from './taxonomy-answer';

/**
 * The history as CSV (one row per observation, for spreadsheets) and as JSON (the records
 * as stored, plus a readable time). Written with `toCsv` / `toJson` from results-export,
 * so the same quoting and formula-injection guard apply.
 */

/**
 * What the app keeps beside an observation's own fields (src/app/history/history-record.ts
 * stores and restores it). Absent from records written before it was kept; their cells
 * are then empty.
 */
export interface ObservationContext {
  /** Shared by the observations of one batch; null for a photo identified on its own. */
  batchId: string | null;
  /** The answer as the app named it (species, group, not sure, no animal). */
  summary: AnswerSummary | null;
  /** The general model and group, when a specialist answered. */
  via: { model: ModelRef; group: string; probability: number } | null;
}

export type ExportedObservation = ObservationRecord & Partial<ObservationContext>;

/** ISO 8601 in UTC; null for a record whose time was lost (restored as 0). */
export function observationTime(record: Pick<ObservationRecord, 'createdAt'>): string | null {
  return record.createdAt > 0 ? new Date(record.createdAt).toISOString() : null;
}

function candidate(rank: number): CsvColumn<ExportedObservation>[] {
  const at = (row: ExportedObservation): StoredPrediction | undefined => row.top[rank - 1];
  return [
    { header: `label${rank}`, value: (row) => at(row)?.label },
    { header: `probability${rank}`, value: (row) => fixed(at(row)?.probability, 4) },
  ];
}

/**
 * The history CSV, one row per observation. Names are stable and new columns only ever go
 * at the end: `time` … `lon` as before, then `batchId` and the answer and routing columns
 * the batch export has (`answerColumns` in results-export).
 */
export const observationColumns: readonly CsvColumn<ExportedObservation>[] = [
  { header: 'time', value: observationTime },
  { header: 'id', value: (row) => row.id },
  { header: 'file', value: (row) => row.fileName },
  { header: 'status', value: (row) => row.answerKind },
  { header: 'label', value: (row) => row.top[0]?.label },
  { header: 'name', value: (row) => row.top[0]?.name },
  { header: 'scientificName', value: (row) => row.top[0]?.scientificName },
  // Text with four decimals whatever the locale, as in the batch export.
  { header: 'probability', value: (row) => fixed(row.top[0]?.probability, 4) },
  // The runners-up, one pair of columns per rank a record can hold.
  ...Array.from({ length: MAX_STORED_PREDICTIONS - 1 }, (_, i) => i + 2).flatMap(candidate),
  { header: 'model', value: (row) => (row.model ? formatModelRef(row.model) : null) },
  { header: 'backend', value: (row) => row.backend },
  { header: 'verdict', value: (row) => row.verdict?.kind },
  {
    header: 'correctedLabel',
    value: (row) => (row.verdict?.kind === 'corrected' ? row.verdict.correctedLabel : null),
  },
  {
    header: 'freeTextName',
    value: (row) => (row.verdict?.kind === 'unknown-species' ? row.verdict.freeTextName : null),
  },
  // Numbers, not text: a text cell starting with "-" would be defused as a formula.
  { header: 'lat', value: (row) => row.location?.lat },
  { header: 'lon', value: (row) => row.location?.lon },
  { header: 'batchId', value: (row) => row.batchId },
  ...answerColumns<ExportedObservation>(
    (row) => row.summary,
    (row) => row.via && { ...row.via, model: formatModelRef(row.via.model) },
  ),
];

export type ObservationExport = ExportedObservation & { time: string | null };

/** One JSON object per observation: the stored record plus its time in ISO 8601. */
export function toObservationExport(record: ExportedObservation): ObservationExport {
  return { time: observationTime(record), ...record };
}
