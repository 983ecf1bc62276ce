/**
 * The interface a task kind implements, and the task shapes the graph,
 * planner and scheduler pass around.
 *
 * The engine knows the kinds only through the registry it is handed
 * (kinds.ts). A kind's `run` gets the task's input values
 * (exactly what was hashed into the key) and its dependencies' results, and
 * returns a JSON-serializable result, which the scheduler commits to the
 * cache as soon as it is returned. Kinds marked `worker: true` run on a
 * worker thread; their inputs and dependency results cross the thread
 * boundary by structured clone.
 */
import type { EngineId, InputRecord } from './cache.ts';
import type { Shape } from './result-shapes.ts';

/** Labels of a task for filtering, plans and reports (not part of its key). */
export interface TaskMeta {
  experiment?: string;
  model?: string;
  layer?: string;
  arch?: string;
  fusion?: string;
  /** MACs of the task's own problem (one head for per-head layers). */
  macs?: number;
  [field: string]: string | number | boolean | undefined;
}

/** One named input of a task: a value (hashed) and a label (for people). */
export interface TaskInput {
  /** Where the value comes from: `experiments/archs/gemmini.yaml`, `experiments.config.ts: quick.mapper`. */
  label: string;
  /** The parsed, canonical-izable content (never a file name standing for its content). */
  value: unknown;
}

/** What an expander produces: a task before keys and deduplication. */
export interface TaskSpec {
  /** Unique, stable, human-readable: `map:quick/bert-large/KQV/gemmini/none/TLD`. */
  id: string;
  kind: string;
  /**
   * Which of the kind's engines computes it (undefined: the kind's default),
   * e.g. 'timeloop' for a map task run by timeloop-mapper. The engine's id
   * and version are part of the key.
   */
  engine?: string;
  inputs: Record<string, TaskInput>;
  /** Ids of the tasks whose results this one reads, in the order `run` gets them. */
  deps: string[];
  meta: TaskMeta;
}

/** A task in the graph: a spec with its key, possibly standing for several identical specs. */
export interface Task extends Omit<TaskSpec, 'engine'> {
  /** The engine variant named by the spec (see {@link TaskSpec.engine}). */
  variant?: string;
  /** sha256 of kind, engine, input hashes and dependency keys. */
  key: string;
  engine: EngineId;
  inputHashes: Record<string, InputRecord>;
  /** Dependency id → key (dependencies resolved to the tasks that stand for them). */
  depKeys: Record<string, string>;
  /** Ids of identical specs merged into this task (same kind and key). */
  aliases: string[];
  /** The meta of every spec this task stands for, the task's own first. */
  cells: TaskMeta[];
}

/** A dependency's result as a task kind's `run` sees it. */
export interface DepResult {
  id: string;
  /** Ids of identical specs this dependency stands for. */
  aliases: string[];
  kind: string;
  key: string;
  meta: TaskMeta;
  cells: TaskMeta[];
  result: unknown;
}

/**
 * A task's dependencies by id or alias (identical specs merged into one
 * task keep their ids as aliases); `get` throws, naming `who`, for an id
 * the task does not depend on — a bug in its expander.
 */
export function dependencies(deps: readonly DepResult[], who: string): { find(id: string): DepResult | undefined; get(id: string): DepResult } {
  const byId = new Map<string, DepResult>();
  for (const d of deps) {
    byId.set(d.id, d);
    for (const a of d.aliases) byId.set(a, d);
  }
  return {
    find: (id) => byId.get(id),
    get: (id) => {
      const d = byId.get(id);
      if (!d) throw new Error(`${who}: no result for task ${id}`);
      return d;
    },
  };
}

/** What crosses to `run` (and to a worker thread). */
export interface RunRequest {
  id: string;
  kind: string;
  key: string;
  meta: TaskMeta;
  cells: TaskMeta[];
  inputs: Record<string, unknown>;
  deps: DepResult[];
}

export interface TaskKind<Result = unknown> {
  readonly name: string;
  /**
   * The engine that computes results, hashed into every key: bump the
   * version (or derive it from the sources) when results would change.
   * `variant` names one of the kind's engines (a spec's `engine`).
   */
  engine(variant?: string): EngineId;
  /** Compute-heavy: run on a worker thread. */
  readonly worker: boolean;
  run(request: RunRequest): Promise<Result> | Result;
  /** Text for `expt show <task>` (default: the result as JSON). */
  show?(request: Omit<RunRequest, 'deps'>, result: Result): string | Promise<string>;
  /**
   * What the kind's results look like, checked whenever a cached result is
   * read (result-shapes.ts): an entry of another shape is recomputed.
   */
  readonly resultShape?: Shape;
}

/** A task failure the kind expects (bad input, infeasible mapping): reported without a stack. */
export class TaskError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TaskError';
  }
}

/**
 * A result may carry files to keep next to its cache entry (an external
 * tool's input and logs) under this key: name → text. The scheduler moves
 * them out of the result into `cache/<kind>/<key>/files/` (so they are not
 * part of result.json, and dependents do not see them).
 */
export const RESULT_FILES = '_files';

/** Splits the files (see {@link RESULT_FILES}) off a result. */
export function splitResultFiles(result: unknown): { result: unknown; files: Record<string, string> | undefined } {
  if (typeof result !== 'object' || result === null || Array.isArray(result) || !(RESULT_FILES in result)) return { result, files: undefined };
  const { [RESULT_FILES]: files, ...rest } = result as Record<string, unknown>;
  return { result: rest, files: files as Record<string, string> };
}
