/**
 * `expt run [experiment...] [--only f=v,...] [-j N] [--force] [--json]
 * [--dry-run]`: plan, execute what is not cached (in parallel, on worker
 * threads), then write the reports from the cache.
 *
 * Exit codes: 0 all done, 1 a task failed (its dependents are skipped, the
 * rest completes) or an unfused cell has no valid mapping, 2 bad config or
 * arguments, 130 interrupted (Ctrl+C; the results that finished are kept,
 * the next run resumes). Fused cells without a valid mapping are expected
 * (some fusion levels leave none): counted, listed in the reports, exit 0.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { infeasibleTasks } from '../pipeline/infeasible.ts';
import { ListrLogger, PlainLogger } from '../build/loggers.ts';
import { runPlan, type RunLogger } from '../build/scheduler.ts';
import { writeReports } from '../report/write.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cache } from '../build/cache.ts';
import type { ClaimHolder } from '../build/claims.ts';
import type { EngineOverrides } from '../pipeline/expand.ts';
import { canonicalJson, sha256 } from '../build/hash.ts';
import type { SessionOptions } from '../pipeline/session.ts';
import { UserError } from '../util/errors.ts';
import { capJobs } from '../util/jobs.ts';
import { onBrokenPipe } from '../util/pipe.ts';
import { computePlan, ENGINE_ARGS, ENGINE_USAGE, engineOptions, printPlan } from './plan.ts';
import { EXECUTOR_KINDS, experimentExecutor, resolveExecutor, type ExecutorKind, type SlurmSettings } from '../slurm/settings.ts';
import { selectExperiments } from '../pipeline/config.ts';
import type { Task } from '../build/task.ts';
import { runPlanOnSlurm } from '../slurm/run.ts';

export const EXIT_FAILED = 1;
export const EXIT_INTERRUPTED = 130;

export function runUsage(): string {
  return [
    'Usage: expt run [experiment...] [options]',
    '',
    'Runs the experiments of experiments.config.ts (default: all, or the',
    "config's `default` list): tasks whose results are cached are skipped, the",
    'others run in parallel; then reports/ is written from the cache.',
    '',
    'Options:',
    '  --only F=V[,F=V]   only tasks whose cell matches, and what they depend on',
    '                     (fields: experiment, model, layer, arch, hw (the',
    '                     architecture a task runs on), fusion, variant, kind,',
    "                     id; 'a|b' = either); repeat for a union",
    '  -j, --jobs N       tasks at a time (default: the number of cores; at most 4 ×',
    '                     the cores). Runs on one cache share work: a task another',
    '                     expt process is computing is waited for, not recomputed',
    '  --executor local|slurm  where tasks run (default: the config\'s `executor`,',
    '                     else local); slurm submits job arrays (docs/slurm.md)',
    '  --detach           (slurm) return after submitting; a later expt run collects',
    '  --force            recompute even cached results',
    ...ENGINE_USAGE,
    '  --dry-run          print the plan (as expt plan) and run nothing',
    '  --json             print a summary object {ran, cached, failed, skipped, ...}',
    '                     on stdout (progress goes to stderr)',
    '  --no-report        do not write reports/',
    '  --verbose          list cached tasks too (plain output)',
    '  --config FILE      the experiments config',
    '  -h, --help         show this help',
    '',
    'Fused cells with no valid mapping (some fusion levels leave none) are results:',
    'the reports list them with the reason. An unfused cell with no valid mapping',
    'is an error (exit 1).',
    '',
    'Exit codes: 0 done, 1 a task failed or an unfused cell is infeasible,',
    '2 bad config or arguments, 130 interrupted.',
    '',
  ].join('\n');
}

export async function runRun(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        only: { type: 'string', multiple: true },
        jobs: { type: 'string', short: 'j' },
        executor: { type: 'string' },
        detach: { type: 'boolean' },
        force: { type: 'boolean' },
        'dry-run': { type: 'boolean', short: 'n' },
        json: { type: 'boolean' },
        'no-report': { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        config: { type: 'string' },
        ...ENGINE_ARGS,
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UserError(`run: ${(error as Error).message} (see 'expt run --help')`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(runUsage());
    return 0;
  }
  const args = { experiments: positionals, only: values.only ?? [], force: values.force === true, config: values.config, engine: engineOptions(values, 'run') };
  if (values['dry-run']) return printPlan({ ...args, json: values.json === true, all: values.verbose === true });
  let jobs = values.jobs !== undefined ? Number(values.jobs) : Math.max(1, availableParallelism());
  if (!Number.isInteger(jobs) || jobs < 1) throw new UserError(`run: --jobs expects a positive whole number, got '${values.jobs}'`);
  jobs = capJobs(jobs, 'run');

  if (values.executor !== undefined && !(EXECUTOR_KINDS as readonly string[]).includes(values.executor)) {
    throw new UserError(`run: --executor expects ${EXECUTOR_KINDS.join(' or ')}, got '${values.executor}'`);
  }
  // A run of the same experiments on the same cache already going: wait for it and use its results.
  const same = sameRunLeader(args);
  try {
    return await runWith(args, values, jobs, same.beforeExpand);
  } finally {
    same.release();
  }
}

/**
 * Several `expt run` of the same experiments started together on one cache
 * (a CI matrix, two terminals) would each expand the config and start their
 * own workers, only to wait for each other's tasks. The first takes a lease
 * on (config fingerprint, selection) before expanding; the others wait for
 * it to end — a dead holder's lease counts as ended — and then find
 * everything in the cache (and the expansion in the memo). Runs of
 * different experiments still share single tasks (scheduler.ts); --force
 * runs do not wait here (they recompute by definition).
 */
function sameRunLeader(args: { experiments: string[]; only: string[]; force: boolean; engine: EngineOverrides }) {
  let held: { cache: Cache; name: string } | undefined;
  const beforeExpand = async (fingerprint: string, cache: Cache): Promise<void> => {
    if (args.force) return;
    const name = `session-${sha256(canonicalJson({ fingerprint, experiments: args.experiments, only: args.only })).slice(0, 32)}`;
    let mine: true | ClaimHolder;
    try {
      cache.ensureWritable();
      mine = cache.claims.tryClaim(name);
    } catch {
      return; // a read-only cache: no lease, and nothing to wait for either
    }
    if (mine === true) {
      held = { cache, name };
      return;
    }
    process.stderr.write(`expt run: another expt run (pid ${mine.pid}) is running the same experiments on this cache: waiting for it, then using its results\n`);
    for (let i = 0; cache.claims.holder(name) !== undefined; i++) await sleep(Math.min(1000, 100 * 2 ** i));
  };
  return { beforeExpand, release: () => held?.cache.claims.release(held.name) };
}

async function runWith(
  args: { experiments: string[]; only: string[]; force: boolean; config?: string; engine: EngineOverrides },
  values: { json?: boolean; verbose?: boolean; 'no-report'?: boolean; executor?: string; detach?: boolean },
  jobs: number,
  beforeExpand: SessionOptions['beforeExpand'],
): Promise<number> {
  let { session, plan } = await computePlan(args, { beforeExpand });
  const config = session.loaded.config;
  const selected = selectExperiments(session.loaded, args.experiments);
  const executor = resolveExecutor(new Map(selected.map((n) => [n, experimentExecutor(config.executor, config.experiments[n]?.executor)])), values.executor as ExecutorKind | undefined);
  if ('conflict' in executor) {
    const [a, ak, b, bk] = executor.conflict;
    throw new UserError(`experiment '${a}' runs on ${ak} and '${b}' on ${bk}: run them separately, or choose one with --executor local|slurm`, session.loaded.displayFile, `experiments.${b}.executor`);
  }
  if (values.detach && executor.kind !== 'slurm') throw new UserError('run: --detach applies to --executor slurm only');
  // A task shared by experiments takes the settings of the first selected one it belongs to.
  const settingsOf = (task: Task): SlurmSettings => {
    const name = task.cells.map((c) => String(c.experiment)).find((n) => executor.slurm.has(n));
    return (name !== undefined ? executor.slurm.get(name) : undefined) ?? experimentExecutor(config.executor, undefined).slurm;
  };
  // Running needs the input values, which a graph from the expansion memo does not have.
  if (session.partial && plan.entries.some((e) => e.state === 'will run')) ({ session, plan } = await computePlan(args, { memo: false }));
  const tty = process.stdout.isTTY === true && process.env['CI'] === undefined && process.env['TERM'] !== 'dumb';
  // Progress display on a terminal when there is something to run (a no-op rerun prints its summary lines).
  const toRun = plan.entries.some((e) => e.state === 'will run');
  const logger: RunLogger = values.json
    ? new PlainLogger(process.stderr, { verbose: values.verbose })
    : tty && toRun
      ? await ListrLogger.create()
      : new PlainLogger(process.stdout, { verbose: values.verbose });

  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  // `expt run | head`: the reader is gone; stop as Ctrl+C does (what finished stays cached).
  const unhookPipe = onBrokenPipe(() => controller.abort());
  let summary;
  let slurmPending: string[] | undefined;
  try {
    if (executor.kind === 'slurm') {
      const out = await runPlanOnSlurm(plan, {
        cache: session.cache,
        logger,
        settings: settingsOf,
        throttle: Math.max(0, ...[...executor.slurm.values()].map((s) => s.throttle ?? 0)) || undefined,
        root: session.loaded.root,
        force: args.force,
        detach: values.detach === true,
        signal: controller.signal,
        pollMs: process.env['EXPT_SLURM_POLL_MS'] ? Number(process.env['EXPT_SLURM_POLL_MS']) : undefined,
        onSubmitted: ({ dir, jobIds, joined }) => {
          const err = values.json ? process.stderr : process.stdout;
          if (jobIds.length > 0) err.write(`expt run: submitted Slurm job${jobIds.length === 1 ? '' : 's'} ${jobIds.join(', ')} (one array per dependency wave; job folder ${relativeToCwd(dir!)})\n`);
          if (joined > 0) err.write(`expt run: ${joined} task${joined === 1 ? ' is' : 's are'} already queued by an earlier submission: waiting for ${joined === 1 ? 'it' : 'them'}, not resubmitting\n`);
        },
      });
      summary = out.summary;
      if (out.pending) slurmPending = out.jobIds;
    } else {
      summary = await runPlan(plan, { cache: session.cache, kinds: session.kinds, jobs, logger, signal: controller.signal, force: args.force });
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    unhookPipe();
  }
  if (slurmPending !== undefined) {
    // Detached, or Ctrl+C while waiting: the jobs go on; nothing is cancelled.
    const ids = slurmPending.length > 0 ? slurmPending.join(' ') : '<job ids: see squeue --me>';
    process.stderr.write(
      `expt run: the Slurm jobs keep running (${ids}). To collect their results and write the reports, run the same command again (tasks still queued are not resubmitted); 'expt plan' lists them. To cancel: scancel ${ids}\n`,
    );
    if (values.json) process.stdout.write(JSON.stringify({ submitted: slurmPending, ran: summary.ran, cached: summary.cached, failed: summary.failed, skipped: summary.skipped, pending: summary.interrupted }) + '\n');
    return controller.signal.aborted ? EXIT_INTERRUPTED : 0;
  }
  const interrupted = controller.signal.aborted;
  let reports: string[] = [];
  if (!interrupted && !values['no-report']) {
    reports = writeReports(session.loaded, session.expansion, session.graph, session.cache).files;
  }
  const err = values.json ? process.stderr : process.stdout;
  const infeasible = interrupted ? [] : infeasibleTasks(plan.graph, session.cache);
  const expected = infeasible.filter((i) => i.expected);
  const unexpected = infeasible.filter((i) => !i.expected);
  const fusedOnes = expected.filter((i) => i.why === 'fused');
  const studyOnes = expected.filter((i) => i.why !== 'fused');
  if (fusedOnes.length > 0) {
    err.write(`${fusedOnes.length} fused task${fusedOnes.length === 1 ? ' has' : 's have'} no valid mapping (expected at some fusion levels; the reports give the reasons)\n`);
  }
  if (studyOnes.length > 0) {
    err.write(`${studyOnes.length} HW-DSE / cross-architecture task${studyOnes.length === 1 ? ' has' : 's have'} no valid mapping (a result of the study: its configs are ∞, its cells N/A; the reports give the reasons)\n`);
  }
  for (const u of unexpected) process.stderr.write(`expt run: ${u.id} has no valid mapping: ${u.reason}\n`);
  if (interrupted) {
    process.stderr.write(`expt run: interrupted; ${summary.ran} new result${summary.ran === 1 ? '' : 's'} kept in the cache. Run the same command again to resume.\n`);
  } else if (reports.length > 0) {
    err.write(`reports: ${reports.map((f) => relativeToCwd(f)).join(', ')}\n`);
  }
  if (values.json) {
    const { ran, cached, failed, skipped } = summary;
    const json = {
      ran,
      cached,
      failed,
      skipped,
      interrupted: summary.interrupted,
      durationMs: Math.round(summary.durationMs),
      failures: summary.failures.map((f) => ({ id: f.id, reason: f.reason.split('\n')[0] })),
      infeasible: { expected: expected.length, unexpected: unexpected.map(({ id, reason }) => ({ id, reason })) },
      reports: reports.map(relativeToCwd),
    };
    process.stdout.write(JSON.stringify(json) + '\n');
  }
  if (interrupted) return EXIT_INTERRUPTED;
  return summary.failed > 0 || unexpected.length > 0 ? EXIT_FAILED : 0;
}

function relativeToCwd(file: string): string {
  const cwd = process.cwd() + '/';
  return file.startsWith(cwd) ? file.slice(cwd.length) : file;
}
