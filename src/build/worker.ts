/** A pipeline worker thread: runs tasks of any kind, one message at a time (see worker-pool.ts). */
import { parentPort } from 'node:worker_threads';
import { loadKind } from '../pipeline/kinds/index.ts';
import { errorInfo, type WorkerMessage, type WorkerReply } from './worker-pool.ts';

parentPort?.on('message', async (message: WorkerMessage) => {
  let reply: WorkerReply;
  try {
    const kind = await loadKind(message.request.kind);
    const result = await kind.run(message.request);
    reply = { id: message.id, ok: true, result };
  } catch (error) {
    reply = { id: message.id, ok: false, error: errorInfo(error) };
  }
  parentPort?.postMessage(reply);
});
