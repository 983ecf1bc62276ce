/**
 * `expt check [experiment...] [--only F=V,...]` (no input files): the
 * fidelity of the pipeline's map tasks, and of each fused layer of its
 * joint blocks (each a Timeloop mapping of its own). The tasks are those `expt run`
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
import { evaluateMapping, prepareModel } from '../model/evaluate.ts';
import type { JointBlockInput, JointBlockResult } from '../pipeline/kinds/joint-block.ts';

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
  const jointTasks = selected.order.filter((t) => t.kind === 'joint-block');
  const jobs = capJobs(args.jobs ?? Math.max(1, availableParallelism()), 'check');
  const err = process.stderr;
  // The embedded engine's best mappings: run what is not cached yet.
  const missing = [...mapTasks, ...jointTasks].filter((t) => !session.cache.get(t.kind, t.key).ok);
  if (missing.length > 0) {
    if (args.progress) err.write(`expt check: mapping ${missing.length} task${missing.length === 1 ? '' : 's'} with the embedded engine first (not cached yet)\n`);
    const plan = planGraph(session.graph.closure(missing.map((t) => t.id)), session.cache);
    const summary = await runPlan(plan, { cache: session.cache, kinds: session.kinds, jobs, logger: quietLogger });
    for (const f of summary.failures) err.write(`expt check: ${f.id}: the embedded engine failed: ${f.reason.split('\n')[0]}\n`);
  }
  const limit = pLimit(jobs);
  let done = 0;
  // A joint block's fused layers are checked one by one, each its own Timeloop mapping.
  const checks: { id: string; run: () => Promise<FidelityTaskRow> }[] = [
    ...mapTasks.map((task) => ({ id: task.id, run: () => checkTask(task, session.cache.get(task.kind, task.key), tools.model, args.timeoutMs) })),
    ...jointTasks.flatMap((task) => jointChecks(task, session.cache.get(task.kind, task.key), tools.model, args.timeoutMs)),
  ];
  const rows = await Promise.all(
    checks.map((check) =>
      limit(async (): Promise<FidelityTaskRow> => {
        const row = await check.run();
        done++;
        if (args.progress) err.write(`[${String(done).padStart(String(checks.length).length)}/${checks.length}] ${row.status === 'compared' ? (row.counts_equal ? 'identical' : 'DIFFER   ') : row.status.padEnd(9)} ${check.id}\n`);
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
    process.stdout.write(`Fidelity of expt's map tasks${jointTasks.length > 0 ? ' and jointly fused layers' : ''} against ${id} (${tools.model})\n\n`);
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

/** One check per fused layer of a joint block's best mapping (its id: the task's, then `#layer`). */
function jointChecks(task: Task, hit: ReturnType<Cache['get']>, model: string, timeoutMs: number): { id: string; run: () => Promise<FidelityTaskRow> }[] {
  if (!hit.ok) return [{ id: task.id, run: async () => ({ ...rowBase(task), status: 'error', note: `no result from the embedded engine (${hit.reason === 'corrupt' ? hit.detail : 'it failed'})` }) }];
  const result = hit.result as JointBlockResult;
  if (result.joint === null) return [{ id: task.id, run: async () => ({ ...rowBase(task), status: 'infeasible', note: result.reason }) }];
  const input = task.inputs['block'].value as JointBlockInput;
  return result.joint.layers
    .filter((p) => p.level !== null)
    .map((part) => {
      const id = `${task.id}#${part.layer}`;
      const base = { ...rowBase(task), id, layer: part.layer, hw: part.hw, fusion: `joint@${part.level}` };
      return {
        id,
        run: async (): Promise<FidelityTaskRow> => {
          const l = input.layers.find((x) => x.id === part.layer)!;
          const ours = evaluateMapping(prepareModel(l.problem, l.architecture, l.ERT), part.mapping);
          if (!ours.ok) return { ...base, status: 'error', note: `expt: ${ours.error.reason}` };
          const run = await runTimeloopModel({ architecture: l.architecture, problem: l.problem, ert: l.ERT, mapping: part.mapping }, { bin: model, timeoutMs });
          if (!run.evaluation) return { ...base, status: 'error', note: `timeloop-model: ${run.error ?? 'no result'}` };
          return { ...rowFromReport(task, compareEvaluations(ours.value, run.evaluation)), id, layer: part.layer, hw: part.hw, fusion: `joint@${part.level}` };
        },
      };
    });
}
