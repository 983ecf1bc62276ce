/**
 * Matrix expansion: a validated config → task specs (pure: reads the input
 * files, runs nothing). Each experiment yields one map task per cell, a
 * `fused-pair` task per fused pair cell and an `aggregate` task over its
 * cells; identical map tasks of different cells (or experiments) become one
 * task in the graph.
 *
 * This module walks the experiments. The kind whose task collects an
 * experiment's cells owns that experiment's expander (kinds/<kind>-expand.ts),
 * the map kind the spec of a map task (kinds/map-expand.ts); what they share
 * (the config's documents and architectures) is the ExpandContext
 * (expand-context.ts).
 *
 * Expanders, one per way an experiment names its work:
 *   - `jobs` (kinds/aggregate-expand.ts): explicit Timeloop mapper jobs
 *     (files with problem, architecture, ERT, constraints);
 *   - the matrix `models × layers × architectures × fusion`
 *     (kinds/aggregate-expand.ts): problems from
 *     src/workload; matmuls on the named architecture, normalization ops on
 *     its NO variant (`noArchitectures`); architecture + ERT + constraints
 *     from the config's Timeloop files or the presets in experiments/archs.
 *     A fusion level adds, for each fused pair [matmul, NO] and each
 *     architecture that has the level, the matmul and the NO mapped under
 *     the fusion-rewritten constraints (src/fusion) and a `fused-pair` task
 *     that adds them up. Fusion at DRAM is no fusion: its cells use the
 *     unfused constraints, so they are the unfused tasks.
 *   - `sweep` (HW-DSE, src/sweeps/hwdse.ts; kinds/hwdse-expand.ts): each
 *     config of the sweep becomes architecture variants of the preset (matmuls on gemmini / pim,
 *     normalization ops on gemmini-no / pim-no); one map task per (config,
 *     layer) on its variant under the dataflow's constraints, so identical
 *     (variant, layer) pairs of different configs are one task in the graph;
 *     and one `hwdse` task that aggregates per config (the study's way and
 *     the correct way).
 *   - `crossArch` (src/sweeps/cross-arch.ts; kinds/cross-arch-expand.ts):
 *     one map task per (architecture, workload) under the preset's constraints (plus the study's R/S/Q/N ones
 *     for convolutions) with the mapper preset's search, and one `cross-arch`
 *     task that collects the study's table.
 *   A cell whose constraints cannot even be stated (a factor larger than the
 *   dimension or the fanout) has no task: the aggregate gets its reason.
 */
import { UserError } from '../util/errors.ts';
import { selectExperiments, type LoadedConfig } from './config.ts';
import type { TaskSpec } from '../build/task.ts';
import { ExpandContext, type EngineOverrides, type Sink } from './expand-context.ts';
import type { Cell } from './kinds/aggregate.ts';
import { aggregateSpec, expandJobs, expandMatrix } from './kinds/aggregate-expand.ts';
import { expandCrossArch } from './kinds/cross-arch-expand.ts';
import { expandSweep } from './kinds/hwdse-expand.ts';

export interface ExperimentTasks {
  name: string;
  description?: string;
  /** A HW-DSE sweep or the cross-architecture study (their own aggregate kind and reports); absent for matrices and jobs. */
  study?: StudyKind;
  cells: Cell[];
  /** The fused-pair cells (one `fused-pair` task each). */
  pairs: Cell[];
  /** The blocks fused jointly (one `joint-block` task each). */
  joints: Cell[];
  /** Id of the experiment's aggregate task. */
  aggregate: string;
}

export type StudyKind = 'hwdse' | 'cross-arch';

export interface Expansion {
  specs: TaskSpec[];
  experiments: ExperimentTasks[];
}

export type { EngineOverrides };

export { selectExperiments };

export function expandConfig(loaded: LoadedConfig, names: readonly string[] = [], overrides: EngineOverrides = {}): Expansion {
  const ctx = new ExpandContext(loaded, overrides);
  const specs: TaskSpec[] = [];
  const seen = new Map<string, TaskSpec>();
  const experiments: ExperimentTasks[] = [];
  for (const name of selectExperiments(loaded, names)) {
    const def = loaded.config.experiments[name];
    const cells: Cell[] = [];
    const pairs: Cell[] = [];
    const joints: Cell[] = [];
    const push = (spec: TaskSpec, field: string, into: Cell[]) => {
      const prev = seen.get(spec.id);
      if (prev) throw new UserError(`two cells of experiment '${name}' have the same labels (${spec.id}); tell them apart with a different variant`, loaded.displayFile, field);
      seen.set(spec.id, spec);
      specs.push(spec);
      into.push({ task: spec.id, meta: spec.meta });
    };
    const sink: Sink = { cell: (spec, field) => push(spec, field, cells), pair: (spec, field) => push(spec, field, pairs), joint: (spec, field) => push(spec, field, joints) };
    if (def.sweep !== undefined || def.crossArch !== undefined) {
      const aggregate = def.sweep !== undefined ? expandSweep(ctx, name, def, sink) : expandCrossArch(ctx, name, def, sink);
      specs.push(aggregate);
      experiments.push({ name, description: def.description, study: aggregate.kind as StudyKind, cells, pairs, joints, aggregate: aggregate.id });
      continue;
    }
    expandJobs(ctx, name, def, sink);
    expandMatrix(ctx, name, def, sink);
    const aggregate = aggregateSpec(ctx, name, cells, pairs, joints);
    specs.push(aggregate);
    experiments.push({ name, description: def.description, cells, pairs, joints, aggregate: aggregate.id });
  }
  return { specs, experiments };
}
