/**
 * The cost of a fused pair (study-facts §3.1): the matmul evaluated under
 * the fusion-rewritten constraints plus the normalization op evaluated under
 * its own rewritten constraints. "Adding the two costs (matmul and NO), you
 * write to DRAM once anyway, but the NO adds the cost of the passes on the
 * columns while they are in the accumulator": with the default flags the
 * matmul skips the write-back (DRAM bypasses its Outputs) and the NO pays it
 * (its DRAM keeps Outputs); with -pwim the other way round. Either way each
 * output column crosses DRAM once, and the NO's inputs are never read from
 * above the fusion level.
 *
 * Only the energy is an estimate. The study prints "copying just the
 * bypasses, disregarding latency between two columns being ready. This
 * means that only energy is a valid estimate": the two evaluations know
 * nothing of each other, so the pair's latency is only bounded here, by the
 * two layers one after the other (`sequential`, what summing per-layer cycles
 * gives, as the study's HW-DSE does) and by perfect column-by-column
 * overlap (`overlapped`, the longer of the two), both under the model's own
 * assumptions (e.g. the two do not compete for bandwidth).
 */
import type { Evaluation } from '../model/result.ts';

export interface FusedPairCost {
  /** matmul + NO energy, pJ (leakage included), times `count`. */
  readonly energy_pJ: number;
  readonly matmul_energy_pJ: number;
  readonly normop_energy_pJ: number;
  /**
   * Energy per component (storage levels with their leakage, the MAC, user
   * networks that cost anything), times `count`, for each side: the two
   * architectures share names (DRAM, Registers, MAC) that are not the same
   * hardware in the model.
   */
  readonly energy_by_component_pJ: {
    readonly matmul: Readonly<Record<string, number>>;
    readonly normop: Readonly<Record<string, number>>;
  };
  /** Bounds, not an estimate. */
  readonly cycles: {
    /** matmul + NO: no overlap. */
    readonly sequential: number;
    /** max(matmul, NO): the NO consumes each column as soon as it is ready. */
    readonly overlapped: number;
  };
  readonly cyclesValid: false;
  /** Instances of the pair (e.g. heads × batch for KTQ → softmax). */
  readonly count: number;
}

function byComponent(e: Evaluation, count: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of e.storage) out[s.name] = (s.energy_pJ + s.leakage_energy_pJ) * count;
  out[e.arithmetic.name] = e.arithmetic.energy_pJ * count;
  for (const n of e.networks) if (n.energy_pJ !== 0) out[n.name] = n.energy_pJ * count;
  return out;
}

/**
 * The fused pair's total from the matmul's and the NO's evaluations (each
 * mapped under its fusion-rewritten constraints, see rewrite.ts). `count`
 * multiplies everything (both layers of a pair occur equally often: KTQ and
 * softmax per head, Out and layernorm once per block).
 */
export function fusedPairCost(matmul: Evaluation, normop: Evaluation, options: { count?: number } = {}): FusedPairCost {
  const count = options.count ?? 1;
  const m = matmul.summary.energy_pJ * count;
  const n = normop.summary.energy_pJ * count;
  return {
    energy_pJ: m + n,
    matmul_energy_pJ: m,
    normop_energy_pJ: n,
    energy_by_component_pJ: { matmul: byComponent(matmul, count), normop: byComponent(normop, count) },
    cycles: {
      sequential: (matmul.summary.cycles + normop.summary.cycles) * count,
      overlapped: Math.max(matmul.summary.cycles, normop.summary.cycles) * count,
    },
    cyclesValid: false,
    count,
  };
}
