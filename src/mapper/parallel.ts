/**
 * Runs a search on several worker threads. The work is cut into the same
 * independent parts the sequential search visits (local-search restarts, or
 * exhaustive (keep choice, first split) pairs), dealt round-robin to the
 * workers, and merged by `mergeResults`: the result does not depend on the
 * number of threads. Each worker receives the job itself (problem,
 * architecture, ERT, constraints, settings) as data, so that it searches
 * exactly the map space the caller prepared, whatever files it came from.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { SearchResult } from './search.ts';
import { mergeResults } from './search.ts';
import type { MapJob } from './settings.ts';

/** Which share of the parts a worker searches. */
export interface SearchShare {
  readonly worker: number;
  readonly workers: number;
}

/** What a search worker receives. */
export interface SearchWorkerData extends SearchShare {
  readonly job: MapJob;
}

export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

export async function parallelSearch(job: MapJob, jobs: number): Promise<SearchResult> {
  const parts = await Promise.all(
    Array.from({ length: jobs }, (_, worker) => {
      return new Promise<SearchResult>((resolve, reject) => {
        // The .mjs bootstrap loads search-worker.ts, from its process's bundle or through tsx.
        const w = new Worker(new URL('./search-worker.mjs', import.meta.url), {
          workerData: { job, worker, workers: jobs } satisfies SearchWorkerData,
        });
        w.once('message', (m: SearchResult) => resolve(m));
        w.once('error', reject);
        w.once('exit', (code) => {
          if (code !== 0) reject(new Error(`search worker ${worker} exited with code ${code}`));
        });
      });
    }),
  );
  return mergeResults(job.settings.metrics, parts);
}
