import { DEFAULT_TOP_K, type AnswerKind } from './answer';
import type { VerdictKind } from './history-policy';
import type { AnswerSummary } from './taxonomy-answer';

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

/** One candidate as the user was shown it. */
export interface ExportCandidate {
  /** The label line exactly as in labels.txt. */
  label: string;
  name: string;
  scientificName: string | null;
  probability: number;
}

/** The general model and group that handed a photo to a specialist (the CLI's `via`). */
export interface ExportVia {
  /** "id@version". */
  model: string;
  group: string;
  /** The general model's mass on the group. */
  probability: number;
}

/** Candidates per row: the ones the user was shown. */
export const EXPORTED_CANDIDATES = DEFAULT_TOP_K;

/**
 * One photo of a batch. The JSON export writes these objects as they are; the CSV flattens
 * them (see `batchResultColumns`). The first nine fields are the export's original ones
 * and keep their names and meaning.
 */
export interface BatchResultRow {
  file: string;
  status: AnswerKind | 'error';
  /** The label line of the best candidate, as in labels.txt. */
  label: string | null;
  name: string | null;
  probability: number | null;
  /** The model that answered, "id@version": the specialist when one answered. */
  model: string;
  backend: string;
  ms: number | null;
  errorCode: string | null;
  /** The best candidates, most likely first (at most `EXPORTED_CANDIDATES`). */
  top: ExportCandidate[];
  /** The answer as the app named it (the CLI's `answer`); null for a failed photo. */
  answer: AnswerSummary | null;
  /** Set when a specialist answered. */
  via: ExportVia | null;
  /** The user's verdict, when one was given before the export. */
  verdict: VerdictKind | null;
  correctedLabel: string | null;
  freeTextName: string | null;
}

/** Groups broad to narrow in one cell, as the app's `data-path` writes them. */
export const PATH_SEPARATOR = ' > ';

/**
 * Columns for the candidate at `rank` (2 and beyond; the best one has its own columns):
 * `labelN`, `nameN`, `scientificNameN`, `probabilityN`.
 */
export function candidateColumns<Row>(
  rank: number,
  candidateOf: (row: Row, rank: number) => ExportCandidate | null | undefined,
  fields: readonly ('label' | 'name' | 'scientificName' | 'probability')[] = [
    'label',
    'name',
    'scientificName',
    'probability',
  ],
): CsvColumn<Row>[] {
  return fields.map((field) => ({
    header: `${field}${rank}`,
    value: (row) => {
      const candidate = candidateOf(row, rank);
      return field === 'probability' ? fixed(candidate?.probability, 4) : candidate?.[field];
    },
  }));
}

/**
 * The answer and the routing, shared by the batch and the history exports:
 * `answerKind` (species, group, not-sure, no-animal), `answerName`, `answerScientificName`,
 * `answerPath` (groups broad to narrow, joined by `PATH_SEPARATOR`), `answerProbability`
 * (the probability of what the answer names: a group's summed mass, for instance), and,
 * when a specialist answered, `viaModel` ("id@version" of the general model), `viaGroup`
 * and `viaProbability`.
 */
export function answerColumns<Row>(
  answerOf: (row: Row) => AnswerSummary | null | undefined,
  viaOf: (row: Row) => ExportVia | null | undefined,
): CsvColumn<Row>[] {
  return [
    { header: 'answerKind', value: (row) => answerOf(row)?.kind },
    { header: 'answerName', value: (row) => answerOf(row)?.name },
    { header: 'answerScientificName', value: (row) => answerOf(row)?.scientificName },
    { header: 'answerPath', value: (row) => answerOf(row)?.path.join(PATH_SEPARATOR) },
    { header: 'answerProbability', value: (row) => fixed(answerOf(row)?.probability, 4) },
    { header: 'viaModel', value: (row) => viaOf(row)?.model },
    { header: 'viaGroup', value: (row) => viaOf(row)?.group },
    { header: 'viaProbability', value: (row) => fixed(viaOf(row)?.probability, 4) },
  ];
}

/**
 * The batch CSV, one row per photo. Columns, in order (names are stable; new ones are only
 * ever added at the end, so that a spreadsheet built on the positions keeps working):
 * - `file`, `status` (animal, not-sure, no-animal or error), `label`, `name` and
 *   `probability` of the best candidate, `model` (the model that answered), `backend`,
 *   `ms` (decoding and inference), `errorCode`;
 * - `scientificName` of the best candidate, then `label2` `name2` `scientificName2`
 *   `probability2` up to rank `EXPORTED_CANDIDATES`;
 * - the answer and routing columns of `answerColumns`;
 * - `verdict`, `correctedLabel`, `freeTextName`: the user's verdict, as in the history.
 * Probabilities are text with four decimals.
 */
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
  { header: 'scientificName', value: (row) => row.top[0]?.scientificName },
  ...Array.from({ length: EXPORTED_CANDIDATES - 1 }, (_, i) => i + 2).flatMap((rank) =>
    candidateColumns<BatchResultRow>(rank, (row, r) => row.top[r - 1]),
  ),
  ...answerColumns<BatchResultRow>(
    (row) => row.answer,
    (row) => row.via,
  ),
  { header: 'verdict', value: (row) => row.verdict },
  { header: 'correctedLabel', value: (row) => row.correctedLabel },
  { header: 'freeTextName', value: (row) => row.freeTextName },
];

/** Text rather than a number, so every row shows the same decimals whatever the locale. */
export function fixed(value: number | null | undefined, digits: number): string | null {
  return value === null || value === undefined || !Number.isFinite(value)
    ? null
    : value.toFixed(digits);
}
