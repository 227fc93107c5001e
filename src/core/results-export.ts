import type { AnswerKind } from './answer';

/**
 * CSV and JSON exports of batch results and history, for spreadsheets and scripts.
 * CSV follows RFC 4180 (CRLF records, fields quoted when they hold a quote, comma or
 * line break). File names and labels come from users and the web, so text cells are
 * also defused against formula injection before they reach a spreadsheet.
 */

export type CsvValue = string | number | boolean | null | undefined;

export interface CsvColumn<Row> {
  header: string;
  value: (row: Row) => CsvValue;
}

export interface CsvOptions {
  /** Start with a UTF-8 byte order mark so that Excel reads non-ASCII names correctly. */
  bom?: boolean;
}

const BOM = '\uFEFF';
const RECORD_END = '\r\n';

export function toCsv<Row>(
  rows: readonly Row[],
  columns: readonly CsvColumn<Row>[],
  options: CsvOptions = {},
): string {
  const records = [
    columns.map((column) => csvField(column.header)),
    ...rows.map((row) => columns.map((column) => csvField(column.value(row)))),
  ];
  const body = records.map((fields) => fields.join(',') + RECORD_END).join('');
  return options.bom ? BOM + body : body;
}

/** Pretty-printed JSON with a final newline; non-finite numbers become null. */
export function toJson(rows: readonly unknown[]): string {
  return `${JSON.stringify(rows, null, 2)}\n`;
}

// Spreadsheets treat a cell starting with one of these as a formula (tab and CR can
// hide one from a quick look); a leading apostrophe makes it plain text.
const FORMULA_START = /^[=+\-@\t\r]/;
// Semicolons are quoted too: spreadsheets in locales that use them as the separator
// would otherwise split the field and could expose a formula in the second half.
const NEEDS_QUOTES = /[",;\r\n]/;

/** One CSV field. Numbers and booleans cannot carry a formula and are written as-is. */
export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export interface BatchResultRow {
  file: string;
  status: AnswerKind | 'error';
  /** The label line of the best candidate, as in labels.txt. */
  label: string | null;
  name: string | null;
  probability: number | null;
  /** "id@version". */
  model: string;
  backend: string;
  ms: number | null;
  errorCode: string | null;
}

export const batchResultColumns: readonly CsvColumn<BatchResultRow>[] = [
  { header: 'file', value: (row) => row.file },
  { header: 'status', value: (row) => row.status },
  { header: 'label', value: (row) => row.label },
  { header: 'name', value: (row) => row.name },
  // Written as text so that every row has the same four decimals, whatever the locale.
  { header: 'probability', value: (row) => fixed(row.probability, 4) },
  { header: 'model', value: (row) => row.model },
  { header: 'backend', value: (row) => row.backend },
  { header: 'ms', value: (row) => fixed(row.ms, 1) },
  { header: 'errorCode', value: (row) => row.errorCode },
];

/** Text rather than a number, so every row shows the same decimals whatever the locale. */
export function fixed(value: number | null | undefined, digits: number): string | null {
  return value === null || value === undefined || !Number.isFinite(value)
    ? null
    : value.toFixed(digits);
}
