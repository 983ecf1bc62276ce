/**
 * `expt plan [experiment...] [--only f=v,...] [--force] [--json]`: each task
 * of the selection with its state — cached, or will run and why (which input
 * changed since the cached result, which dependency will run). Runs nothing.
 * `expt run --dry-run` is this command.
 */
import { inFlight } from '../slurm/run.ts';
import { jobFolders } from '../slurm/job-folder.ts';
import { parseArgs } from 'node:util';
import { planGraph, planJson, type Plan } from '../build/plan.ts';
import { openSession, selectTasks, type SessionOptions } from '../pipeline/session.ts';
import { UserError } from '../util/errors.ts';
import { ENGINE_NAMES, parseDuration, type EngineName } from '../pipeline/config.ts';
import type { EngineOverrides } from '../pipeline/expand.ts';
import { findTimeloop, INSTALL_HINT } from '../timeloop/tools.ts';

export function planUsage(): string {
  return [
    'Usage: expt plan [experiment...] [options]',
    '',
    'Shows the tasks a run would execute and why: each task is `cached` or',
    '`will run` with the reason (no result for its key, which input changed',
    'since the cached result, a dependency that will run). Runs nothing.',
    '',
    'Options:',
    '  --only F=V[,F=V]   only tasks whose cell matches (fields: experiment, model,',
    '                     layer, arch, hw (the architecture a task runs on),',
    "                     fusion, variant, kind, id; 'a|b' = either);",
    '                     repeat for a union',
    '  --force            plan as if nothing were cached',
    ...ENGINE_USAGE,
    '  --all              list cached tasks too (text output)',
    '  --config FILE      the experiments config (default: experiments.config.* found',
    '                     from the working directory up)',
    '  --json             print a JSON array of tasks: id, kind, experiment, model,',
    '                     layer, arch, fusion, macs, state, reason, ...',
    '  -h, --help         show this help',
    '',
  ].join('\n');
}

export interface PlanArgs {
  experiments: string[];
  only: string[];
  force: boolean;
  json: boolean;
  all: boolean;
  config?: string;
  /** `--engine`, `--timeout` (see {@link engineOptions}). */
  engine?: EngineOverrides;
}

/** The engine options of run and plan (help lines). */
export const ENGINE_USAGE = [
  '  --engine E         who maps the map tasks: embedded (expt, default) or timeloop',
  "                     (timeloop-mapper; overrides the config's `engine`)",
  '  --timeout T        time limit per timeloop-mapper run, e.g. 120s or 2m (default:',
  "                     the config's timeloop.timeLimit, else 120s)",
  '  --timeloop-bin DIR folder of timeloop-model/timeloop-mapper (default:',
  '                     EXPT_TIMELOOP_MODEL, then PATH)',
];

/** parseArgs options of {@link engineOptions}. */
export const ENGINE_ARGS = {
  engine: { type: 'string' },
  timeout: { type: 'string' },
  'timeloop-bin': { type: 'string' },
} as const;

/**
 * `--engine`, `--timeout`, `--timeloop-bin` as session overrides.
 * `--timeloop-bin` is passed on through EXPT_TIMELOOP_MODEL (worker threads inherit it).
 */
export function engineOptions(values: { engine?: string; timeout?: string; 'timeloop-bin'?: string }, command: string): EngineOverrides {
  const out: EngineOverrides = {};
  if (values.engine !== undefined) {
    if (values.engine === 'expt') values = { ...values, engine: 'embedded' }; // as expt eval --engine names it
    if (!(ENGINE_NAMES as readonly string[]).includes(values.engine!)) throw new UserError(`${command}: --engine is ${ENGINE_NAMES.join(' or ')}, got '${values.engine}'`);
    out.engine = values.engine as EngineName;
  }
  if (values.timeout !== undefined) {
    try {
      out.timeLimitMs = parseDuration(values.timeout);
    } catch (error) {
      throw new UserError(`${command}: --timeout: ${(error as Error).message}`);
    }
  }
  const bin = values['timeloop-bin'];
  if (bin !== undefined) {
    const tools = findTimeloop(bin);
    if (!tools) throw new UserError(`${command}: timeloop-model not found at '${bin}': ${INSTALL_HINT}`);
    process.env['EXPT_TIMELOOP_MODEL'] = tools.model;
  }
  return out;
}

/**
 * The plan of the selected tasks. `memo` (default true): the graph may come
 * from the expansion memo, without input values (`session.partial`) —
 * enough to plan; `expt run` opens it again without the memo when a task
 * has to run.
 */
export async function computePlan(args: Pick<PlanArgs, 'experiments' | 'only' | 'force' | 'config' | 'engine'>, options: { memo?: boolean; beforeExpand?: SessionOptions['beforeExpand'] } = {}) {
  const session = await openSession({ config: args.config, memo: options.memo ?? !args.force, engine: args.engine, beforeExpand: options.beforeExpand });
  const graph = selectTasks(session, args.experiments, args.only);
  const plan = planGraph(graph, session.cache, { force: args.force });
  return { session, plan };
}

/** Tasks that an earlier `--executor slurm` submission still has queued or running say so. */
function markQueued(plan: Plan, cacheDir: string): void {
  if (jobFolders(cacheDir).length === 0 || !plan.entries.some((e) => e.state === 'will run')) return;
  let flying;
  try {
    flying = inFlight(cacheDir);
  } catch {
    return; // no Slurm client here: nothing can be queued from this machine's point of view
  }
  for (const e of plan.entries) {
    const f = e.state === 'will run' ? flying.get(e.task.key) : undefined;
    if (f) e.reason = `queued on Slurm as ${f.element} (${f.state}); ${e.reason}`;
  }
}

export function renderPlan(plan: Plan, all: boolean): string {
  const willRun = plan.entries.filter((e) => e.state === 'will run');
  const lines = [`expt plan: ${plan.entries.length} tasks — ${plan.entries.length - willRun.length} cached, ${willRun.length} will run`];
  const width = Math.max(0, ...plan.entries.map((e) => e.task.id.length));
  for (const e of plan.entries) {
    if (e.state === 'cached' && !all) continue;
    const same = e.task.aliases.length > 0 ? ` (also ${e.task.aliases.join(', ')})` : '';
    lines.push(`  ${e.state === 'cached' ? 'cached  ' : 'will run'}  ${e.task.id.padEnd(width)}  ${e.reason}${same}`);
  }
  if (willRun.length === 0) lines.push('  nothing to do: every result is cached');
  return lines.join('\n') + '\n';
}

export async function printPlan(args: PlanArgs): Promise<number> {
  const { session, plan } = await computePlan(args);
  markQueued(plan, session.cache.root);
  if (args.json) process.stdout.write(JSON.stringify(planJson(plan), null, 2) + '\n');
  else process.stdout.write(renderPlan(plan, args.all));
  return 0;
}

export async function runPlanCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        only: { type: 'string', multiple: true },
        force: { type: 'boolean' },
        all: { type: 'boolean' },
        json: { type: 'boolean' },
        config: { type: 'string' },
        ...ENGINE_ARGS,
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UserError(`plan: ${(error as Error).message} (see 'expt plan --help')`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(planUsage());
    return 0;
  }
  return printPlan({
    experiments: positionals,
    only: values.only ?? [],
    force: values.force === true,
    json: values.json === true,
    all: values.all === true,
    config: values.config,
    engine: engineOptions(values, 'plan'),
  });
}
