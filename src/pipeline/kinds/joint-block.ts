/**
 * `joint-block`: one (model, architecture) block fused jointly
 * (src/fusion/joint.ts), next to the same block with every layer alone and
 * under each of the study's rewrite levels the experiment asks for.
 *
 * The alone and rewrite blocks come from the experiment's own map tasks
 * (its unfused cells and fused cells: the dependencies), so they are the
 * numbers of models.csv and fusion.csv; their mappings seed the joint
 * search, so its block EDP is at most theirs. The layers' problems,
 * architectures, ERTs and constraints are inputs (the unfused cells'), so
 * the key covers everything the search reads.
 */
import type { Architecture } from '../../arch/architecture.ts';
import type { EnergyReferenceTable } from '../../arch/energy-table.ts';
import type { MapspaceConstraints } from '../../mapper/constraints.ts';
import type { Mapping } from '../../mapping/mapping.ts';
import { loopNestText } from '../../mapping/loop-nest-text.ts';
import { evaluateMapping, prepareModel } from '../../model/evaluate.ts';
import type { Evaluation } from '../../model/result.ts';
import type { Problem } from '../../workload/problem.ts';
import { blockLinks, type Cascade, type CascadeLayer } from '../../fusion/cascade.ts';
import type { CascadePoint } from '../../fusion/joint.ts';
import { compareBlock, type RewriteMappings } from '../../fusion/compare.ts';
import { codeVersion } from '../../build/engine-version.ts';
import { dependencies, type RunRequest, type TaskKind } from '../../build/task.ts';
import { num, str, strings, type Shape } from '../../build/result-shapes.ts';
import { isInfeasible, type MapOutcome } from './map.ts';

export const JOINT_BLOCK_FORMAT = 'expt-joint-block-v1';

/** What a `joint-block` task reads. */
export interface JointBlockInput {
  model: string;
  arch: string;
  blocks: number;
  layers: {
    id: string;
    /** The architecture it runs on (the NO variant for a normalization op). */
    hw: string;
    /** Instances per block. */
    count: number;
    /** The unfused cell's map task. */
    task: string;
    /** Dimensions no fused loop may split (a normalization op's column). */
    whole: number[];
    problem: Problem;
    architecture: Architecture;
    ERT: EnergyReferenceTable;
    constraints: MapspaceConstraints;
  }[];
  /** The study's rewrite levels the experiment asks for, with the map tasks of each fused pair's two sides. */
  rewrites: { level: string; pairs: { matmul: string; normop: string; matmulTask: string; normopTask: string }[] }[];
  search: { effort: number; seed: number };
}

/** One layer's part of a block mapping. */
export interface JointLayerPart {
  layer: string;
  hw: string;
  count: number;
  /** Fusion level of its group (null: alone). */
  level: string | null;
  /** The layers of its group, in order. */
  group: string[];
  energy_pJ: number;
  cycles: number;
  /** Words read from, written to or updated in the outermost level (DRAM), one instance. */
  dram_words: number;
  mapping: Mapping;
}

/** A whole block: one instance of it (each layer × its count). */
export interface JointPoint {
  energy_pJ: number;
  cycles: number;
  edp_J_cycle: number;
  dram_words: number;
  /** `KTQ-softmax-VScores@Scratchpad`, one per fused group. */
  fused: string[];
  layers: JointLayerPart[];
}

export interface JointBlockResult {
  format: typeof JOINT_BLOCK_FORMAT;
  model: string;
  arch: string;
  blocks: number;
  status: 'ok' | 'infeasible';
  reason: string;
  alone: JointPoint | null;
  rewrites: { level: string; point: JointPoint; fused_pairs: string[]; unfused_pairs: string[] }[];
  joint: JointPoint | null;
  /** The joint search's energy–cycles Pareto front over the block's fused mappings, by energy. */
  front: { energy_pJ: number; cycles: number; edp_J_cycle: number; fused: string[] }[];
  search: { candidates: number; kept: number; searches: number; wallMs: number };
}

function dramWords(e: Evaluation): number {
  let n = 0;
  for (const d of Object.values(e.storage[0].dataspaces)) n += (d.reads + d.fills + d.updates) * e.storage[0].instances;
  return n;
}

function cascadeOf(input: JointBlockInput): Cascade {
  const layers: CascadeLayer[] = input.layers.map((l) => ({ id: l.id, problem: l.problem, arch: l.architecture, ert: l.ERT, constraints: l.constraints, count: l.count, whole: l.whole }));
  return { name: `${input.model} block on ${input.arch}`, layers, links: blockLinks(layers) };
}

/** A block point with each layer evaluated alone by the exact model (its DRAM traffic too). */
function pointOf(cascade: Cascade, input: JointBlockInput, point: CascadePoint): JointPoint {
  const layers: JointLayerPart[] = [];
  const fused: string[] = [];
  for (const g of point.groups) {
    const group = input.layers.slice(g.first, g.last + 1).map((l) => l.id);
    if (g.level !== null && g.last > g.first) fused.push(`${group.join('-')}@${g.level}`);
    g.mappings.forEach((mapping, k) => {
      const i = g.first + k;
      const l = cascade.layers[i];
      const r = evaluateMapping(prepareModel(l.problem, l.arch, l.ert), mapping);
      if (!r.ok) throw new Error(`joint-block: ${l.id}'s mapping does not evaluate: ${r.error.reason}`);
      layers.push({ layer: l.id, hw: input.layers[i].hw, count: l.count ?? 1, level: g.level, group, energy_pJ: r.value.summary.energy_pJ, cycles: r.value.summary.cycles, dram_words: dramWords(r.value), mapping });
    });
  }
  const energy = layers.reduce((a, p) => a + p.count * p.energy_pJ, 0);
  const cycles = layers.reduce((a, p) => a + p.count * p.cycles, 0);
  return { energy_pJ: energy, cycles, edp_J_cycle: energy * cycles * 1e-12, dram_words: layers.reduce((a, p) => a + p.count * p.dram_words, 0), fused, layers };
}

export function jointBlock(request: Pick<RunRequest, 'inputs' | 'deps'>): JointBlockResult {
  const input = request.inputs['block'] as JointBlockInput;
  const deps = dependencies(request.deps, 'joint-block');
  const outcome = (id: string): MapOutcome => deps.get(id).result as MapOutcome;
  const empty = { format: JOINT_BLOCK_FORMAT, model: input.model, arch: input.arch, blocks: input.blocks } as const;
  const missing = input.layers.filter((l) => isInfeasible(outcome(l.task)));
  if (missing.length > 0) {
    const reason = missing.map((l) => `${l.id}: ${(outcome(l.task) as { infeasible: string }).infeasible}`).join('; ');
    return { ...empty, status: 'infeasible', reason: `a layer has no mapping alone (${reason})`, alone: null, rewrites: [], joint: null, front: [], search: { candidates: 0, kept: 0, searches: 0, wallMs: 0 } };
  }
  const cascade = cascadeOf(input);
  const mappingOf = (id: string): Mapping | null => {
    const o = outcome(id);
    return isInfeasible(o) ? null : o.mapping;
  };
  const rewrites: RewriteMappings[] = input.rewrites.map((rw) => {
    const pairs: RewriteMappings['pairs'][number][] = [];
    const unfused: { pair: string; reason: string }[] = [];
    for (const p of rw.pairs) {
      const name = `${p.matmul}→${p.normop}`;
      const producer = mappingOf(p.matmulTask);
      const consumer = mappingOf(p.normopTask);
      const first = input.layers.findIndex((l) => l.id === p.matmul);
      if (producer !== null && consumer !== null && first >= 0) pairs.push({ first, name, producer, consumer });
      else unfused.push({ pair: name, reason: [p.matmulTask, p.normopTask].map((id) => outcome(id)).filter(isInfeasible).map((o) => o.infeasible).join('; ') });
    }
    return { level: rw.level, pairs, unfused };
  });
  const t0 = performance.now();
  const compared = compareBlock(
    cascade,
    input.layers.map((l) => mappingOf(l.task)!),
    rewrites,
    { effort: input.search.effort, seed: input.search.seed },
  );
  const wallMs = performance.now() - t0;
  const { joint } = compared;
  const rewritePoints = compared.rewrites.map((rw) => ({
    level: rw.level,
    // A rewrite pair is two single-layer groups (each side mapped alone under the rewrite).
    point: { ...pointOf(cascade, input, rw.point), fused: rw.fused.map((p) => `${p.replace('→', '-')}@${rw.level} (rewrite)`) },
    fused_pairs: [...rw.fused],
    unfused_pairs: rw.unfused.map((u) => u.pair),
  }));
  return {
    ...empty,
    status: 'ok',
    reason: '',
    alone: pointOf(cascade, input, compared.alone),
    rewrites: rewritePoints,
    joint: pointOf(cascade, input, joint.best),
    front: joint.front.map((p) => ({
      energy_pJ: p.energy,
      cycles: p.cycles,
      edp_J_cycle: p.energy * p.cycles * 1e-12,
      fused: p.groups.filter((g) => g.level !== null && g.last > g.first).map((g) => `${input.layers.slice(g.first, g.last + 1).map((l) => l.id).join('-')}@${g.level}`),
    })),
    search: { candidates: joint.stats.candidates, kept: joint.stats.kept, searches: joint.stats.searches, wallMs },
  };
}

/** Text blocks side by side, each padded to its widest line. */
function sideBySide(blocks: readonly string[][], gap = 4): string[] {
  const widths = blocks.map((b) => Math.max(0, ...b.map((l) => l.length)));
  const rows = Math.max(0, ...blocks.map((b) => b.length));
  const out: string[] = [];
  for (let r = 0; r < rows; r++) out.push(blocks.map((b, i) => (b[r] ?? '').padEnd(widths[i])).join(' '.repeat(gap)).trimEnd());
  return out;
}

const e4 = (n: number) => n.toExponential(4);

function showJointBlock(request: Pick<RunRequest, 'inputs'>, r: JointBlockResult): string {
  const input = request.inputs['block'] as JointBlockInput;
  const lines = [`Joint fusion: ${r.model} block on ${r.arch} (${r.blocks} blocks; per block below)`];
  if (r.status !== 'ok' || !r.alone || !r.joint) return [...lines, `Status      : ${r.status} (${r.reason})`, ''].join('\n');
  const row = (name: string, p: JointPoint) => `  ${name.padEnd(24)} ${e4(p.energy_pJ).padStart(11)} pJ  ${String(p.cycles).padStart(12)} cycles  EDP ${e4(p.edp_J_cycle)} J·cycle  DRAM ${e4(p.dram_words)} words  ${p.fused.join(', ') || '-'}`;
  lines.push(row('alone', r.alone));
  for (const rw of r.rewrites) lines.push(row(`study rewrite @ ${rw.level}`, rw.point));
  lines.push(row('joint', r.joint));
  lines.push('', `Pareto front (energy, cycles): ${r.front.length} points; search: ${r.search.candidates} candidates, ${r.search.kept} kept, ${r.search.searches} searches, ${(r.search.wallMs / 1000).toFixed(2)} s`);
  const byGroup = new Map<string, JointLayerPart[]>();
  for (const p of r.joint.layers) {
    if (p.level === null) continue;
    const k = p.group.join('-');
    byGroup.set(k, [...(byGroup.get(k) ?? []), p]);
  }
  for (const [k, parts] of byGroup) {
    lines.push('', `Fused group ${k} at ${parts[0].level} (loop nests outer to inner, side by side):`, '');
    const blocks = parts.map((p) => {
      const l = input.layers.find((x) => x.id === p.layer)!;
      return [`${p.layer} on ${p.hw} (×${p.count}): ${e4(p.energy_pJ)} pJ, ${p.cycles} cycles`, '', ...loopNestText(l.problem, l.architecture, p.mapping).split('\n')];
    });
    lines.push(...sideBySide(blocks));
  }
  return lines.join('\n') + '\n';
}

const part: Shape = { object: { layer: str, hw: str, count: num, level: { nullable: str }, group: strings, energy_pJ: num, cycles: num, dram_words: num, mapping: { object: {} } } };
const point: Shape = { object: { energy_pJ: num, cycles: num, edp_J_cycle: num, dram_words: num, fused: strings, layers: { array: part } } };

const jointBlockShape: Shape = {
  object: {
    format: { literal: JOINT_BLOCK_FORMAT },
    model: str, arch: str, blocks: num, status: str, reason: str,
    alone: { nullable: point },
    rewrites: { array: { object: { level: str, point, fused_pairs: strings, unfused_pairs: strings } } },
    joint: { nullable: point },
    front: { array: { object: { energy_pJ: num, cycles: num, edp_J_cycle: num, fused: strings } } },
    search: { object: { candidates: num, kept: num, searches: num, wallMs: num } },
  },
};

export const kind: TaskKind<JointBlockResult> = {
  name: 'joint-block',
  worker: true,
  engine: () => ({ id: 'expt-joint-block', version: codeVersion(import.meta.url) }),
  run: jointBlock,
  show: showJointBlock,
  resultShape: jointBlockShape,
};
