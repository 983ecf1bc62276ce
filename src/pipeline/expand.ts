/**
 * Matrix expansion: a validated config → task specs (pure: reads the input
 * files, runs nothing). Each experiment yields one map task per cell and an
 * `aggregate` task over its cells; identical map tasks of different cells
 * (or experiments) become one task in the graph.
 *
 * Expanders, one per way an experiment names its work:
 *   - `jobs`: explicit Timeloop mapper jobs (files with problem, architecture, ERT, constraints);
 *   - the matrix `models × layers × architectures × fusion`: problems from
 *     src/workload, architecture + ERT + constraints from the named
 *     architecture's files (until the study's presets land);
 *   - `sweeps` (HW-DSE) and `crossArch`: not built yet — they say so.
 */
import { resolve, relative, isAbsolute } from 'node:path';
import type { Architecture } from '../arch/architecture.ts';
import type { EnergyReferenceTable } from '../arch/energy-table.ts';
import { addConstraints, resolveMaximizeDims, unconstrained, type MapspaceConstraints } from '../mapper/constraints.ts';
import { readMapperJob } from '../mapper/input.ts';
import type { Metric } from '../mapper/search.ts';
import { importTimeloopDocuments } from '../timeloop/tree-import.ts';
import { UserError } from '../util/errors.ts';
import { isPlainObject, readYamlFile } from '../util/yaml.ts';
import { loadArchitecture, presetConstraints } from '../arch/presets.ts';
import { blockLayers } from '../workload/layers.ts';
import { operationCount, type Problem } from '../workload/problem.ts';
import type { ExperimentDef, LoadedConfig, MapperSettings } from './config.ts';
import type { TaskInput, TaskMeta, TaskSpec } from './task.ts';

/** A cell of an experiment's matrix and the task that computes it. */
export interface Cell {
  /** Id of the cell's task spec (after merging, the graph may know it as an alias). */
  task: string;
  meta: TaskMeta;
}

export interface ExperimentTasks {
  name: string;
  description?: string;
  cells: Cell[];
  /** Id of the experiment's aggregate task. */
  aggregate: string;
}

export interface Expansion {
  specs: TaskSpec[];
  experiments: ExperimentTasks[];
}

/** What a map task's `mapper` input holds. */
export interface MapSettings {
  algorithm: 'local-search';
  effort: number;
  seed: number;
  restarts: number;
  metrics: Metric[];
}

export const DEFAULT_MAPPER = { effort: 10_000, seed: 1, restarts: 8 } as const;

/** The experiments to expand: `names`, else the config's `default`, else all. */
export function selectExperiments(loaded: LoadedConfig, names: readonly string[] = []): string[] {
  const all = Object.keys(loaded.config.experiments);
  if (names.length === 0) return loaded.config.default ?? all;
  for (const n of names) if (!all.includes(n)) throw new UserError(`unknown experiment '${n}' (experiments in ${loaded.displayFile}: ${all.join(', ')})`);
  return [...names];
}

export function expandConfig(loaded: LoadedConfig, names: readonly string[] = []): Expansion {
  const ctx = new ExpandContext(loaded);
  const specs: TaskSpec[] = [];
  const seen = new Map<string, TaskSpec>();
  const experiments: ExperimentTasks[] = [];
  for (const name of selectExperiments(loaded, names)) {
    const def = loaded.config.experiments[name];
    const cells: Cell[] = [];
    const add = (spec: TaskSpec, field: string) => {
      const prev = seen.get(spec.id);
      if (prev) throw new UserError(`two cells of experiment '${name}' have the same labels (${spec.id}); tell them apart with a different variant`, loaded.displayFile, field);
      seen.set(spec.id, spec);
      specs.push(spec);
      cells.push({ task: spec.id, meta: spec.meta });
    };
    expandJobs(ctx, name, def, add);
    expandMatrix(ctx, name, def, add);
    if (def.sweeps !== undefined) throw new UserError('HW-DSE sweeps cannot be expanded yet (the sweep expander is being built)', loaded.displayFile, `experiments.${name}.sweeps`);
    if (def.crossArch !== undefined) throw new UserError('the cross-architecture study cannot be expanded yet (its expander is being built)', loaded.displayFile, `experiments.${name}.crossArch`);
    const aggregate = `aggregate:${name}`;
    specs.push({
      id: aggregate,
      kind: 'aggregate',
      inputs: {
        cells: { label: `${loaded.displayFile}: experiments.${name}`, value: cells },
        ...(def.fusedPairs ? { fusedPairs: { label: `${loaded.displayFile}: experiments.${name}.fusedPairs`, value: def.fusedPairs } } : {}),
      },
      deps: [...new Set(cells.map((c) => c.task))],
      meta: { experiment: name },
    });
    experiments.push({ name, description: def.description, cells, aggregate });
  }
  return { specs, experiments };
}

class ExpandContext {
  private readonly docs = new Map<string, unknown>();
  private readonly archCache = new Map<string, ResolvedArch>();
  constructor(readonly loaded: LoadedConfig) {}

  /** A path from the config, as the user sees it (relative to the working directory when close). */
  shown(file: string): string {
    const abs = resolve(this.loaded.root, file);
    const rel = relative(process.cwd(), abs);
    return rel.startsWith('..') || isAbsolute(rel) ? relative(this.loaded.root, abs) || abs : rel;
  }

  /** How inputs name their source files: relative to the config file (stable wherever expt runs). */
  label(file: string): string {
    return relative(this.loaded.root, resolve(this.loaded.root, file)).split('\\').join('/');
  }

  doc(file: string): unknown {
    const abs = resolve(this.loaded.root, file);
    if (!this.docs.has(abs)) this.docs.set(abs, readYamlFile(this.shown(file)));
    return this.docs.get(abs);
  }

  mapper(def: ExperimentDef, jobMetrics: Metric[] | undefined, field: string): TaskInput {
    const m: MapperSettings = { ...this.loaded.config.mapper, ...def.mapper };
    const value: MapSettings = {
      algorithm: 'local-search',
      effort: m.effort ?? DEFAULT_MAPPER.effort,
      seed: m.seed ?? DEFAULT_MAPPER.seed,
      restarts: m.restarts ?? DEFAULT_MAPPER.restarts,
      metrics: m.objective ?? jobMetrics ?? ['edp'],
    };
    return { label: `${this.loaded.displayFile}: ${field}`, value };
  }

  /**
   * A named architecture: declared in the config (`architectures.<name>.files`,
   * Timeloop format with an ERT), else the preset `experiments/archs/<name>.yaml`
   * next to the config (energies from the estimator, `<name>.energy.csv`
   * overrides).
   */
  architecture(name: string): ResolvedArch {
    let a = this.archCache.get(name);
    if (a) return a;
    const def = this.loaded.config.architectures?.[name];
    if (def) {
      const docs = def.files.map((f) => ({ file: this.shown(f), doc: this.doc(f) }));
      const input = importTimeloopDocuments(docs);
      const where = def.files.map((f) => this.shown(f)).join(', ');
      if (!input.architecture) throw new UserError('missing the `architecture` block', where);
      if (!input.ert) throw new UserError('missing the `ERT` block (per-action energies)', where);
      const arch = input.architecture;
      a = {
        arch,
        ert: input.ert,
        labels: blockLabels(def.files.map((f) => ({ label: this.label(f), doc: this.doc(f) }))),
        constraints: (problem) => {
          const c = unconstrained(problem, arch);
          for (const key of ['architecture_constraints', 'mapspace_constraints', 'mapspace']) {
            const block = input.raw[key];
            if (block) addConstraints(c, block.value, problem, arch, { file: block.file, path: key });
          }
          resolveMaximizeDims(c, problem, arch, where);
          return c;
        },
      };
    } else {
      const preset = loadArchitecture(name, presetDir(this.loaded));
      const yaml = this.label(preset.file);
      const hasErt = preset.ert !== undefined && isPlainObject(this.doc(preset.file)) && 'ERT' in (this.doc(preset.file) as object);
      a = {
        arch: preset.arch,
        ert: preset.ert,
        labels: {
          architecture: yaml,
          problem: '(none)',
          ERT: hasErt ? yaml : preset.energyFile ? `${this.label(preset.energyFile)} + energies estimated from ${yaml}` : `energies estimated from ${yaml}`,
          constraints: preset.constraints !== undefined ? yaml : '(none)',
        },
        constraints: (problem) => presetConstraints(preset, problem),
      };
    }
    this.archCache.set(name, a);
    return a;
  }
}

export interface ResolvedArch {
  arch: Architecture;
  ert: EnergyReferenceTable;
  labels: Labels;
  /** The architecture's mapspace constraints read against a problem. */
  constraints(problem: Problem): MapspaceConstraints;
}

/** Where architecture presets live for a config: `experiments/archs` next to it. */
export function presetDir(loaded: Pick<LoadedConfig, 'root'>): string {
  return resolve(loaded.root, 'experiments', 'archs');
}

interface Labels {
  architecture: string;
  problem: string;
  ERT: string;
  constraints: string;
}

/** Which file each block comes from (the last file defining a top-level key wins, as in Timeloop). */
function blockLabels(files: { label: string; doc: unknown }[]): Labels {
  const from = (keys: string[]): string[] => {
    const out: string[] = [];
    for (const { label, doc } of files) {
      if (typeof doc !== 'object' || doc === null) continue;
      const has = Object.keys(doc).some((k) => keys.includes(k.replace(/-/g, '_')));
      if (has && !out.includes(label)) out.push(label);
    }
    return out;
  };
  const last = (keys: string[]) => from(keys).at(-1) ?? '(none)';
  const cons = from(['architecture_constraints', 'mapspace_constraints', 'mapspace']);
  return {
    architecture: last(['architecture', 'arch']),
    problem: last(['problem']),
    ERT: last(['ERT']),
    constraints: cons.length > 0 ? cons.join(', ') : '(none)',
  };
}

function cellId(kind: string, meta: TaskMeta): string {
  const parts = [meta.experiment, meta.model, meta.layer, meta.arch, meta.fusion, meta.variant].filter((p) => p !== undefined && p !== '');
  return `${kind}:${parts.join('/')}`;
}

function mapSpec(meta: TaskMeta, problem: Problem, arch: Architecture, ert: EnergyReferenceTable, constraints: MapspaceConstraints, labels: Labels, mapper: TaskInput, problemLabel?: string): TaskSpec {
  return {
    id: cellId('map', meta),
    kind: 'map',
    inputs: {
      problem: { label: problemLabel ?? labels.problem, value: problem },
      architecture: { label: labels.architecture, value: arch },
      ERT: { label: labels.ERT, value: ert },
      constraints: { label: labels.constraints, value: constraints },
      mapper,
    },
    deps: [],
    meta: { ...meta, macs: operationCount(problem) },
  };
}

function expandJobs(ctx: ExpandContext, name: string, def: ExperimentDef, add: (spec: TaskSpec, field: string) => void): void {
  def.jobs?.forEach((job, i) => {
    const field = `experiments.${name}.jobs[${i}]`;
    const parsed = readMapperJob(job.files.map((f) => ctx.shown(f)));
    const labels = blockLabels(job.files.map((f) => ({ label: ctx.label(f), doc: ctx.doc(f) })));
    const meta: TaskMeta = {
      experiment: name,
      model: job.model ?? '-',
      layer: job.layer ?? parsed.problem.name,
      arch: job.arch ?? parsed.arch.name,
      fusion: job.fusion ?? 'none',
      ...(job.variant !== undefined ? { variant: job.variant } : {}),
    };
    add(mapSpec(meta, parsed.problem, parsed.arch, parsed.ert, parsed.constraints, labels, ctx.mapper(def, parsed.metrics, `experiments.${name}.mapper`)), field);
  });
}

function expandMatrix(ctx: ExpandContext, name: string, def: ExperimentDef, add: (spec: TaskSpec, field: string) => void): void {
  if (def.models === undefined || def.architectures === undefined) return;
  const file = ctx.loaded.displayFile;
  const fusion = def.fusion ?? ['none'];
  fusion.forEach((f, i) => {
    if (f !== 'none') throw new UserError(`fusion level '${f}' cannot be expanded yet (the fusion constraint rewrite is being built); use 'none'`, file, `experiments.${name}.fusion[${i}]`);
  });
  const mapper = ctx.mapper(def, undefined, `experiments.${name}.mapper`);
  def.models.forEach((modelId, mi) => {
    const model = ctx.loaded.models.find((m) => m.id === modelId)!;
    const layers = blockLayers(model, { layers: def.layers, seqLength: def.seqLength, batch: def.batch, origin: { file, field: `experiments.${name}` } });
    for (const layer of layers) {
      for (const archName of def.architectures!) {
        const a = ctx.architecture(archName);
        const constraints = a.constraints(layer.problem);
        for (const f of fusion) {
          const meta: TaskMeta = { experiment: name, model: modelId, layer: layer.id, arch: archName, fusion: f };
          const problemLabel = `workload ${modelId}${def.seqLength ? ` (seqLength ${def.seqLength})` : ''} ${layer.id}`;
          add(mapSpec(meta, layer.problem, a.arch, a.ert, constraints, a.labels, mapper, problemLabel), `experiments.${name}.models[${mi}]`);
        }
      }
    }
  });
}
