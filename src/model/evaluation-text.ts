/**
 * The model's own presentation of one {@link Evaluation}: a Timeloop-like
 * text report (per-level table, summary, fJ/Compute breakdown) and the JSON
 * form, whose top level mirrors the golden vectors' `expected.json`. It sits
 * beside the model, not in the CLI, because the map task keeps the level
 * table in its result, and `expt eval` and `expt map` print the same text.
 */
import type { Evaluation } from './result.ts';

/** `--json` output format tag. */
export const EVAL_JSON_FORMAT = 'expt-eval-v1';

export interface EvalJson {
  format: typeof EVAL_JSON_FORMAT;
  /** The input files, in command-line order. */
  inputs: string[];
  arithmetic: Evaluation['arithmetic'];
  storage: Evaluation['storage'];
  networks: Evaluation['networks'];
  summary: Evaluation['summary'];
}

/** The JSON document `expt eval --json` prints (same field names as expected.json). */
export function evalJson(evaluation: Evaluation, inputs: readonly string[]): EvalJson {
  return {
    format: EVAL_JSON_FORMAT,
    inputs: [...inputs],
    arithmetic: evaluation.arithmetic,
    storage: evaluation.storage,
    networks: evaluation.networks,
    summary: evaluation.summary,
  };
}

// ---------------------------------------------------------------------------
// Number formatting.

/** Groups the digits of a non-negative integer string: `1234567` → `1,234,567`. */
function groupDigits(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * A count with thousands separators. Whole numbers print without decimals;
 * others (per-instance averages) with `decimals` digits.
 */
export function formatCount(value: number, decimals = 2): string {
  return formatFixed(value, Number.isInteger(value) ? 0 : decimals);
}

/** A real number with a fixed number of decimals and thousands separators. */
export function formatFixed(value: number, decimals: number): string {
  if (!Number.isFinite(value)) return String(value);
  const text = value.toFixed(decimals);
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  const [whole, fraction] = body.split('.');
  return `${negative ? '-' : ''}${groupDigits(whole)}${fraction !== undefined ? `.${fraction}` : ''}`;
}

/** Timeloop's EDP style: `9.41e+05` (here with 4 significant digits). */
export function formatScientific(value: number, digits = 4): string {
  const text = value.toExponential(digits - 1);
  // JS prints `e+5`; Timeloop (printf %e) prints at least two exponent digits.
  return text.replace(/e([+-])(\d)$/, 'e$10$2');
}

// ---------------------------------------------------------------------------
// Tables.

type Align = 'left' | 'right';

interface Column {
  header: string;
  align: Align;
}

/** A row of cells, or a free line written across the table (indented by `indent`). */
type Row = { cells: string[] } | { line: string };

function renderTable(columns: readonly Column[], rows: readonly Row[], indent = ''): string[] {
  const widths = columns.map((c) => c.header.length);
  for (const row of rows) {
    if ('cells' in row) row.cells.forEach((cell, i) => (widths[i] = Math.max(widths[i], cell.length)));
  }
  const pad = (text: string, i: number) => (columns[i].align === 'left' ? text.padEnd(widths[i]) : text.padStart(widths[i]));
  const join = (cells: string[]) => (indent + cells.map(pad).join('  ')).trimEnd();
  const lines = [join(columns.map((c) => c.header)), indent + widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const row of rows) lines.push('cells' in row ? join(row.cells) : `${indent}${row.line}`);
  return lines;
}

// ---------------------------------------------------------------------------
// The text report.

/** `96/168` when only part of the instances is used, else `16`. */
function instancesText(utilized: number, total: number): string {
  return utilized === total ? formatCount(utilized) : `${formatCount(utilized)}/${formatCount(total)}`;
}

/** The per-level table: one row per (level, kept dataspace), outermost level first, then the MAC. */
export function renderLevelTable(evaluation: Evaluation): string[] {
  const columns: Column[] = [
    { header: 'Level', align: 'left' },
    { header: 'Dataspace', align: 'left' },
    { header: 'Util. capacity', align: 'right' },
    { header: 'Partition size', align: 'right' },
    { header: 'Instances', align: 'right' },
    { header: 'Reads/inst', align: 'right' },
    { header: 'Fills/inst', align: 'right' },
    { header: 'Updates/inst', align: 'right' },
    { header: 'Energy (pJ)', align: 'right' },
  ];
  const rows: Row[] = [];
  for (const level of evaluation.storage) {
    const kept = Object.entries(level.dataspaces);
    if (kept.length === 0) {
      rows.push({ cells: [level.name, '(keeps nothing)', '', '', formatCount(level.instances), '', '', '', formatFixed(level.energy_pJ, 2)] });
    }
    kept.forEach(([name, ds], i) => {
      rows.push({
        cells: [
          i === 0 ? level.name : '',
          name,
          formatCount(ds.utilized_capacity),
          formatCount(ds.partition_size),
          instancesText(ds.utilized_instances, level.instances),
          formatCount(ds.reads),
          formatCount(ds.fills),
          formatCount(ds.updates),
          formatFixed(ds.energy_pJ, 2),
        ],
      });
    });
    if (level.leakage_energy_pJ !== 0) {
      rows.push({ cells: ['', 'leakage', '', '', formatCount(level.utilized_instances), '', '', '', formatFixed(level.leakage_energy_pJ, 2)] });
    }
    if (level.slowdown < 1) {
      rows.push({
        line: `  ^ ${level.name} is bandwidth-throttled: ${formatCount(level.cycles)} cycles (slowdown ${level.slowdown.toFixed(4)})`,
      });
    }
  }
  const mac = evaluation.arithmetic;
  rows.push({
    cells: [mac.name, '(compute)', '', '', instancesText(mac.utilized_instances, mac.instances), '', '', '', formatFixed(mac.energy_pJ, 2)],
  });
  for (const network of evaluation.networks) {
    if (network.energy_pJ === 0) continue;
    rows.push({ cells: [network.name, '(network)', '', '', '', '', '', '', formatFixed(network.energy_pJ, 2)] });
  }
  return renderTable(columns, rows);
}

/**
 * Timeloop's fJ/Compute breakdown: the MAC, every storage level innermost
 * first (its energy including leakage), the networks with energy, and Total.
 */
export function energyPerComputeBreakdown(evaluation: Evaluation): [string, number][] {
  const computes = evaluation.summary.computes;
  const fJ = (pJ: number) => (computes > 0 ? (pJ / computes) * 1000 : 0);
  const entries: [string, number][] = [[evaluation.arithmetic.name, fJ(evaluation.arithmetic.energy_pJ)]];
  for (const level of [...evaluation.storage].reverse()) entries.push([level.name, fJ(level.energy_pJ + level.leakage_energy_pJ)]);
  for (const network of evaluation.networks) if (network.energy_pJ !== 0) entries.push([network.name, fJ(network.energy_pJ)]);
  entries.push(['Total', fJ(evaluation.summary.energy_pJ)]);
  return entries;
}

/** The whole human-readable report of `expt eval`. */
export function renderEvalText(evaluation: Evaluation, inputs: readonly string[]): string {
  const s = evaluation.summary;
  const lines: string[] = [];
  lines.push(`Inputs: ${inputs.join(', ')}`);
  lines.push('');
  lines.push(...renderLevelTable(evaluation));
  lines.push('');
  lines.push('Reads, fills and updates are scalar accesses per utilized instance; energies are totals over the instances.');
  lines.push('');

  const summary: [string, string][] = [
    ['Computes', formatCount(s.computes)],
    ['Cycles', formatCount(s.cycles) + (s.network_latency_cycles > 0 ? ` (incl. ${formatCount(s.network_latency_cycles)} network latency)` : '')],
    ['Utilization', `${(s.utilization * 100).toFixed(2)} %`],
    ['Energy', `${formatFixed(s.energy_pJ, 2)} pJ = ${formatFixed(s.energy_pJ / 1e6, 2)} uJ`],
  ];
  if (s.leakage_energy_pJ !== 0) summary.push(['  of which leakage', `${formatFixed(s.leakage_energy_pJ, 2)} pJ`]);
  if (s.network_energy_pJ !== 0) summary.push(['  of which networks', `${formatFixed(s.network_energy_pJ, 2)} pJ`]);
  summary.push(['EDP', `${formatScientific(s.edp_J_cycle)} J*cycle`]);
  summary.push(['pJ/Compute', s.pJ_per_compute.toFixed(3)]);
  const labelWidth = Math.max(...summary.map(([label]) => label.length));
  lines.push('Summary');
  for (const [label, value] of summary) lines.push(`  ${label.padEnd(labelWidth)} : ${value}`);
  lines.push('');

  const breakdown = energyPerComputeBreakdown(evaluation);
  const nameWidth = Math.max(...breakdown.map(([name]) => name.length));
  const values = breakdown.map(([, v]) => formatFixed(v, 2));
  const valueWidth = Math.max(...values.map((v) => v.length));
  lines.push('fJ/Compute');
  breakdown.forEach(([name], i) => lines.push(`  ${name.padEnd(nameWidth)} = ${values[i].padStart(valueWidth)}`));
  return lines.join('\n') + '\n';
}
