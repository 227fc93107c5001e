import {
  MAX_STORED_PREDICTIONS,
  type ObservationRecord,
  type StoredPrediction,
} from './history-policy';
import { formatModelRef } from './model-ref';
import { fixed, type CsvColumn } from './results-export';

/**
 * The history as CSV (one row per observation, for spreadsheets) and as JSON (the records
 * as stored, plus a readable time). Written with `toCsv` / `toJson` from results-export,
 * so the same quoting and formula-injection guard apply.
 */

/** ISO 8601 in UTC; null for a record whose time was lost (restored as 0). */
export function observationTime(record: Pick<ObservationRecord, 'createdAt'>): string | null {
  return record.createdAt > 0 ? new Date(record.createdAt).toISOString() : null;
}

function candidate(rank: number): CsvColumn<ObservationRecord>[] {
  const at = (row: ObservationRecord): StoredPrediction | undefined => row.top[rank - 1];
  return [
    { header: `label${rank}`, value: (row) => at(row)?.label },
    { header: `probability${rank}`, value: (row) => fixed(at(row)?.probability, 4) },
  ];
}

export const observationColumns: readonly CsvColumn<ObservationRecord>[] = [
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
];

export type ObservationExport = ObservationRecord & { time: string | null };

/** One JSON object per observation: the stored record plus its time in ISO 8601. */
export function toObservationExport(record: ObservationRecord): ObservationExport {
  return { time: observationTime(record), ...record };
}
