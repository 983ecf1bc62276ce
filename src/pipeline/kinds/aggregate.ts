/**
 * `aggregate`: one experiment's cells → report rows (one per cell, in the
 * experiment's order) and totals. Input `cells` lists the cells with the id
 * of the task that computes each; the dependencies are those tasks.
 * Cheap: runs on the main thread.
 */
import { sourceVersion } from '../engine-version.ts';
import type { Cell } from '../expand.ts';
import type { DepResult, RunRequest, TaskKind, TaskMeta } from '../task.ts';
import type { MapResult } from './map.ts';

export const AGGREGATE_FORMAT = 'expt-aggregate-v1';

export interface LayerRow {
  experiment: string;
  model: string;
  layer: string;
  arch: string;
  fusion: string;
  variant: string;
  macs: number;
  energy_pJ: number;
  pJ_per_mac: number;
  cycles: number;
  utilization: number;
  edp_J_cycle: number;
  /** Storage level (and compute, networks) → energy incl. leakage, pJ. */
  energy_breakdown_pJ: Record<string, number>;
  /** The mapping, one line: `Level T[factors perm] S[factors perm]` per level. */
  mapping: string;
  task: string;
  key: string;
}

export interface AggregateResult {
  format: typeof AGGREGATE_FORMAT;
  experiment: string;
  rows: LayerRow[];
  totals: { cells: number; tasks: number; macs: number; energy_pJ: number; cycles: number; edp_sum_J_cycle: number };
}

/** One line per level: temporal and spatial factors with their permutation. */
export function mappingLine(result: MapResult): string {
  const parts: string[] = [];
  let current = '';
  for (const d of result.timeloop) {
    const target = String(d['target']);
    if (d['type'] === 'bypass') continue;
    const text = `${d['type'] === 'spatial' ? 'S' : 'T'}[${String(d['factors'])} ${String(d['permutation'])}]`;
    if (target !== current) {
      parts.push(`${target} ${text}`);
      current = target;
    } else parts[parts.length - 1] += ` ${text}`;
  }
  return parts.join('; ');
}

export function breakdown(result: MapResult): Record<string, number> {
  const e = result.evaluation;
  const out: Record<string, number> = {};
  for (const l of e.storage) out[l.name] = l.energy_pJ + l.leakage_energy_pJ;
  out[e.arithmetic.name] = e.arithmetic.energy_pJ;
  for (const n of e.networks) if (n.energy_pJ !== 0) out[n.name] = n.energy_pJ;
  return out;
}

/** The report row of one cell from its map result. */
export function layerRow(meta: TaskMeta, dep: Pick<DepResult, 'id' | 'key'>, result: MapResult): LayerRow {
  const s = result.evaluation.summary;
  const str = (v: unknown, dflt = '') => (v === undefined ? dflt : String(v));
  return {
    experiment: str(meta.experiment),
    model: str(meta.model),
    layer: str(meta.layer),
    arch: str(meta.arch),
    fusion: str(meta.fusion, 'none'),
    variant: str(meta.variant),
    macs: typeof meta.macs === 'number' ? meta.macs : s.computes,
    energy_pJ: s.energy_pJ,
    pJ_per_mac: s.pJ_per_compute,
    cycles: s.cycles,
    utilization: s.utilization,
    edp_J_cycle: s.edp_J_cycle,
    energy_breakdown_pJ: breakdown(result),
    mapping: mappingLine(result),
    task: dep.id,
    key: dep.key,
  };
}

export function aggregate(request: RunRequest): AggregateResult {
  const cells = request.inputs['cells'] as Cell[];
  const byId = new Map<string, DepResult>();
  for (const d of request.deps) {
    byId.set(d.id, d);
    for (const a of d.aliases) byId.set(a, d);
  }
  const rows = cells.map((cell) => {
    const dep = byId.get(cell.task);
    if (!dep) throw new Error(`aggregate: no result for cell task ${cell.task}`);
    return layerRow(cell.meta, dep, dep.result as MapResult);
  });
  const sum = (f: (r: LayerRow) => number) => rows.reduce((a, r) => a + f(r), 0);
  return {
    format: AGGREGATE_FORMAT,
    experiment: String(request.meta.experiment ?? ''),
    rows,
    totals: {
      cells: rows.length,
      tasks: request.deps.length,
      macs: sum((r) => r.macs),
      energy_pJ: sum((r) => r.energy_pJ),
      cycles: sum((r) => r.cycles),
      edp_sum_J_cycle: sum((r) => r.edp_J_cycle),
    },
  };
}

export const kind: TaskKind<AggregateResult> = {
  name: 'aggregate',
  worker: false,
  engine: () => ({ id: 'expt-aggregate', version: sourceVersion(['pipeline/kinds/aggregate.ts']) }),
  run: aggregate,
  show(_request, result) {
    const lines = [`Experiment ${result.experiment}: ${result.totals.cells} cells, ${result.totals.tasks} distinct tasks`, ''];
    for (const r of result.rows) {
      lines.push(`  ${[r.model, r.layer, r.arch, r.fusion, r.variant].filter((x) => x !== '').join(' / ')}: ${r.energy_pJ.toExponential(4)} pJ, ${r.cycles} cycles, EDP ${r.edp_J_cycle.toExponential(4)} J*cycle`);
    }
    return lines.join('\n') + '\n';
  },
};
