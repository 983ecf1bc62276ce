/**
 * Map tasks whose cached result is "no valid mapping" (kinds/map.ts), split
 * into the expected ones — every cell of the task is fused (a fusion
 * rewrite can leave no mapping, e.g. a pair fused at Gemmini's Registers)
 * or belongs to a HW-DSE sweep or the cross-architecture study (whose
 * point is to find out which designs can run what: the study records
 * `inf` / `N/A`); the reports list them with the reason — and the
 * unexpected ones: a task with an unfused matrix or job cell, i.e. the
 * architecture cannot run the layer at all, which makes `expt run` exit 1.
 */
import type { Cache } from '../build/cache.ts';
import type { TaskGraph } from '../build/graph.ts';
import { isInfeasible } from './kinds/map.ts';

export interface InfeasibleTask {
  id: string;
  reason: string;
  /** All of its cells are fused cells (fusion level other than none) or cells of a sweep / the cross-architecture study. */
  expected: boolean;
  /** Why it is expected: `fused`, or the study (`hwdse`, `cross-arch`) of its first such cell. */
  why?: string;
}

export function infeasibleTasks(graph: TaskGraph, cache: Cache): InfeasibleTask[] {
  const out: InfeasibleTask[] = [];
  for (const task of graph.order) {
    if (task.kind !== 'map') continue;
    const hit = cache.get(task.kind, task.key);
    if (!hit.ok || !isInfeasible(hit.result)) continue;
    const fused = (c: (typeof task.cells)[number]) => c.fusion !== undefined && c.fusion !== 'none';
    const expected = task.cells.every((c) => fused(c) || c['study'] !== undefined);
    const why = !expected ? undefined : task.cells.every(fused) ? 'fused' : String(task.cells.find((c) => c['study'] !== undefined)!['study']);
    out.push({ id: task.id, reason: hit.result.infeasible, expected, ...(why !== undefined ? { why } : {}) });
  }
  return out;
}
