/**
 * `expt check [experiment...] [--only F=V,...]` (no input files): the
 * fidelity of the pipeline's map tasks. The tasks are those `expt run`
 * would run (the same expansion and `--only` filter), always with the
 * embedded engine: each task's best mapping comes from the embedded
 * engine's cache — tasks not cached yet are run first (the embedded engine
 * maps the whole paper matrix in seconds), so the check needs no prior
 * `expt run` — and is evaluated again by the real `timeloop-model`. expt's
 * cached evaluation of that mapping is compared with Timeloop's
 * ({@link compareEvaluations}): every count equal?, energy and cycles ratios
 * expt / Timeloop (energy also without leakage, which v3.0.3 does not model).
 *
 * Writes `reports/fidelity.md` and `reports/fidelity.csv` (report/fidelity.ts: one row per
 * task, plus a total line) and prints the table; `--json` prints the rows.
 * A task without a valid mapping is listed as infeasible, not an error.
 */
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import pLimit from 'p-limit';
import type { Evaluation } from '../model/result.ts';
import type { EngineOverrides } from '../pipeline/expand.ts';
import { inputsOf, isInfeasible, type MapOutcome } from '../pipeline/kinds/map.ts';
import type { Cache } from '../build/cache.ts';
import { planGraph } from '../build/plan.ts';
import { runPlan, type RunLogger } from '../build/scheduler.ts';
import { openSession, selectTasks } from '../pipeline/session.ts';
import type { Task } from '../build/task.ts';
import { commitReports } from '../report/folder.ts';
import { fidelityCsv, fidelityMarkdown, fidelityText, fidelityTotals, rowBase, rowFromReport, type FidelityTaskRow } from '../report/fidelity.ts';
import { capJobs } from '../util/jobs.ts';
import { CHECK_INSTALL_HINT, engineId, requireTimeloop, runTimeloopModel } from '../timeloop/external.ts';
import { compareEvaluations } from '../timeloop/fidelity.ts';

export interface PipelineCheckArgs {
  experiments: string[];
  only: string[];
  config?: string;
  jobs?: number;
  timeoutMs: number;
  json: boolean;
  /** Print progress lines on stderr. */
  progress?: boolean;
}

const quietLogger: RunLogger = { begin() {}, event() {}, end() {} };

export async function checkPipeline(args: PipelineCheckArgs): Promise<number> {
  const tools = requireTimeloop(undefined, 'timeloop-model', CHECK_INSTALL_HINT);
  const embedded: EngineOverrides = { engine: 'embedded' };
  const session = await openSession({ config: args.config, engine: embedded });
  const selected = selectTasks(session, args.experiments, args.only);
  const mapTasks = selected.order.filter((t) => t.kind === 'map');
  const jobs = capJobs(args.jobs ?? Math.max(1, availableParallelism()), 'check');
  const err = process.stderr;
  // The embedded engine's best mappings: run what is not cached yet.
  const missing = mapTasks.filter((t) => !session.cache.get(t.kind, t.key).ok);
  if (missing.length > 0) {
    if (args.progress) err.write(`expt check: mapping ${missing.length} task${missing.length === 1 ? '' : 's'} with the embedded engine first (not cached yet)\n`);
    const plan = planGraph(session.graph.closure(missing.map((t) => t.id)), session.cache);
    const summary = await runPlan(plan, { cache: session.cache, kinds: session.kinds, jobs, logger: quietLogger });
    for (const f of summary.failures) err.write(`expt check: ${f.id}: the embedded engine failed: ${f.reason.split('\n')[0]}\n`);
  }
  const limit = pLimit(jobs);
  let done = 0;
  const rows = await Promise.all(
    mapTasks.map((task) =>
      limit(async (): Promise<FidelityTaskRow> => {
        const row = await checkTask(task, session.cache.get(task.kind, task.key), tools.model, args.timeoutMs);
        done++;
        if (args.progress) err.write(`[${String(done).padStart(String(mapTasks.length).length)}/${mapTasks.length}] ${row.status === 'compared' ? (row.counts_equal ? 'identical' : 'DIFFER   ') : row.status.padEnd(9)} ${task.id}\n`);
        return row;
      }),
    ),
  );
  const totals = fidelityTotals(rows);
  const id = engineId(tools);
  const dir = session.loaded.reportsDir;
  commitReports(dir, 'fidelity', new Map([['fidelity.md', fidelityMarkdown(rows, totals, `${id} (timeloop-model)`)], ['fidelity.csv', fidelityCsv(rows, totals)]]));
  const shown = (f: string) => relative(process.cwd(), f) || f;
  if (args.json) {
    process.stdout.write(JSON.stringify({ format: 'expt-fidelity-v1', engines: { embedded: 'expt', external: id }, totals, rows }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n');
  } else {
    process.stdout.write(`Fidelity of expt's map tasks against ${id} (${tools.model})\n\n`);
    process.stdout.write(fidelityText(rows, totals));
    process.stdout.write(`reports: ${shown(join(dir, 'fidelity.md'))}, ${shown(join(dir, 'fidelity.csv'))}\n`);
  }
  return totals.identical === totals.compared && totals.errors === 0 ? 0 : 3;
}

async function checkTask(task: Task, hit: ReturnType<Cache['get']>, model: string, timeoutMs: number): Promise<FidelityTaskRow> {
  if (!hit.ok) return { ...rowBase(task), status: 'error', note: `no result from the embedded engine (${hit.reason === 'corrupt' ? hit.detail : 'it failed'})` };
  const result = hit.result as MapOutcome;
  if (isInfeasible(result)) return { ...rowBase(task), status: 'infeasible', note: result.infeasible };
  const inputs = inputsOf({ inputs: Object.fromEntries(Object.entries(task.inputs).map(([n, i]) => [n, i.value])) });
  const run = await runTimeloopModel({ architecture: inputs.architecture, problem: inputs.problem, ert: inputs.ERT, mapping: result.mapping }, { bin: model, timeoutMs });
  if (!run.evaluation) return { ...rowBase(task), status: 'error', note: `timeloop-model: ${run.error ?? 'no result'}` };
  return rowFromReport(task, compareEvaluations(result.evaluation as Evaluation, run.evaluation));
}
