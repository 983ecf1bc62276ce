/**
 * The energy/area data shipped with expt (`data/energy/`, see its README),
 * read on first use and kept for the life of the process.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

/** One CSV row: column name (as written in the header) → cell text. */
export type CsvRow = Readonly<Record<string, string>>;

/**
 * The data folder. Named by a literal relative to this module so that the
 * engine versions of the task kinds that reach this module digest its files
 * (src/build/engine-version.ts).
 */
const DATA = new URL('../../../data/energy/', import.meta.url);

const cache = new Map<string, readonly CsvRow[]>();

/**
 * Rows of `data/energy/<relativePath>`, parsed once. Blank lines are skipped
 * (Python's csv.DictReader, which the table plug-in uses, skips them too);
 * cells are trimmed; quoted cells may hold commas.
 */
export function readEnergyCsv(relativePath: string): readonly CsvRow[] {
  let rows = cache.get(relativePath);
  if (rows === undefined) {
    const url = new URL(relativePath, DATA);
    const text = readFileSync(url, 'utf8');
    rows = parse(text, {
      columns: true,
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true,
    }) as CsvRow[];
    cache.set(relativePath, rows);
  }
  return rows;
}

const recordCache = new Map<string, { header: string[]; rows: string[][] }>();

/**
 * The header and rows of `data/energy/<relativePath>` as arrays, for tables
 * whose column names are numbers (a record's numeric keys would lose their
 * order).
 */
export function readEnergyCsvRecords(relativePath: string): { readonly header: readonly string[]; readonly rows: readonly (readonly string[])[] } {
  let records = recordCache.get(relativePath);
  if (records === undefined) {
    const text = readFileSync(new URL(relativePath, DATA), 'utf8');
    const all = parse(text, { skip_empty_lines: true, trim: true }) as string[][];
    records = { header: all[0] ?? [], rows: all.slice(1) };
    recordCache.set(relativePath, records);
  }
  return records;
}

/** A cell as a number; throws (a bug in the shipped data) if it is not one. */
export function cellNumber(row: CsvRow, column: string, file: string): number {
  const text = row[column];
  const v = text === undefined || text === '' ? NaN : Number(text);
  if (!Number.isFinite(v)) throw new Error(`data/energy/${file}: column '${column}' is not a number: ${JSON.stringify(text)}`);
  return v;
}
