/**
 * The Accelergy *library* plug-in (commit 4e4b26b, unchanged up to 662afb4)
 * for its Aladdin tables: classes aladdin_adder, aladdin_comparator,
 * aladdin_counter, aladdin_multiplier and aladdin_register
 * (`data/energy/aladdin/`, 45 nm, 1 ns).
 *
 * An entry is the row whose `action` (aliases split at `|`) is the action.
 * Each attribute of the query that names a column (aliases split at `|`; the
 * first attribute to claim a column wins) and differs from the entry's value
 * scales the entry:
 *  - width / datawidth (and width_a, width_b on the multiplier): linear;
 *  - technology: Stillmaker & Baas factors from the entry's node (below);
 *  - global_cycle_seconds: leak × (to/from); energy and area unchanged.
 * Attributes that name no column (n_bits; width_a/width_b on the adder) are
 * ignored. The leak action takes its value from the energy column.
 *
 * Technology factors: energy × E(to)/E(from), E = a·0.8² + b·0.8 + c, area ×
 * a 2-D interpolation of the Stillmaker area matrix, both on a fractional node
 * index. The index of a node between two table nodes is interpolated the
 * wrong way round (the plug-in's quirk, kept): 28 nm gets index 4.667, nearer
 * 20 nm than 32 nm, so 22 nm's energy factor (0.586) exceeds 28 nm's (0.367).
 */
import { readEnergyCsv, readEnergyCsvRecords, type CsvRow } from './data.ts';
import { attributeError, componentError, type Attributes, type Where } from './attributes.ts';

export const LIBRARY_CLASSES = ['aladdin_adder', 'aladdin_comparator', 'aladdin_counter', 'aladdin_multiplier', 'aladdin_register'] as const;

// ---------------------------------------------------------------------------
// Technology scaling (scaling.py)

interface StillmakerTables {
  readonly nodes: number[];
  /** area[from][to] */
  readonly area: number[][];
  /** [a, b, c] per node, in `nodes` order */
  readonly energy: number[][];
}

let stillmaker: StillmakerTables | undefined;

function tables(): StillmakerTables {
  if (stillmaker) return stillmaker;
  const { header, rows: areaRows } = readEnergyCsvRecords('aladdin/stillmaker_area_scaling.csv');
  const nodes = header.slice(1).map(Number);
  const area = nodes.map((from) => {
    const row = areaRows.find((r) => Number(r[0]) === from);
    if (!row) throw new Error(`stillmaker_area_scaling.csv: no row for ${from} nm`);
    return row.slice(1).map(Number);
  });
  const energyRows = readEnergyCsv('aladdin/stillmaker_energy_coefficients.csv');
  const energy = nodes.map((n) => {
    const row = energyRows.find((r) => Number(r['technology_nm']) === n);
    if (!row) throw new Error(`stillmaker_energy_coefficients.csv: no row for ${n} nm`);
    return [Number(row['a_vdd2']), Number(row['b_vdd']), Number(row['c'])];
  });
  stillmaker = { nodes, area, energy };
  return stillmaker;
}

/** The plug-in's fractional index of a node in [130, 90, 65, 45, 32, 20, 16, 14, 10, 7], or null outside. */
export function technologyNodeIndex(nm: number): number | null {
  const nodes = tables().nodes;
  let larger: number | undefined;
  let smaller: number | undefined;
  for (let i = 0; i < nodes.length; i++) {
    if (nm <= nodes[i]) larger = i;
    if (nm >= nodes[i]) {
      smaller = i;
      break;
    }
  }
  if (larger === undefined || smaller === undefined) return null;
  if (larger === smaller) return larger;
  const lNode = nodes[larger];
  const sNode = nodes[smaller];
  const interp = (nm - sNode) / (lNode - sNode);
  return larger + (smaller - larger) * interp;
}

const frac = (x: number) => x % 1;

function nodeIndexOrThrow(nm: number, where: Where): number {
  const i = technologyNodeIndex(nm);
  if (i === null) {
    const nodes = tables().nodes;
    throw attributeError(where, 'technology', `${nm} nm is outside the library plug-in's scaling tables (${nodes[nodes.length - 1]}…${nodes[0]} nm)`);
  }
  return i;
}

/** Area factor from `fromNm` to `toNm` (2-D interpolation of the Stillmaker matrix). */
export function technologyAreaScale(fromNm: number, toNm: number, where: Where = { className: 'library' }): number {
  const A = tables().area;
  const x = nodeIndexOrThrow(fromNm, where);
  const y = nodeIndexOrThrow(toNm, where);
  const fx = Math.floor(x);
  const cx = Math.ceil(x);
  const fy = Math.floor(y);
  const cy = Math.ceil(y);
  return (
    A[fx][fy] * (1 - frac(x)) * (1 - frac(y)) +
    A[fx][cy] * (1 - frac(x)) * frac(y) +
    A[cx][fy] * frac(x) * (1 - frac(y)) +
    A[cx][cy] * frac(x) * frac(y)
  );
}

/** Energy factor from `fromNm` to `toNm` at Vdd 0.8 V. */
export function technologyEnergyScale(fromNm: number, toNm: number, where: Where = { className: 'library' }): number {
  const E = tables().energy;
  const vdd = 0.8;
  const poly = (i: number) => E[i][0] * vdd ** 2 + E[i][1] * vdd ** 1 + E[i][2] * vdd ** 0;
  const factor = (idx: number) => poly(Math.floor(idx)) * (1 - frac(idx)) + poly(Math.ceil(idx)) * frac(idx);
  const x = nodeIndexOrThrow(fromNm, where);
  const y = nodeIndexOrThrow(toNm, where);
  return factor(y) / factor(x);
}

// ---------------------------------------------------------------------------
// Entries and matching (accelergywrapper.py)

type Target = 'energy' | 'area' | 'leak';

const LINEAR_AREA = new Set(['area_scale', 'width', 'datawidth', 'depth', 'rows', 'cols', 'columns', 'n_instances', 'width_a', 'width_b', 'datawidth_a', 'datawidth_b']);
const UNSCALED_AREA = new Set(['energy_scale', 'average_input_value', 'average_weight_value', 'average_output_value', 'no_scale_area', 'no_scale_energy', 'voltage', 'global_cycle_seconds']);
const LINEAR_ENERGY = new Set(['width', 'datawidth', 'energy_scale', 'average_input_value', 'average_weight_value', 'average_output_value', 'width_a', 'width_b', 'datawidth_a', 'datawidth_b', 'n_steps']);
const UNSCALED_ENERGY = new Set(['rows', 'cols', 'columns', 'area_scale', 'no_scale_area', 'no_scale_energy', 'n_instances', 'global_cycle_seconds']);

/** scale_energy_or_area; null where the plug-in raises (an unsupported parameter). */
function scaleFactor(param: string, v0: number, v1: number, target: Target, where: Where): number | null {
  const p = param.toLowerCase();
  if (target === 'leak') {
    if (p === 'voltage') return 1;
    if (p === 'n_instances' || p === 'global_cycle_seconds') return v1 / v0;
    return scaleFactor(p, v0, v1, 'energy', where);
  }
  if (target === 'area') {
    if (LINEAR_AREA.has(p)) return v1 / v0;
    if (UNSCALED_AREA.has(p)) return 1;
    if (p === 'technology') return technologyAreaScale(v0, v1, where);
    if (p === 'resolution') return 2 ** (v1 - v0);
    return null;
  }
  if (LINEAR_ENERGY.has(p)) return v1 / v0;
  if (UNSCALED_ENERGY.has(p)) return 1;
  if (p === 'depth') return (v1 / v0) ** (1.56 / 2);
  if (p === 'technology') return technologyEnergyScale(v0, v1, where);
  if (p === 'resolution') return 2 ** (v1 - v0);
  if (p === 'voltage') return (v1 / v0) ** 2;
  return null;
}

/** parse_float: strips leading/trailing characters that cannot be part of a number ("45nm" → 45). */
function parseLenientFloat(v: unknown): number | null {
  const s = String(v).replace(/^[^0-9eE\-+.]+/, '').replace(/[^0-9eE\-+.]+$/, '');
  const n = s === '' ? NaN : Number(s);
  return Number.isFinite(n) ? n : null;
}

/** Python's str() of an attribute value, for the plug-in's "same value, no scaling" test. */
function pyStr(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

interface Entry {
  readonly row: CsvRow;
  readonly actions: readonly string[];
}

const entries = new Map<string, Entry[]>();

function classEntries(className: string): Entry[] {
  let list = entries.get(className);
  if (!list) {
    // The plug-in gives every entry area_scale = energy_scale = n_instances = 1.
    list = readEnergyCsv(`aladdin/${className}.csv`).map((row) => ({
      row: { ...row, area_scale: '1', energy_scale: '1', n_instances: '1' },
      actions: (row['action'] ?? '').split('|').map((a) => a.trim().toLowerCase()),
    }));
    entries.set(className, list);
  }
  return list;
}

function entryColumn(entry: CsvRow, attribute: string): string | null {
  const a = attribute.toLowerCase();
  for (const k of Object.keys(entry)) {
    if (k.toLowerCase() === a) return k;
    if (k.toLowerCase().split('|').includes(a)) return k;
  }
  return null;
}

function entryValue(entry: CsvRow, target: 'energy' | 'area'): number | null {
  for (const k of Object.keys(entry)) {
    if (k.toLowerCase().includes(target)) {
      const v = Number(entry[k]);
      return Number.isFinite(v) ? v : null;
    }
  }
  return null;
}

/** match_entry: the entry's scale for the query, or null where the plug-in fails to scale it. */
function entryScale(entry: CsvRow, attrs: Attributes, target: Target, where: Where): number | null {
  const claimed = new Map<string, string | null>();
  const taken = new Set<string | null>();
  for (const a of Object.keys(attrs)) {
    const col = entryColumn(entry, a);
    if (!taken.has(col)) {
      claimed.set(a, col);
      taken.add(col);
    } else {
      claimed.set(a, null);
    }
  }
  let scale = 1;
  for (const a of Object.keys(attrs)) {
    const col = claimed.get(a);
    if (col === null || col === undefined) continue;
    const entryVal = entry[col];
    if (entryVal === undefined) continue;
    if (entryVal === '*' || entryVal.toLowerCase() === pyStr(attrs[a]).toLowerCase()) continue;
    const from = parseLenientFloat(entryVal);
    const to = parseLenientFloat(attrs[a]);
    if (from === null || to === null || from === 0) return null;
    const s = scaleFactor(a, from, to, target, where);
    if (s === null) return null;
    scale *= s;
  }
  return scale;
}

export interface LibraryEstimate {
  /** One entry per action alias of the table (`add`, `read`, `leak`, `update`, `write`, …), pJ. */
  readonly actions: readonly { name: string; energy: number }[];
  readonly areaUm2: number;
}

/**
 * An Aladdin-table class as the library plug-in estimates it. `attrs` are the
 * attributes of the query (the component's attributes, technology and
 * global_cycle_seconds included).
 */
export function libraryEstimate(className: string, attrs: Attributes, where: Where): LibraryEstimate {
  const list = classEntries(className);
  const actionNames: string[] = [];
  for (const e of list) for (const a of e.actions) if (!actionNames.includes(a)) actionNames.push(a);
  const valueFor = (target: Target, candidates: readonly Entry[]): number => {
    for (const e of candidates) {
      const scale = entryScale(e.row, attrs, target, where);
      const v = entryValue(e.row, target === 'area' ? 'area' : 'energy');
      if (scale !== null && v !== null) return v * scale;
    }
    const bad = Object.keys(attrs).find((a) => {
      const col = entryColumn(list[0].row, a);
      return col !== null && parseLenientFloat(attrs[a]) === null;
    });
    if (bad !== undefined) throw attributeError(where, bad, `${JSON.stringify(attrs[bad])} cannot be scaled from the Aladdin table's ${list[0].row[entryColumn(list[0].row, bad)!]}`);
    throw componentError(where, `the library plug-in cannot scale its ${className} entry to these attributes`);
  };
  const actions = actionNames.map((name) => ({
    name,
    energy: valueFor(name === 'leak' ? 'leak' : 'energy', list.filter((e) => e.actions.includes(name))),
  }));
  return { actions, areaUm2: valueFor('area', list) };
}
