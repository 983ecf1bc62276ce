/**
 * `expt check <input.yaml>... [--merge] [--json]`: evaluate each task with
 * the embedded engine and with the real `timeloop-model`, and print a
 * fidelity table (per level and dataspace: counts equal?, energy ratio,
 * cycles ratio) and one summary line per task.
 *
 * Each file is one task (with --merge, all files are one task). A task
 * without a mapping is first mapped with expt's mapper (its constraints and
 * mapper settings), and that best mapping is evaluated by both engines.
 *
 * Exit codes: 0 every task has identical counts and cycles; 3 some task
 * differs (or Timeloop failed on it); 2 bad usage or input, Timeloop missing.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MissingEnergyError } from '../arch/energy-table.ts';
import { evaluateMapping, prepareModel } from '../model/evaluate.ts';
import type { Evaluation } from '../model/result.ts';
import { durationMs } from '../util/duration.ts';
import { UserError } from '../util/errors.ts';
import { CHECK_INSTALL_HINT, engineId, requireTimeloop, runTimeloopMapper, runTimeloopModel } from '../timeloop/external.ts';
import { compareEvaluations, type FidelityReport } from '../timeloop/fidelity.ts';
import { renderFidelityRows, renderFidelitySummary, renderFidelityTotal } from '../report/fidelity.ts';
import { loadTask } from '../inputs/timeloop-task.ts';
import { mapWithExpt } from '../inputs/mapper-job.ts';
import { COMMAND_BUDGET_MS } from '../mapper/settings.ts';

export function checkUsage(): string {
  return [
    'Usage: expt check <file.yaml>... [options]',
    '       expt check [experiment...] [--only F=V[,F=V]] [options]   (pipeline mode)',
    '',
    'Evaluates each task with the embedded engine and with the real timeloop-model,',
    'and prints how far apart they are: per storage level and dataspace whether every',
    'count (reads, fills, updates, partition size, utilized capacity/instances,',
    'reductions, address generations) is equal, and the energy and cycles ratios',
    'expt / Timeloop. Timeloop prints energies with 2 decimals. Totals are also',
    'given without leakage: expt charges ERT leak energy per cycle (as Timeloop',
    'after v3.0.3 does); v3.0.3 has no leakage model.',
    '',
    'Each file is a task (Timeloop tree format or timeloopfe v0.4). A task without a',
    "mapping is mapped first (expt's mapper, or timeloop-mapper with --mapper timeloop),",
    'and its best mapping is checked.',
    '',
    'Pipeline mode (no input files): the map tasks of the experiments (default: the',
    "config's default), as `expt run` expands and filters them; each task's best",
    "mapping from the embedded engine's cache (tasks not cached are mapped first) is",
    'evaluated by timeloop-model; writes reports/fidelity.md and reports/fidelity.csv',
    '(per task: counts equal?, energy and cycles ratios; a total line) and prints them.',
    'Infeasible tasks are listed as such. --json prints {totals, rows}.',
    '',
    'Options:',
    '  --only F=V[,F=V]      pipeline mode: only these cells (as expt run --only)',
    '  -j, --jobs N          pipeline mode: tasks at a time (default: the number of cores)',
    '  --config FILE         pipeline mode: the experiments config',
    '  --merge               all files form one task (as expt eval merges them)',
    '  --arch ID             use an architecture preset (files add problem/mapping)',
    '  --timeloop-bin DIR    folder of timeloop-model (default: EXPT_TIMELOOP_MODEL, then PATH)',
    '  --timeout T           time limit per Timeloop run, e.g. 60s (default 60s; pipeline',
    '                        mode 600s)',
    `  --budget T            mapper budget for tasks without a mapping (default ${COMMAND_BUDGET_MS / 1000}s)`,
    "  --mapper M            who maps a task without a mapping: expt (default) or timeloop",
    "                        (timeloop-mapper with the task's mapper settings, stopped at",
    '                        the budget; its best mapping is then evaluated by expt)',
    '  --brief               only the summary table',
    '  --json                print the reports as JSON',
    '  -h, --help            show this help',
    '',
    'Exit codes: 0 all counts equal; 3 a task differs or Timeloop failed on it; 2 usage.',
    '',
  ].join('\n');
}

function duration(text: string, what: string): number {
  const ms = durationMs(text);
  if (ms === undefined) throw new UserError(`check: ${what} expects a duration such as 60s or 500ms, got '${text}'`);
  return ms;
}

interface TaskResult {
  name: string;
  files: readonly string[];
  note?: string;
  report: FidelityReport | null;
  error?: string;
  expt?: Evaluation;
  timeloop?: Evaluation;
}

export async function runCheck(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        merge: { type: 'boolean' },
        arch: { type: 'string' },
        'timeloop-bin': { type: 'string' },
        timeout: { type: 'string' },
        budget: { type: 'string' },
        mapper: { type: 'string' },
        brief: { type: 'boolean' },
        json: { type: 'boolean' },
        only: { type: 'string', multiple: true },
        jobs: { type: 'string', short: 'j' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UserError(`check: ${(error as Error).message} (see 'expt check --help')`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(checkUsage());
    return 0;
  }
  const bin = values['timeloop-bin'];
  // Pipeline mode: experiment names (or nothing) rather than input files.
  if (positionals.every((p) => !/\.(ya?ml)$/i.test(p) && !existsSync(p)) && values.merge === undefined && values.arch === undefined) {
    if (bin !== undefined) {
      const found = requireTimeloop(bin, 'timeloop-model', CHECK_INSTALL_HINT);
      process.env['EXPT_TIMELOOP_MODEL'] = found.model;
    }
    const jobs = values.jobs !== undefined ? Number(values.jobs) : undefined;
    if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1)) throw new UserError(`check: --jobs expects a positive whole number, got '${values.jobs}'`);
    const { checkPipeline } = await import('./check-pipeline.ts');
    return checkPipeline({
      experiments: positionals,
      only: values.only ?? [],
      config: values.config,
      jobs,
      // timeloop-model needs 1.5 CPU-minutes per PIM matmul (128 × 128 fanout): a longer default than for files.
      timeoutMs: values.timeout !== undefined ? duration(values.timeout, '--timeout') : 600_000,
      json: values.json === true,
      progress: process.stderr.isTTY === true,
    });
  }
  if (values.only !== undefined || values.config !== undefined) throw new UserError('check: --only and --config are for the pipeline mode (experiment names, no input files)');
  const tools = requireTimeloop(bin, 'timeloop-model', CHECK_INSTALL_HINT);
  const timeoutMs = values.timeout !== undefined ? duration(values.timeout, '--timeout') : 60_000;
  const budgetMs = values.budget !== undefined ? duration(values.budget, '--budget') : COMMAND_BUDGET_MS;
  const mapper = values.mapper ?? 'expt';
  if (mapper !== 'expt' && mapper !== 'timeloop') throw new UserError(`check: --mapper is expt or timeloop, got '${mapper}'`);
  if (mapper === 'timeloop') requireTimeloop(bin, 'timeloop-mapper', CHECK_INSTALL_HINT);
  const groups = values.merge ? [positionals] : positionals.map((p) => [p]);
  const results: TaskResult[] = [];
  for (const files of groups) {
    const task = loadTask(files, { arch: values.arch });
    const name = groups.length > 1 && !values.merge ? files[0] : task.name;
    try {
      if (!task.problem) throw new UserError('the task has no problem', files.join(', '));
      if (!task.ert) throw new UserError('the task has no ERT and the estimator cannot price its architecture', files.join(', '));
      let mapping = task.mapping;
      let note: string | undefined;
      // timeloop-mapper's best mapping comes with Timeloop's own evaluation of it.
      let theirs: Evaluation | null = null;
      let theirError: string | null = null;
      if (!mapping && mapper === 'timeloop') {
        const m = await runTimeloopMapper(task, { bin: tools.model, timeoutMs: budgetMs });
        if (!m.mapping || !m.evaluation) throw new UserError(`timeloop-mapper found no mapping: ${m.error ?? 'its stats could not be read back as a mapping'}`, files.join(', '));
        mapping = m.mapping;
        theirs = m.evaluation;
        note = `mapped by timeloop-mapper (${(m.wallMs / 1000).toFixed(1)} s${m.timedOut ? ', stopped at the budget' : ''})`;
      } else if (!mapping) ({ mapping, note } = mapWithExpt(task, budgetMs));
      let ctx;
      try {
        ctx = prepareModel(task.problem, task.architecture, task.ert);
      } catch (e) {
        if (e instanceof MissingEnergyError) throw new UserError(`no energy table for component '${e.component}'`, files.join(', '), 'ERT');
        throw e;
      }
      const ours = evaluateMapping(ctx, mapping);
      if (!theirs) {
        const run = await runTimeloopModel({ ...task, mapping }, { bin: tools.model, timeoutMs });
        theirs = run.evaluation;
        theirError = run.error;
      }
      if (!ours.ok || !theirs) {
        const why = [!ours.ok ? `expt rejects the mapping: ${ours.error.reason}` : 'expt: valid', theirs ? 'Timeloop: valid' : `Timeloop: ${theirError}`];
        results.push({ name, files, note, report: null, error: why.join('; ') });
        continue;
      }
      results.push({ name, files, note, report: compareEvaluations(ours.value, theirs), expt: ours.value, timeloop: theirs });
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      results.push({ name, files, report: null, error: e.format() });
    }
  }
  const id = engineId(tools);
  if (values.json) {
    const json = {
      format: 'expt-check-v1',
      engines: { embedded: 'expt', external: id },
      tasks: results.map((r) => ({ name: r.name, files: r.files, note: r.note ?? null, error: r.error ?? null, report: r.report })),
    };
    process.stdout.write(JSON.stringify(json, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n');
  } else {
    const out: string[] = [`Fidelity of expt against ${id} (${tools.model})`, ''];
    if (!values.brief) {
      for (const r of results) {
        out.push(`${r.name}${r.note ? ` (${r.note})` : ''}`);
        if (r.report) {
          out.push(renderFidelityRows(r.report));
          out.push(`  ${renderFidelityTotal(r.report)}`);
        } else out.push(`  not compared: ${r.error}`);
        out.push('');
      }
    }
    out.push(renderFidelitySummary(results));
    const same = results.filter((r) => r.report?.countsEqual).length;
    out.push('', `${same} of ${results.length} task${results.length === 1 ? '' : 's'} with identical counts and cycles.`);
    process.stdout.write(out.join('\n') + '\n');
  }
  return results.every((r) => r.report?.countsEqual) ? 0 : 3;
}
