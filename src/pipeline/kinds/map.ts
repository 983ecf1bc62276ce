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
import { MissingEnergyError, type EnergyReferenceTable } from '../../arch/energy-table.ts';
import type { MapspaceConstraints } from '../../mapper/constraints.ts';
import { InfeasibleMapspaceError, MapSpace } from '../../mapper/mapspace.ts';
import { localSearch } from '../../mapper/search.ts';
import type { Mapping } from '../../mapping/mapping.ts';
import { loopNestText } from '../../mapping/loop-nest-text.ts';
import { evaluateMapping, prepareModel, type ModelContext } from '../../model/evaluate.ts';
import type { Evaluation } from '../../model/result.ts';
import { mappingToTimeloop } from '../../timeloop/tree-export.ts';
import type { Problem } from '../../workload/problem.ts';
import { formatScientific, renderLevelTable } from '../../cli/render-eval.ts';
import { sourceVersion } from '../engine-version.ts';
import type { MapSettings } from '../expand.ts';
import { TaskError, type RunRequest, type TaskKind } from '../task.ts';

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
    warnings: string[];
  };
}

/** A map space without any valid mapping. */
export interface InfeasibleMapResult {
  format: typeof MAP_RESULT_FORMAT;
  /** Why, one line: the constraint or capacity no mapping satisfies. */
  infeasible: string;
  search?: { algorithm: string; effort: number; seed: number; restarts: number; evaluated: number; warnings: string[] };
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

function inputsOf(request: Pick<RunRequest, 'inputs'>): MapInputs {
  return request.inputs as unknown as MapInputs;
}

export function runMapTask(request: RunRequest): MapOutcome {
  const { problem, architecture: arch, ERT: ert, constraints, mapper } = inputsOf(request);
  let ctx: ModelContext;
  try {
    ctx = prepareModel(problem, arch, ert);
  } catch (error) {
    if (error instanceof MissingEnergyError) throw new TaskError(`no energy table for component '${error.component}' (ERT)`);
    throw error;
  }
  let space: MapSpace;
  try {
    space = new MapSpace(problem, arch, constraints);
  } catch (error) {
    if (error instanceof InfeasibleMapspaceError) return { format: MAP_RESULT_FORMAT, infeasible: error.message };
    throw error;
  }
  const result = localSearch(space, ctx, { metrics: mapper.metrics, effort: mapper.effort, seed: mapper.seed, restarts: mapper.restarts });
  if (result.mapping === null) {
    const top = Object.entries(result.stats.rejections).sort((a, b) => b[1] - a[1]).slice(0, 3);
    const why = top.length > 0 ? `most often rejected: ${top.map(([r, n]) => `${r} (${n}×)`).join('; ')}` : 'no factor split fits the buffers and fanouts';
    return {
      format: MAP_RESULT_FORMAT,
      infeasible: `no valid mapping found (${why})`,
      search: { algorithm: mapper.algorithm, effort: mapper.effort, seed: mapper.seed, restarts: mapper.restarts, evaluated: result.stats.evaluated, warnings: constraints.warnings },
    };
  }
  const outcome = evaluateMapping(ctx, result.mapping);
  if (!outcome.ok) throw new Error(`the best mapping does not re-evaluate: ${outcome.error.reason}`);
  return {
    format: MAP_RESULT_FORMAT,
    mapping: result.mapping,
    timeloop: mappingToTimeloop(result.mapping, problem, arch),
    evaluation: outcome.value,
    search: {
      algorithm: mapper.algorithm,
      metrics: mapper.metrics,
      effort: mapper.effort,
      seed: mapper.seed,
      restarts: mapper.restarts,
      evaluated: result.stats.evaluated,
      valid: result.stats.valid,
      pruned: result.stats.pruned,
      factor_splits: result.stats.factorizations,
      warnings: constraints.warnings,
    },
  };
}

export const kind: TaskKind<MapOutcome> = {
  name: 'map',
  worker: true,
  engine: () => ({
    id: 'expt-builtin-mapper',
    version: sourceVersion(['model', 'mapper', 'mapping', 'arch/architecture.ts', 'arch/energy-table.ts', 'timeloop/tree-export.ts', 'pipeline/kinds/map.ts']),
  }),
  run: runMapTask,
  show(request, result) {
    if (isInfeasible(result)) return `Infeasible: ${result.infeasible}\n`;
    const { problem, architecture: arch } = inputsOf(request);
    const e = result.evaluation;
    const s = e.summary;
    const lines = [
      'Best mapping (outer to inner):',
      '',
      loopNestText(problem, arch, result.mapping, e),
      ...renderLevelTable(e),
      '',
      `Energy      : ${s.energy_pJ.toFixed(2)} pJ (${s.pJ_per_compute.toFixed(3)} pJ/MAC)`,
      `Cycles      : ${s.cycles}`,
      `Utilization : ${(s.utilization * 100).toFixed(2)} %`,
      `EDP         : ${formatScientific(s.edp_J_cycle)} J*cycle`,
      `Search      : ${result.search.algorithm}, effort ${result.search.effort}, seed ${result.search.seed}, ${result.search.evaluated} mappings evaluated`,
    ];
    return lines.join('\n') + '\n';
  },
};
