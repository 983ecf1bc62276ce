/**
 * Reads a mapper job from Timeloop-format files: architecture, problem and
 * energy table (tree format), `mapspace_constraints` / `architecture_constraints`
 * and the `mapper` settings that make sense here.
 */
import type { Architecture } from '../arch/architecture.ts';
import type { EnergyReferenceTable } from '../arch/energy-table.ts';
import { withoutUnitTerms, type Problem } from '../workload/problem.ts';
import { importTimeloopDocuments } from '../timeloop/tree-import.ts';
import { readYamlFile } from '../util/yaml.ts';
import { UserError } from '../util/errors.ts';
import { addConstraints, resolveMaximizeDims, unconstrained, type MapspaceConstraints } from './constraints.ts';
import type { Metric } from './search.ts';

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

/** `parsed`: the files' documents when the caller has already read them (same order as `files`). */
export function readMapperJob(files: readonly string[], parsed?: readonly unknown[]): MapperJob {
  const docs = files.map((file, i) => ({ file, doc: parsed !== undefined ? parsed[i] : readYamlFile(file) }));
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
    if (om !== undefined) {
      if (!Array.isArray(om)) throw new UserError('expected a list such as [edp] or [edp, delay, energy]', mapper.file, 'mapper.optimization_metrics');
      metrics = om.map((x, i) => {
        const metric = METRICS[String(x)];
        if (!metric) throw new UserError(`unsupported metric '${String(x)}' (supported: edp, energy, delay)`, mapper.file, `mapper.optimization_metrics[${i}]`);
        return metric;
      });
    }
    for (const k of ['algorithm', 'num_threads', 'timeout', 'victory_condition', 'search_size', 'sync_interval', 'max_permutations_per_if_visit']) {
      if (m[k] !== undefined) ignoredSettings.push(`${k}: ${JSON.stringify(m[k])} (Timeloop's random-search setting; expt searches the map space deterministically)`);
    }
  }
  return { problem, arch, ert, constraints, metrics, ignoredSettings, template };
}
