/** One worker's share of a parallel search (see ./parallel.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { prepareModel } from '../model/evaluate.ts';
import { readMapperJob } from './input.ts';
import { MapSpace } from './mapspace.ts';
import { exhaustiveSearch, localSearch } from './search.ts';
import type { WorkerRequest } from './parallel.ts';

const req = workerData as WorkerRequest;
const job = readMapperJob(req.files);
const space = new MapSpace(job.problem, job.arch, job.constraints, { imperfect: req.imperfect });
const ctx = prepareModel(job.problem, job.arch, job.ert);
const result =
  req.algorithm === 'exhaustive'
    ? exhaustiveSearch(space, ctx, {
        metrics: req.metrics,
        budgetMs: req.budgetMs,
        partFilter: (k, a) => (k * 7 + a) % req.workers === req.worker,
      })
    : localSearch(space, ctx, {
        metrics: req.metrics,
        budgetMs: req.budgetMs,
        effort: req.effort,
        seed: req.seed,
        restarts: req.restarts,
        restartFilter: (r) => r % req.workers === req.worker,
      });
parentPort?.postMessage(result);
