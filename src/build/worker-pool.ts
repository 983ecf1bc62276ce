/**
 * A pool of worker threads for compute-heavy task kinds. Workers start
 * lazily (each runs the kind registry's worker entry, which loads expt's
 * bundle, or registers tsx: bin/launch.mjs) and are reused for later tasks; a worker that dies fails its task and is
 * replaced. `terminate()` stops everything at once (Ctrl+C).
 */
import { Worker } from 'node:worker_threads';
import { UserError } from '../util/errors.ts';
import { TaskError, type RunRequest } from './task.ts';

export interface WorkerMessage {
  id: number;
  request: RunRequest;
}

export interface ErrorInfo {
  name: string;
  message: string;
  stack?: string;
  /** A TaskError or UserError: the message says it all, no stack needed. */
  expected: boolean;
}

export type WorkerReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: ErrorInfo };

export function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof UserError) return { name: error.name, message: error.format(), expected: true };
  if (error instanceof TaskError) return { name: error.name, message: error.message, expected: true };
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack, expected: false };
  return { name: 'Error', message: String(error), expected: false };
}

/** An error raised in a worker, carried back to the main thread. */
export class RemoteTaskError extends Error {
  constructor(readonly info: ErrorInfo) {
    super(info.message);
    this.name = info.name;
    if (info.stack) this.stack = info.stack;
  }
}

interface Slot {
  worker: Worker;
  busy: { id: number; resolve: (v: unknown) => void; reject: (e: Error) => void } | null;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: { request: RunRequest; resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  private nextId = 1;
  private closed = false;

  /** `entry`: the module each thread starts (a kind registry's `workerEntry`). */
  constructor(
    readonly size: number,
    private readonly entry: URL,
  ) {}

  run(request: RunRequest): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the worker pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.busy === null);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift()!;
      const id = this.nextId++;
      slot.busy = { id, resolve: job.resolve, reject: job.reject };
      slot.worker.postMessage({ id, request: job.request } satisfies WorkerMessage);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(this.entry);
    const slot: Slot = { worker, busy: null };
    worker.on('message', (reply: WorkerReply) => {
      const busy = slot.busy;
      if (!busy || busy.id !== reply.id) return;
      slot.busy = null;
      if (reply.ok) busy.resolve(reply.result);
      else busy.reject(new RemoteTaskError(reply.error));
      this.pump();
    });
    const fail = (error: Error) => {
      const busy = slot.busy;
      slot.busy = null;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      if (busy) busy.reject(error);
      if (!this.closed) this.pump();
    };
    worker.on('error', (error) => fail(error));
    worker.on('exit', (code) => fail(new Error(`worker thread exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  /** Stops every worker; running and queued tasks are rejected. */
  async terminate(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('interrupted'));
    const slots = this.slots.splice(0);
    await Promise.all(
      slots.map(async (s) => {
        const busy = s.busy;
        s.busy = null;
        busy?.reject(new Error('interrupted'));
        await s.worker.terminate();
      }),
    );
  }
}
