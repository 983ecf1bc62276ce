/**
 * A Slurm submission's folder under the cache (`<cache>/.slurm/<id>/`): the
 * tasks it runs, the Slurm job of each dependency wave, each task's status as
 * its element wrote it, and Slurm's stdout/stderr. The cache stays the only
 * coordination: elements commit results there exactly as a local run does,
 * and these files only say what was submitted and how it ended.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { DepResult, Task } from '../build/task.ts';
import type { SlurmSettings } from './settings.ts';

export const JOB_FORMAT = 'expt-slurm-job-v2';

/** One submitted job array: the tasks of one dependency wave that share Slurm settings. */
export interface JobArray {
  wave: number;
  /** The Slurm array job id. */
  jobId: string;
  /** Indices (into tasks.jsonl) of the array's tasks, in element order. */
  tasks: number[];
  tasksPerElement: number;
  settings: SlurmSettings;
}

export interface JobFile {
  format: typeof JOB_FORMAT;
  createdAt: string;
  cacheDir: string;
  arrays: JobArray[];
}

/** One line of tasks.jsonl: the task with its input values, and what its dependencies are. */
export interface TaskLine {
  index: number;
  wave: number;
  task: Task;
  deps: Omit<DepResult, 'result'>[];
}

export type FinalState = 'done' | 'failed' | 'skipped';

export interface TaskStatus {
  id: string;
  state: FinalState;
  reason?: string;
  durationMs?: number;
}

export function slurmRoot(cacheDir: string): string {
  return join(cacheDir, '.slurm');
}

/** Writes a file whole or not at all (readers poll these files while elements write them). */
export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export function createJobFolder(cacheDir: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const dir = join(slurmRoot(cacheDir), `${stamp}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(join(dir, 'status'), { recursive: true });
  mkdirSync(join(dir, 'slurm'), { recursive: true });
  return dir;
}

export function readJobFile(dir: string): JobFile | undefined {
  try {
    const job = JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8')) as JobFile;
    return job.format === JOB_FORMAT ? job : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A line of tasks.jsonl: the task's id, key and wave in plain JSON (for
 * people and `grep`), and the task itself in `payload`: inputs hold values
 * JSON cannot carry (Infinity, Maps), so they travel as a worker thread
 * would receive them (v8's structured clone, base64).
 */
export function encodeTaskLine(line: TaskLine): string {
  return JSON.stringify({ index: line.index, wave: line.wave, id: line.task.id, kind: line.task.kind, key: line.task.key, payload: serialize(line).toString('base64') });
}

export function readTaskLines(dir: string): TaskLine[] {
  return readFileSync(join(dir, 'tasks.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => deserialize(Buffer.from((JSON.parse(l) as { payload: string }).payload, 'base64')) as TaskLine);
}

export function statusFile(dir: string, index: number): string {
  return join(dir, 'status', `${index}.json`);
}

export function readStatus(dir: string, index: number): TaskStatus | undefined {
  try {
    return JSON.parse(readFileSync(statusFile(dir, index), 'utf8')) as TaskStatus;
  } catch {
    return undefined;
  }
}

/** Every submission folder under the cache, oldest first. */
export function jobFolders(cacheDir: string): string[] {
  const root = slurmRoot(cacheDir);
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(root, d.name))
    .sort();
}

/** Task index → the Slurm element (`<array id>_<n>`) that runs it, for every task of the submission. */
export function elementsOf(job: Pick<JobFile, 'arrays'>): Map<number, string> {
  return new Map(job.arrays.flatMap((a) => a.tasks.map((index, position) => [index, `${a.jobId}_${Math.floor(position / a.tasksPerElement)}`] as const)));
}
