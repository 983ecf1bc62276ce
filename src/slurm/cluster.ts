/**
 * The Slurm client programs expt drives (sbatch, squeue, scontrol, sacct):
 * each call is one process with its output parsed here, and a missing
 * program or a refused submission is one line saying what to fix.
 */
import { spawnSync } from 'node:child_process';
import { UserError } from '../util/errors.ts';

/** A Slurm job state as squeue / scontrol / sacct print it (PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, ...). */
export type JobState = string;

export interface ElementInfo {
  state: JobState;
  reason: string;
  exitCode: string;
}

const NO_SLURM =
  "run expt on a Slurm cluster's login node (where sbatch and squeue are on PATH), start a one-node test cluster with `scripts/slurm-localhost.sh start` (root), or use `--executor local`";

function call(program: string, args: string[]): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync(program, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`${program} not found: ${NO_SLURM}`);
    throw new UserError(`${program} could not be started: ${r.error.message}`);
  }
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr };
}

function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
}

/** Submits a batch script; returns the job id (the array's id for an array). */
export function sbatch(args: string[], script: string): string {
  const r = call('sbatch', ['--parsable', ...args, script]);
  if (!r.ok) throw new UserError(`sbatch refused the job: ${firstLine(r.stderr) || firstLine(r.stdout) || 'no message'} (check the executor settings: partition, account, time, mem, sbatchArgs)`);
  // --parsable prints `jobid` or `jobid;cluster`.
  const id = firstLine(r.stdout).split(';')[0];
  if (!/^\d+$/.test(id)) throw new UserError(`sbatch printed no job id (got '${firstLine(r.stdout)}')`);
  return id;
}

/**
 * The caller's queued and running array elements: `<array id>_<index>` →
 * state and reason. Pending elements that squeue folds into one line
 * (`12_[3-9%2]`) are expanded with `-r`.
 */
export function queuedElements(): Map<string, { state: JobState; reason: string }> {
  const r = call('squeue', ['-h', '-r', '--me', '-o', '%i|%T|%r']);
  if (!r.ok) throw new UserError(`squeue failed: ${firstLine(r.stderr) || 'no message'} (is the cluster reachable? ${NO_SLURM})`);
  const out = new Map<string, { state: JobState; reason: string }>();
  for (const line of r.stdout.split('\n')) {
    const [id, state, reason] = line.trim().split('|');
    if (id && state) out.set(id, { state, reason: reason ?? '' });
  }
  return out;
}

/**
 * How a finished element ended: from accounting (sacct) where the cluster
 * keeps it, else from the controller's memory (scontrol, for MinJobAge).
 */
export function elementInfo(element: string): ElementInfo | undefined {
  try {
    const acct = call('sacct', ['-n', '-P', '-X', '-j', element, '-o', 'State,ExitCode,Reason']);
    const line = firstLine(acct.stdout);
    if (acct.ok && line !== '') {
      const [state, exitCode, reason] = line.split('|');
      return { state: state.split(' ')[0], exitCode: exitCode ?? '', reason: reason ?? '' };
    }
  } catch {
    // no sacct on this cluster: ask the controller
  }
  const r = call('scontrol', ['show', 'job', '-o', element]);
  if (!r.ok) return undefined;
  const field = (name: string) => new RegExp(`(?:^|\\s)${name}=(\\S*)`).exec(r.stdout)?.[1] ?? '';
  return { state: field('JobState'), reason: field('Reason'), exitCode: field('ExitCode') };
}

/** The cluster's largest array size (`MaxArraySize` − 1 is the highest index). */
export function maxArraySize(): number {
  const r = call('scontrol', ['show', 'config']);
  const m = /^\s*MaxArraySize\s*=\s*(\d+)/m.exec(r.stdout);
  return m ? Number(m[1]) : 1001;
}
