/**
 * Executes a plan: every task starts as soon as its dependencies are done,
 * at most `jobs` at a time (p-limit); kinds marked `worker` run on a pool of
 * worker threads. Each result is committed to the cache the moment it is
 * returned, so an interrupted run keeps everything that finished and the
 * next run resumes. A failed task's dependents are skipped; the rest go on.
 * Every state change is an event for a swappable logger.
 *
 * Several processes on one cache share the work: a task is claimed
 * (claims.ts) before it is computed, and a task another live process has
 * claimed is waited for — outside the job slots, so that this process
 * computes other tasks meanwhile — and taken from the cache when it lands;
 * if the holder dies or fails first, the task is claimed and computed here.
 *
 * A cache that refuses a write (read-only, full) stops the run: nothing
 * more would be kept. What finished stays; the error is one line.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { environmentError } from '../util/fs-errors.ts';
import type { Cache } from './cache.ts';
import type { Plan } from './plan.ts';
import { recordOf } from './plan.ts';
import { splitResultFiles, type DepResult, type RunRequest, type Task, type TaskKind } from './task.ts';
import type { ClaimHolder } from './claims.ts';
import type { KindRegistry } from './kinds.ts';
import { RemoteTaskError, WorkerPool, errorInfo } from './worker-pool.ts';

export type TaskState = 'started' | 'cached' | 'done' | 'failed' | 'skipped';

export interface TaskEvent {
  task: Task;
  state: TaskState;
  /** Why (failed: the error; skipped: the dependency; cached/started: the plan's reason). */
  reason?: string;
  durationMs?: number;
}

export interface RunSummary {
  ran: number;
  cached: number;
  failed: number;
  skipped: number;
  /** Tasks not finished because the run was interrupted. */
  interrupted: number;
  durationMs: number;
  failures: { id: string; reason: string }[];
}

export interface RunLogger {
  /** `where`: what runs the tasks when it is not this machine's threads (e.g. 'Slurm'). */
  begin(plan: Plan, options: { jobs: number; where?: string }): void;
  event(event: TaskEvent): void;
  end(summary: RunSummary): Promise<void> | void;
}

export interface RunOptions {
  cache: Cache;
  /** The kinds of the plan's tasks, loaded; its worker entry starts the pool's threads. */
  kinds: KindRegistry;
  jobs: number;
  logger: RunLogger;
  signal?: AbortSignal;
  /** Recompute even cached tasks. */
  force?: boolean;
}

type Outcome = { ok: true; result: unknown } | { ok: false; why: 'failed' | 'skipped' | 'interrupted' };

/** How often a task claimed by another process is looked for in the cache (ms, growing to the maximum). */
const WAIT_POLL_MS = [50, 100, 200, 400, 700, 1000] as const;

export async function runPlan(plan: Plan, options: RunOptions): Promise<RunSummary> {
  const { cache, kinds, logger } = options;
  const jobs = Math.max(1, Math.floor(options.jobs));
  const claims = cache.claims;
  // Fail before computing anything when the cache cannot take results (read-only, a file in the way).
  const toRun = plan.entries.some((e) => e.state === 'will run');
  const lease = `run-${process.pid}-${randomBytes(4).toString('hex')}`;
  if (toRun) {
    try {
      cache.probeWritable();
      // Claims of killed processes: no one computes those tasks any more.
      claims.removeDead();
      // While this run is on, clean and gc leave the cache alone.
      claims.tryClaim(lease);
    } catch (error) {
      throw environmentError(error, 'cache', cache.root) ?? error;
    }
  }
  // Stops the run: Ctrl+C (the caller's signal) or a cache that refuses writes.
  const stop = new AbortController();
  const signal = stop.signal;
  const onStop = () => stop.abort();
  if (options.signal?.aborted) stop.abort();
  options.signal?.addEventListener('abort', onStop, { once: true });
  let fatal: unknown;
  const limit = pLimit(jobs);
  const pool = new WorkerPool(jobs, kinds.workerEntry);
  const start = performance.now();
  const summary: RunSummary = { ran: 0, cached: 0, failed: 0, skipped: 0, interrupted: 0, durationMs: 0, failures: [] };
  const outcomes = new Map<string, Promise<Outcome>>();
  const results = new Map<string, unknown>();
  const remainingUsers = new Map<string, number>();
  for (const t of plan.graph.order) remainingUsers.set(t.id, plan.graph.dependents(t.id).length);
  // Queued tasks see the signal when their turn comes and return at once
  // (p-limit's clearQueue would leave their promises pending forever).
  const onAbort = () => void pool.terminate();
  signal.addEventListener('abort', onAbort, { once: true });
  logger.begin(plan, { jobs });

  const emit = (event: TaskEvent) => {
    try {
      logger.event(event);
    } catch {
      // a logger must not break the run
    }
  };

  const release = (task: Task) => {
    for (const d of Object.keys(task.depKeys)) {
      const n = (remainingUsers.get(d) ?? 1) - 1;
      remainingUsers.set(d, n);
      if (n <= 0) results.delete(d);
    }
  };

  const settle = async (task: Task): Promise<Outcome> => {
    const depIds = Object.keys(task.depKeys);
    const depOutcomes = await Promise.all(depIds.map((d) => outcomes.get(d)!));
    const badIndex = depOutcomes.findIndex((o) => !o.ok);
    if (badIndex >= 0) {
      const bad = depOutcomes[badIndex] as { ok: false; why: string };
      release(task);
      if (bad.why === 'interrupted' || signal?.aborted) {
        summary.interrupted++;
        return { ok: false, why: 'interrupted' };
      }
      summary.skipped++;
      emit({ task, state: 'skipped', reason: `dependency ${depIds[badIndex]} ${bad.why === 'failed' ? 'failed' : 'was skipped'}` });
      return { ok: false, why: 'skipped' };
    }
    if (signal.aborted) {
      summary.interrupted++;
      release(task);
      return { ok: false, why: 'interrupted' };
    }
    const fromCache = (reason: string): Outcome | undefined => {
      const hit = cache.get(task.kind, task.key);
      if (!hit.ok) return undefined;
      keepRecord(cache, task);
      if ((remainingUsers.get(task.id) ?? 0) > 0) results.set(task.id, hit.result);
      summary.cached++;
      emit({ task, state: 'cached', reason });
      release(task);
      return { ok: true, result: hit.result };
    };
    if (!options.force) {
      const cached = fromCache('up to date');
      if (cached) return cached;
    }
    const kind = kinds.get(task.kind);
    if (!kind) throw new Error(`no task kind '${task.kind}' loaded`);
    if (Object.values(task.inputs).some((i) => i.value === undefined)) throw new Error(`task ${task.id} has no input values (a graph from the expansion memo cannot run tasks)`);
    const request = runRequest(task, depIds.map((d) => ({ ...depOf(plan.graph.get(d)!), result: results.get(d) })));
    const claim = `${task.kind}-${task.key}`;
    /** Waits while another live process holds the claim; its result, or undefined to claim the task here. */
    const waitFor = async (holder: ClaimHolder): Promise<Outcome | undefined> => {
      for (let i = 0; ; i++) {
        try {
          await sleep(WAIT_POLL_MS[Math.min(i, WAIT_POLL_MS.length - 1)], undefined, { signal });
        } catch {
          // aborted: below
        }
        if (signal.aborted) {
          summary.interrupted++;
          release(task);
          return { ok: false, why: 'interrupted' };
        }
        // With --force an older entry is there all along: only the holder's end counts.
        if (!options.force) {
          const cached = fromCache(`computed by another expt process (pid ${holder.pid})`);
          if (cached) return cached;
        }
        if (claims.holder(claim) === undefined) {
          if (options.force) {
            const cached = fromCache(`computed by another expt process (pid ${holder.pid})`);
            if (cached) return cached;
          }
          return undefined;
        }
      }
    };
    for (;;) {
      const step = await limit(async (): Promise<Outcome | { wait: ClaimHolder }> => {
        if (signal.aborted) {
          summary.interrupted++;
          release(task);
          return { ok: false, why: 'interrupted' };
        }
        let mine: true | ClaimHolder;
        try {
          mine = claims.tryClaim(claim);
        } catch (error) {
          return stopOn(error, task);
        }
        if (mine !== true) return { wait: mine };
        try {
          // Another process may have stored it between our look and our claim.
          if (!options.force) {
            const cached = fromCache('up to date');
            if (cached) return cached;
          }
          return await compute(task, request, kind);
        } finally {
          claims.release(claim);
        }
      });
      if (!('wait' in step)) return step;
      const waited = await waitFor(step.wait);
      if (waited) return waited;
    }
  };

  /** A cache that refuses a write: stop the run (what finished stays), report it once. */
  const stopOn = (error: unknown, task: Task): Outcome => {
    fatal ??= environmentError(error, 'cache', cache.root) ?? error;
    stop.abort();
    summary.interrupted++;
    release(task);
    return { ok: false, why: 'interrupted' };
  };

  const compute = async (task: Task, request: RunRequest, kind: TaskKind): Promise<Outcome> => {
    emit({ task, state: 'started', reason: plan.byId.get(task.id)?.reason });
    const startedAt = new Date();
    const t0 = performance.now();
    let result: unknown;
    let files: Record<string, string> | undefined;
    const failed = (reason: string): Outcome => {
      summary.failed++;
      summary.failures.push({ id: task.id, reason });
      emit({ task, state: 'failed', reason, durationMs: performance.now() - t0 });
      return { ok: false, why: 'failed' };
    };
    try {
      result = kind.worker ? await pool.run(request) : await kind.run(request);
      ({ result, files } = splitResultFiles(result));
      // What dependents see is what the cache holds.
      result = JSON.parse(JSON.stringify(result ?? null));
    } catch (error) {
      release(task);
      if (signal.aborted) {
        summary.interrupted++;
        return { ok: false, why: 'interrupted' };
      }
      const info = error instanceof RemoteTaskError ? error.info : errorInfo(error);
      return failed(info.expected ? info.message : `${info.name}: ${info.message}${info.stack ? `\n${info.stack}` : ''}`);
    }
    // A result the reports could not read would be "cached" and then a miss on every run.
    const problem = cache.validate?.(task.kind, result);
    if (problem !== undefined) {
      release(task);
      return failed(`the ${task.kind} task returned a result of the wrong shape (${problem}): a bug in expt`);
    }
    const durationMs = performance.now() - t0;
    try {
      commitResult(cache, task, result, { files, startedAt, durationMs, replace: options.force === true });
    } catch (error) {
      return stopOn(error, task);
    }
    if ((remainingUsers.get(task.id) ?? 0) > 0) results.set(task.id, result);
    summary.ran++;
    emit({ task, state: 'done', durationMs });
    release(task);
    return { ok: true, result };
  };

  try {
    for (const task of plan.graph.order) outcomes.set(task.id, settle(task));
    await Promise.all(outcomes.values());
  } finally {
    signal.removeEventListener('abort', onAbort);
    options.signal?.removeEventListener('abort', onStop);
    await pool.terminate();
    claims.release(lease);
  }
  summary.durationMs = performance.now() - start;
  await logger.end(summary);
  if (fatal !== undefined) throw fatal;
  return summary;
}

/** What a dependency tells a task's `run`, without its result. */
export function depOf(dep: Task): Omit<DepResult, 'result'> {
  return { id: dep.id, aliases: dep.aliases, kind: dep.kind, key: dep.key, meta: dep.meta, cells: dep.cells };
}

/** What a task kind's `run` gets: the task's input values and its dependencies' results. */
export function runRequest(task: Task, deps: DepResult[]): RunRequest {
  return {
    id: task.id,
    kind: task.kind,
    key: task.key,
    meta: task.meta,
    cells: task.cells,
    inputs: Object.fromEntries(Object.entries(task.inputs).map(([name, input]) => [name, input.value])),
    deps,
  };
}

/**
 * Commits a computed result to the cache with its manifest, and points the
 * task's ids at it: the one way a result enters the cache, whether it was
 * computed here or by a Slurm array element.
 */
export function commitResult(cache: Cache, task: Task, result: unknown, run: { files?: Record<string, string>; startedAt: Date; durationMs: number; replace?: boolean }): void {
  cache.put(
    {
      kind: task.kind,
      key: task.key,
      task: task.id,
      engine: task.engine,
      inputs: task.inputHashes,
      deps: task.depKeys,
      startedAt: run.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      durationMs: Math.round(run.durationMs),
    },
    result,
    { replace: run.replace === true, files: run.files },
  );
  keepRecord(cache, task);
}

/**
 * Points the task id (and its aliases) at the current key, unless they
 * already are. The records only explain plans: a cache that refuses the
 * write (read-only, everything cached) does not fail the run for them.
 */
export function keepRecord(cache: Cache, task: Task): void {
  for (const id of [task.id, ...task.aliases]) {
    const rec = cache.readRecord(id);
    if (rec && rec.key === task.key) continue;
    try {
      cache.writeRecord({ ...recordOf(task), id });
    } catch (error) {
      if (environmentError(error, 'cache') === undefined) throw error;
    }
  }
}
