/**
 * The `map` kind's work (see map.ts): the mapper search and the evaluation
 * of the best mapping, and the text of `expt show`. Loaded only when a map
 * task runs or is shown, so that planning and no-op runs do not load the
 * model and the mapper.
 */
import { MissingEnergyError } from '../../arch/energy-table.ts';
import { mapOne, mostFrequent, type MapOutcome as MapJobOutcome } from '../../mapper/job.ts';
import type { MapSettings } from '../../mapper/settings.ts';
import { loopNestText } from '../../mapping/loop-nest-text.ts';
import { mappingToTimeloop } from '../../timeloop/tree-export.ts';
import { formatScientific, renderLevelTable } from '../../model/evaluation-text.ts';
import { TaskError, type RunRequest } from '../../build/task.ts';
import { MAP_RESULT_FORMAT, inputsOf, isInfeasible, type MapOutcome } from './map.ts';

export function runMapTask(request: RunRequest): MapOutcome {
  const { problem, architecture: arch, ERT: ert, constraints, mapper: settings } = inputsOf(request);
  const mapper = settings as MapSettings;
  let outcome: MapJobOutcome;
  try {
    outcome = mapOne({ problem, arch, ert, constraints, settings: mapper });
  } catch (error) {
    if (error instanceof MissingEnergyError) throw new TaskError(`no energy table for component '${error.component}' (ERT)`);
    throw error;
  }
  // No map space (a constraint no loop slot can take, e.g. a factor larger
  // than the dimension or the fanout): no mapping, as for the sweeps' library.
  if (outcome.status === 'no-map-space') return { format: MAP_RESULT_FORMAT, infeasible: outcome.error.message };
  const { stats, warnings } = outcome.search;
  const wallMs = Math.round(outcome.search.wallMs);
  if (outcome.status === 'no-mapping') {
    const top = mostFrequent(stats.rejections, 3);
    // Without rejected candidates, every split was pruned: say which capacity or fanout pruned most.
    const pruned = mostFrequent(stats.prunedBy, 2);
    const why =
      top.length > 0
        ? `most often rejected: ${top.map(([r, n]) => `${r} (${n}×)`).join('; ')}`
        : `no factor split fits the buffers and fanouts${pruned.length > 0 ? `; most often pruned by: ${pruned.map(([r, n]) => `${r} (${n}×)`).join('; ')}` : ''}`;
    return {
      format: MAP_RESULT_FORMAT,
      infeasible: `no valid mapping found (${why})`,
      search: { algorithm: mapper.algorithm, effort: mapper.effort, seed: mapper.seed, restarts: mapper.restarts, evaluated: stats.evaluated, wallMs, warnings: [...warnings] },
    };
  }
  if (outcome.status === 'not-reevaluated') throw new Error(`the best mapping does not re-evaluate: ${outcome.reason}`);
  return {
    format: MAP_RESULT_FORMAT,
    mapping: outcome.mapping,
    timeloop: mappingToTimeloop(outcome.mapping, problem, arch),
    evaluation: outcome.evaluation,
    search: {
      algorithm: mapper.algorithm,
      metrics: mapper.metrics,
      effort: mapper.effort,
      seed: mapper.seed,
      restarts: mapper.restarts,
      evaluated: stats.evaluated,
      valid: stats.valid,
      pruned: stats.pruned,
      factor_splits: stats.factorizations,
      ...(mapper.imperfect ? { imperfect: mapper.imperfect, exact_evaluations: stats.exactEvaluations } : {}),
      complete: stats.complete,
      stopped_by_budget: stats.stoppedByBudget,
      wallMs,
      warnings: [...warnings],
    },
  };
}


export function showMapResult(request: Pick<RunRequest, 'inputs'>, result: MapOutcome): string {
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
    result.search.timeloop
      ? `Search      : timeloop-mapper (${result.search.timeloop.engine}), ${Object.entries(result.search.timeloop.mapper).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(',') : String(v)}`).join(', ')}; ${(result.search.timeloop.wallMs / 1000).toFixed(1)} s${result.search.timeloop.timedOut ? `, stopped at the time limit (${result.search.timeloop.timeLimitMs / 1000} s)` : ''}; evaluation: Timeloop's stats.txt`
      : `Search      : ${result.search.algorithm}, effort ${result.search.effort}, seed ${result.search.seed}, ${result.search.evaluated} mappings evaluated${result.search.stopped_by_budget ? ', STOPPED BY ITS TIME BUDGET (the result depends on the machine)' : ''}`,
  ];
  return lines.join('\n') + '\n';
}
