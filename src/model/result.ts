/**
 * What evaluating one mapping yields. Field names and units follow the golden
 * vectors' `expected.json` (energies in pJ, counts in words, per-instance
 * counts unless named total) so a result can be diffed against Timeloop's.
 */

export interface DataspaceStats {
  /** Distinct elements one instance holds over the whole run. */
  partition_size: number;
  /** Tile size (words) per instance. */
  utilized_capacity: number;
  utilized_instances: number;
  utilized_clusters: number;
  reads: number;
  fills: number;
  updates: number;
  temporal_reductions: number;
  address_generations: number;
  energy_per_instance_pJ: number;
  energy_pJ: number;
  temporal_reduction_energy_pJ: number;
  addr_gen_energy_pJ: number;
  read_bandwidth_per_instance: number;
  write_bandwidth_per_instance: number;
}

export interface StorageLevelStats {
  name: string;
  /** Timeloop's numbering: 0 = MAC, 1 = innermost storage level. */
  timeloop_level: number;
  instances: number;
  mesh_x: number;
  mesh_y: number;
  size_words: number | null;
  word_bits: number;
  block_size: number;
  cycles: number;
  slowdown: number;
  /** Only the dataspaces this level keeps. */
  dataspaces: Record<string, DataspaceStats>;
  utilized_instances: number;
  energy_pJ: number;
  /** Leakage = ERT leak × cycles × utilized instances (Timeloop after v3.0.3). */
  leakage_energy_pJ: number;
}

export interface NetworkDataspaceStats {
  fanout: number;
  multicast_factor: number;
  ingresses: number;
  link_transfers: number;
  spatial_reductions: number;
  average_hops: number;
  energy_pJ: number;
}

export interface NetworkStats {
  name: string;
  dataspaces: Record<string, NetworkDataspaceStats>;
  energy_pJ: number;
}

export interface ArithmeticStats {
  name: string;
  instances: number;
  utilized_instances: number;
  computes: number;
  cycles: number;
  energy_pJ: number;
}

export interface EvaluationSummary {
  cycles: number;
  network_latency_cycles: number;
  utilization: number;
  /** Dynamic energy + leakage, pJ. */
  energy_pJ: number;
  leakage_energy_pJ: number;
  network_energy_pJ: number;
  edp_J_cycle: number;
  pJ_per_compute: number;
  computes: number;
  link_transfers_total: number;
}

export interface Evaluation {
  arithmetic: ArithmeticStats;
  /** Outermost first, as in the architecture. */
  storage: StorageLevelStats[];
  networks: NetworkStats[];
  summary: EvaluationSummary;
}

/** Why a mapping cannot run on an architecture. */
export interface InvalidMapping {
  /** Which level, dataspace or dimension is at fault. */
  level?: string;
  reason: string;
}

export type EvaluationOutcome =
  | { ok: true; value: Evaluation }
  | { ok: false; error: InvalidMapping };
