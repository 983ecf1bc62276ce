/**
 * One Slurm array element: runs its chunk of a wave's tasks and commits each
 * result to the cache exactly as a local run does (same kinds, same atomic
 * entry, same records). It plans nothing: the keys were computed at
 * submission, and a task whose engine no longer matches (expt's code or the
 * Timeloop build changed since) fails instead of caching a result under a key
 * that does not describe it.
 */
import { Cache } from '../build/cache.ts';
import type { KindRegistry } from '../build/kinds.ts';
import { commitResult, runRequest } from '../build/scheduler.ts';
import { splitResultFiles, type DepResult } from '../build/task.ts';
import { errorInfo } from '../build/worker-pool.ts';
import { UserError } from '../util/errors.ts';
import { readJobFile, readTaskLines, statusFile, writeAtomic, type TaskStatus } from './job-folder.ts';

/** Runs element `element` of job array `array` with the submitting run's kinds; the exit code is 1 when one of its tasks failed. */
export async function runElement(dir: string, array: number, element: number, kinds: KindRegistry): Promise<number> {
  const job = readJobFile(dir);
  if (!job) throw new UserError(`not an expt Slurm job folder (no readable job.json)`, dir);
  const w = job.arrays[array];
  if (!w) throw new UserError(`the job has no array ${array}`, dir);
  const lines = new Map(readTaskLines(dir).map((l) => [l.index, l]));
  const mine = w.tasks.slice(element * w.tasksPerElement, (element + 1) * w.tasksPerElement);
  const cache = new Cache(job.cacheDir);
  let failed = 0;
  for (const index of mine) {
    const { task, deps } = lines.get(index)!;
    const write = (status: TaskStatus) => writeAtomic(statusFile(dir, index), JSON.stringify(status) + '\n');
    if (cache.get(task.kind, task.key).ok) {
      write({ id: task.id, state: 'done', reason: 'already in the cache' });
      continue;
    }
    const results: DepResult[] = [];
    const missing = deps.find((d) => {
      const hit = cache.get(d.kind, d.key);
      if (hit.ok) results.push({ ...d, result: hit.result });
      return !hit.ok;
    });
    if (missing) {
      write({ id: task.id, state: 'skipped', reason: `dependency ${missing.id} has no result` });
      continue;
    }
    const t0 = performance.now();
    const startedAt = new Date();
    try {
      const kind = await kinds.load(task.kind);
      const engine = kind.engine(task.variant);
      if (JSON.stringify(engine) !== JSON.stringify(task.engine)) {
        throw new UserError(`the engine changed since submission (${engine.id} ${engine.version}, submitted for ${task.engine.id} ${task.engine.version}): run expt run again to resubmit`);
      }
      const out = splitResultFiles(await kind.run(runRequest(task, results)));
      const result: unknown = JSON.parse(JSON.stringify(out.result ?? null));
      const durationMs = performance.now() - t0;
      commitResult(cache, task, result, { files: out.files, startedAt, durationMs });
      write({ id: task.id, state: 'done', durationMs: Math.round(durationMs) });
    } catch (error) {
      const info = errorInfo(error);
      const reason = info.expected ? info.message : `${info.name}: ${info.message}`;
      if (!info.expected && info.stack) process.stderr.write(`${task.id}: ${info.stack}\n`);
      write({ id: task.id, state: 'failed', reason, durationMs: Math.round(performance.now() - t0) });
      failed++;
    }
  }
  return failed > 0 ? 1 : 0;
}
