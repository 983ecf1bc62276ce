/**
 * `expt run --executor slurm`: the tasks a local run would compute are
 * written to a job folder under the cache and submitted as one job array per
 * dependency wave (a wave waits for the previous one with `afterany`, so a
 * failed element does not hold back the others; its dependents find no result
 * and report themselves skipped). The CLI then waits, turning the elements'
 * status files and squeue into the same events a local run emits, or returns
 * at once (`detach`). A task already queued by an earlier submission that is
 * still pending or running is not submitted again: the run waits for it.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cache } from '../build/cache.ts';
import type { Plan } from '../build/plan.ts';
import { depOf, type RunLogger, type RunSummary, type TaskEvent } from '../build/scheduler.ts';
import type { Task } from '../build/task.ts';
import { elementInfo, maxArraySize, queuedElements, sbatch } from './cluster.ts';
import {
  createJobFolder,
  elementsOf,
  JOB_FORMAT,
  jobFolders,
  readJobFile,
  readStatus,
  readTaskLines,
  writeAtomic,
  encodeTaskLine,
  type JobFile,
  type TaskLine,
  type JobArray,
} from './job-folder.ts';
import type { SlurmSettings } from './settings.ts';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const BIN = fileURLToPath(new URL('../../bin/expt.js', import.meta.url));

/** A task of an earlier submission that is still queued or running. */
export interface InFlight {
  dir: string;
  index: number;
  element: string;
  state: string;
}

/**
 * Tasks (by key) of earlier submissions whose element is still pending or
 * running and that have no final status yet. Submissions with nothing left in
 * the queue are history, not claims: a cancelled or failed element's tasks
 * are submitted again by the next run.
 */
export function inFlight(cacheDir: string, queued?: Map<string, { state: string }>): Map<string, InFlight> {
  const out = new Map<string, InFlight>();
  const dirs = jobFolders(cacheDir);
  if (dirs.length === 0) return out;
  const q = queued ?? queuedElements();
  for (const dir of dirs) {
    const job = readJobFile(dir);
    if (!job || !job.arrays.some((a) => [...q.keys()].some((id) => id.startsWith(`${a.jobId}_`)))) continue;
    const elementOf = elementsOf(job);
    for (const line of readTaskLines(dir)) {
      const element = elementOf.get(line.index);
      if (element === undefined || readStatus(dir, line.index)) continue;
      const state = q.get(element)?.state;
      if (state !== undefined) out.set(line.task.key, { dir, index: line.index, element, state });
    }
  }
  return out;
}

/**
 * Removes the folders of submissions that Slurm no longer lists (every
 * array finished, failed or was cancelled): their results are in the cache,
 * their logs are history. Without a Slurm client nothing is removed, since a
 * submission's state cannot be known. Returns the folders removed.
 */
export function removeFinishedSubmissions(cacheDir: string): string[] {
  const dirs = jobFolders(cacheDir);
  if (dirs.length === 0) return [];
  let queued: Map<string, { state: string }>;
  try {
    queued = queuedElements();
  } catch {
    return [];
  }
  const live = (job: JobFile) => job.arrays.some((a) => [...queued.keys()].some((id) => id.startsWith(`${a.jobId}_`)));
  const removed: string[] = [];
  for (const dir of dirs) {
    const job = readJobFile(dir);
    // A folder without a readable job.json is a submission cut short before its first sbatch.
    if (job && live(job)) continue;
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

export interface SlurmRunOptions {
  cache: Cache;
  logger: RunLogger;
  /** The Slurm settings of a task (its experiment's over the config's). */
  settings(task: Task): SlurmSettings;
  /** At most this many elements run at once (the throttle), for the progress estimate. */
  throttle?: number;
  /** The project folder: elements start there. */
  root: string;
  force?: boolean;
  detach?: boolean;
  signal?: AbortSignal;
  /** How often to look at the queue while waiting (ms). */
  pollMs?: number;
  /** Told once the jobs are submitted (ids of new arrays, tasks joined from earlier ones). */
  onSubmitted?(info: { dir: string | undefined; jobIds: string[]; joined: number }): void;
}

export interface SlurmRunResult {
  summary: RunSummary;
  /** The array job ids this run submitted. */
  jobIds: string[];
  /** Set when the run returned before the jobs finished (detach, Ctrl+C). */
  pending: boolean;
}

/**
 * The submission of `tasks` (in graph order): one array per dependency wave
 * and Slurm settings; an array of wave k+1 starts after every array of wave k
 * has ended (afterany), whatever their outcome.
 */
function submit(tasks: Task[], plan: Plan, options: SlurmRunOptions): { dir: string; job: JobFile } {
  const dir = createJobFolder(options.cache.root);
  const waveOf = new Map<string, number>();
  const lines: TaskLine[] = tasks.map((task, index) => {
    const wave = Math.max(-1, ...Object.keys(task.depKeys).map((d) => waveOf.get(d) ?? -1)) + 1;
    waveOf.set(task.id, wave);
    return { index, wave, task, deps: Object.keys(task.depKeys).map((d) => depOf(plan.graph.get(d)!)) };
  });
  writeFileSync(join(dir, 'tasks.jsonl'), lines.map(encodeTaskLine).join('\n') + '\n');
  const maxArray = maxArraySize();
  const job: JobFile = { format: JOB_FORMAT, createdAt: new Date().toISOString(), cacheDir: resolve(options.cache.root), arrays: [] };
  const waves = Math.max(0, ...lines.map((l) => l.wave + 1));
  for (let w = 0; w < waves; w++) {
    const groups = new Map<string, { settings: SlurmSettings; indices: number[] }>();
    for (const l of lines.filter((l) => l.wave === w)) {
      const settings = options.settings(l.task);
      const g = groups.get(JSON.stringify(settings)) ?? { settings, indices: [] };
      g.indices.push(l.index);
      groups.set(JSON.stringify(settings), g);
    }
    const previous = job.arrays.filter((a) => a.wave === w - 1).map((a) => a.jobId);
    for (const { settings: s, indices } of groups.values()) {
      const a = job.arrays.length;
      const command = s.command ?? `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)}`;
      // Arrays may not exceed MaxArraySize elements: pack more tasks into each element instead.
      const perElement = Math.max(s.tasksPerElement ?? 1, Math.ceil(indices.length / maxArray));
      const elements = Math.ceil(indices.length / perElement);
      const script = join(dir, `array-${a}.sh`);
      writeFileSync(
        script,
        [
          '#!/bin/bash',
          `# expt: array ${a}, dependency wave ${w} of ${waves}, ${indices.length} tasks, ${perElement} per element`,
          `exec ${command} _slurm-element ${JSON.stringify(dir)} ${a} "$SLURM_ARRAY_TASK_ID"`,
          '',
        ].join('\n'),
      );
      const args = [
        `--array=0-${elements - 1}${s.throttle !== undefined ? `%${s.throttle}` : ''}`,
        `--job-name=expt-w${w}`,
        `--output=${join(dir, 'slurm', '%A_%a.out')}`,
        `--error=${join(dir, 'slurm', '%A_%a.err')}`,
        `--chdir=${options.root}`,
        `--cpus-per-task=${s.cpusPerTask ?? 1}`,
        ...(s.partition ? [`--partition=${s.partition}`] : []),
        ...(s.account ? [`--account=${s.account}`] : []),
        ...(s.time ? [`--time=${s.time}`] : []),
        ...(s.mem ? [`--mem=${s.mem}`] : []),
        ...(previous.length > 0 ? [`--dependency=afterany:${previous.join(':')}`] : []),
        ...(s.sbatchArgs ?? []),
      ];
      const array: JobArray = { wave: w, jobId: sbatch(args, script), tasks: indices, tasksPerElement: perElement, settings: s };
      job.arrays.push(array);
      // Written after every array: a submission cut short still names the jobs it started.
      writeAtomic(join(dir, 'job.json'), JSON.stringify(job, null, 1) + '\n');
    }
  }
  return { dir, job };
}

interface Watched {
  task: Task;
  dir: string;
  index: number;
  element: string;
}

/** Runs the plan's tasks that must run on Slurm; see the module comment. */
export async function runPlanOnSlurm(plan: Plan, options: SlurmRunOptions): Promise<SlurmRunResult> {
  const { cache, logger } = options;
  const start = performance.now();
  const summary: RunSummary = { ran: 0, cached: 0, failed: 0, skipped: 0, interrupted: 0, durationMs: 0, failures: [] };
  // The cluster decides how many elements run at once; the throttle bounds it.
  logger.begin(plan, { jobs: options.throttle ?? plan.entries.length, where: 'Slurm' });
  const emit = (event: TaskEvent) => {
    try {
      logger.event(event);
    } catch {
      // a logger must not break the run
    }
  };
  const toRun: Task[] = [];
  for (const task of plan.graph.order) {
    if (!options.force && cache.get(task.kind, task.key).ok) {
      summary.cached++;
      emit({ task, state: 'cached', reason: 'up to date' });
    } else toRun.push(task);
  }
  const queued = toRun.length > 0 ? queuedElements() : new Map();
  const flying = toRun.length > 0 && !options.force ? inFlight(cache.root, queued) : new Map<string, InFlight>();
  const fresh = toRun.filter((t) => !flying.has(t.key));
  const watched: Watched[] = toRun.filter((t) => flying.has(t.key)).map((task) => ({ task, ...flying.get(task.key)! }));
  let jobIds: string[] = [];
  let dir: string | undefined;
  if (fresh.length > 0) {
    const sub = submit(fresh, plan, options);
    dir = sub.dir;
    jobIds = sub.job.arrays.map((a) => a.jobId);
    for (const [index, element] of elementsOf(sub.job)) watched.push({ task: fresh[index], dir: sub.dir, index, element });
  }
  options.onSubmitted?.({ dir, jobIds, joined: toRun.length - fresh.length });
  if (options.detach || watched.length === 0) {
    summary.interrupted = watched.length;
    summary.durationMs = performance.now() - start;
    await logger.end(summary);
    return { summary, jobIds, pending: watched.length > 0 };
  }
  const pending = new Set(watched);
  const started = new Set<Watched>();
  // squeue is the controller's load: every few seconds is enough for a progress display.
  const pollMs = options.pollMs ?? 5000;
  const finish = (w: Watched, state: 'done' | 'failed' | 'skipped', reason: string | undefined, durationMs?: number) => {
    pending.delete(w);
    if (state === 'done') summary.ran++;
    else if (state === 'skipped') summary.skipped++;
    else {
      summary.failed++;
      summary.failures.push({ id: w.task.id, reason: reason ?? 'failed' });
    }
    emit({ task: w.task, state, reason, durationMs });
  };
  while (pending.size > 0 && !options.signal?.aborted) {
    const q = queuedElements();
    for (const w of [...pending]) {
      const status = readStatus(w.dir, w.index);
      if (status) {
        if (status.state === 'done' && !cache.get(w.task.kind, w.task.key).ok) finish(w, 'failed', 'the element reported a result the cache does not hold (was the cache folder shared with the compute nodes?)');
        else finish(w, status.state, status.reason, status.durationMs);
        continue;
      }
      const inQueue = q.get(w.element);
      if (inQueue?.state === 'RUNNING' && !started.has(w)) {
        started.add(w);
        emit({ task: w.task, state: 'started', reason: `Slurm ${w.element}` });
      }
      // Gone from the queue without a status (squeue ran before the status was read, and an element
      // writes its status before it exits): the element died (time limit, memory, node, scancel).
      if (inQueue === undefined) {
        if (cache.get(w.task.kind, w.task.key).ok) finish(w, 'done', undefined);
        else finish(w, 'failed', elementFailure(w));
      }
    }
    if (pending.size > 0) await sleep(pollMs, options.signal);
  }
  summary.interrupted = pending.size;
  summary.durationMs = performance.now() - start;
  await logger.end(summary);
  return { summary, jobIds, pending: pending.size > 0 };
}

/** Why an element ended without writing a status: Slurm's state and reason, and its stderr's last lines. */
function elementFailure(w: Watched): string {
  const info = elementInfo(w.element);
  const err = join(w.dir, 'slurm', `${w.element}.err`);
  const tail = existsSync(err) ? readFileSync(err, 'utf8').trimEnd().split('\n').slice(-5).join(' | ') : '';
  const what = info ? `Slurm ${w.element} ended ${info.state}${info.reason && info.reason !== 'None' ? ` (${info.reason})` : ''}, exit ${info.exitCode}` : `Slurm ${w.element} left the queue`;
  return `${what}${tail ? `; stderr: ${tail}` : ''}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((res) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      res();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
