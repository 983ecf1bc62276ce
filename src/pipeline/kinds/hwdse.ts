/**
 * `hwdse`: one HW-DSE sweep's results → per-config rows, aggregated two
 * ways (src/sweeps/aggregate.ts, study-facts §1.4):
 *   - the study's: every metric × the layer's weight (heads for KTQ,
 *     VScores, softmax) summed over the layers, EDP as the "EDP-sum"
 *     Σ weight·EDP_layer, utilization the head-weighted mean of the
 *     per-layer percentages, each layer read as Timeloop prints it;
 *   - the correct one: energy and cycles summed (× weight), EDP = Σ energy
 *     × Σ cycles, utilization cycle-weighted.
 * A layer without a mapping makes its config ∞ (the study's `inf`), stored
 * as null (JSON has no ∞). Plus one `rows` entry per cell for layers.csv.
 * Cheap: runs on the main thread.
 */
import { correctAggregate, studyAggregate, type LayerMetrics } from '../../sweeps/aggregate.ts';
import type { GemminiHwConfig, PimHwConfig } from '../../sweeps/hwdse-configs.ts';
import { hwdseSummaryTable } from '../../sweeps/table.ts';
import { codeVersion } from '../../build/engine-version.ts';
import { dependencies, type DepResult, type RunRequest, type TaskKind } from '../../build/task.ts';
import { bool, num, str, strings, type Shape } from '../../build/result-shapes.ts';
import { layerRow, layerRowShape, totalsShape, type LayerRow, type StudyCell } from './aggregate.ts';
import type { MapSettings } from '../../mapper/settings.ts';
import { MAP_RESULT_FORMAT, type MapOutcome } from './map.ts';

export const HWDSE_FORMAT = 'expt-hwdse-v1';

/** What a sweep's `hwdse` task reads besides its cells. */
export interface HwdseSweepInput {
  architecture: 'gemmini' | 'pim';
  /** Where the configs came from (the study's list, a file, inline). */
  source: string;
  configs: (GemminiHwConfig | PimHwConfig)[];
  /** The study's key order, for its summary table. */
  keys: string[];
  mode: 'fixed' | 'study';
  version: 'head' | '2024-05-08';
  beyondCacti: 'extrapolate' | 'clamp';
  model: string;
  layers: { id: string; kind: 'matmul' | 'normop'; weight: number; macs: number }[];
  ignoreHeads: boolean;
  mapper: MapSettings;
}

/** One cell of a sweep: config × layer. */
export interface HwdseCell extends StudyCell {
  config: number;
  layer: string;
  /** The architecture variant's id (same id = same architecture). */
  variant: string;
  /** Approximations made in estimating the variant's energies. */
  notes: string[];
}

/** One layer of one config, one instance (null: no mapping, the study's ∞). */
export interface HwdseLayerRow {
  layer: string;
  weight: number;
  ok: boolean;
  reason: string;
  variant: string;
  task: string;
  macs: number;
  energy_pJ: number | null;
  cycles: number | null;
  /** Fraction, 0–1. */
  utilization: number | null;
  edp_J_cycle: number | null;
}

/** A layer row as the library's aggregates take it: ∞ for a layer without a mapping. */
export function layerMetrics(l: HwdseLayerRow): LayerMetrics {
  return {
    layer: l.layer,
    weight: l.weight,
    ok: l.ok,
    energy_pJ: l.energy_pJ ?? Infinity,
    cycles: l.cycles ?? Infinity,
    utilization: l.utilization ?? 0,
    edp_J_cycle: l.edp_J_cycle ?? Infinity,
  };
}

/** One config: its layers and both aggregates (null = ∞). */
export interface HwdseConfigRow {
  /** Position in the sweep's config list, 0-based. */
  index: number;
  config: GemminiHwConfig | PimHwConfig;
  layers: HwdseLayerRow[];
  /** The study's units: energy pJ, cycles, utilization %, edp J·cycle (the EDP-sum). */
  study: { energy: number | null; cycles: number | null; utilization: number; edp: number | null };
  correct: { energy_pJ: number | null; cycles: number | null; utilization: number; edp_J_cycle: number | null };
  /** Approximations made for this config's variants (energies extrapolated beyond the CACTI runs). */
  notes: string[];
}

export interface HwdseAggregateResult {
  format: typeof HWDSE_FORMAT;
  experiment: string;
  sweep: HwdseSweepInput;
  configs: HwdseConfigRow[];
  /** One per cell (config × layer), for layers.csv. */
  rows: LayerRow[];
  totals: { cells: number; tasks: number; infeasible: number; macs: number; energy_pJ: number; cycles: number; edp_sum_J_cycle: number };
}

const finite = (x: number) => (Number.isFinite(x) ? x : null);

export function hwdseAggregate(request: RunRequest): HwdseAggregateResult {
  const sweep = request.inputs['sweep'] as HwdseSweepInput;
  const cells = request.inputs['cells'] as HwdseCell[];
  const deps = dependencies(request.deps, 'hwdse');
  const outcome = (cell: HwdseCell): { dep?: DepResult; result: MapOutcome } => {
    if (cell.task === undefined) return { result: { format: MAP_RESULT_FORMAT, infeasible: cell.infeasible ?? 'no task' } };
    const dep = deps.get(cell.task);
    return { dep, result: dep.result as MapOutcome };
  };
  const weightOf = new Map(sweep.layers.map((l) => [l.id, l.weight]));
  const macsOf = new Map(sweep.layers.map((l) => [l.id, l.macs]));
  const rows: LayerRow[] = [];
  const configs: HwdseConfigRow[] = sweep.configs.map((config, index) => {
    const mine = cells.filter((c) => c.config === index);
    const layers: HwdseLayerRow[] = mine.map((cell) => {
      const { dep, result } = outcome(cell);
      const row = layerRow(cell.meta, { id: dep?.id ?? '', key: dep?.key ?? '' }, result);
      rows.push(row);
      return {
        layer: cell.layer,
        weight: weightOf.get(cell.layer)!,
        ok: row.status === 'ok',
        reason: row.reason,
        variant: cell.variant,
        task: dep?.id ?? '',
        macs: macsOf.get(cell.layer)!,
        energy_pJ: row.energy_pJ,
        cycles: row.cycles,
        utilization: row.utilization,
        edp_J_cycle: row.edp_J_cycle,
      };
    });
    const metrics = layers.map(layerMetrics);
    const s = studyAggregate(metrics);
    const c = correctAggregate(metrics);
    return {
      index,
      config,
      layers,
      study: { energy: finite(s.energy), cycles: finite(s.cycles), utilization: s.utilization, edp: finite(s.edp) },
      correct: { energy_pJ: finite(c.energy_pJ), cycles: finite(c.cycles), utilization: c.utilization, edp_J_cycle: finite(c.edp_J_cycle) },
      notes: [...new Set(mine.flatMap((m) => m.notes))],
    };
  });
  const ok = rows.filter((r) => r.status === 'ok');
  const sum = (f: (r: LayerRow) => number) => ok.reduce((a, r) => a + f(r), 0);
  return {
    format: HWDSE_FORMAT,
    experiment: String(request.meta.experiment ?? ''),
    sweep,
    configs,
    rows,
    totals: {
      cells: rows.length,
      tasks: new Set(cells.flatMap((c) => (c.task !== undefined ? [deps.get(c.task).id] : []))).size,
      infeasible: rows.length - ok.length,
      macs: rows.reduce((a, r) => a + r.macs, 0),
      energy_pJ: sum((r) => r.energy_pJ!),
      cycles: sum((r) => r.cycles!),
      edp_sum_J_cycle: sum((r) => r.edp_J_cycle!),
    },
  };
}

/** A config row's aggregates with ∞ back in place of null (what the library's tables and comparison take). */
export function withInfinity(row: HwdseConfigRow): {
  study: { energy: number; cycles: number; utilization: number; edp: number };
  correct: { energy_pJ: number; cycles: number; utilization: number; edp_J_cycle: number };
} {
  const inf = (x: number | null) => x ?? Infinity;
  return {
    study: { energy: inf(row.study.energy), cycles: inf(row.study.cycles), utilization: row.study.utilization, edp: inf(row.study.edp) },
    correct: { energy_pJ: inf(row.correct.energy_pJ), cycles: inf(row.correct.cycles), utilization: row.correct.utilization, edp_J_cycle: inf(row.correct.edp_J_cycle) },
  };
}

/** The study's PrettyTable summary (`hwdse_run.py -t`) of a sweep: differing keys, then energy, cycles, utilization, edp; sorted by EDP-sum. */
export function hwdsePrettyTable(result: Pick<HwdseAggregateResult, 'configs' | 'sweep'>): string {
  return hwdseSummaryTable(
    result.configs.map((r) => ({ config: r.config, metrics: withInfinity(r).study })),
    result.sweep.keys as (keyof (GemminiHwConfig | PimHwConfig) & string)[],
  );
}

const hwdseLayer: Shape = {
  object: { layer: str, weight: num, ok: bool, reason: str, variant: str, task: str, macs: num, energy_pJ: num, cycles: num, utilization: num, edp_J_cycle: num },
};

const hwdse: Shape = {
  object: {
    format: { literal: HWDSE_FORMAT },
    experiment: str,
    sweep: { object: { architecture: str, source: str, configs: { array: { record: 'any' } }, keys: strings, model: str, layers: { array: { object: { id: str, weight: num, macs: num } } } } },
    configs: {
      array: {
        object: {
          index: num,
          config: { record: 'any' },
          layers: { array: hwdseLayer },
          study: { object: { energy: num, cycles: num, utilization: num, edp: num } },
          correct: { object: { energy_pJ: num, cycles: num, utilization: num, edp_J_cycle: num } },
          notes: strings,
        },
      },
    },
    rows: { array: layerRowShape },
    totals: totalsShape,
  },
};

export const kind: TaskKind<HwdseAggregateResult> = {
  name: 'hwdse',
  worker: false,
  engine: () => ({ id: 'expt-hwdse', version: codeVersion(import.meta.url) }),
  run: hwdseAggregate,
  show(_request, result) {
    const s = result.sweep;
    return [
      `HW-DSE ${result.experiment}: ${s.architecture}, ${result.configs.length} configs of ${s.source}, ${s.mode} constraints at ${s.version}; ${s.model} ${s.layers.map((l) => `${l.id} ×${l.weight}`).join(', ')}`,
      `${result.totals.cells} cells, ${result.totals.tasks} distinct map tasks, ${result.totals.infeasible} without a mapping`,
      "The study's aggregation (sums × weights, EDP-sum, head-weighted utilization), sorted by EDP-sum:",
      hwdsePrettyTable(result),
      '',
    ].join('\n');
  },
  resultShape: hwdse,
};
