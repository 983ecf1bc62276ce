/**
 * The fidelity reports of `expt check`. Pipeline mode: one row per map task
 * (expt's cached evaluation of its best mapping against timeloop-model's),
 * the totals, and their CSV, Markdown (`reports/fidelity.*`) and terminal
 * text. On files: each task's per-level comparison and one line per task.
 * The comparison itself is timeloop/fidelity.ts.
 */
import type { Task } from '../build/task.ts';
import type { FidelityReport } from '../timeloop/fidelity.ts';
import { csvText, type CsvValue } from './csv.ts';

export type FidelityStatus = 'compared' | 'infeasible' | 'error';

/** One row of reports/fidelity.csv. */
export interface FidelityTaskRow {
  id: string;
  model: string;
  layer: string;
  arch: string;
  hw: string;
  fusion: string;
  status: FidelityStatus;
  counts_equal: boolean | null;
  differences: number | null;
  energy_ratio: number | null;
  energy_ratio_no_leakage: number | null;
  cycles_ratio: number | null;
  expt_energy_pJ: number | null;
  timeloop_energy_pJ: number | null;
  expt_leakage_pJ: number | null;
  expt_cycles: number | null;
  timeloop_cycles: number | null;
  /** Infeasible: why; error: Timeloop's message; differing counts: the first differences. */
  note: string;
  /** Other cells (ids) the task stands for. */
  aliases: string[];
}

export interface FidelityTotals {
  /** Rows: map tasks, and the fused layers of joint blocks (`task#layer`). */
  tasks: number;
  /** Of which fused layers of joint blocks. */
  joint_layers?: number;
  compared: number;
  identical: number;
  infeasible: number;
  errors: number;
  energy_ratio: [number, number] | null;
  energy_ratio_no_leakage: [number, number] | null;
  cycles_ratio: [number, number] | null;
}

export const FIDELITY_COLUMNS = [
  'id',
  'model',
  'layer',
  'arch',
  'hw',
  'fusion',
  'status',
  'counts_equal',
  'differences',
  'energy_ratio',
  'energy_ratio_no_leakage',
  'cycles_ratio',
  'expt_energy_pJ',
  'timeloop_energy_pJ',
  'expt_leakage_pJ',
  'expt_cycles',
  'timeloop_cycles',
  'note',
] as const;

const uniq = (values: readonly unknown[]) => [...new Set(values.filter((v) => v !== undefined && v !== '').map(String))].join('|');

export function rowBase(task: Task): Omit<FidelityTaskRow, 'status' | 'note'> {
  return {
    id: task.id,
    model: uniq(task.cells.map((c) => c.model)),
    layer: uniq(task.cells.map((c) => c.layer)),
    arch: uniq(task.cells.map((c) => c.arch)),
    hw: uniq(task.cells.map((c) => c.hw ?? c.arch)),
    fusion: uniq(task.cells.map((c) => c.fusion)),
    counts_equal: null,
    differences: null,
    energy_ratio: null,
    energy_ratio_no_leakage: null,
    cycles_ratio: null,
    expt_energy_pJ: null,
    timeloop_energy_pJ: null,
    expt_leakage_pJ: null,
    expt_cycles: null,
    timeloop_cycles: null,
    aliases: task.aliases,
  };
}

export function rowFromReport(task: Task, report: FidelityReport): FidelityTaskRow {
  const diffs = report.rows.flatMap((r) => r.differences.map((d) => `${r.level}${r.dataspace !== '-' ? `/${r.dataspace}` : ''}: ${d}`));
  if (report.cyclesExpt !== report.cyclesTimeloop) diffs.push(`cycles: expt ${report.cyclesExpt}, Timeloop ${report.cyclesTimeloop}`);
  return {
    ...rowBase(task),
    status: 'compared',
    counts_equal: report.countsEqual,
    differences: report.differences,
    energy_ratio: report.energyRatio,
    energy_ratio_no_leakage: report.dynamicEnergyRatio,
    cycles_ratio: report.cyclesRatio,
    expt_energy_pJ: report.energyExpt,
    timeloop_energy_pJ: report.energyTimeloop,
    expt_leakage_pJ: report.leakageExpt,
    expt_cycles: report.cyclesExpt,
    timeloop_cycles: report.cyclesTimeloop,
    note: diffs.slice(0, 3).join('; ') + (diffs.length > 3 ? `; and ${diffs.length - 3} more` : ''),
  };
}

export function fidelityTotals(rows: readonly FidelityTaskRow[]): FidelityTotals {
  const compared = rows.filter((r) => r.status === 'compared');
  const range = (f: (r: FidelityTaskRow) => number | null): [number, number] | null => {
    const v = compared.map(f).filter((x): x is number => x !== null);
    return v.length === 0 ? null : [Math.min(...v), Math.max(...v)];
  };
  const jointLayers = rows.filter((r) => r.id.includes('#')).length;
  return {
    tasks: rows.length,
    ...(jointLayers > 0 ? { joint_layers: jointLayers } : {}),
    compared: compared.length,
    identical: compared.filter((r) => r.counts_equal).length,
    infeasible: rows.filter((r) => r.status === 'infeasible').length,
    errors: rows.filter((r) => r.status === 'error').length,
    energy_ratio: range((r) => r.energy_ratio),
    energy_ratio_no_leakage: range((r) => r.energy_ratio_no_leakage),
    cycles_ratio: range((r) => r.cycles_ratio),
  };
}

/** A ratio expt / Timeloop with 6 decimals (`inf` when Timeloop's side is 0), `absent` when there is none. */
function ratio6(r: number | null | undefined, absent: string): string {
  if (r === null || r === undefined) return absent;
  return Number.isFinite(r) ? r.toFixed(6) : 'inf';
}

const ratioText = (r: number | null) => ratio6(r, '-');

/** A plain-text table: columns padded to their widest cell, the last one not. */
function textTable(header: readonly string[], body: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
}
const rangeText = (r: [number, number] | null) => (r === null ? '-' : `${ratioText(r[0])} – ${ratioText(r[1])}`);

export function totalLine(t: FidelityTotals): string {
  return (
    `${t.joint_layers ? `${t.tasks - t.joint_layers} map tasks and ${t.joint_layers} jointly fused layers` : `${t.tasks} map tasks`}: ${t.compared} compared, ${t.identical} of ${t.compared} with identical counts and cycles, ${t.infeasible} infeasible, ${t.errors} not compared (errors); ` +
    `energy expt/Timeloop ${rangeText(t.energy_ratio)} (without expt's leakage ${rangeText(t.energy_ratio_no_leakage)}), cycles ${rangeText(t.cycles_ratio)}`
  );
}

export function fidelityCsv(rows: readonly FidelityTaskRow[], totals: FidelityTotals): string {
  const body: Record<string, CsvValue>[] = rows.map((r) => ({ ...r, aliases: undefined }) as unknown as Record<string, CsvValue>);
  body.push({
    id: 'TOTAL',
    status: `${totals.compared} compared; ${totals.infeasible} infeasible; ${totals.errors} errors`,
    counts_equal: `${totals.identical}/${totals.compared}`,
    differences: rows.reduce((s, r) => s + (r.differences ?? 0), 0),
    energy_ratio: rangeText(totals.energy_ratio),
    energy_ratio_no_leakage: rangeText(totals.energy_ratio_no_leakage),
    cycles_ratio: rangeText(totals.cycles_ratio),
  });
  return csvText(FIDELITY_COLUMNS, body);
}

function mdCell(v: unknown): string {
  return String(v ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function fidelityMarkdown(rows: readonly FidelityTaskRow[], totals: FidelityTotals, engine: string): string {
  const lines = [
    '# Fidelity: expt against Timeloop',
    '',
    `Each map task's best mapping (embedded engine, from the cache) evaluated again by ${engine}: every count`,
    '(per level and dataspace: partition size, utilized capacity/instances/clusters, reads, fills, updates,',
    'temporal reductions, address generations; the MAC; cycles) equal?, and the energy and cycles ratios',
    "expt / Timeloop. Timeloop v3.0.3 has no leakage model: `energy (no leak)` leaves expt's leakage out.",
    '',
    `**Total:** ${totalLine(totals)}.`,
    '',
    '| task | model | layer | arch | fusion | counts equal | energy expt/TL | energy (no leak) | cycles expt/TL | note |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const arch = r.hw !== r.arch ? `${r.arch} (${r.hw})` : r.arch;
    const eq = r.status === 'compared' ? (r.counts_equal ? 'yes' : `NO (${r.differences})`) : r.status;
    lines.push(
      `| ${mdCell(r.id)} | ${mdCell(r.model)} | ${mdCell(r.layer)} | ${mdCell(arch)} | ${mdCell(r.fusion)} | ${eq} | ${ratioText(r.energy_ratio)} | ${ratioText(r.energy_ratio_no_leakage)} | ${ratioText(r.cycles_ratio)} | ${mdCell(r.note)} |`,
    );
  }
  lines.push(`| **total** | | | | | ${totals.identical}/${totals.compared} | ${rangeText(totals.energy_ratio)} | ${rangeText(totals.energy_ratio_no_leakage)} | ${rangeText(totals.cycles_ratio)} | ${totals.infeasible} infeasible, ${totals.errors} errors |`);
  return lines.join('\n') + '\n';
}

/** The text printed by `expt check` in pipeline mode. */
export function fidelityText(rows: readonly FidelityTaskRow[], totals: FidelityTotals): string {
  const header = ['task', 'fusion', 'counts equal', 'energy expt/TL', 'no leakage', 'cycles expt/TL', 'note'];
  const body = rows.map((r) => [
    r.id.replace(/^map:/, ''),
    r.fusion,
    r.status === 'compared' ? (r.counts_equal ? 'yes' : `NO (${r.differences})`) : r.status,
    ratioText(r.energy_ratio),
    ratioText(r.energy_ratio_no_leakage),
    ratioText(r.cycles_ratio),
    r.note,
  ]);
  return [...textTable(header, body), '', `Total: ${totalLine(totals)}`].join('\n') + '\n';
}

// `expt check` on files: one task's per-level table and total, and one line per task.

/** The per-level table of one task, indented by two spaces. */
export function renderFidelityRows(report: FidelityReport): string {
  const body = report.rows.map((r) => [
    r.level,
    r.dataspace,
    r.countsEqual ? 'equal' : 'DIFFER',
    ratio6(r.energyRatio, ''),
    r.energyWithinPrint ? 'yes' : 'no',
    ratio6(r.cyclesRatio, ''),
    r.differences.join('; '),
  ]);
  return textTable(['level', 'dataspace', 'counts', 'energy expt/TL', 'energy = print', 'cycles expt/TL', 'differences'], body)
    .map((l) => `  ${l}`)
    .join('\n');
}

/** The total line of one task. */
export function renderFidelityTotal(r: FidelityReport): string {
  const leak = r.leakageExpt !== r.leakageTimeloop ? ` (leakage: expt ${r.leakageExpt.toFixed(2)} pJ, Timeloop ${r.leakageTimeloop.toFixed(2)} pJ; without it expt/TL ${ratio6(r.dynamicEnergyRatio, '')})` : '';
  return `total: counts ${r.countsEqual ? 'equal' : `DIFFER (${r.differences})`}; energy ${r.energyExpt.toFixed(2)} / ${r.energyTimeloop.toFixed(2)} pJ${leak}; cycles ${r.cyclesExpt} / ${r.cyclesTimeloop}`;
}

/** One line per task: counts equal?, energy ratio (with and without leakage), cycles ratio. */
export function renderFidelitySummary(tasks: readonly { name: string; report: FidelityReport | null; error?: string }[]): string {
  const body = tasks.map((t) =>
    t.report
      ? [t.name, t.report.countsEqual ? 'yes' : `NO (${t.report.differences})`, ratio6(t.report.energyRatio, ''), ratio6(t.report.dynamicEnergyRatio, ''), ratio6(t.report.cyclesRatio, ''), '']
      : [t.name, '-', '-', '-', '-', t.error ?? ''],
  );
  return textTable(['task', 'counts equal', 'energy expt/TL', 'no leakage', 'cycles expt/TL', 'note'], body).join('\n');
}
