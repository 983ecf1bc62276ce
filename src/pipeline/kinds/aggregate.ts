/**
 * `aggregate`: one experiment's results → report rows. Input `cells` lists
 * the map cells with the id of the task that computes each, `pairs` the
 * fused-pair cells; the dependencies are those tasks. The result holds
 *   - `rows`: one per cell, in the experiment's order (an infeasible cell is
 *     a row with its reason and no numbers);
 *   - `pairs`: one per fused-pair cell (fused vs unfused energy, savings);
 *   - `models`: per (model, architecture, fusion level) the per-block and
 *     whole-model totals: each layer's cost × its instances per block (heads
 *     × batch for the per-head layers) × blocks, the pair layers taken from
 *     their cells at that fusion level, the others unfused;
 *   - `totals` over the rows.
 * Cheap: runs on the main thread.
 */
import { layerDefinition } from '../../workload/layers.ts';
import { codeVersion } from '../../build/engine-version.ts';
import { dependencies, type DepResult, type RunRequest, type TaskKind, type TaskMeta } from '../../build/task.ts';
// `str` here formats a meta field: the shapes' string leaf is `text`.
import { num, str as text, strings, type Shape } from '../../build/result-shapes.ts';
import type { FusedPairResult } from './fused-pair.ts';
import type { JointBlockResult, JointPoint } from './joint-block.ts';
import { isInfeasible, type MapOutcome, type MapResult } from './map.ts';

export const AGGREGATE_FORMAT = 'expt-aggregate-v3';

/** A cell of an experiment's matrix and the task that computes it. */
export interface Cell {
  /** Id of the cell's task spec (after merging, the graph may know it as an alias). */
  task: string;
  meta: TaskMeta;
}

/** One cell of a sweep or of the cross-architecture study, as its aggregate task reads it. */
export interface StudyCell {
  /** The map task computing it; absent when its constraints cannot be stated (then `infeasible` says why). */
  task?: string;
  infeasible?: string;
  meta: TaskMeta;
}

export type CellStatus = 'ok' | 'infeasible';
export type ModelStatus = 'ok' | 'partial' | 'infeasible';

export interface LayerRow {
  experiment: string;
  model: string;
  layer: string;
  arch: string;
  fusion: string;
  variant: string;
  /** The architecture the task runs on: `arch`, or its NO variant for a normalization op. */
  hw: string;
  /** `fixed` / `study` for a fused cell, '' otherwise. */
  fusion_mode: string;
  fusion_flags: string;
  /** Instances per block (heads × batch for per-head layers); null outside a model matrix. */
  per_block: number | null;
  blocks: number | null;
  macs: number;
  status: CellStatus;
  /** Why a cell is infeasible ('' when ok). */
  reason: string;
  energy_pJ: number | null;
  pJ_per_mac: number | null;
  cycles: number | null;
  utilization: number | null;
  edp_J_cycle: number | null;
  /** Storage level (and compute, networks) → energy incl. leakage, pJ. */
  energy_breakdown_pJ: Record<string, number>;
  /** The mapping, one line: `Level T[factors perm] S[factors perm]` per level. */
  mapping: string;
  task: string;
  key: string;
}

export interface PairRow {
  experiment: string;
  model: string;
  arch: string;
  pair: string;
  matmul: string;
  normop: string;
  fusion: string;
  fusion_mode: string;
  fusion_flags: string;
  per_block: number;
  blocks: number;
  status: CellStatus;
  reason: string;
  /** One instance of the pair (one head for KTQ → softmax), pJ. */
  unfused_energy_pJ: number | null;
  fused_energy_pJ: number | null;
  savings_pJ: number | null;
  savings_pct: number | null;
  unfused_matmul_energy_pJ: number | null;
  unfused_normop_energy_pJ: number | null;
  fused_matmul_energy_pJ: number | null;
  fused_normop_energy_pJ: number | null;
  /** Bounds of the fused pair's cycles (only the energy is an estimate, study-facts §3.1). */
  fused_cycles_sequential: number | null;
  fused_cycles_overlapped: number | null;
  unfused_cycles_sequential: number | null;
  /** savings × instances per block, and × blocks. */
  block_savings_pJ: number | null;
  model_savings_pJ: number | null;
  task: string;
}

export interface ModelRow {
  experiment: string;
  model: string;
  arch: string;
  fusion: string;
  fusion_mode: string;
  fusion_flags: string;
  /** `partial`: some pairs could not be fused at this level and are counted unfused (see `reason`). */
  status: ModelStatus;
  reason: string;
  /** Layers counted fused at this level. */
  fused_layers: string[];
  /** Layers of the block, in order. */
  layers: string[];
  blocks: number;
  /** One block: Σ per-layer value × instances per block. */
  block_macs: number;
  block_normops: number;
  block_energy_pJ: number | null;
  block_cycles: number | null;
  /** The whole model: the block × blocks. */
  model_macs: number;
  model_normops: number;
  model_energy_pJ: number | null;
  model_cycles: number | null;
  model_edp_J_cycle: number | null;
  /** Whole-model energy over the matmul MACs. */
  pJ_per_mac: number | null;
  /** Layer → whole-model energy, pJ (layers in block order). */
  energy_by_layer_pJ: Record<string, number>;
}

/** One block of a joint-fusion cell, one way: every layer alone, a study rewrite level, or the joint search. */
export interface JointRow {
  experiment: string;
  model: string;
  arch: string;
  /** `alone`, `rewrite` (the study's method at `level`) or `joint`. */
  method: string;
  level: string;
  status: string;
  reason: string;
  blocks: number;
  /** One block. */
  block_energy_pJ: number | null;
  block_cycles: number | null;
  block_edp_J_cycle: number | null;
  block_dram_words: number | null;
  /** The whole model (the block × blocks); EDP of the whole model. */
  model_energy_pJ: number | null;
  model_edp_J_cycle: number | null;
  /** What is fused where (`KTQ-softmax@Accumulator`), `;`-separated. */
  fused: string;
  task: string;
}

/** A point of a joint block's energy–cycles Pareto front (one block). */
export interface JointFrontRow {
  experiment: string;
  model: string;
  arch: string;
  block_energy_pJ: number;
  block_cycles: number;
  block_edp_J_cycle: number;
  fused: string;
}

export interface AggregateResult {
  format: typeof AGGREGATE_FORMAT;
  experiment: string;
  rows: LayerRow[];
  pairs: PairRow[];
  /** Joint fusion: per (model, architecture) the block alone, under each rewrite level, and joint. */
  joint: JointRow[];
  joint_front: JointFrontRow[];
  models: ModelRow[];
  totals: { cells: number; tasks: number; infeasible: number; macs: number; energy_pJ: number; cycles: number; edp_sum_J_cycle: number };
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

const str = (v: unknown, dflt = '') => (v === undefined ? dflt : String(v));
const numOrNull = (v: unknown) => (typeof v === 'number' ? v : null);

/** The report row of one cell from its map result. */
export function layerRow(meta: TaskMeta, dep: Pick<DepResult, 'id' | 'key'>, result: MapOutcome): LayerRow {
  const common = {
    experiment: str(meta.experiment),
    model: str(meta.model),
    layer: str(meta.layer),
    arch: str(meta.arch),
    fusion: str(meta.fusion, 'none'),
    variant: str(meta.variant),
    hw: str(meta['hw'], str(meta.arch)),
    fusion_mode: str(meta['fusionMode']),
    fusion_flags: str(meta['fusionFlags']),
    per_block: numOrNull(meta['perBlock']),
    blocks: numOrNull(meta['blocks']),
    task: dep.id,
    key: dep.key,
  };
  if (isInfeasible(result)) {
    return {
      ...common,
      macs: typeof meta.macs === 'number' ? meta.macs : 0,
      status: 'infeasible',
      reason: result.infeasible,
      energy_pJ: null,
      pJ_per_mac: null,
      cycles: null,
      utilization: null,
      edp_J_cycle: null,
      energy_breakdown_pJ: {},
      mapping: '',
    };
  }
  const s = result.evaluation.summary;
  return {
    ...common,
    macs: typeof meta.macs === 'number' ? meta.macs : s.computes,
    status: 'ok',
    // A budget-cut search is a valid result whose value depends on the machine: say so where it is read.
    reason: result.search.stopped_by_budget === true ? STOPPED_BY_BUDGET : '',
    energy_pJ: s.energy_pJ,
    pJ_per_mac: s.pJ_per_compute,
    cycles: s.cycles,
    utilization: s.utilization,
    edp_J_cycle: s.edp_J_cycle,
    energy_breakdown_pJ: breakdown(result),
    mapping: mappingLine(result),
  };
}

/** The reason column of a mapped cell whose search its time budget cut short. */
export const STOPPED_BY_BUDGET = 'search stopped by its time budget (the result depends on the machine)';

/** The report row of one fused-pair cell. */
export function pairRow(meta: TaskMeta, dep: Pick<DepResult, 'id'>, r: FusedPairResult): PairRow {
  const scale = (n: number | null, by: number) => (n === null ? null : n * by);
  return {
    experiment: str(meta.experiment),
    model: str(meta.model),
    arch: str(meta.arch),
    pair: `${r.matmul}→${r.normop}`,
    matmul: r.matmul,
    normop: r.normop,
    fusion: r.level,
    fusion_mode: r.mode,
    fusion_flags: r.flags,
    per_block: r.perBlock,
    blocks: r.blocks,
    status: r.status,
    reason: r.reason,
    unfused_energy_pJ: r.unfused?.energy_pJ ?? null,
    fused_energy_pJ: r.fused?.energy_pJ ?? null,
    savings_pJ: r.savings_pJ,
    savings_pct: r.savings_pct,
    unfused_matmul_energy_pJ: r.unfused?.matmul_energy_pJ ?? null,
    unfused_normop_energy_pJ: r.unfused?.normop_energy_pJ ?? null,
    fused_matmul_energy_pJ: r.fused?.matmul_energy_pJ ?? null,
    fused_normop_energy_pJ: r.fused?.normop_energy_pJ ?? null,
    fused_cycles_sequential: r.fused?.cycles.sequential ?? null,
    fused_cycles_overlapped: r.fused?.cycles.overlapped ?? null,
    unfused_cycles_sequential: r.unfused?.cycles.sequential ?? null,
    block_savings_pJ: scale(r.savings_pJ, r.perBlock),
    model_savings_pJ: scale(r.savings_pJ, r.perBlock * r.blocks),
    task: dep.id,
  };
}

/**
 * Per-block and whole-model totals of the matrix rows (those with
 * multiplicities), per (model, architecture) and fusion level. The block is
 * the unfused cells' layers; at a fusion level each fused pair (from
 * `pairs`; a fused cell outside any pair counts alone) whose fused cells
 * all have a mapping is taken fused, and a pair that cannot be fused there
 * stays unfused, named in `reason` (status `partial`). `infeasible`: no pair
 * could be fused at the level, or an unfused layer has no mapping.
 */
export function modelRows(rows: readonly LayerRow[], pairs: readonly Pick<PairRow, 'model' | 'arch' | 'fusion' | 'matmul' | 'normop'>[] = []): ModelRow[] {
  const groups = new Map<string, LayerRow[]>();
  for (const r of rows) {
    if (r.per_block === null || r.blocks === null || r.variant !== '') continue;
    const k = `${r.model}\0${r.arch}`;
    const list = groups.get(k) ?? [];
    list.push(r);
    groups.set(k, list);
  }
  const isGemm = (r: LayerRow) => {
    try {
      return layerDefinition(r.layer).kind === 'gemm';
    } catch {
      return true;
    }
  };
  const out: ModelRow[] = [];
  for (const list of groups.values()) {
    const unfused = list.filter((r) => r.fusion === 'none');
    if (unfused.length === 0) continue;
    const { model, arch, experiment } = unfused[0];
    const blocks = unfused[0].blocks!;
    const levels = ['none', ...new Set(list.map((r) => r.fusion).filter((f) => f !== 'none'))];
    for (const level of levels) {
      const atLevel = list.filter((r) => r.fusion === level && level !== 'none');
      // Units fused together: the pairs, then any fused cell outside a pair.
      const units: string[][] = pairs.filter((p) => p.model === model && p.arch === arch && p.fusion === level).map((p) => [p.matmul, p.normop]);
      for (const r of atLevel) if (!units.some((u) => u.includes(r.layer))) units.push([r.layer]);
      const fusedLayers = new Set<string>();
      const fellBack: string[] = [];
      let fusedUnits = 0;
      for (const unit of units) {
        const cells = unit.map((layer) => atLevel.find((r) => r.layer === layer));
        const bad = cells.filter((r) => r === undefined || r.status !== 'ok');
        if (bad.length === 0) {
          fusedUnits++;
          for (const layer of unit) fusedLayers.add(layer);
        } else {
          fellBack.push(`${unit.join('→')} unfused (${bad.map((r) => (r ? `${r.layer} at ${level}: ${r.reason}` : 'no fused cell')).join('; ')})`);
        }
      }
      const picked = unfused.map((u) => (fusedLayers.has(u.layer) ? atLevel.find((r) => r.layer === u.layer)! : u));
      const fused = picked.find((r) => r.fusion !== 'none') ?? atLevel[0];
      const badUnfused = picked.filter((r) => r.status !== 'ok');
      const numbers = badUnfused.length === 0 && (level === 'none' || fusedUnits > 0);
      const status: ModelStatus = !numbers ? 'infeasible' : fellBack.length > 0 ? 'partial' : 'ok';
      const reason = [...badUnfused.map((r) => `${r.layer}: ${r.reason}`), ...(level === 'none' ? [] : fellBack)].join('; ');
      const sum = (f: (r: LayerRow) => number) => picked.reduce((a, r) => a + f(r) * r.per_block!, 0);
      const blockMacs = sum((r) => (isGemm(r) ? r.macs : 0));
      const blockOps = sum((r) => (isGemm(r) ? 0 : r.macs));
      const blockEnergy = numbers ? sum((r) => r.energy_pJ!) : null;
      const blockCycles = numbers ? sum((r) => r.cycles!) : null;
      const modelEnergy = blockEnergy === null ? null : blockEnergy * blocks;
      const modelCycles = blockCycles === null ? null : blockCycles * blocks;
      const byLayer: Record<string, number> = {};
      if (numbers) for (const r of picked) byLayer[r.layer] = r.energy_pJ! * r.per_block! * blocks;
      out.push({
        experiment,
        model,
        arch,
        fusion: level,
        fusion_mode: fused?.fusion_mode ?? '',
        fusion_flags: fused?.fusion_flags ?? '',
        status,
        reason,
        fused_layers: picked.filter((r) => r.fusion !== 'none').map((r) => r.layer),
        layers: picked.map((r) => r.layer),
        blocks,
        block_macs: blockMacs,
        block_normops: blockOps,
        block_energy_pJ: blockEnergy,
        block_cycles: blockCycles,
        model_macs: blockMacs * blocks,
        model_normops: blockOps * blocks,
        model_energy_pJ: modelEnergy,
        model_cycles: modelCycles,
        model_edp_J_cycle: modelEnergy === null || modelCycles === null ? null : modelEnergy * 1e-12 * modelCycles,
        pJ_per_mac: modelEnergy === null || blockMacs === 0 ? null : modelEnergy / (blockMacs * blocks),
        energy_by_layer_pJ: byLayer,
      });
    }
  }
  return out;
}

export function aggregate(request: RunRequest): AggregateResult {
  const cells = request.inputs['cells'] as Cell[];
  const pairCells = (request.inputs['pairs'] as Cell[] | undefined) ?? [];
  const deps = dependencies(request.deps, 'aggregate');
  const dep = (cell: Cell) => deps.get(cell.task);
  const rows = cells.map((cell) => {
    const d = dep(cell);
    return layerRow(cell.meta, d, d.result as MapOutcome);
  });
  const pairs = pairCells.map((cell) => {
    const d = dep(cell);
    return pairRow(cell.meta, d, d.result as FusedPairResult);
  });
  const jointCells = (request.inputs['joints'] as Cell[] | undefined) ?? [];
  const joint: JointRow[] = [];
  const jointFront: JointFrontRow[] = [];
  for (const cell of jointCells) {
    const d = dep(cell);
    const r = d.result as JointBlockResult;
    const base = { experiment: str(cell.meta.experiment), model: r.model, arch: r.arch, blocks: r.blocks, task: d.id };
    const row = (method: string, level: string, p: JointPoint | null): JointRow => ({
      ...base,
      method,
      level,
      status: p ? 'ok' : r.status,
      reason: p ? '' : r.reason,
      block_energy_pJ: p?.energy_pJ ?? null,
      block_cycles: p?.cycles ?? null,
      block_edp_J_cycle: p?.edp_J_cycle ?? null,
      block_dram_words: p?.dram_words ?? null,
      model_energy_pJ: p ? p.energy_pJ * r.blocks : null,
      model_edp_J_cycle: p ? p.energy_pJ * r.blocks * p.cycles * r.blocks * 1e-12 : null,
      fused: p?.fused.join('; ') ?? '',
    });
    joint.push(row('alone', 'none', r.alone));
    for (const rw of r.rewrites) {
      const rewrite = row('rewrite', rw.level, rw.point);
      // The pairs this level cannot fuse (no mapping under the rewrite) are counted alone.
      if (rw.unfused_pairs.length > 0) rewrite.reason = `counted alone (no mapping fused at ${rw.level}): ${rw.unfused_pairs.join(', ')}`;
      joint.push(rewrite);
    }
    joint.push(row('joint', 'joint', r.joint));
    for (const f of r.front) jointFront.push({ experiment: base.experiment, model: r.model, arch: r.arch, block_energy_pJ: f.energy_pJ, block_cycles: f.cycles, block_edp_J_cycle: f.edp_J_cycle, fused: f.fused.join('; ') });
  }
  const ok = rows.filter((r) => r.status === 'ok');
  const sum = (f: (r: LayerRow) => number) => ok.reduce((a, r) => a + f(r), 0);
  return {
    format: AGGREGATE_FORMAT,
    experiment: String(request.meta.experiment ?? ''),
    rows,
    pairs,
    joint,
    joint_front: jointFront,
    models: modelRows(rows, pairs),
    totals: {
      cells: rows.length,
      tasks: new Set(cells.map((c) => dep(c).id)).size,
      infeasible: rows.length - ok.length,
      macs: rows.reduce((a, r) => a + r.macs, 0),
      energy_pJ: sum((r) => r.energy_pJ!),
      cycles: sum((r) => r.cycles!),
      edp_sum_J_cycle: sum((r) => r.edp_J_cycle!),
    },
  };
}

export const totalsShape: Shape = { object: { cells: num, tasks: num, infeasible: num, macs: num, energy_pJ: num, cycles: num, edp_sum_J_cycle: num } };

export const layerRowShape: Shape = {
  object: {
    experiment: text, model: text, layer: text, arch: text, fusion: text, variant: text, hw: text, fusion_mode: text, fusion_flags: text,
    per_block: num, blocks: num, macs: num, status: text, reason: text,
    energy_pJ: num, pJ_per_mac: num, cycles: num, utilization: num, edp_J_cycle: num,
    energy_breakdown_pJ: { record: num }, mapping: text, task: text, key: text,
  },
};

const pairRowShape: Shape = {
  object: {
    experiment: text, model: text, arch: text, pair: text, matmul: text, normop: text, fusion: text, fusion_mode: text, fusion_flags: text,
    per_block: num, blocks: num, status: text, reason: text,
    unfused_energy_pJ: num, fused_energy_pJ: num, savings_pJ: num, savings_pct: num,
    unfused_matmul_energy_pJ: num, unfused_normop_energy_pJ: num, fused_matmul_energy_pJ: num, fused_normop_energy_pJ: num,
    fused_cycles_sequential: num, fused_cycles_overlapped: num, unfused_cycles_sequential: num,
    block_savings_pJ: num, model_savings_pJ: num, task: text,
  },
};

const modelRowShape: Shape = {
  object: {
    experiment: text, model: text, arch: text, fusion: text, fusion_mode: text, fusion_flags: text, status: text, reason: text,
    fused_layers: strings, layers: strings, blocks: num, block_macs: num, block_normops: num,
    block_energy_pJ: num, block_cycles: num, model_macs: num, model_normops: num,
    model_energy_pJ: num, model_cycles: num, model_edp_J_cycle: num, pJ_per_mac: num,
    energy_by_layer_pJ: { record: num },
  },
};

const jointRowShape: Shape = {
  object: {
    experiment: text, model: text, arch: text, method: text, level: text, status: text, reason: text, blocks: num,
    block_energy_pJ: num, block_cycles: num, block_edp_J_cycle: num, block_dram_words: num, model_energy_pJ: num, model_edp_J_cycle: num, fused: text, task: text,
  },
};

const jointFrontShape: Shape = { object: { experiment: text, model: text, arch: text, block_energy_pJ: num, block_cycles: num, block_edp_J_cycle: num, fused: text } };

const aggregateShape: Shape = {
  object: {
    format: { literal: AGGREGATE_FORMAT },
    experiment: text,
    rows: { array: layerRowShape },
    pairs: { array: pairRowShape },
    joint: { array: jointRowShape },
    joint_front: { array: jointFrontShape },
    models: { array: modelRowShape },
    totals: totalsShape,
  },
};

export const kind: TaskKind<AggregateResult> = {
  name: 'aggregate',
  worker: false,
  engine: () => ({ id: 'expt-aggregate', version: codeVersion(import.meta.url) }),
  run: aggregate,
  show(_request, result) {
    const lines = [`Experiment ${result.experiment}: ${result.totals.cells} cells, ${result.totals.tasks} distinct tasks, ${result.totals.infeasible} infeasible`, ''];
    for (const r of result.rows) {
      const label = [r.model, r.layer, r.arch, r.fusion, r.variant].filter((x) => x !== '').join(' / ');
      lines.push(
        r.status === 'ok'
          ? `  ${label}: ${r.energy_pJ!.toExponential(4)} pJ, ${r.cycles} cycles, EDP ${r.edp_J_cycle!.toExponential(4)} J*cycle`
          : `  ${label}: infeasible (${r.reason})`,
      );
    }
    if (result.joint.length > 0) {
      lines.push('', 'Joint fusion (one block):');
      for (const j of result.joint) {
        const how = j.method === 'rewrite' ? `rewrite @ ${j.level}` : j.method;
        lines.push(
          `  ${j.model} / ${j.arch} / ${how}: ${j.status === 'ok' ? `${j.block_energy_pJ!.toExponential(4)} pJ, ${j.block_cycles} cycles, EDP ${j.block_edp_J_cycle!.toExponential(4)} J*cycle${j.fused ? ` (${j.fused})` : ''}` : `infeasible (${j.reason})`}`,
        );
      }
    }
    if (result.pairs.length > 0) {
      lines.push('', 'Fused pairs (one instance):');
      for (const p of result.pairs) {
        lines.push(
          `  ${p.model} / ${p.pair} / ${p.arch} / ${p.fusion}: ${p.status === 'ok' ? `${p.fused_energy_pJ!.toExponential(4)} pJ fused vs ${p.unfused_energy_pJ!.toExponential(4)} pJ unfused (${p.savings_pct!.toFixed(2)} %)` : `infeasible (${p.reason})`}`,
        );
      }
    }
    return lines.join('\n') + '\n';
  },
  resultShape: aggregateShape,
};
