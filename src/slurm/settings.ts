/**
 * How `expt run` executes the tasks it must run: on this machine (`local`,
 * the default) or as Slurm job arrays on the user's cluster (`slurm`). The
 * Slurm settings are the `sbatch` options a user would otherwise type, plus
 * how many tasks one array element runs (Node's start-up, ~0.5 s, is paid
 * once per element) and the command that starts expt on a compute node.
 */
export type ExecutorKind = 'local' | 'slurm';
export const EXECUTOR_KINDS: readonly ExecutorKind[] = ['local', 'slurm'];

export interface SlurmSettings {
  /** `--partition` (default: the cluster's default partition). */
  partition?: string;
  /** `--account`. */
  account?: string;
  /** `--time`, Slurm's format (`30`, `2:00:00`, `1-00:00:00`); default: the partition's limit. */
  time?: string;
  /** `--mem` per element (`4G`); default: the cluster's default. */
  mem?: string;
  /** `--cpus-per-task` (default 1: expt maps one task on one core). */
  cpusPerTask?: number;
  /** The array throttle `%K`: at most K elements of one array run at once (default: no throttle). */
  throttle?: number;
  /** Extra `sbatch` arguments, as separate words (`['--qos=short', '--constraint=avx2']`). */
  sbatchArgs?: string[];
  /**
   * The command that starts expt on a compute node (default: this checkout's
   * `node <checkout>/bin/expt.js`, with the node binary that runs the CLI);
   * the job folder and element arguments are appended.
   */
  command?: string;
  /** Tasks per array element (default: 1, raised so that no array exceeds the cluster's MaxArraySize). */
  tasksPerElement?: number;
}

export const SLURM_FIELDS = ['partition', 'account', 'time', 'mem', 'cpusPerTask', 'throttle', 'sbatchArgs', 'command', 'tasksPerElement'] as const;

/** The config's `executor` field: a kind, or a kind with settings. */
export type ExecutorDef = ExecutorKind | ({ kind: ExecutorKind } & SlurmSettings);

export interface Executor {
  kind: ExecutorKind;
  slurm: SlurmSettings;
}

/** The executor of a run: the command line's kind over the config's. */
export function resolveExecutor(def: ExecutorDef | undefined, cliKind: ExecutorKind | undefined): Executor {
  const fromConfig: Executor = def === undefined ? { kind: 'local', slurm: {} } : typeof def === 'string' ? { kind: def, slurm: {} } : { kind: def.kind, slurm: withoutKind(def) };
  return cliKind === undefined ? fromConfig : { kind: cliKind, slurm: fromConfig.slurm };
}

function withoutKind(def: { kind: ExecutorKind } & SlurmSettings): SlurmSettings {
  const { kind: _kind, ...rest } = def;
  return rest;
}
