/**
 * Reports from the cache only (never computes): `reports/layers.csv` (one
 * row per cell of every experiment whose aggregate is cached) and
 * `reports/index.md` (per experiment: status, totals, the per-layer table).
 * The output depends on the cached results alone — no timestamps, no
 * durations — so an interrupted-then-resumed run writes the same bytes as an
 * uninterrupted one.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Cache } from '../pipeline/cache.ts';
import type { LoadedConfig } from '../pipeline/config.ts';
import type { Expansion } from '../pipeline/expand.ts';
import type { TaskGraph } from '../pipeline/graph.ts';
import type { AggregateResult, LayerRow } from '../pipeline/kinds/aggregate.ts';
import { csvText, type CsvValue } from './csv.ts';

export const LAYER_COLUMNS = [
  'experiment',
  'model',
  'layer',
  'arch',
  'fusion',
  'variant',
  'macs',
  'energy_pJ',
  'pJ_per_mac',
  'cycles',
  'utilization',
  'edp_J_cycle',
  'energy_breakdown_pJ',
  'mapping',
  'task',
] as const;

export interface ExperimentReport {
  name: string;
  description?: string;
  /** Cells and distinct tasks of the experiment. */
  cells: number;
  tasks: number;
  /** Distinct map tasks with a cached result. */
  cachedTasks: number;
  complete: boolean;
  result?: AggregateResult;
}

export interface ReportOutcome {
  dir: string;
  files: string[];
  experiments: ExperimentReport[];
}

export function collectReports(expansion: Expansion, graph: TaskGraph, cache: Cache): ExperimentReport[] {
  return expansion.experiments.map((exp) => {
    const tasks = [...new Set(exp.cells.map((c) => graph.get(c.task)!.id))].map((id) => graph.get(id)!);
    const cachedTasks = tasks.filter((t) => cache.has(t.kind, t.key)).length;
    const agg = graph.get(exp.aggregate);
    const hit = agg ? cache.get(agg.kind, agg.key) : undefined;
    const result = hit?.ok ? (hit.result as AggregateResult) : undefined;
    return { name: exp.name, description: exp.description, cells: exp.cells.length, tasks: tasks.length, cachedTasks, complete: result !== undefined, result };
  });
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

function breakdownText(b: Record<string, number>): string {
  return Object.entries(b)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
}

export function layersCsv(reports: readonly ExperimentReport[]): string {
  const rows: Record<string, CsvValue>[] = [];
  for (const r of reports) {
    for (const row of r.result?.rows ?? []) {
      const { energy_breakdown_pJ, ...rest } = row;
      rows.push({ ...rest, energy_breakdown_pJ: breakdownText(energy_breakdown_pJ) });
    }
  }
  return csvText(LAYER_COLUMNS, rows);
}

const sci = (n: number) => (Number.isFinite(n) ? n.toExponential(4) : String(n));
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n));
const md = (s: string) => s.replace(/\|/g, '\\|');

export function indexMarkdown(reports: readonly ExperimentReport[], csvName: string): string {
  const out: string[] = ['# expt reports', '', `- [Per-layer table (CSV)](${csvName}): one row per cell of every complete experiment.`, ''];
  out.push('| experiment | status | cells | tasks | energy (pJ) | cycles | Σ EDP (J·cycle) |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of reports) {
    const t = r.result?.totals;
    const status = r.complete ? 'complete' : `incomplete: ${r.cachedTasks}/${r.tasks} tasks cached`;
    out.push(`| ${md(r.name)} | ${status} | ${r.cells} | ${r.tasks} | ${t ? sci(t.energy_pJ) : ''} | ${t ? int(t.cycles) : ''} | ${t ? sci(t.edp_sum_J_cycle) : ''} |`);
  }
  out.push('');
  for (const r of reports) {
    out.push(`## ${md(r.name)}`, '');
    if (r.description) out.push(r.description, '');
    if (!r.result) {
      out.push(`Not complete: ${r.cachedTasks} of ${r.tasks} tasks have results. Run \`expt run ${r.name}\` (and \`expt plan ${r.name}\` to see why tasks are missing).`, '');
      continue;
    }
    out.push('| model | layer | arch | fusion | variant | MACs | energy (pJ) | pJ/MAC | cycles | utilization | EDP (J·cycle) |');
    out.push('| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const row of r.result.rows as LayerRow[]) {
      out.push(
        `| ${[row.model, row.layer, row.arch, row.fusion, row.variant].map(md).join(' | ')} | ${int(row.macs)} | ${sci(row.energy_pJ)} | ${row.pJ_per_mac.toFixed(3)} | ${int(row.cycles)} | ${(row.utilization * 100).toFixed(2)} % | ${sci(row.edp_J_cycle)} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}

export function writeReports(loaded: LoadedConfig, expansion: Expansion, graph: TaskGraph, cache: Cache): ReportOutcome {
  const experiments = collectReports(expansion, graph, cache);
  const dir = loaded.reportsDir;
  mkdirSync(dir, { recursive: true });
  const csvFile = join(dir, 'layers.csv');
  const indexFile = join(dir, 'index.md');
  writeAtomic(csvFile, layersCsv(experiments));
  writeAtomic(indexFile, indexMarkdown(experiments, relative(dir, csvFile)));
  return { dir, files: [csvFile, indexFile], experiments };
}
