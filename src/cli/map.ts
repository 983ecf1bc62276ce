/**
 * `expt map <file.yaml>... [--json] [--objective edp] [--budget 10s]
 * [--exhaustive] [--emit-timeloop map.yaml]`: find the best mapping of a
 * Timeloop-format architecture + problem + ERT (+ mapspace constraints and
 * mapper settings) with the built-in mapper.
 */
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { MissingEnergyError } from '../arch/energy-table.ts';
import { readMapperJob } from '../inputs/mapper-job.ts';
import { mapOne, mapOneParallel, mostFrequent, type MapOutcome } from '../mapper/job.ts';
import { COMMAND_BUDGET_MS, MAPPER_DEFAULTS, imperfectFor, mapSettings, metricNamed, type Metric } from '../mapper/settings.ts';
import { InfeasibleMapspaceError } from '../mapper/mapspace.ts';
import { loopNestText } from '../mapping/loop-nest-text.ts';
import { mappingToTimeloop } from '../timeloop/tree-export.ts';
import { durationMs } from '../util/duration.ts';
import { UserError } from '../util/errors.ts';
import { capJobs } from '../util/jobs.ts';
import { checkOutputFile, writeOutputFile } from '../util/output.ts';
import { evalJson, formatScientific, renderEvalText } from '../model/evaluation-text.ts';

export function mapUsage(): string {
  return [
    'Usage: expt map <file.yaml>... [options]',
    '',
    'Searches the (constrained) map space for the best mapping under the built-in',
    'model. Files: Timeloop tree format with architecture, problem, ERT, and',
    'optionally mapspace_constraints / architecture_constraints and mapper.',
    '',
    'Options:',
    '  --objective M[,M...]  edp (default), energy, delay; a list is lexicographic',
    '                        (default: mapper.optimization_metrics, else edp)',
    '  --exhaustive          visit the whole map space (proves the optimum)',
    '  --imperfect           also imperfect factors: spatial loops take any factor up to',
    '                        their fanout (and loops with a `remainders: n` constraint up',
    "                        to n, as Timeloop's 'ruby' map space, which mapspace.template:",
    '                        ruby selects alone), the last iteration doing the rest',
    `  --effort N            factor splits the local search may visit (default ${MAPPER_DEFAULTS.effort})`,
    `  --budget T            wall-time cap, e.g. 10s or 500ms (default ${COMMAND_BUDGET_MS / 1000}s; exhaustive: none)`,
    `  --seed N              seed of the local search restarts (default ${MAPPER_DEFAULTS.seed})`,
    '  -j, --jobs N          worker threads (default 1); the result does not depend on it',
    '  --emit-timeloop FILE  write the best mapping in Timeloop mapping format',
    '  --json                print JSON (as expt eval --json, plus mapping and search)',
    '  -h, --help            show this help',
    '',
  ].join('\n');
}

function parseDuration(text: string): number {
  const ms = durationMs(text);
  if (ms === undefined) throw new UserError(`map: --budget expects a duration such as 10s or 500ms, got '${text}'`);
  return ms;
}

export async function runMap(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        json: { type: 'boolean' },
        objective: { type: 'string' },
        exhaustive: { type: 'boolean' },
        imperfect: { type: 'boolean' },
        effort: { type: 'string' },
        budget: { type: 'string' },
        seed: { type: 'string' },
        jobs: { type: 'string', short: 'j' },
        'emit-timeloop': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UserError(`map: ${(error as Error).message} (see 'expt map --help')`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(mapUsage());
    return 0;
  }
  if (positionals.length === 0) throw new UserError("map: no input files (see 'expt map --help')");

  const job = readMapperJob(positionals);
  let metrics: Metric[] = job.metrics;
  if (values.objective !== undefined) {
    metrics = values.objective.split(',').map((m) => {
      const metric = metricNamed(m.trim());
      if (!metric) throw new UserError(`map: unknown objective '${m}' (edp, energy, delay)`);
      return metric;
    });
  }
  const imperfect = imperfectFor(values.imperfect, job.template);
  const effort = values.effort !== undefined ? Number(values.effort) : MAPPER_DEFAULTS.effort;
  if (!Number.isInteger(effort) || effort < 1) throw new UserError(`map: --effort expects a positive whole number, got '${values.effort}'`);
  const seed = values.seed !== undefined ? Number(values.seed) : MAPPER_DEFAULTS.seed;
  const budgetMs = values.budget !== undefined ? parseDuration(values.budget) : values.exhaustive ? undefined : COMMAND_BUDGET_MS;
  let jobs = values.jobs !== undefined ? Number(values.jobs) : 1;
  if (!Number.isInteger(jobs) || jobs < 1) throw new UserError(`map: --jobs expects a positive whole number, got '${values.jobs}'`);
  jobs = capJobs(jobs, 'map');
  const emitTo = values['emit-timeloop'];
  // Before the search: a path that cannot be written must not cost the search's result.
  if (emitTo !== undefined) checkOutputFile(emitTo, '--emit-timeloop');
  const algorithm = values.exhaustive ? 'exhaustive' : 'local-search';
  const settings = mapSettings({ algorithm, metrics, effort, seed, imperfect, budgetMs });
  const mapJob = { problem: job.problem, arch: job.arch, ert: job.ert, constraints: job.constraints, settings };
  let outcome: MapOutcome;
  try {
    outcome = jobs > 1 ? await mapOneParallel(mapJob, jobs) : mapOne(mapJob);
  } catch (error) {
    if (error instanceof MissingEnergyError) throw new UserError(`no energy table for component '${error.component}'`, positionals.join(', '), 'ERT');
    throw error;
  }
  if (outcome.status === 'no-map-space') {
    if (outcome.error instanceof InfeasibleMapspaceError) throw new UserError(`infeasible: ${outcome.error.message}`, positionals.join(', '), 'mapspace_constraints');
    throw outcome.error;
  }
  const stats = outcome.search.stats;
  if (outcome.status === 'no-mapping') {
    const top = mostFrequent(stats.rejections, 3);
    const why = top.length > 0
      ? `every candidate was rejected by the model; most often: ${top.map(([r, n]) => `${r} (${n}×)`).join('; ')}`
      : `no factor split fits the buffers and fanouts; splits were cut by ${mostFrequent(stats.prunedBy, 3)
          .map(([r, n]) => `${r}: ${n}×`)
          .join('; ')}`;
    throw new UserError(`infeasible: no valid mapping found: ${why}`, positionals.join(', '));
  }
  if (outcome.status === 'not-reevaluated') throw new Error(`the best mapping does not re-evaluate: ${outcome.reason}`);
  const { mapping, evaluation } = outcome;
  const directives = mappingToTimeloop(mapping, job.problem, job.arch);
  const search = {
    algorithm,
    jobs,
    objective: metrics,
    complete: stats.complete,
    stopped_by_budget: stats.stoppedByBudget,
    evaluated: stats.evaluated,
    valid: stats.valid,
    pruned: stats.pruned,
    factor_splits: stats.factorizations,
    imperfect,
    exact_evaluations: stats.exactEvaluations,
    wall_time_s: stats.wallMs / 1000,
    effort: values.exhaustive ? null : effort,
    seed: values.exhaustive ? null : seed,
    warnings: [...outcome.search.warnings, ...job.ignoredSettings.map((s) => `mapper.${s}`)],
  };
  if (values.json) {
    const json = {
      ...evalJson(evaluation, positionals),
      format: 'expt-map-v1',
      mapping: { timeloop: directives, loop_nest: loopNestText(job.problem, job.arch, mapping, evaluation) },
      search,
    };
    process.stdout.write(JSON.stringify(json, null, 2) + '\n');
    // After printing: if the disk refuses the file now, the mapping is still on the screen.
    if (emitTo !== undefined) writeOutputFile(emitTo, stringify({ mapping: directives }));
    return 0;
  }
  const out: string[] = [];
  out.push('Best mapping (outer to inner):', '', loopNestText(job.problem, job.arch, mapping, evaluation));
  out.push(renderEvalText(evaluation, positionals));
  out.push('Search');
  out.push(`  Algorithm   : ${search.algorithm}${search.complete ? ' (whole map space visited: optimal under the model)' : ''}`);
  out.push(`  Objective   : ${metrics.join(', ')}`);
  out.push(`  Evaluated   : ${search.evaluated} mappings (${search.valid} valid) over ${search.factor_splits} factor splits; ${search.pruned} splits pruned`);
  if (imperfect !== 'off') {
    out.push(`  Imperfect   : ${imperfect === 'spatial' ? 'spatial loops up to their fanout, and loops with remainders' : "loops with remainders (Timeloop's ruby)"}; ${search.exact_evaluations} imperfect candidates re-evaluated exactly`);
  }
  out.push(`  Wall time   : ${search.wall_time_s.toFixed(3)} s${search.stopped_by_budget ? ' (stopped by --budget before its effort ran out: the result depends on the machine)' : ''}`);
  out.push(`  EDP         : ${formatScientific(evaluation.summary.edp_J_cycle)} J*cycle`);
  for (const w of search.warnings) out.push(`  Note        : ${w}`);
  process.stdout.write(out.join('\n') + '\n');
  if (emitTo !== undefined) writeOutputFile(emitTo, stringify({ mapping: directives }));
  return 0;
}
