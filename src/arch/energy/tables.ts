/**
 * The study's PIM estimation tables (`transformer_pim/PIM_estimation_tables`,
 * shipped as `data/energy/pim-tables/`), looked up as Accelergy's table-based
 * plug-in does (sets_of_tables.py), with accuracy 100, so a matching row beats
 * every other plug-in (CACTI 80, library 90, NeuroSim 70):
 *
 *  - a set applies when str(technology) equals the set's technology
 *    ("32nm" or "memristor") and it has a CSV named after the class;
 *  - a row matches when every query attribute that is a column of the CSV
 *    equals the row's cell (attributes that are no column are ignored);
 *  - an energy query also needs the row's `action` to be the action and each
 *    of the action's arguments to be a column equal to the cell;
 *  - the first matching row wins; area is the first attribute-matching row's.
 *
 * One difference: values compare as numbers when both are numeric, where the
 * plug-in compares Python str() texts (so 16.0 would not match "16" there).
 */
import { readEnergyCsv, type CsvRow } from './data.ts';
import type { Attributes } from './attributes.ts';

export interface TableSet {
  readonly name: string;
  readonly technology: string;
  readonly accuracy: number;
  /** Folder under data/energy/. */
  readonly dir: string;
  readonly classes: readonly string[];
}

/** The two sets the study installed with `accelergyTables -r`. */
export const PIM_TABLE_SETS: readonly TableSet[] = [
  {
    name: '32nm_tables',
    technology: '32nm',
    accuracy: 100,
    dir: 'pim-tables',
    classes: ['ADC', 'DAC', 'DRAM', 'SRAM', 'intadder', 'intmac', 'sample_and_hold', 'shift_and_add'],
  },
  {
    name: 'memristor_tables',
    technology: 'memristor',
    accuracy: 100,
    dir: 'pim-tables',
    classes: ['ReRAMcell_compute', 'ReRAMcell_storage'],
  },
];

/** Classes that only the tables estimate (no built-in estimator). */
export const TABLE_ONLY_CLASSES = ['ADC', 'DAC', 'sample_and_hold', 'shift_and_add', 'ReRAMcell_compute', 'ReRAMcell_storage'];

function pyStr(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

function cellEquals(cell: string, value: unknown): boolean {
  if (typeof value === 'number') {
    const n = cell.trim() === '' ? NaN : Number(cell);
    if (Number.isFinite(n)) return n === value;
  }
  return cell === pyStr(value);
}

function setsFor(className: string, attrs: Attributes, sets: readonly TableSet[]): TableSet[] {
  const tech = attrs['technology'];
  if (tech === undefined || tech === null) return [];
  return [...sets]
    .filter((s) => pyStr(tech) === s.technology && s.classes.includes(className))
    .sort((a, b) => b.accuracy - a.accuracy);
}

function rowsOf(set: TableSet, className: string): readonly CsvRow[] {
  return readEnergyCsv(`${set.dir}/${className}.csv`);
}

function attributesMatch(row: CsvRow, attrs: Attributes): boolean {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    if (k in row && !cellEquals(row[k], v)) return false;
  }
  return true;
}

export interface TableHit {
  readonly value: number;
  readonly set: string;
}

/** The energy (pJ) of `action` from the best set with a matching row, or null. */
export function tableEnergy(
  className: string,
  attrs: Attributes,
  action: string,
  args: Readonly<Record<string, unknown>> | undefined,
  sets: readonly TableSet[],
): TableHit | null {
  for (const set of setsFor(className, attrs, sets)) {
    for (const row of rowsOf(set, className)) {
      if (!attributesMatch(row, attrs) || row['action'] !== action) continue;
      if (args && !Object.entries(args).every(([k, v]) => k in row && cellEquals(row[k], v))) continue;
      return { value: Number(row['energy']), set: set.name };
    }
  }
  return null;
}

/** The area (um²) from the best set with an attribute-matching row, or null. */
export function tableArea(className: string, attrs: Attributes, sets: readonly TableSet[]): TableHit | null {
  for (const set of setsFor(className, attrs, sets)) {
    for (const row of rowsOf(set, className)) {
      if (attributesMatch(row, attrs)) return { value: Number(row['area']), set: set.name };
    }
  }
  return null;
}

/** The actions of the rows that match the attributes (first set that has any), in table order. */
export function tableActions(className: string, attrs: Attributes, sets: readonly TableSet[]): { actions: string[]; set: string } | null {
  for (const set of setsFor(className, attrs, sets)) {
    const actions: string[] = [];
    for (const row of rowsOf(set, className)) {
      if (attributesMatch(row, attrs) && row['action'] && !actions.includes(row['action'])) actions.push(row['action']);
    }
    if (actions.length) return { actions, set: set.name };
  }
  return null;
}
