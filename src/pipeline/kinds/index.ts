/**
 * The task kinds of the study: the registry handed to the build engine
 * (src/build/kinds.ts), which names no kind itself. Each entry loads the
 * module that implements the kind (worker threads load kinds through this
 * registry too). A study-specific kind (energy tables, fusion pairs, HW-DSE
 * configs, block/model totals...) is a new module exporting `kind:
 * TaskKind`, with its input types, and its expander beside it
 * (`<kind>-expand.ts`, called from expand.ts), plus a line here.
 */
import type { TaskKind } from '../../build/task.ts';
import { KindRegistry } from '../../build/kinds.ts';

type KindModule = { kind: TaskKind };

export const KINDS = new KindRegistry(
  {
    map: () => import('./map.ts') as Promise<KindModule>,
    'fused-pair': () => import('./fused-pair.ts') as Promise<KindModule>,
    'joint-block': () => import('./joint-block.ts') as Promise<KindModule>,
    aggregate: () => import('./aggregate.ts') as Promise<KindModule>,
    hwdse: () => import('./hwdse.ts') as Promise<KindModule>,
    'cross-arch': () => import('./cross-arch.ts') as Promise<KindModule>,
  },
  // The pool's threads start here (worker.mjs → worker.ts), which serves this registry.
  new URL('../worker.mjs', import.meta.url),
);
