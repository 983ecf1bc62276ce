/**
 * `map`: find the best mapping of one problem on one architecture with the
 * built-in mapper (local search under the mapspace constraints), then
 * evaluate it. Inputs: `problem`, `architecture`, `ERT`, `constraints`
 * (parsed values) and `mapper` (settings). Runs on a worker thread.
 *
 * A map space with no valid mapping (constraints no factor split satisfies,
 * tiles that fit no buffer) is a result, not a failure: `{infeasible:
 * reason}`, cached like any result, so that a matrix with cells the
 * architecture cannot run (e.g. a pair fused at Gemmini's Registers)
 * completes and its reports say which and why. A broken input (an ERT
 * without a component's energies) still fails the task.
 */
import type { Architecture } from '../../arch/architecture.ts';
import type { EnergyReferenceTable } from '../../arch/energy-table.ts';
import type { MapspaceConstraints } from '../../mapper/constraints.ts';
import type { Mapping } from '../../mapping/mapping.ts';
import type { Evaluation } from '../../model/result.ts';
import type { Problem } from '../../workload/problem.ts';
import { sourceVersion } from '../engine-version.ts';
import type { MapSettings } from '../expand.ts';
import type { RunRequest, TaskKind } from '../task.ts';

export const MAP_RESULT_FORMAT = 'expt-map-result-v1';

export interface MapResult {
  format: typeof MAP_RESULT_FORMAT;
  mapping: Mapping;
  /** The mapping as Timeloop `mapping` directives. */
  timeloop: Record<string, unknown>[];
  evaluation: Evaluation;
  search: {
    algorithm: string;
    metrics: string[];
    effort: number;
    seed: number;
    restarts: number;
    evaluated: number;
    valid: number;
    pruned: number;
    factor_splits: number;
    /** The whole map space was visited (exhaustive search not stopped by its budget). */
    complete?: boolean;
    /** Wall time of the search (the study's "MSE Runtime"); not part of the key, fixed once cached. */
    wallMs?: number;
    warnings: string[];
  };
}

/** A map space without any valid mapping. */
export interface InfeasibleMapResult {
  format: typeof MAP_RESULT_FORMAT;
  /** Why, one line: the constraint or capacity no mapping satisfies. */
  infeasible: string;
  search?: { algorithm: string; effort: number; seed: number; restarts: number; evaluated: number; wallMs?: number; warnings: string[] };
}

export type MapOutcome = MapResult | InfeasibleMapResult;

export function isInfeasible(result: unknown): result is InfeasibleMapResult {
  return typeof result === 'object' && result !== null && typeof (result as { infeasible?: unknown }).infeasible === 'string';
}

interface MapInputs {
  problem: Problem;
  architecture: Architecture;
  ERT: EnergyReferenceTable;
  constraints: MapspaceConstraints;
  mapper: MapSettings;
}

export function inputsOf(request: Pick<RunRequest, 'inputs'>): MapInputs {
  return request.inputs as unknown as MapInputs;
}

export const kind: TaskKind<MapOutcome> = {
  name: 'map',
  worker: true,
  engine: () => ({
    id: 'expt-builtin-mapper',
    version: sourceVersion(['model', 'mapper', 'mapping', 'arch/architecture.ts', 'arch/energy-table.ts', 'timeloop/tree-export.ts', 'pipeline/kinds/map.ts', 'pipeline/kinds/map-run.ts']),
  }),
  // The work is in map-run.ts, loaded on first use.
  run: async (request) => (await import('./map-run.ts')).runMapTask(request),
  show: async (request, result) => (await import('./map-run.ts')).showMapResult(request, result),
};
