/**
 * The `map` kind's work (see map.ts): the mapper search and the evaluation
 * of the best mapping, and the text of `expt show`. Loaded only when a map
 * task runs or is shown, so that planning and no-op runs do not load the
 * model and the mapper.
 */
import { MissingEnergyError } from '../../arch/energy-table.ts';
import { InfeasibleMapspaceError, MapSpace } from '../../mapper/mapspace.ts';
import { exhaustiveSearch, localSearch } from '../../mapper/search.ts';
import { UserError } from '../../util/errors.ts';
import { loopNestText } from '../../mapping/loop-nest-text.ts';
import { evaluateMapping, prepareModel, type ModelContext } from '../../model/evaluate.ts';
import { mappingToTimeloop } from '../../timeloop/tree-export.ts';
import { formatScientific, renderLevelTable } from '../../cli/render-eval.ts';
import { TaskError, type RunRequest } from '../../build/task.ts';
import { MAP_RESULT_FORMAT, inputsOf, isInfeasible, type MapOutcome, type MapSettings } from './map.ts';

export function runMapTask(request: RunRequest): MapOutcome {
  const { problem, architecture: arch, ERT: ert, constraints, mapper: settings } = inputsOf(request);
  const mapper = settings as MapSettings;
  let ctx: ModelContext;
  try {
    ctx = prepareModel(problem, arch, ert);
  } catch (error) {
    if (error instanceof MissingEnergyError) throw new TaskError(`no energy table for component '${error.component}' (ERT)`);
    throw error;
  }
  let space: MapSpace;
  try {
    space = new MapSpace(problem, arch, constraints, { imperfect: mapper.imperfect ?? 'off' });
  } catch (error) {
    // A UserError here is a constraint no loop slot can take (a factor larger
    // than the dimension or the fanout): no mapping, as for the library's mapOnPreset.
    if (error instanceof InfeasibleMapspaceError || error instanceof UserError) return { format: MAP_RESULT_FORMAT, infeasible: error.message };
    throw error;
  }
  const t0 = performance.now();
  const result =
    mapper.algorithm === 'exhaustive'
      ? exhaustiveSearch(space, ctx, { metrics: mapper.metrics, budgetMs: mapper.budgetMs })
      : localSearch(space, ctx, { metrics: mapper.metrics, effort: mapper.effort, seed: mapper.seed, restarts: mapper.restarts, budgetMs: mapper.budgetMs });
  const wallMs = Math.round(performance.now() - t0);
  if (result.mapping === null) {
    const top = Object.entries(result.stats.rejections).sort((a, b) => b[1] - a[1]).slice(0, 3);
    // Without rejected candidates, every split was pruned: say which capacity or fanout pruned most.
    const pruned = Object.entries(result.stats.prunedBy).sort((a, b) => b[1] - a[1]).slice(0, 2);
    const why =
      top.length > 0
        ? `most often rejected: ${top.map(([r, n]) => `${r} (${n}×)`).join('; ')}`
        : `no factor split fits the buffers and fanouts${pruned.length > 0 ? `; most often pruned by: ${pruned.map(([r, n]) => `${r} (${n}×)`).join('; ')}` : ''}`;
    return {
      format: MAP_RESULT_FORMAT,
      infeasible: `no valid mapping found (${why})`,
      search: { algorithm: mapper.algorithm, effort: mapper.effort, seed: mapper.seed, restarts: mapper.restarts, evaluated: result.stats.evaluated, wallMs, warnings: [...constraints.warnings, ...space.warnings] },
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
      ...(mapper.imperfect ? { imperfect: mapper.imperfect, exact_evaluations: result.stats.exactEvaluations } : {}),
      complete: result.stats.complete,
      wallMs,
      warnings: [...constraints.warnings, ...space.warnings],
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
      : `Search      : ${result.search.algorithm}, effort ${result.search.effort}, seed ${result.search.seed}, ${result.search.evaluated} mappings evaluated`,
  ];
  return lines.join('\n') + '\n';
}
