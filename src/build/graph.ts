/**
 * The task graph: specs → keyed tasks in topological order.
 *
 * key(task) = sha256(canonical JSON of {kind, engine id + version, the hash
 * of each named input, the keys of its dependencies in order}). Labels and
 * meta are not part of the key: moving a file or renaming a matrix cell
 * does not rerun anything. Specs with the same kind and key are one task
 * (the first spec's id; the others become aliases, their meta joins `cells`).
 */
import { canonicalJson, hashValue, sha256 } from './hash.ts';
import type { EngineId, InputRecord } from './cache.ts';
import type { Task, TaskSpec } from './task.ts';
import { UserError } from '../util/errors.ts';

export const KEY_SCHEMA = 1;

export class TaskGraph {
  /** Tasks in topological order (dependencies first). */
  readonly order: Task[];
  private readonly byId = new Map<string, Task>();
  /** Alias or id → the id of the task that stands for it. */
  private readonly canonical = new Map<string, string>();
  private readonly dependentsOf = new Map<string, string[]>();

  constructor(order: Task[]) {
    this.order = order;
    for (const t of order) {
      this.byId.set(t.id, t);
      this.canonical.set(t.id, t.id);
      for (const a of t.aliases) this.canonical.set(a, t.id);
      for (const d of Object.keys(t.depKeys)) {
        const list = this.dependentsOf.get(d) ?? [];
        if (!list.includes(t.id)) list.push(t.id);
        this.dependentsOf.set(d, list);
      }
    }
  }

  get size(): number {
    return this.order.length;
  }

  /** The task with this id or alias. */
  get(id: string): Task | undefined {
    const c = this.canonical.get(id);
    return c === undefined ? undefined : this.byId.get(c);
  }

  /** Direct dependents (task ids). */
  dependents(id: string): string[] {
    return this.dependentsOf.get(id) ?? [];
  }

  /** Ids of this task's direct dependencies. */
  dependencies(task: Task): string[] {
    return Object.keys(task.depKeys);
  }

  /** The sub-graph of `ids` and everything they depend on (topological order kept). */
  closure(ids: Iterable<string>): TaskGraph {
    const keep = new Set<string>();
    const visit = (id: string) => {
      const t = this.get(id);
      if (!t || keep.has(t.id)) return;
      keep.add(t.id);
      for (const d of Object.keys(t.depKeys)) visit(d);
    };
    for (const id of ids) visit(id);
    return new TaskGraph(this.order.filter((t) => keep.has(t.id)));
  }
}

/**
 * Orders specs so that dependencies come first (stable: otherwise in the
 * given order). A missing dependency or a cycle is a UserError naming it.
 */
export function topologicalOrder(specs: readonly TaskSpec[]): TaskSpec[] {
  const byId = new Map<string, TaskSpec>();
  for (const s of specs) {
    if (byId.has(s.id)) throw new UserError(`two tasks have the id '${s.id}'`);
    byId.set(s.id, s);
  }
  for (const s of specs) {
    for (const d of s.deps) if (!byId.has(d)) throw new UserError(`task '${s.id}' depends on '${d}', which is not a task`);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const out: TaskSpec[] = [];
  // Iterative DFS so that deep chains do not overflow the stack.
  for (const root of specs) {
    if (state.get(root.id) === 'done') continue;
    const stack: { spec: TaskSpec; next: number }[] = [{ spec: root, next: 0 }];
    state.set(root.id, 'visiting');
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.next < top.spec.deps.length) {
        const dep = byId.get(top.spec.deps[top.next++])!;
        const st = state.get(dep.id);
        if (st === 'done') continue;
        if (st === 'visiting') {
          const from = stack.findIndex((f) => f.spec.id === dep.id);
          const cycle = [...stack.slice(from).map((f) => f.spec.id), dep.id];
          throw new UserError(`dependency cycle: ${cycle.join(' → ')}`);
        }
        state.set(dep.id, 'visiting');
        stack.push({ spec: dep, next: 0 });
      } else {
        state.set(top.spec.id, 'done');
        out.push(top.spec);
        stack.pop();
      }
    }
  }
  return out;
}

/** The key of a task from its parts (see the module comment). */
export function taskKey(kind: string, engine: EngineId, inputHashes: Record<string, InputRecord>, depKeys: readonly string[]): string {
  const inputs: Record<string, string> = {};
  for (const [name, rec] of Object.entries(inputHashes)) inputs[name] = rec.hash;
  return sha256(canonicalJson({ schema: KEY_SCHEMA, kind, engine, inputs, deps: depKeys }));
}

/** Builds the graph: orders the specs, hashes inputs, computes keys, merges identical tasks. */
export function buildGraph(specs: readonly TaskSpec[], engineOf: (kind: string, variant?: string) => EngineId): TaskGraph {
  const ordered = topologicalOrder(specs);
  const canonicalId = new Map<string, string>();
  const byKindKey = new Map<string, Task>();
  const taskIdIndex = new Map<string, string>(); // task id → kind/key
  const tasks: Task[] = [];
  const engines = new Map<string, EngineId>();
  // Specs share input objects (one architecture and ERT for many cells): hash each object once.
  const hashes = new WeakMap<object, string>();
  const hashOf = (value: unknown): string => {
    if (typeof value !== 'object' || value === null) return hashValue(value);
    let h = hashes.get(value);
    if (h === undefined) {
      h = hashValue(value);
      hashes.set(value, h);
    }
    return h;
  };
  for (const spec of ordered) {
    const engineKey = spec.engine === undefined ? spec.kind : `${spec.kind}\0${spec.engine}`;
    let engine = engines.get(engineKey);
    if (!engine) {
      engine = spec.engine === undefined ? engineOf(spec.kind) : engineOf(spec.kind, spec.engine);
      engines.set(engineKey, engine);
    }
    const inputHashes: Record<string, InputRecord> = {};
    for (const [name, input] of Object.entries(spec.inputs)) inputHashes[name] = { label: input.label, hash: hashOf(input.value) };
    const depKeys: Record<string, string> = {};
    const depKeyList: string[] = [];
    const deps: string[] = [];
    for (const d of spec.deps) {
      const id = canonicalId.get(d)!;
      const dep = byKindKey.get(taskIdIndex.get(id)!)!;
      depKeys[id] = dep.key;
      depKeyList.push(dep.key);
      if (!deps.includes(id)) deps.push(id);
    }
    const key = taskKey(spec.kind, engine, inputHashes, depKeyList);
    const kk = `${spec.kind}/${key}`;
    const existing = byKindKey.get(kk);
    if (existing) {
      existing.aliases.push(spec.id);
      existing.cells.push(spec.meta);
      canonicalId.set(spec.id, existing.id);
      continue;
    }
    const { engine: variant, ...rest } = spec;
    const task: Task = { ...rest, ...(variant !== undefined ? { variant } : {}), deps, key, engine, inputHashes, depKeys, aliases: [], cells: [spec.meta] };
    byKindKey.set(kk, task);
    taskIdIndex.set(spec.id, kk);
    canonicalId.set(spec.id, spec.id);
    tasks.push(task);
  }
  return new TaskGraph(tasks);
}
