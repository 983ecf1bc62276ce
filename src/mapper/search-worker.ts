/** One worker's share of a parallel search (see ./parallel.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { searchShare } from './job.ts';
import type { SearchWorkerData } from './parallel.ts';

const { job, worker, workers } = workerData as SearchWorkerData;
parentPort?.postMessage(searchShare(job, { worker, workers }));
