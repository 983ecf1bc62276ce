/**
 * Runs a search on several worker threads. The work is cut into the same
 * independent parts the sequential search visits (local-search restarts, or
 * exhaustive (keep choice, first split) pairs), dealt round-robin to the
 * workers, and merged by `mergeResults`: the result does not depend on the
 * number of threads.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { Metric, SearchResult } from './search.ts';
import type { ImperfectMode } from './mapspace.ts';
import { mergeResults } from './search.ts';

export interface ParallelSearchRequest {
  files: string[];
  algorithm: 'local-search' | 'exhaustive';
  metrics: Metric[];
  effort: number;
  seed: number;
  restarts: number;
  budgetMs?: number;
  imperfect?: ImperfectMode;
}

export interface WorkerRequest extends ParallelSearchRequest {
  worker: number;
  workers: number;
}

export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

export async function parallelSearch(request: ParallelSearchRequest, jobs: number): Promise<SearchResult> {
  const parts = await Promise.all(
    Array.from({ length: jobs }, (_, worker) => {
      return new Promise<SearchResult>((resolve, reject) => {
        // The .mjs bootstrap loads search-worker.ts, from its process's bundle or through tsx.
        const w = new Worker(new URL('./search-worker.mjs', import.meta.url), {
          workerData: { ...request, worker, workers: jobs } satisfies WorkerRequest,
        });
        w.once('message', (m: SearchResult) => resolve(m));
        w.once('error', reject);
        w.once('exit', (code) => {
          if (code !== 0) reject(new Error(`search worker ${worker} exited with code ${code}`));
        });
      });
    }),
  );
  return mergeResults(request.metrics, parts);
}
