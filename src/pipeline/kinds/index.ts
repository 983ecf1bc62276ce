/**
 * The task kinds the pipeline knows. Each entry loads the module that
 * implements it (worker threads load kinds through this table too).
 * A study-specific kind (energy tables, fusion pairs, HW-DSE configs,
 * block/model totals...) is a new module exporting `kind: TaskKind` plus a
 * line here, and an expander in expand.ts that emits its specs.
 */
import type { TaskKind } from '../../build/task.ts';
import { UserError } from '../../util/errors.ts';

type KindModule = { kind: TaskKind };

export const KIND_LOADERS: Record<string, () => Promise<KindModule>> = {
  map: () => import('./map.ts') as Promise<KindModule>,
  'fused-pair': () => import('./fused-pair.ts') as Promise<KindModule>,
  aggregate: () => import('./aggregate.ts') as Promise<KindModule>,
  hwdse: () => import('./hwdse.ts') as Promise<KindModule>,
  'cross-arch': () => import('./cross-arch.ts') as Promise<KindModule>,
};

const loaded = new Map<string, TaskKind>();

export async function loadKind(name: string): Promise<TaskKind> {
  const cached = loaded.get(name);
  if (cached) return cached;
  const loader = KIND_LOADERS[name];
  if (!loader) throw new UserError(`unknown task kind '${name}' (kinds: ${Object.keys(KIND_LOADERS).join(', ')})`);
  const mod = await loader();
  loaded.set(name, mod.kind);
  return mod.kind;
}

/** Loads every kind used by `names` (so engine ids are available synchronously). */
export async function loadKinds(names: Iterable<string>): Promise<Map<string, TaskKind>> {
  const out = new Map<string, TaskKind>();
  for (const n of new Set(names)) out.set(n, await loadKind(n));
  return out;
}
