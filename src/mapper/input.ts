/**
 * Reads a mapper job from Timeloop-format files: architecture, problem and
 * energy table (tree format), `mapspace_constraints` / `architecture_constraints`
 * and the `mapper` settings that make sense here.
 */
import type { Architecture } from '../arch/architecture.ts';
import type { EnergyReferenceTable } from '../arch/energy-table.ts';
import { withoutUnitTerms, type Problem } from '../workload/problem.ts';
import { importTimeloopDocuments } from '../timeloop/tree-import.ts';
import { isV4Document } from '../timeloop/v4-import.ts';
import { readV4YamlFile } from '../timeloop/v4-yaml.ts';
import { loadTask, type LoadedTask } from '../timeloop/task-input.ts';
import type { Mapping } from '../mapping/mapping.ts';
import { prepareModel } from '../model/evaluate.ts';
import { InfeasibleMapspaceError, MapSpace } from './mapspace.ts';
import { UserError } from '../util/errors.ts';
import { addConstraints, resolveMaximizeDims, unconstrained, type MapspaceConstraints } from './constraints.ts';
import { localSearch, type Metric } from './search.ts';

export interface MapperJob {
  problem: Problem;
  arch: Architecture;
  ert: EnergyReferenceTable;
  constraints: MapspaceConstraints;
  metrics: Metric[];
  /** Settings read from the `mapper` block that were not applied, with why. */
  ignoredSettings: string[];
  /**
   * Timeloop's map-space template (`mapspace.template`): 'ruby' lets loops
   * with a `remainders` constraint take imperfect factors, 'uber' does not.
   */
  template: 'uber' | 'ruby';
}

const METRICS: Record<string, Metric> = { edp: 'edp', energy: 'energy', delay: 'delay', cycles: 'delay' };

function readMetrics(om: unknown, file: string): Metric[] {
  if (!Array.isArray(om)) throw new UserError('expected a list such as [edp] or [edp, delay, energy]', file, 'mapper.optimization_metrics');
  return om.map((x, i) => {
    const metric = METRICS[String(x)];
    if (!metric) throw new UserError(`unsupported metric '${String(x)}' (supported: edp, energy, delay)`, file, `mapper.optimization_metrics[${i}]`);
    return metric;
  });
}

function ignoredMapperSettings(m: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of ['algorithm', 'num_threads', 'timeout', 'victory_condition', 'search_size', 'sync_interval', 'max_permutations_per_if_visit']) {
    if (m[k] !== undefined) out.push(`${k}: ${JSON.stringify(m[k])} (Timeloop's random-search setting; expt searches the map space deterministically)`);
  }
  return out;
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
  const constraints = unconstrained(problem, arch);
  if (task.constraints) addConstraints(constraints, task.constraints, problem, arch, { file: where, path: 'mapspace_constraints' });
  resolveMaximizeDims(constraints, problem, arch, where);
  constraints.warnings.push(...task.warnings);
  const om = task.mapper?.['optimization_metrics'] ?? task.mapper?.['optimization-metrics'];
  const metrics = om !== undefined ? readMetrics(om, where) : (['edp'] as Metric[]);
  return { problem, arch, ert: task.ert, constraints, metrics, ignoredSettings: task.mapper ? ignoredMapperSettings(task.mapper) : [], template: 'uber' };
}

/**
 * The task's best mapping under expt's model and mapper (its constraints,
 * its mapper block's optimization_metrics, else EDP), within `budgetMs`.
 */
export function mapWithExpt(task: LoadedTask, budgetMs: number): { mapping: Mapping; note: string } {
  const where = task.files.join(', ') || undefined;
  const job = mapperJobFromTask(task);
  let space: MapSpace;
  try {
    space = new MapSpace(job.problem, job.arch, job.constraints);
  } catch (e) {
    if (e instanceof InfeasibleMapspaceError) throw new UserError(`infeasible: ${e.message}`, where);
    throw e;
  }
  const r = localSearch(space, prepareModel(job.problem, job.arch, job.ert), { metrics: job.metrics, budgetMs, effort: 10_000, seed: 1, restarts: 8 });
  if (!r.mapping) throw new UserError("infeasible: expt's mapper found no valid mapping", where);
  return { mapping: r.mapping, note: `mapped by expt (${job.metrics.join(', ')}; ${r.stats.evaluated} candidates, ${(r.stats.wallMs / 1000).toFixed(1)} s)` };
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
  const constraints = unconstrained(problem, arch);
  for (const key of ['architecture_constraints', 'mapspace_constraints', 'mapspace']) {
    const block = input.raw[key];
    if (block) addConstraints(constraints, block.value, problem, arch, { file: block.file, path: key });
  }
  resolveMaximizeDims(constraints, problem, arch, files.join(', '));
  let template: 'uber' | 'ruby' = 'uber';
  for (const key of ['mapspace', 'mapspace_constraints']) {
    const block = input.raw[key];
    const value = block && typeof block.value === 'object' && block.value !== null && !Array.isArray(block.value) ? (block.value as Record<string, unknown>)['template'] : undefined;
    if (value === undefined) continue;
    if (value !== 'uber' && value !== 'ruby') throw new UserError(`unsupported map-space template ${JSON.stringify(value)} (expected uber or ruby)`, block!.file, `${key}.template`);
    template = value;
  }
  let metrics: Metric[] = ['edp'];
  const ignoredSettings: string[] = [];
  const mapper = input.raw['mapper'];
  if (mapper && typeof mapper.value === 'object' && mapper.value !== null) {
    const m = mapper.value as Record<string, unknown>;
    const om = m['optimization_metrics'] ?? m['optimization-metrics'];
    if (om !== undefined) metrics = readMetrics(om, mapper.file);
    ignoredSettings.push(...ignoredMapperSettings(m));
  }
  return { problem, arch, ert, constraints, metrics, ignoredSettings, template };
}
