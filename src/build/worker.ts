/**
 * The loop of a pool's worker thread: runs tasks of any kind of the
 * registry, one message at a time (see worker-pool.ts). The thread's entry
 * module (the registry's `workerEntry`) calls it with the registry: a thread
 * shares no modules with the one that started it, and the engine imports no
 * kind.
 */
import { parentPort } from 'node:worker_threads';
import type { KindRegistry } from './kinds.ts';
import { errorInfo, type WorkerMessage, type WorkerReply } from './worker-pool.ts';

export function serveTasks(kinds: Pick<KindRegistry, 'load'>): void {
  parentPort?.on('message', async (message: WorkerMessage) => {
    let reply: WorkerReply;
    try {
      const kind = await kinds.load(message.request.kind);
      const result = await kind.run(message.request);
      reply = { id: message.id, ok: true, result };
    } catch (error) {
      reply = { id: message.id, ok: false, error: errorInfo(error) };
    }
    parentPort?.postMessage(reply);
  });
}
