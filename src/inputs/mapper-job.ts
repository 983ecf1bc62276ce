/**
 * Reads a mapper job from Timeloop-format files: architecture, problem and
 * energy table (tree format), `mapspace_constraints` / `architecture_constraints`
 * and the `mapper` settings that make sense here. The mapper itself
 * (src/mapper) reads no files: it gets the job as data.
 */
import type { Architecture } from '../arch/architecture.ts';
import type { EnergyReferenceTable } from '../arch/energy-table.ts';
import { withoutUnitTerms, type Problem } from '../workload/problem.ts';
import { importTimeloopDocuments, type TimeloopInput } from '../timeloop/tree-import.ts';
import { isV4Document } from '../timeloop/v4-import.ts';
import { readV4YamlFile } from '../timeloop/v4-yaml.ts';
import { loadTask, type LoadedTask } from './timeloop-task.ts';
import type { Mapping } from '../mapping/mapping.ts';
import { UserError } from '../util/errors.ts';
import { mapOne } from '../mapper/job.ts';
import { constraintsFor, type ConstraintBlock, type MapspaceConstraints } from '../mapper/constraints.ts';
import { mapSettings, metricNamed, type Metric } from '../mapper/settings.ts';

export interface MapperJob {
  problem: Problem;
  arch: Architecture;
  ert: EnergyReferenceTable;
  constraints: MapspaceConstraints;
  /** The `mapper` block's `optimization_metrics`, else the mapper's default. */
  metrics: Metric[];
  /** Settings read from the `mapper` block that were not applied, with why. */
  ignoredSettings: string[];
  /**
   * Timeloop's map-space template (`mapspace.template`): 'ruby' lets loops
   * with a `remainders` constraint take imperfect factors, 'uber' does not.
   */
  template: 'uber' | 'ruby';
}

function readMetrics(om: unknown, file: string): Metric[] {
  if (!Array.isArray(om)) throw new UserError('expected a list such as [edp] or [edp, delay, energy]', file, 'mapper.optimization_metrics');
  return om.map((x, i) => {
    const metric = metricNamed(String(x));
    if (!metric) throw new UserError(`unsupported metric '${String(x)}' (supported: edp, energy, delay)`, file, `mapper.optimization_metrics[${i}]`);
    return metric;
  });
}

/** The job's metrics: the `mapper` block's `optimization_metrics` (either spelling), else the mapper's default. */
function metricsOf(mapper: Record<string, unknown> | undefined, file: string): Metric[] {
  const om = mapper?.['optimization_metrics'] ?? mapper?.['optimization-metrics'];
  return om !== undefined ? readMetrics(om, file) : mapSettings().metrics;
}

function ignoredMapperSettings(m: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of ['algorithm', 'num_threads', 'timeout', 'victory_condition', 'search_size', 'sync_interval', 'max_permutations_per_if_visit']) {
    if (m[k] !== undefined) out.push(`${k}: ${JSON.stringify(m[k])} (Timeloop's random-search setting; expt searches the map space deterministically)`);
  }
  return out;
}

/**
 * The constraint blocks of Timeloop tree-format input, in the order they
 * are read: `architecture_constraints`, `mapspace_constraints`, `mapspace`.
 */
export function timeloopConstraintBlocks(raw: TimeloopInput['raw']): ConstraintBlock[] {
  return ['architecture_constraints', 'mapspace_constraints', 'mapspace'].flatMap((key) => {
    const block = raw[key];
    return block ? [{ value: block.value, file: block.file, path: key }] : [];
  });
}

/**
 * The mapper job of a task loaded by `loadTask` (either file format or a
 * preset, the ERT estimated when none is given): what `expt map` reads from
 * timeloopfe v0.4 files, and what `expt check` / `expt export` map.
 */
export function mapperJobFromTask(task: LoadedTask): MapperJob {
  const where = task.files.join(', ') || (task.format === 'preset' ? task.name : '');
  if (!task.problem) throw new UserError('missing the `problem` block', where || undefined);
  if (!task.ert) throw new UserError(`no ERT, and the estimator cannot price the architecture (${task.warnings.join('; ')})`, where || undefined);
  const arch = task.architecture;
  const problem = withoutUnitTerms(task.problem);
  const constraints = constraintsFor(problem, arch, task.constraints ? [{ value: task.constraints, file: where, path: 'mapspace_constraints' }] : [], where);
  constraints.warnings.push(...task.warnings);
  const metrics = metricsOf(task.mapper, where);
  return { problem, arch, ert: task.ert, constraints, metrics, ignoredSettings: task.mapper ? ignoredMapperSettings(task.mapper) : [], template: 'uber' };
}

/**
 * The task's best mapping under expt's model and mapper (its constraints,
 * its mapper block's optimization_metrics, else the mapper's default), within `budgetMs`.
 */
export function mapWithExpt(task: LoadedTask, budgetMs: number): { mapping: Mapping; note: string } {
  const where = task.files.join(', ') || undefined;
  const job = mapperJobFromTask(task);
  const outcome = mapOne({ ...job, settings: mapSettings({ metrics: job.metrics, budgetMs }) });
  if (outcome.status === 'no-map-space') {
    if (outcome.error instanceof UserError) throw outcome.error;
    throw new UserError(`infeasible: ${outcome.error.message}`, where);
  }
  if (outcome.status === 'no-mapping') throw new UserError("infeasible: expt's mapper found no valid mapping", where);
  // A best mapping the exact model rejects is still returned: `expt check` reports the rejection.
  return { mapping: outcome.mapping, note: `mapped by expt (${job.metrics.join(', ')}; ${outcome.search.stats.evaluated} candidates, ${(outcome.search.stats.wallMs / 1000).toFixed(1)} s)` };
}

/** `parsed`: the files' documents when the caller has already read them (same order as `files`). */
export function readMapperJob(files: readonly string[], parsed?: readonly unknown[]): MapperJob {
  const docs = files.map((file, i) => ({ file, doc: parsed !== undefined ? parsed[i] : readV4YamlFile(file) }));
  if (docs.some((d) => isV4Document(d.doc))) return mapperJobFromTask(loadTask(files));
  const input = importTimeloopDocuments(docs);
  const where = files.join(', ');
  if (!input.architecture) throw new UserError('missing the `architecture` block', where);
  if (!input.problem) throw new UserError('missing the `problem` block', where);
  if (!input.ert) throw new UserError('missing the `ERT` block (per-action energies)', where);
  const { architecture: arch, ert } = input;
  // Unit dimensions inside projections change no count; without them a GEMM
  // written in convolution form gets the closed form and exact pruning.
  const problem = withoutUnitTerms(input.problem);
  const constraints = constraintsFor(problem, arch, timeloopConstraintBlocks(input.raw), where);
  let template: 'uber' | 'ruby' = 'uber';
  for (const key of ['mapspace', 'mapspace_constraints']) {
    const block = input.raw[key];
    const value = block && typeof block.value === 'object' && block.value !== null && !Array.isArray(block.value) ? (block.value as Record<string, unknown>)['template'] : undefined;
    if (value === undefined) continue;
    if (value !== 'uber' && value !== 'ruby') throw new UserError(`unsupported map-space template ${JSON.stringify(value)} (expected uber or ruby)`, block!.file, `${key}.template`);
    template = value;
  }
  const mapper = input.raw['mapper'];
  const block = mapper && typeof mapper.value === 'object' && mapper.value !== null ? (mapper.value as Record<string, unknown>) : undefined;
  const metrics = metricsOf(block, mapper?.file ?? where);
  const ignoredSettings = block ? ignoredMapperSettings(block) : [];
  return { problem, arch, ert, constraints, metrics, ignoredSettings, template };
}
