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

function executorOf(def: ExecutorDef | undefined, over: Executor): Executor {
  if (def === undefined) return over;
  if (typeof def === 'string') return { kind: def, slurm: over.slurm };
  return { kind: def.kind, slurm: { ...over.slurm, ...withoutKind(def) } };
}

/** An experiment's executor: its own `executor` over the config's (Slurm settings field by field). */
export function experimentExecutor(top: ExecutorDef | undefined, own: ExecutorDef | undefined): Executor {
  return executorOf(own, executorOf(top, { kind: 'local', slurm: {} }));
}

/**
 * The executor of a run of `experiments` (name → its executor): the command
 * line's kind, else the one kind they all ask for; experiments that ask for
 * different kinds cannot share one run without saying which (a run has one
 * scheduler). `slurm` maps each experiment to its settings.
 */
export function resolveExecutor(
  experiments: ReadonlyMap<string, Executor>,
  cliKind: ExecutorKind | undefined,
): { kind: ExecutorKind; slurm: Map<string, SlurmSettings> } | { conflict: [string, ExecutorKind, string, ExecutorKind] } {
  const slurm = new Map([...experiments].map(([name, e]) => [name, e.slurm]));
  if (cliKind !== undefined) return { kind: cliKind, slurm };
  const entries = [...experiments];
  const first = entries[0];
  const other = entries.find(([, e]) => e.kind !== first?.[1].kind);
  if (first && other) return { conflict: [first[0], first[1].kind, other[0], other[1].kind] };
  return { kind: first?.[1].kind ?? 'local', slurm };
}

function withoutKind(def: { kind: ExecutorKind } & SlurmSettings): SlurmSettings {
  const { kind: _kind, ...rest } = def;
  return rest;
}
