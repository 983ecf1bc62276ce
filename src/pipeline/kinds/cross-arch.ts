/**
 * `cross-arch`: the cross-architecture study's results (study-facts §1.5)
 * → one row per (workload, architecture) in the study's loop order
 * (architectures outer), with the columns of its results table: Comp,
 * Arch, Mapper, EDP, Cycles, Energy (uJ), MSE Runtime (s). The runtime is
 * the search's wall time recorded in the map result when it ran (fixed once
 * cached). A cell without a mapping has null numbers and its reason (the
 * study's N/A). Plus one `rows` entry per cell for layers.csv. Cheap: runs
 * on the main thread.
 */
import type { CrossArchCell } from '../../sweeps/cross-arch.ts';
import { crossArchTable } from '../../sweeps/table.ts';
import { codeVersion } from '../../build/engine-version.ts';
import { dependencies, type DepResult, type RunRequest, type TaskKind } from '../../build/task.ts';
import { bool, num, str, type Shape } from '../../build/result-shapes.ts';
import { layerRow, layerRowShape, totalsShape, type LayerRow, type StudyCell } from './aggregate.ts';
import type { MapSettings } from '../../mapper/settings.ts';
import { MAP_RESULT_FORMAT, isInfeasible, type MapOutcome } from './map.ts';

export const CROSS_ARCH_FORMAT = 'expt-cross-arch-v1';

/** What a `cross-arch` task reads besides its cells. */
export interface CrossArchStudyInput {
  mapper: 'TLD' | 'TLL' | 'TLE';
  description: string;
  /** The search of a GEMM cell and of a convolution cell (time-bound). */
  gemm: MapSettings;
  conv: MapSettings;
}

/** One cell of the cross-architecture study: workload × architecture. */
export interface CrossArchStudyCell extends StudyCell {
  comp: string;
  arch: string;
  kind: 'gemm' | 'conv';
  macs: number;
}

export interface CrossArchRow {
  comp: string;
  arch: string;
  mapper: CrossArchStudyInput['mapper'];
  kind: 'gemm' | 'conv';
  ok: boolean;
  reason: string;
  macs: number;
  edp_J_cycle: number | null;
  cycles: number | null;
  energy_uJ: number | null;
  utilization: number | null;
  /** Wall time of the search (the study's "MSE Runtime"), null when no search ran. */
  runtime_s: number | null;
  /** Mappings the search evaluated (the reports' effort column: unlike the wall time, the same on every run); null without an embedded search. */
  evaluations: number | null;
  /** The search stopped on its time budget (convolutions), not its effort. */
  time_bound: boolean;
  task: string;
}

export interface CrossArchAggregateResult {
  format: typeof CROSS_ARCH_FORMAT;
  experiment: string;
  study: CrossArchStudyInput;
  cells: CrossArchRow[];
  rows: LayerRow[];
  totals: { cells: number; tasks: number; infeasible: number; macs: number; energy_pJ: number; cycles: number; edp_sum_J_cycle: number };
}

export function crossArchAggregate(request: RunRequest): CrossArchAggregateResult {
  const study = request.inputs['study'] as CrossArchStudyInput;
  const cells = request.inputs['cells'] as CrossArchStudyCell[];
  const deps = dependencies(request.deps, 'cross-arch');
  const rows: LayerRow[] = [];
  const out: CrossArchRow[] = cells.map((cell) => {
    const dep = cell.task !== undefined ? deps.get(cell.task) : undefined;
    const result: MapOutcome = dep ? (dep.result as MapOutcome) : { format: MAP_RESULT_FORMAT, infeasible: cell.infeasible ?? 'no task' };
    const row = layerRow(cell.meta, { id: dep?.id ?? '', key: dep?.key ?? '' }, result);
    rows.push(row);
    const wallMs = result.search?.wallMs;
    const embedded = result.search !== undefined && result.search.algorithm !== 'timeloop-mapper';
    const settings = cell.kind === 'conv' ? study.conv : study.gemm;
    return {
      comp: cell.comp,
      arch: cell.arch,
      mapper: study.mapper,
      kind: cell.kind,
      ok: row.status === 'ok',
      reason: row.reason,
      macs: cell.macs,
      edp_J_cycle: row.edp_J_cycle,
      cycles: row.cycles,
      energy_uJ: row.energy_pJ === null ? null : row.energy_pJ / 1e6,
      utilization: row.utilization,
      runtime_s: wallMs === undefined ? null : wallMs / 1000,
      evaluations: embedded ? result.search!.evaluated : null,
      time_bound: !isInfeasible(result) && result.search.stopped_by_budget === true,
      task: dep?.id ?? '',
    };
  });
  const ok = rows.filter((r) => r.status === 'ok');
  const sum = (f: (r: LayerRow) => number) => ok.reduce((a, r) => a + f(r), 0);
  return {
    format: CROSS_ARCH_FORMAT,
    experiment: String(request.meta.experiment ?? ''),
    study,
    cells: out,
    rows,
    totals: {
      cells: rows.length,
      tasks: new Set(out.map((c) => c.task).filter((t) => t !== '')).size,
      infeasible: rows.length - ok.length,
      macs: rows.reduce((a, r) => a + r.macs, 0),
      energy_pJ: sum((r) => r.energy_pJ!),
      cycles: sum((r) => r.cycles!),
      edp_sum_J_cycle: sum((r) => r.edp_J_cycle!),
    },
  };
}

/** The study's results table (`fetch_experiments_across_archs_results.py`) of the rows. */
export function crossArchMarkdown(rows: readonly CrossArchRow[], effort: 'runtime' | 'evaluations' = 'runtime'): string {
  const cells: CrossArchCell[] = rows.map((r) => ({
    comp: r.comp,
    arch: r.arch,
    mapper: r.mapper,
    ok: r.ok,
    ...(r.reason !== '' ? { reason: r.reason } : {}),
    macs: r.macs,
    edp_J_cycle: r.edp_J_cycle ?? Infinity,
    cycles: r.cycles ?? Infinity,
    energy_uJ: r.energy_uJ ?? Infinity,
    utilization: r.utilization ?? 0,
    runtime_s: r.runtime_s ?? 0,
    ...(r.evaluations !== null ? { evaluations: r.evaluations } : {}),
    timeBound: r.time_bound,
    warnings: [],
  }));
  return crossArchTable(cells, effort);
}

const crossArch: Shape = {
  object: {
    format: { literal: CROSS_ARCH_FORMAT },
    experiment: str,
    study: { object: { mapper: str, description: str } },
    cells: {
      array: {
        object: {
          comp: str, arch: str, mapper: str, kind: str, ok: bool, reason: str, macs: num,
          edp_J_cycle: num, cycles: num, energy_uJ: num, utilization: num, runtime_s: num, evaluations: num, time_bound: bool, task: str,
        },
      },
    },
    rows: { array: layerRowShape },
    totals: totalsShape,
  },
};

export const kind: TaskKind<CrossArchAggregateResult> = {
  name: 'cross-arch',
  worker: false,
  engine: () => ({ id: 'expt-cross-arch', version: codeVersion(import.meta.url) }),
  run: crossArchAggregate,
  show(_request, result) {
    return [`Cross-architecture study ${result.experiment}: mapper ${result.study.mapper} (${result.study.description}); ${result.totals.cells} cells, ${result.totals.infeasible} without a mapping`, '', crossArchMarkdown(result.cells), ''].join('\n');
  },
  resultShape: crossArch,
};
