import { parse } from 'csv-parse/sync';

/**
 * Rows of a CSV file with a header line, as objects keyed by column: the shared data
 * sets' labels.csv files (quoted fields hold commas) and the app's own exports (BOM, CRLF).
 */
export function parseCsvRows(text: string): Record<string, string>[] {
  return parse(text, { columns: true, bom: true, skip_empty_lines: true }) as Record<
    string,
    string
  >[];
}
