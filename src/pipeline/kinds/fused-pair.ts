/**
 * `fused-pair`: the cost of one fused pair cell (study-facts §3.1) — a
 * matmul and the normalization op that consumes its output, fused at one
 * storage level — from the cached results of four `map` tasks: the matmul
 * and the NO each mapped under the fusion-rewritten constraints, and the
 * same two unfused (for the comparison). The pair's cost is
 * {@link fusedPairCost}: energies add up, cycles are only bounded.
 * Cheap: runs on the main thread.
 *
 * Input `pair` ({@link FusedPairInput}) names the four tasks by id; two of
 * them may be one task (fusion at DRAM is no fusion), so dependencies are
 * looked up by id or alias.
 */
import { fusedPairCost, type FusedPairCost } from '../../fusion/cost.ts';
import type { FusionFlags, FusionMode } from '../../fusion/rewrite.ts';
import { codeVersion } from '../../build/engine-version.ts';
import { dependencies, type RunRequest, type TaskKind } from '../../build/task.ts';
import { num, str, type Shape } from '../../build/result-shapes.ts';
import { isInfeasible, type MapOutcome } from './map.ts';

export const FUSED_PAIR_FORMAT = 'expt-fused-pair-v1';

/** What a `fused-pair` task reads: the ids of its four map tasks (fused and unfused sides) and the pair's multiplicity. */
export interface FusedPairInput {
  matmul: { layer: string; task: string; unfused: string };
  normop: { layer: string; task: string; unfused: string };
  level: string;
  mode: FusionMode;
  flags: FusionFlags;
  /** Instances of the pair in one block (heads × batch for KTQ → softmax). */
  perBlock: number;
  blocks: number;
}

/** `-nef -lf -pwim` style text of the flags ('' for the defaults). */
export function flagsText(flags: FusionFlags): string {
  return [flags.noEFusion ? '-nef' : '', flags.lFusion ? '-lf' : '', flags.payWritebackInMatmul ? '-pwim' : ''].filter((x) => x !== '').join(' ');
}

export interface FusedPairResult {
  format: typeof FUSED_PAIR_FORMAT;
  matmul: string;
  normop: string;
  level: string;
  mode: string;
  /** `-nef -lf -pwim` style ('' for the defaults). */
  flags: string;
  perBlock: number;
  blocks: number;
  /** `infeasible` when a fused side (or an unfused side, for the comparison) has no valid mapping. */
  status: 'ok' | 'infeasible';
  reason: string;
  /** One instance of the fused pair (count 1); null when a fused side is infeasible. */
  fused: FusedPairCost | null;
  /** The same two layers unfused (count 1); null when an unfused side is infeasible. */
  unfused: FusedPairCost | null;
  /** unfused − fused energy of one instance, pJ (positive: fusion saves). */
  savings_pJ: number | null;
  /** savings as a percentage of the unfused pair's energy. */
  savings_pct: number | null;
  tasks: { matmul: string; normop: string; unfusedMatmul: string; unfusedNormop: string };
}

export function fusedPair(request: Pick<RunRequest, 'inputs' | 'deps'>): FusedPairResult {
  const input = request.inputs['pair'] as FusedPairInput;
  const deps = dependencies(request.deps, 'fused-pair');
  const result = (id: string): MapOutcome => deps.get(id).result as MapOutcome;
  const sides = {
    matmul: result(input.matmul.task),
    normop: result(input.normop.task),
    unfusedMatmul: result(input.matmul.unfused),
    unfusedNormop: result(input.normop.unfused),
  };
  const why: string[] = [];
  const note = (label: string, r: MapOutcome) => {
    if (isInfeasible(r)) why.push(`${label}: ${r.infeasible}`);
  };
  note(`${input.matmul.layer} fused at ${input.level}`, sides.matmul);
  note(`${input.normop.layer} fused at ${input.level}`, sides.normop);
  note(`${input.matmul.layer} unfused`, sides.unfusedMatmul);
  note(`${input.normop.layer} unfused`, sides.unfusedNormop);
  const fused = !isInfeasible(sides.matmul) && !isInfeasible(sides.normop) ? fusedPairCost(sides.matmul.evaluation, sides.normop.evaluation) : null;
  const unfused =
    !isInfeasible(sides.unfusedMatmul) && !isInfeasible(sides.unfusedNormop) ? fusedPairCost(sides.unfusedMatmul.evaluation, sides.unfusedNormop.evaluation) : null;
  const savings = fused && unfused ? unfused.energy_pJ - fused.energy_pJ : null;
  return {
    format: FUSED_PAIR_FORMAT,
    matmul: input.matmul.layer,
    normop: input.normop.layer,
    level: input.level,
    mode: input.mode,
    flags: flagsText(input.flags),
    perBlock: input.perBlock,
    blocks: input.blocks,
    status: why.length === 0 ? 'ok' : 'infeasible',
    reason: why.join('; '),
    fused,
    unfused,
    savings_pJ: savings,
    savings_pct: savings !== null && unfused !== null && unfused.energy_pJ !== 0 ? (100 * savings) / unfused.energy_pJ : null,
    tasks: { matmul: input.matmul.task, normop: input.normop.task, unfusedMatmul: input.matmul.unfused, unfusedNormop: input.normop.unfused },
  };
}

const pj = (n: number | null | undefined) => (typeof n === 'number' ? `${n.toExponential(4)} pJ` : '-');

const pairCost: Shape = { nullable: { object: { energy_pJ: num } } };

const fusedPairShape: Shape = {
  object: {
    format: { literal: FUSED_PAIR_FORMAT },
    matmul: str, normop: str, level: str, mode: str, flags: str, perBlock: num, blocks: num, status: str, reason: str,
    fused: pairCost, unfused: pairCost, savings_pJ: num, savings_pct: num,
    tasks: { object: { matmul: str, normop: str, unfusedMatmul: str, unfusedNormop: str } },
  },
};

export const kind: TaskKind<FusedPairResult> = {
  name: 'fused-pair',
  worker: false,
  engine: () => ({ id: 'expt-fused-pair', version: codeVersion(import.meta.url) }),
  run: fusedPair,
  show(_request, r) {
    const lines = [
      `Fused pair ${r.matmul} → ${r.normop} at ${r.level} (${r.mode}${r.flags ? ` ${r.flags}` : ''}), ${r.perBlock} per block, ${r.blocks} blocks`,
      `Status      : ${r.status}${r.reason ? ` (${r.reason})` : ''}`,
      `Fused       : ${pj(r.fused?.energy_pJ)} (matmul ${pj(r.fused?.matmul_energy_pJ)}, NO ${pj(r.fused?.normop_energy_pJ)})`,
      `Unfused     : ${pj(r.unfused?.energy_pJ)} (matmul ${pj(r.unfused?.matmul_energy_pJ)}, NO ${pj(r.unfused?.normop_energy_pJ)})`,
      `Savings     : ${r.savings_pct === null ? '-' : `${r.savings_pct.toFixed(2)} % (${pj(r.savings_pJ)} per instance)`}`,
      `Cycles      : fused ${r.fused ? `${r.fused.cycles.sequential} sequential, ${r.fused.cycles.overlapped} overlapped (bounds only)` : '-'}`,
    ];
    return lines.join('\n') + '\n';
  },
  resultShape: fusedPairShape,
};
