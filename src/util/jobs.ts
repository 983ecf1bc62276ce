/**
 * `-j N` beyond a few times the cores buys nothing (the tasks are CPU-bound)
 * and costs memory: every job is a worker thread with its own heap (`-j
 * 1000` once peaked at 3.3 GB and ran 4× slower). Larger values are capped,
 * with a note.
 */
import { availableParallelism } from 'node:os';

export const JOBS_PER_CORE = 4;

/** `jobs`, or the cap (4 × cores) with a note on stderr when it is above it. */
export function capJobs(jobs: number, command: string): number {
  const cores = Math.max(1, availableParallelism());
  const cap = JOBS_PER_CORE * cores;
  if (jobs <= cap) return jobs;
  process.stderr.write(`expt ${command}: note: -j ${jobs} capped at ${cap} (${JOBS_PER_CORE} × ${cores} core${cores === 1 ? '' : 's'}): more jobs only add memory and contention\n`);
  return cap;
}
