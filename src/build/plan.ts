/**
 * The plan: each task of the graph compared with the cache — `cached`, or
 * `will run` with why (make -n plus Bazel's explain). The reason diffs the
 * task's key inputs against the record of the last result for the same task
 * id (cache/tasks/): which named input changed, which dependency will run or
 * changed, whether the engine changed. `expt plan` and `expt run --dry-run`
 * print this; `expt run` executes it.
 */
import type { Cache, TaskRecord } from './cache.ts';
import type { TaskGraph } from './graph.ts';
import type { Task } from './task.ts';

export type PlanState = 'cached' | 'will run';

export interface PlanEntry {
  task: Task;
  state: PlanState;
  reason: string;
}

export interface Plan {
  graph: TaskGraph;
  entries: PlanEntry[];
  byId: Map<string, PlanEntry>;
}

export function planGraph(graph: TaskGraph, cache: Cache, options: { force?: boolean } = {}): Plan {
  const entries: PlanEntry[] = [];
  const byId = new Map<string, PlanEntry>();
  for (const task of graph.order) {
    const entry = planTask(task, cache, byId, options.force === true);
    entries.push(entry);
    byId.set(task.id, entry);
  }
  return { graph, entries, byId };
}

function planTask(task: Task, cache: Cache, planned: ReadonlyMap<string, PlanEntry>, force: boolean): PlanEntry {
  if (force) return { task, state: 'will run', reason: 'forced (--force)' };
  const hit = cache.get(task.kind, task.key);
  if (hit.ok) return { task, state: 'cached', reason: 'up to date' };
  if (hit.reason === 'corrupt') return { task, state: 'will run', reason: `the cached result is corrupt (${hit.detail}); recomputing it` };
  return { task, state: 'will run', reason: explain(task, findRecord(task, cache), planned) };
}

function findRecord(task: Task, cache: Cache): TaskRecord | undefined {
  for (const id of [task.id, ...task.aliases]) {
    const rec = cache.readRecord(id);
    if (rec && rec.kind === task.kind) return rec;
  }
  return undefined;
}

/** Why a task without a cached result runs, compared with its last recorded key. */
export function explain(task: Task, record: TaskRecord | undefined, planned: ReadonlyMap<string, PlanEntry>): string {
  if (!record) return 'no cached result for this key (never run)';
  if (record.key === task.key) return 'no cached result for this key (the last result was removed)';
  const reasons: string[] = [];
  if (record.engine.id !== task.engine.id) {
    reasons.push(`engine changed: ${record.engine.id} → ${task.engine.id} (${task.engine.version})`);
  } else if (record.engine.version !== task.engine.version) {
    reasons.push(`engine ${task.engine.id} changed (${record.engine.version} → ${task.engine.version})`);
  }
  for (const [name, now] of Object.entries(task.inputHashes)) {
    const before = record.inputs[name];
    if (!before) reasons.push(`new input \`${name}\` (${now.label})`);
    else if (before.hash !== now.hash) reasons.push(`input \`${name}\` (${now.label}) changed since the cached result`);
  }
  for (const name of Object.keys(record.inputs)) {
    if (!(name in task.inputHashes)) reasons.push(`input \`${name}\` was removed`);
  }
  const depsBefore = record.deps;
  for (const [id, key] of Object.entries(task.depKeys)) {
    const before = depsBefore[id];
    if (before === key) continue;
    const dep = planned.get(id);
    if (dep?.state === 'will run') reasons.push(`dependency ${id} will run`);
    else if (before === undefined) reasons.push(`new dependency ${id}`);
    else reasons.push(`dependency ${id} changed`);
  }
  for (const id of Object.keys(depsBefore)) if (!(id in task.depKeys)) reasons.push(`dependency ${id} was removed`);
  if (reasons.length === 0) return 'no cached result for this key';
  return reasons.length > 4 ? `${reasons.slice(0, 4).join('; ')}; and ${reasons.length - 4} more` : reasons.join('; ');
}

/** The record the scheduler writes when a task's result is current. */
export function recordOf(task: Task): TaskRecord {
  return {
    id: task.id,
    kind: task.kind,
    key: task.key,
    engine: task.engine,
    inputs: task.inputHashes,
    deps: task.depKeys,
    updatedAt: new Date().toISOString(),
  };
}

/** `expt plan --json` rows. */
export interface PlanJson {
  id: string;
  kind: string;
  experiment: string | null;
  model: string | null;
  layer: string | null;
  arch: string | null;
  fusion: string | null;
  macs: number | null;
  state: PlanState;
  reason: string;
  key: string;
  deps: string[];
  aliases: string[];
  cells: Task['cells'];
  inputs: Task['inputHashes'];
}

export function planJson(plan: Plan): PlanJson[] {
  return plan.entries.map(({ task, state, reason }) => {
    const m = task.meta;
    const s = (v: unknown) => (typeof v === 'string' ? v : null);
    return {
      id: task.id,
      kind: task.kind,
      experiment: s(m.experiment),
      model: s(m.model),
      layer: s(m.layer),
      arch: s(m.arch),
      fusion: s(m.fusion),
      macs: typeof m.macs === 'number' ? m.macs : null,
      state,
      reason,
      key: task.key,
      deps: Object.keys(task.depKeys),
      aliases: task.aliases,
      cells: task.cells,
      inputs: task.inputHashes,
    };
  });
}
