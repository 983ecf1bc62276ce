/**
 * The registry of task kinds an engine is handed. The engine names no kind
 * (as wireit's executor leaves each execution kind its own config type):
 * whoever defines kinds lists them in a registry — with the module a worker
 * thread starts to run them, since a thread shares no modules with the one
 * that made the registry — and passes it to the session, the scheduler and
 * the worker loop (worker.ts).
 *
 * A kind is loaded on first use, so that a worker thread that only maps
 * never loads the aggregates. What needs a kind synchronously (engine ids
 * while the graph is built, result shapes on every cache read, the
 * scheduler) reads it with `get` after `loadAll`.
 */
import { UserError } from '../util/errors.ts';
import type { ResultValidator } from './cache.ts';
import { checkShape, fits } from './result-shapes.ts';
import type { TaskKind } from './task.ts';

/** Loads the module that defines one kind (a dynamic import, so that unused kinds cost nothing). */
export type KindLoader = () => Promise<{ kind: TaskKind }>;

export class KindRegistry {
  private readonly loaded = new Map<string, TaskKind>();

  /**
   * `workerEntry` is the module a worker thread of the pool starts: it must
   * serve the same kinds (`serveTasks(registry)`, worker.ts).
   */
  constructor(
    private readonly loaders: Readonly<Record<string, KindLoader>>,
    readonly workerEntry: URL,
  ) {}

  get names(): string[] {
    return Object.keys(this.loaders);
  }

  async load(name: string): Promise<TaskKind> {
    const cached = this.loaded.get(name);
    if (cached) return cached;
    if (!Object.hasOwn(this.loaders, name)) throw new UserError(`unknown task kind '${name}' (kinds: ${this.names.join(', ')})`);
    const mod = await this.loaders[name]();
    this.loaded.set(name, mod.kind);
    return mod.kind;
  }

  /** Loads the kinds named (default: every kind), so that {@link get} has them. */
  async loadAll(names: Iterable<string> = this.names): Promise<this> {
    for (const n of new Set(names)) await this.load(n);
    return this;
  }

  /** A kind loaded before; undefined for one not loaded yet. */
  get(name: string): TaskKind | undefined {
    return this.loaded.get(name);
  }

  /**
   * The cache's check of a result against its kind's shape. A kind without
   * a shape, or not loaded, is not checked: load the kinds before reading
   * results.
   */
  readonly validate: ResultValidator = (kind, result) => {
    const shape = this.loaded.get(kind)?.resultShape;
    return shape === undefined || fits(result, shape) ? undefined : checkShape(result, shape);
  };
}
