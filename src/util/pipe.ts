/**
 * A reader that goes away (`expt plan --json | head -c 100`) closes our
 * stdout: the next write fails with EPIPE. That is the reader's choice, not
 * an error: the command stops quietly. A command with work in flight (run)
 * registers a hook to stop it the way Ctrl+C does, so that what finished
 * stays in the cache; anything else exits at once with code 0.
 */
import { isErrno } from './fs-errors.ts';

const hooks = new Set<() => void>();
let installed = false;
let broken = false;

/** Calls `hook` (instead of exiting) when stdout or stderr is closed by its reader; returns the unregister function. */
export function onBrokenPipe(hook: () => void): () => void {
  hooks.add(hook);
  return () => hooks.delete(hook);
}

/** Whether a reader closed our output. */
export function pipeBroken(): boolean {
  return broken;
}

function mute(stream: NodeJS.WriteStream): void {
  // Later writes (progress, the summary) have nowhere to go.
  (stream as unknown as { write: (...args: unknown[]) => boolean }).write = () => true;
}

export function installBrokenPipeHandler(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: unknown) => {
      if (!isErrno(error, 'EPIPE')) throw error;
      broken = true;
      mute(stream);
      if (hooks.size === 0) process.exit(0);
      for (const hook of hooks) hook();
    });
  }
}
