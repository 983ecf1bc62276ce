/**
 * Map tasks whose cached result is "no valid mapping" (kinds/map.ts), split
 * into the expected ones — every cell of the task is fused (a fusion
 * rewrite can leave no mapping, e.g. a pair fused at Gemmini's Registers;
 * the reports list them with the reason) — and the unexpected ones: a task
 * with an unfused cell, i.e. the architecture cannot run the layer at all,
 * which makes `expt run` exit 1.
 */
import type { Cache } from './cache.ts';
import type { TaskGraph } from './graph.ts';
import { isInfeasible } from './kinds/map.ts';

export interface InfeasibleTask {
  id: string;
  reason: string;
  /** All of its cells are fused cells (fusion level other than none). */
  expected: boolean;
}

export function infeasibleTasks(graph: TaskGraph, cache: Cache): InfeasibleTask[] {
  const out: InfeasibleTask[] = [];
  for (const task of graph.order) {
    if (task.kind !== 'map') continue;
    const hit = cache.get(task.kind, task.key);
    if (!hit.ok || !isInfeasible(hit.result)) continue;
    const expected = task.cells.every((c) => c.fusion !== undefined && c.fusion !== 'none');
    out.push({ id: task.id, reason: hit.result.infeasible, expected });
  }
  return out;
}
