/**
 * The cross-architecture study (study-facts §1.5,
 * `run_experiments_across_archs.py`, the FactorFlow comparison): GEMMs
 * (MAESTRO-BLAS MB1–MB6, Harsh1–2, BERT-large's KQV / KTQ / VScores / FF1)
 * and convolutions (I–XVII) mapped on Eyeriss, Simba, TPU and Gemmini with
 * a mapper preset, reported in the study's table format
 * (`fetch_experiments_across_archs_results.py`):
 * `| Comp | Arch | Mapper | EDP (J*cycle) | Cycles | Energy (uJ) | MSE Runtime (s) |`.
 *
 * Mapper presets stand in for the study's three mapper.yaml blocks
 * (its output folders `_TLD`, `_TLL`, `_TLE`):
 * - `TLD` ("DEFAULTS": 32 threads, timeout 1000, victory 500): local search,
 *   effort 2,000 factor splits;
 * - `TLL` ("NICE ONES": 12 threads, timeout 15000, victory 7500): local
 *   search, effort 20,000;
 * - `TLE` ("EXHAUSTIVE": linear_pruned, no timeout): the exhaustive search
 *   of the constrained map space (optimal under the model), optionally
 *   with a time budget.
 * Timeloop's random search counts rejected/unimproved mappings per thread;
 * the efforts here count scored factor splits (each with its best loop
 * orders), so TLD/TLL are "a short / a long search", not an equal budget.
 *
 * Constraints are the architecture's own (the preset's
 * `mapspace_constraints`; for Gemmini that includes the study's
 * constraints.yaml, which the script loads only for gemmini). The presets
 * write them on the GEMM letters D, E, L. A convolution in the study's
 * letters (`workload(id, {naming: 'study'})`: E = C input channels, D = K
 * output channels, L = P output width; R, S, Q, N keep their names) meets
 * them as the study's did, but the study's architectures also constrained
 * R, S, Q and N (a GEMM has none of those). {@link convTargets} adds those
 * back per architecture, from study-facts §4.4–4.6:
 * - eyeriss: the columns (PE_column) take only Q and D (N, R, S = 1); the
 *   rows (PE) take S, E, D (N, Q, R = 1); ifmap_spad has no loops;
 *   weights_spad loops over E and R only; psum_spad over D only;
 * - simba: PE (16) takes D and E only, distributed_buffers (4) D only,
 *   reg_mac (4) E only: R, S, Q, N = 1 on all three;
 * - tpu (HEAD): rows and columns R, S, Q = 1, Registers R, S, Q = 1 (N is
 *   left free, as the study's; N = 1 in I–XVII); tpu-results has no such
 *   factors; gemmini: none (its constraints.yaml names only D, E, L).
 * Permutations are the study's full ones (the presets keep their D/E/L part).
 */
import type { ArchitecturePreset } from '../inputs/presets.ts';
import { loadArchitecture } from '../inputs/presets.ts';
import { constraintsFor, type MapspaceConstraints } from '../mapper/constraints.ts';
import { factorTokens, formatFactors, targetList, type ConstraintTarget } from '../fusion/targets.ts';
import type { Problem } from '../workload/problem.ts';
import { workload as benchmarkWorkload, CROSS_ARCH_CONV_IDS, GEMM_WORKLOADS } from '../workload/benchmarks.ts';
import { blockLayers } from '../workload/layers.ts';
import { UserError } from '../util/errors.ts';
import { mapOnPreset, type MapperChoice } from './hwdse.ts';

export type MapperPresetName = 'TLD' | 'TLL' | 'TLE';

export interface MapperPreset extends MapperChoice {
  readonly name: MapperPresetName;
  readonly description: string;
  /**
   * Time budget per convolution cell. The local searches need none: the
   * closed-form model scores a convolution's mapping as fast as a GEMM's, so
   * they end on their effort and give the same result on every machine. The
   * exhaustive search of a convolution's map space (seven dimensions, every
   * loop order) does not end in useful time, so TLE keeps one; a cell it cuts
   * is marked (`time_bound`, `†`).
   */
  readonly convBudgetMs?: number;
}

export const MAPPER_PRESETS: Readonly<Record<MapperPresetName, MapperPreset>> = {
  TLD: { name: 'TLD', description: 'short local search (the study\'s "DEFAULTS" block: timeout 1000, victory 500)', effort: 2_000 },
  TLL: { name: 'TLL', description: 'long local search (the study\'s "NICE ONES" block: timeout 15000, victory 7500)', effort: 20_000 },
  TLE: { name: 'TLE', description: 'exhaustive search of the constrained map space (the study\'s "EXHAUSTIVE" block)', exhaustive: true, convBudgetMs: 600_000 },
};

/** The architectures of the study's runs: HEAD's list, and the presets for its earlier lists. */
export const CROSS_ARCH_ARCHITECTURES = ['eyeriss', 'simba-right', 'tpu'] as const;
export const CROSS_ARCH_ALL_ARCHITECTURES = ['gemmini', 'eyeriss', 'simba', 'simba-right', 'tpu', 'tpu-results'] as const;

/** `MB_layers` + `harsh_layers` of the script. */
export const CROSS_ARCH_GEMMS: readonly string[] = GEMM_WORKLOADS.map((w) => w.id);
/** `bert_layers` of the script (BERT-large as the study ran it, S 4096). */
export const CROSS_ARCH_BERT_LAYERS: readonly string[] = ['KQV', 'KTQ', 'VScores', 'FF1'];
/** `convolutions_benchmarks` of the script: I–XVII. */
export const CROSS_ARCH_CONVS: readonly string[] = CROSS_ARCH_CONV_IDS;

export interface CrossArchWorkload {
  readonly id: string;
  readonly kind: 'gemm' | 'conv';
  readonly problem: Problem;
  readonly macs: number;
}

/**
 * A workload by id: a benchmark of src/workload/benchmarks.ts (convolutions
 * in the study's letters) or a BERT-large layer (one head of KTQ / VScores).
 */
export function crossArchWorkload(id: string): CrossArchWorkload {
  if (CROSS_ARCH_BERT_LAYERS.includes(id) || ['Out', 'FF2'].includes(id)) {
    const l = blockLayers('bert-large', { layers: [id] })[0];
    return { id, kind: 'gemm', problem: l.problem, macs: l.macs };
  }
  const w = benchmarkWorkload(id, { naming: 'study' });
  return { id, kind: w.kind, problem: w.problem, macs: w.macs };
}

/** A conv-only addition to one preset entry: more factor tokens, and the study's full permutation. */
interface ConvExtra {
  readonly target: string;
  readonly type: 'temporal' | 'spatial';
  readonly factors: string;
  readonly permutation?: string;
}

const EXTRAS: Readonly<Record<string, readonly ConvExtra[]>> = {
  eyeriss: [
    { target: 'shared_glb', type: 'spatial', factors: 'N=1 R=1 S=1', permutation: 'NELRSQD' },
    { target: 'inter_PE_spatial', type: 'spatial', factors: 'N=1 Q=1 R=1', permutation: 'NLQRSED' },
    // The storage-less level between the two fanouts (a preset artefact) has no loops.
    { target: 'inter_PE_spatial', type: 'temporal', factors: 'N=1 Q=1 R=1 S=1' },
    { target: 'ifmap_spad', type: 'temporal', factors: 'N=1 Q=1 R=1 S=1', permutation: 'NDELQRS' },
    { target: 'weights_spad', type: 'temporal', factors: 'N=1 Q=1 S=1', permutation: 'NDLQSER' },
    { target: 'psum_spad', type: 'temporal', factors: 'N=1 Q=1 R=1 S=1', permutation: 'NELQRSD' },
  ],
  simba: [
    { target: 'GlobalBuffer', type: 'spatial', factors: 'N=1 Q=1 R=1 S=1', permutation: 'DERSLQN' },
    { target: 'PEInputBuffer', type: 'spatial', factors: 'N=1 Q=1 R=1 S=1', permutation: 'DEQRSLN' },
    { target: 'PEAccuBuffer', type: 'spatial', factors: 'N=1 Q=1 R=1 S=1', permutation: 'EDQRSLN' },
  ],
  tpu: [
    { target: 'WeightsFIFO', type: 'spatial', factors: 'Q=1 R=1 S=1' },
    { target: 'Accumulator', type: 'spatial', factors: 'Q=1 R=1 S=1' },
    { target: 'Registers', type: 'temporal', factors: 'Q=1 R=1 S=1' },
  ],
};
const EXTRAS_BY_PRESET: Readonly<Record<string, readonly ConvExtra[]>> = {
  eyeriss: EXTRAS['eyeriss'],
  simba: EXTRAS['simba'],
  'simba-right': EXTRAS['simba'],
  tpu: EXTRAS['tpu'],
  'tpu-results': [],
  gemmini: [],
};

/**
 * The preset's target list for a problem: unchanged for a GEMM; for a
 * convolution with the study's letters, the study's constraints on R, S, Q
 * and N added (see the module comment). Dimensions the problem lacks are
 * dropped from the additions.
 */
export function convTargets(presetId: string, targets: readonly ConstraintTarget[], problem: Problem): ConstraintTarget[] {
  const out = targets.map((e) => ({ ...e }));
  const extra = EXTRAS_BY_PRESET[presetId];
  if (extra === undefined) throw new UserError(`no convolution constraints are known for architecture '${presetId}' (known: ${Object.keys(EXTRAS_BY_PRESET).join(', ')})`);
  if (!problem.dimensions.includes('R')) return out;
  const dims = new Set(problem.dimensions);
  for (const x of extra) {
    const tokens = factorTokens(x.factors).filter((t) => dims.has(t.dim));
    const perm = x.permutation ? [...x.permutation].filter((d) => dims.has(d)).join('') : undefined;
    const e = out.find((y) => y.target === x.target && y.type === x.type);
    if (e) {
      Object.assign(e, { factors: formatFactors([...factorTokens(e.factors), ...tokens]) });
      if (perm !== undefined) Object.assign(e, { permutation: perm });
    } else {
      out.push({ target: x.target, type: x.type, factors: formatFactors(tokens), ...(perm !== undefined ? { permutation: perm } : {}) });
    }
  }
  return out;
}

/** The constraints of a cross-architecture cell: the preset's, plus {@link convTargets} for a convolution. */
export function crossArchConstraints(preset: ArchitecturePreset, problem: Problem): MapspaceConstraints {
  const targets = convTargets(preset.id, targetList(preset.constraints, preset.file), problem);
  return constraintsFor(problem, preset.arch, [{ value: targets, file: preset.file, path: 'mapspace_constraints' }], preset.file);
}

export interface CrossArchCell {
  readonly comp: string;
  readonly arch: string;
  readonly mapper: MapperPresetName;
  readonly ok: boolean;
  readonly reason?: string;
  readonly macs: number;
  readonly edp_J_cycle: number;
  readonly cycles: number;
  readonly energy_uJ: number;
  readonly utilization: number;
  /** Wall time of the search and evaluation (the study's "MSE Runtime"). */
  readonly runtime_s: number;
  /** Mappings the search evaluated; absent when the mapper does not say (timeloop-mapper). */
  readonly evaluations?: number;
  /** Whether the search stopped on its time budget (convolutions) rather than its effort. */
  readonly timeBound: boolean;
  readonly warnings: readonly string[];
}

export interface CrossArchOptions {
  readonly architectures?: readonly string[];
  readonly workloads?: readonly string[];
  readonly mapper?: MapperPresetName | MapperPreset;
  readonly seed?: number;
  readonly onCell?: (cell: CrossArchCell) => void;
}

/** Maps one workload (an id, or a workload built by the caller) on one architecture preset with a mapper preset. */
export function crossArchCell(archId: string, workload: string | CrossArchWorkload, mapper: MapperPresetName | MapperPreset = 'TLL', seed?: number): CrossArchCell {
  const preset = loadArchitecture(archId);
  const w = typeof workload === 'string' ? crossArchWorkload(workload) : workload;
  const m = typeof mapper === 'string' ? MAPPER_PRESETS[mapper] : mapper;
  const t0 = performance.now();
  let constraints: MapspaceConstraints;
  try {
    constraints = crossArchConstraints(preset, w.problem);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { comp: w.id, arch: archId, mapper: m.name, ok: false, reason: e.message, macs: w.macs, edp_J_cycle: Infinity, cycles: Infinity, energy_uJ: Infinity, utilization: 0, runtime_s: (performance.now() - t0) / 1000, timeBound: false, warnings: [] };
  }
  const budgetMs = w.kind === 'conv' ? (m.convBudgetMs ?? m.budgetMs) : m.budgetMs;
  const r = mapOnPreset(preset, w.problem, { ...m, seed: seed ?? m.seed, budgetMs }, constraints);
  const s = r.evaluation?.summary;
  return {
    comp: w.id,
    arch: archId,
    mapper: m.name,
    ok: r.ok,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    macs: w.macs,
    edp_J_cycle: s?.edp_J_cycle ?? Infinity,
    cycles: s?.cycles ?? Infinity,
    energy_uJ: s ? s.energy_pJ / 1e6 : Infinity,
    utilization: s?.utilization ?? 0,
    runtime_s: (performance.now() - t0) / 1000,
    timeBound: r.stoppedByBudget,
    warnings: constraints.warnings,
  };
}

/** Every architecture × workload, in the study's loop order (architectures outer). */
export function runCrossArch(options: CrossArchOptions = {}): CrossArchCell[] {
  const archs = options.architectures ?? CROSS_ARCH_ARCHITECTURES;
  const workloads = options.workloads ?? [...CROSS_ARCH_GEMMS, ...CROSS_ARCH_CONVS];
  const out: CrossArchCell[] = [];
  for (const a of archs) {
    for (const w of workloads) {
      const cell = crossArchCell(a, w, options.mapper ?? 'TLL', options.seed);
      options.onCell?.(cell);
      out.push(cell);
    }
  }
  return out;
}

