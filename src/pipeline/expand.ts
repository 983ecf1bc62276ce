/**
 * Matrix expansion: a validated config → task specs (pure: reads the input
 * files, runs nothing). Each experiment yields one map task per cell, a
 * `fused-pair` task per fused pair cell and an `aggregate` task over its
 * cells; identical map tasks of different cells (or experiments) become one
 * task in the graph.
 *
 * Expanders, one per way an experiment names its work:
 *   - `jobs`: explicit Timeloop mapper jobs (files with problem, architecture, ERT, constraints);
 *   - the matrix `models × layers × architectures × fusion`: problems from
 *     src/workload; matmuls on the named architecture, normalization ops on
 *     its NO variant (`noArchitectures`); architecture + ERT + constraints
 *     from the config's Timeloop files or the presets in experiments/archs.
 *     A fusion level adds, for each fused pair [matmul, NO] and each
 *     architecture that has the level, the matmul and the NO mapped under
 *     the fusion-rewritten constraints (src/fusion) and a `fused-pair` task
 *     that adds them up. Fusion at DRAM is no fusion: its cells use the
 *     unfused constraints, so they are the unfused tasks.
 *   - `sweep` (HW-DSE, src/sweeps/hwdse.ts): each config of the sweep
 *     becomes architecture variants of the preset (matmuls on gemmini / pim,
 *     normalization ops on gemmini-no / pim-no); one map task per (config,
 *     layer) on its variant under the dataflow's constraints, so identical
 *     (variant, layer) pairs of different configs are one task in the graph;
 *     and one `hwdse` task that aggregates per config (the study's way and
 *     the correct way).
 *   - `crossArch` (src/sweeps/cross-arch.ts): one map task per (architecture,
 *     workload) under the preset's constraints (plus the study's R/S/Q/N ones
 *     for convolutions) with the mapper preset's search, and one `cross-arch`
 *     task that collects the study's table.
 *   A cell whose constraints cannot even be stated (a factor larger than the
 *   dimension or the fanout) has no task: the aggregate gets its reason.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve, relative, isAbsolute } from 'node:path';
import type { Architecture } from '../arch/architecture.ts';
import type { EnergyReferenceTable } from '../arch/energy-table.ts';
import { addConstraints, resolveMaximizeDims, unconstrained, type MapspaceConstraints } from '../mapper/constraints.ts';
import { readMapperJob } from '../mapper/input.ts';
import type { ImperfectMode } from '../mapper/mapspace.ts';
import type { Metric } from '../mapper/search.ts';
import { importTimeloopDocuments } from '../timeloop/tree-import.ts';
import { UserError } from '../util/errors.ts';
import { parseYamlText, readYamlFile } from '../util/yaml.ts';
import { listArchitectures } from '../arch/preset-files.ts';
import { loadArchitecture, presetConstraints, type ArchitecturePreset } from '../arch/presets.ts';
import { FUSION_LEVELS, fusedConstraints, type FusionArch, type FusionFlags, type FusionMode } from '../fusion/index.ts';
import { blockLayers, FUSION_PAIRS, type LayerInstance } from '../workload/layers.ts';
import { flagsText } from './kinds/fused-pair.ts';
import { operationCount, type Problem } from '../workload/problem.ts';
import { DEFAULT_NO_ARCHITECTURES, parseDuration, selectExperiments, type EngineName, type ExperimentDef, type LoadedConfig, type MapperSettings } from './config.ts';
import type { TaskInput, TaskMeta, TaskSpec } from '../build/task.ts';
import { GEMMINI_CONFIG_KEYS, PIM_CONFIG_KEYS, gemminiVariant, hwdseLayers, pimVariant, variantConstraints, type GemminiHwConfig, type HwdseVariant, type PimHwConfig, type VariantOptions } from '../sweeps/hwdse.ts';
import { CROSS_ARCH_ALL_ARCHITECTURES, MAPPER_PRESETS, crossArchConstraints, crossArchWorkload } from '../sweeps/cross-arch.ts';
import { expandWorkloads, resolveSweepConfigs } from './sweep-config.ts';

/** A cell of an experiment's matrix and the task that computes it. */
export interface Cell {
  /** Id of the cell's task spec (after merging, the graph may know it as an alias). */
  task: string;
  meta: TaskMeta;
}

export interface ExperimentTasks {
  name: string;
  description?: string;
  /** A HW-DSE sweep or the cross-architecture study (their own aggregate kind and reports); absent for matrices and jobs. */
  study?: StudyKind;
  cells: Cell[];
  /** The fused-pair cells (one `fused-pair` task each). */
  pairs: Cell[];
  /** Id of the experiment's aggregate task. */
  aggregate: string;
}

export type StudyKind = 'hwdse' | 'cross-arch';

export interface Expansion {
  specs: TaskSpec[];
  experiments: ExperimentTasks[];
}

/** What a map task's `mapper` input holds. */
export interface MapSettings {
  /** `exhaustive` visits the whole constrained map space (the cross-architecture study's TLE); effort, seed and restarts then do not apply. */
  algorithm: 'local-search' | 'exhaustive';
  effort: number;
  seed: number;
  restarts: number;
  metrics: Metric[];
  /** Present only when not 'off', so that perfect-only tasks keep their keys. */
  imperfect?: ImperfectMode;
  /** Stop the search after this long and keep the best so far (results then depend on the machine). */
  budgetMs?: number;
}

export const DEFAULT_MAPPER = { effort: 10_000, seed: 1, restarts: 8 } as const;

/**
 * A map task's `mapper` input with the timeloop engine: `timeloop-mapper` on
 * the exported task. Every field is in the key (Timeloop's search depends on
 * all of them, and on the thread count and the time limit when they bind).
 */
export interface TimeloopMapSettings {
  algorithm: 'timeloop-mapper';
  metrics: Metric[];
  /** The Timeloop `mapper` block (underscore keys; written hyphenated for v3.0.3). */
  mapper: Record<string, unknown>;
  /** Wall-time limit per task, ms: then SIGINT, and Timeloop reports its best mapping so far. */
  timeLimitMs: number;
}

/**
 * Timeloop mapper defaults of the timeloop engine: the study's settings
 * (hybrid search, timeout 1000 invalid mappings in a row, victory after 500
 * mappings without improvement) on one thread, so that a task's result does
 * not depend on the machine's core count or thread timing (several threads
 * share the best mapping as they go: their result varies from run to run).
 */
export const DEFAULT_TIMELOOP_MAPPER: Readonly<Record<string, unknown>> = {
  algorithm: 'hybrid',
  num_threads: 1,
  timeout: 1000,
  victory_condition: 500,
  sync_interval: 0,
  live_status: false,
  diagnostics: false,
  log_stats: false,
};

/** Default wall-time limit of one timeloop-mapper run. */
export const DEFAULT_TIMELOOP_TIME_LIMIT_MS = 120_000;

/** Command-line overrides of the config's engine settings (`expt run --engine timeloop --timeout 60s`). */
export interface EngineOverrides {
  engine?: EngineName;
  /** Wall-time limit per timeloop-mapper run, ms. */
  timeLimitMs?: number;
}

/** Timeloop mapper block keys in underscore spelling, the file's `version` dropped. */
function timeloopMapperKeys(block: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof block !== 'object' || block === null || Array.isArray(block)) return out;
  for (const [k, v] of Object.entries(block as Record<string, unknown>)) if (k !== 'version') out[k.replace(/-/g, '_')] = v;
  return out;
}

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
    const push = (spec: TaskSpec, field: string, into: Cell[]) => {
      const prev = seen.get(spec.id);
      if (prev) throw new UserError(`two cells of experiment '${name}' have the same labels (${spec.id}); tell them apart with a different variant`, loaded.displayFile, field);
      seen.set(spec.id, spec);
      specs.push(spec);
      into.push({ task: spec.id, meta: spec.meta });
    };
    const sink: Sink = { cell: (spec, field) => push(spec, field, cells), pair: (spec, field) => push(spec, field, pairs) };
    if (def.sweep !== undefined || def.crossArch !== undefined) {
      const aggregate = def.sweep !== undefined ? expandSweep(ctx, name, def, sink) : expandCrossArch(ctx, name, def, sink);
      specs.push(aggregate);
      experiments.push({ name, description: def.description, study: aggregate.kind as StudyKind, cells, pairs, aggregate: aggregate.id });
      continue;
    }
    expandJobs(ctx, name, def, sink);
    expandMatrix(ctx, name, def, sink);
    const aggregate = `aggregate:${name}`;
    specs.push({
      id: aggregate,
      kind: 'aggregate',
      inputs: {
        cells: { label: `${loaded.displayFile}: experiments.${name}`, value: cells },
        ...(pairs.length > 0 ? { pairs: { label: `${loaded.displayFile}: experiments.${name}.fusedPairs`, value: pairs } } : {}),
      },
      deps: [...new Set([...cells, ...pairs].map((c) => c.task))],
      meta: { experiment: name },
    });
    experiments.push({ name, description: def.description, cells, pairs, aggregate });
  }
  return { specs, experiments };
}

interface Sink {
  /** A matrix cell (a `map` task). */
  cell(spec: TaskSpec, field: string): void;
  /** A fused-pair cell. */
  pair(spec: TaskSpec, field: string): void;
}

class ExpandContext {
  private readonly docs = new Map<string, unknown>();
  private readonly archCache = new Map<string, ResolvedArch>();
  constructor(
    readonly loaded: LoadedConfig,
    readonly overrides: EngineOverrides = {},
  ) {}

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
    if (!this.docs.has(abs)) {
      // Read by absolute path (the config may be elsewhere than the working directory); messages name it as shown.
      let text: string;
      try {
        text = readFileSync(abs, 'utf8');
      } catch {
        return readYamlFile(this.shown(file)); // throws the usual message
      }
      this.docs.set(abs, parseYamlText(text, this.shown(file)));
    }
    return this.docs.get(abs);
  }

  mapper(def: ExperimentDef, jobMetrics: Metric[] | undefined, field: string, jobMapperBlock?: unknown, template: 'uber' | 'ruby' = 'uber'): TaskInput {
    const config = this.loaded.config;
    const m: MapperSettings = { ...config.mapper, ...def.mapper };
    const engine = this.overrides.engine ?? def.engine ?? config.engine ?? 'embedded';
    if (engine === 'timeloop') {
      const metrics = m.objective ?? jobMetrics ?? ['edp'];
      const mapper = {
        ...DEFAULT_TIMELOOP_MAPPER,
        ...timeloopMapperKeys(jobMapperBlock),
        ...timeloopMapperKeys(config.timeloop?.mapper),
        ...timeloopMapperKeys(def.timeloop?.mapper),
        optimization_metrics: metrics,
      };
      const limit = def.timeloop?.timeLimit ?? config.timeloop?.timeLimit;
      const value: TimeloopMapSettings = {
        algorithm: 'timeloop-mapper',
        metrics,
        mapper,
        timeLimitMs: this.overrides.timeLimitMs ?? (limit !== undefined ? parseDuration(limit) : DEFAULT_TIMELOOP_TIME_LIMIT_MS),
      };
      const from = [this.overrides.engine ? '--engine timeloop' : `${this.loaded.displayFile}: ${def.engine ? field.replace(/\.mapper$/, '.engine') : 'engine'}`];
      if (this.overrides.timeLimitMs !== undefined) from.push(`--timeout ${this.overrides.timeLimitMs / 1000}s`);
      return { label: `timeloop-mapper settings (${from.join(', ')})`, value };
    }
    const value: MapSettings = {
      algorithm: 'local-search',
      effort: m.effort ?? DEFAULT_MAPPER.effort,
      seed: m.seed ?? DEFAULT_MAPPER.seed,
      restarts: m.restarts ?? DEFAULT_MAPPER.restarts,
      metrics: m.objective ?? jobMetrics ?? ['edp'],
    };
    const imperfect: ImperfectMode = m.imperfect ? 'spatial' : template === 'ruby' ? 'ruby' : 'off';
    if (imperfect !== 'off') value.imperfect = imperfect;
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
      const hasErt = preset.ertFromFile === true;
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
        preset,
      };
    }
    this.archCache.set(name, a);
    return a;
  }

  /** Names of the config's architectures: declared ones and presets. */
  knownArchitectures(): string[] {
    if (this.known === undefined) {
      const dir = presetDir(this.loaded);
      const presets = existsSync(dir) ? listArchitectures(dir) : [];
      this.known = [...new Set([...Object.keys(this.loaded.config.architectures ?? {}), ...presets])];
    }
    return this.known;
  }
  private known: string[] | undefined;

  /**
   * Where the normalization ops of a matrix on `arch` run: the config's
   * `noArchitectures` (over the defaults), else `<arch>-no` when it exists,
   * else `arch` itself. `field` names the place that asked, for errors.
   */
  noArchitecture(arch: string, field: string): string {
    const configured = this.loaded.config.noArchitectures?.[arch];
    if (configured !== undefined) return configured;
    const known = this.knownArchitectures();
    const dflt = DEFAULT_NO_ARCHITECTURES[arch];
    if (dflt !== undefined) {
      if (known.includes(dflt)) return dflt;
      throw new UserError(
        `the normalization ops on '${arch}' run on '${dflt}' (the default noArchitectures), which is not an architecture here; add experiments/archs/${dflt}.yaml or set noArchitectures.${arch}`,
        this.loaded.displayFile,
        field,
      );
    }
    return known.includes(`${arch}-no`) ? `${arch}-no` : arch;
  }
}

export interface ResolvedArch {
  arch: Architecture;
  ert: EnergyReferenceTable;
  labels: Labels;
  /** The architecture's mapspace constraints read against a problem. */
  constraints(problem: Problem): MapspaceConstraints;
  /** The preset (experiments/archs) the architecture comes from; not for Timeloop-file architectures. */
  preset?: ArchitecturePreset;
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
  const engine = (mapper.value as { algorithm?: string }).algorithm === 'timeloop-mapper' ? 'timeloop' : undefined;
  return {
    id: cellId('map', meta),
    kind: 'map',
    ...(engine ? { engine } : {}),
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

function expandJobs(ctx: ExpandContext, name: string, def: ExperimentDef, sink: Sink): void {
  def.jobs?.forEach((job, i) => {
    const field = `experiments.${name}.jobs[${i}]`;
    if (job.files === undefined) {
      // A job on a named architecture: one cell of the matrix, with the job's own labels.
      const model = ctx.loaded.models.find((m) => m.id === job.model)!;
      const [layer] = blockLayers(model, { layers: [job.layer!], origin: { file: ctx.loaded.displayFile, field: `${field}.layer` } });
      const a = ctx.architecture(job.arch!);
      const meta: TaskMeta = {
        experiment: name,
        model: model.id,
        layer: layer.id,
        arch: job.arch!,
        fusion: 'none',
        ...(job.variant !== undefined ? { variant: job.variant } : {}),
      };
      const constraints = a.constraints(layer.problem);
      sink.cell(mapSpec(meta, layer.problem, a.arch, a.ert, constraints, a.labels, ctx.mapper(def, undefined, `experiments.${name}.mapper`), `workload ${model.id} ${layer.id}`), field);
      return;
    }
    const parsed = readMapperJob(
      job.files.map((f) => ctx.shown(f)),
      job.files.map((f) => ctx.doc(f)),
    );
    const labels = blockLabels(job.files.map((f) => ({ label: ctx.label(f), doc: ctx.doc(f) })));
    const meta: TaskMeta = {
      experiment: name,
      model: job.model ?? '-',
      layer: job.layer ?? parsed.problem.name,
      arch: job.arch ?? parsed.arch.name,
      fusion: job.fusion ?? 'none',
      ...(job.variant !== undefined ? { variant: job.variant } : {}),
    };
    const mapperBlock = job.files.map((f) => ctx.doc(f)).reduce<unknown>((found, doc) => (typeof doc === 'object' && doc !== null && 'mapper' in doc ? (doc as Record<string, unknown>)['mapper'] : found), undefined);
    sink.cell(mapSpec(meta, parsed.problem, parsed.arch, parsed.ert, parsed.constraints, labels, ctx.mapper(def, parsed.metrics, `experiments.${name}.mapper`, mapperBlock)), field);
  });
}

/** The fusion levels of an architecture (none when fusion is not defined for it). */
function fusionArchOfName(name: string, a: ResolvedArch): FusionArch | undefined {
  const id = a.preset?.id ?? name;
  if (id.startsWith('gemmini')) return 'gemmini';
  if (id.startsWith('pim')) return 'pim';
  return undefined;
}


function expandMatrix(ctx: ExpandContext, name: string, def: ExperimentDef, sink: Sink): void {
  if (def.models === undefined || def.architectures === undefined) return;
  const file = ctx.loaded.displayFile;
  const field = `experiments.${name}`;
  const mode: FusionMode = def.fusionMode ?? 'fixed';
  const flags: FusionFlags = {
    ...(def.noEFusion ? { noEFusion: true } : {}),
    ...(def.lFusion ? { lFusion: true } : {}),
    ...(def.payWritebackInMatmul ? { payWritebackInMatmul: true } : {}),
  };
  const flagText = flagsText(flags);
  const fusionLabel = `${mode}${flagText ? ` ${flagText}` : ''}`;
  const archs = def.architectures.map((n) => ({ name: n, resolved: ctx.architecture(n) }));
  // Fusion levels: each applies to the architectures that have it; `none` always.
  const levels = (def.fusion ?? ['none']).filter((f) => f !== 'none');
  levels.forEach((level) => {
    const i = def.fusion!.indexOf(level);
    const fas = archs.map((a) => fusionArchOfName(a.name, a.resolved));
    if (!fas.some((fa) => fa !== undefined && FUSION_LEVELS[fa].includes(level))) {
      const offered = [...new Set(fas.filter((fa): fa is FusionArch => fa !== undefined).flatMap((fa) => FUSION_LEVELS[fa]))];
      throw new UserError(
        `'${level}' is not a fusion level of ${def.architectures!.join(', ')} (${offered.length > 0 ? `levels: none, ${offered.join(', ')}` : 'these architectures have no fusion levels: use none'})`,
        file,
        `${field}.fusion[${i}]`,
      );
    }
  });
  const levelsFor = (a: (typeof archs)[number]): string[] => {
    const fa = fusionArchOfName(a.name, a.resolved);
    return fa === undefined ? [] : levels.filter((l) => FUSION_LEVELS[fa].includes(l));
  };
  const mapper = ctx.mapper(def, undefined, `${field}.mapper`);
  def.models.forEach((modelId, mi) => {
    const model = ctx.loaded.models.find((m) => m.id === modelId)!;
    const layers = blockLayers(model, { layers: def.layers, seqLength: def.seqLength, batch: def.batch, origin: { file, field } });
    const pairs = fusedPairs(def, layers, levels.length > 0, file, field);
    const inPair = new Map(pairs.flatMap((p) => [[p[0], 'matmul'], [p[1], 'normop']] as const));
    const problemLabel = (layer: LayerInstance) => `workload ${modelId}${def.seqLength ? ` (seqLength ${def.seqLength})` : ''}${def.batch ? ` (batch ${def.batch})` : ''} ${layer.id}`;
    /** Task id of each (layer, arch, fusion) cell. */
    const cellTask = new Map<string, string>();
    for (const layer of layers) {
      for (const arch of archs) {
        const hw = layer.kind === 'normop' ? ctx.noArchitecture(arch.name, `${field}.layers`) : arch.name;
        const a = hw === arch.name ? arch.resolved : ctx.architecture(hw);
        const base: TaskMeta = { experiment: name, model: modelId, layer: layer.id, arch: arch.name, fusion: 'none', hw, perBlock: layer.perBlock, blocks: layer.blocks };
        const unfused = a.constraints(layer.problem);
        const none = mapSpec(base, layer.problem, a.arch, a.ert, unfused, a.labels, mapper, problemLabel(layer));
        sink.cell(none, `${field}.models[${mi}]`);
        cellTask.set(`${layer.id}/${arch.name}/none`, none.id);
        if (!inPair.has(layer.id)) continue;
        const fa = fusionArchOfName(arch.name, arch.resolved)!;
        for (const level of levelsFor(arch)) {
          const meta: TaskMeta = { ...base, fusion: level, fusionMode: mode, ...(flagText ? { fusionFlags: flagText } : {}) };
          let constraints = unfused;
          let constraintsLabel = a.labels.constraints;
          // Fusion at DRAM (the outermost level) is no fusion: the unfused
          // constraints, hence the unfused task (the study wrote both to one folder).
          if (FUSION_LEVELS[fa].indexOf(level) > 0) {
            if (!a.preset) {
              throw new UserError(`fusion needs an architecture preset (experiments/archs/${hw}.yaml): '${hw}' is given as Timeloop files`, file, `${field}.fusion`);
            }
            try {
              constraints = fusedConstraints(a.preset, layer.problem, { arch: fa, kind: layer.kind, level, mode, flags }).constraints;
            } catch (error) {
              if (error instanceof UserError) throw new UserError(`${layer.id} on ${hw} fused at ${level}: ${error.message}`, file, `${field}.fusion`);
              throw error;
            }
            constraintsLabel = `${a.labels.constraints} fused at ${level} (${fusionLabel})`;
          }
          const spec = mapSpec(meta, layer.problem, a.arch, a.ert, constraints, { ...a.labels, constraints: constraintsLabel }, mapper, problemLabel(layer));
          sink.cell(spec, `${field}.fusion`);
          cellTask.set(`${layer.id}/${arch.name}/${level}`, spec.id);
        }
      }
    }
    for (const [matmul, normop] of pairs) {
      const m = layers.find((l) => l.id === matmul)!;
      for (const arch of archs) {
        for (const level of levelsFor(arch)) {
          const task = (layer: string, f: string) => cellTask.get(`${layer}/${arch.name}/${f}`)!;
          const value: FusedPairInput = {
            matmul: { layer: matmul, task: task(matmul, level), unfused: task(matmul, 'none') },
            normop: { layer: normop, task: task(normop, level), unfused: task(normop, 'none') },
            level,
            mode,
            flags,
            perBlock: m.perBlock,
            blocks: m.blocks,
          };
          const meta: TaskMeta = { experiment: name, model: modelId, layer: `${matmul}+${normop}`, arch: arch.name, fusion: level, fusionMode: mode, ...(flagText ? { fusionFlags: flagText } : {}), perBlock: m.perBlock, blocks: m.blocks };
          sink.pair(
            {
              id: cellId('pair', meta),
              kind: 'fused-pair',
              inputs: { pair: { label: `${file}: ${field}.fusedPairs ${matmul} → ${normop} at ${level} (${fusionLabel})`, value } },
              deps: [...new Set([value.matmul.task, value.normop.task, value.matmul.unfused, value.normop.unfused])],
              meta,
            },
            `${field}.fusedPairs`,
          );
        }
      }
    }
  });
}

/** What a `fused-pair` task reads: the ids of its four map tasks (fused and unfused sides) and the pair's multiplicity. */
export interface FusedPairInput {
  matmul: { layer: string; task: string; unfused: string };
  normop: { layer: string; task: string; unfused: string };
  level: string;
  mode: FusionMode;
  flags: FusionFlags;
  /** Instances of the pair in one block (heads × batch for KTQ → softmax). */
  perBlock: number;
  blocks: number;
}

/**
 * The experiment's fused pairs among its layers: `fusedPairs`, else (when
 * fusion levels are asked for) the study's pairs whose two layers are there.
 */
function fusedPairs(def: ExperimentDef, layers: readonly LayerInstance[], fusing: boolean, file: string, field: string): (readonly [string, string])[] {
  if (!fusing) return [];
  const ids = new Set<string>(layers.map((l) => l.id));
  if (def.fusedPairs === undefined) {
    const pairs = FUSION_PAIRS.filter(([a, b]) => ids.has(a) && ids.has(b));
    if (pairs.length === 0) {
      throw new UserError(`fusion levels need a fused pair, and no pair of the study (${FUSION_PAIRS.map((p) => p.join(' → ')).join(', ')}) has both layers in the experiment's layers`, file, `${field}.fusion`);
    }
    return pairs;
  }
  def.fusedPairs.forEach((pair, i) => {
    pair.forEach((l, j) => {
      if (!ids.has(l)) throw new UserError(`layer '${l}' of the fused pair is not in the experiment's layers`, file, `${field}.fusedPairs[${i}][${j}]`);
    });
  });
  return def.fusedPairs;
}

// ---------------------------------------------------------------------------
// HW-DSE sweeps and the cross-architecture study

/** One cell of a sweep or of the cross-architecture study, as its aggregate task reads it. */
export interface StudyCell {
  /** The map task computing it; absent when its constraints cannot be stated (then `infeasible` says why). */
  task?: string;
  infeasible?: string;
  meta: TaskMeta;
}

/** What a sweep's `hwdse` task reads besides its cells. */
export interface HwdseSweepInput {
  architecture: 'gemmini' | 'pim';
  /** Where the configs came from (the study's list, a file, inline). */
  source: string;
  configs: (GemminiHwConfig | PimHwConfig)[];
  /** The study's key order, for its summary table. */
  keys: string[];
  mode: 'fixed' | 'study';
  version: 'head' | '2024-05-08';
  beyondCacti: 'extrapolate' | 'clamp';
  model: string;
  layers: { id: string; kind: 'matmul' | 'normop'; weight: number; macs: number }[];
  ignoreHeads: boolean;
  mapper: MapSettings;
}

/** One cell of a sweep: config × layer. */
export interface HwdseCell extends StudyCell {
  config: number;
  layer: string;
  /** The architecture variant's id (same id = same architecture). */
  variant: string;
  /** Approximations made in estimating the variant's energies. */
  notes: string[];
}

/** The library's search settings (`mapOnPreset`: effort 20,000, the study's metrics edp, delay, energy) as a map task's input. */
function libraryMapSettings(m: { effort?: number; seed?: number; restarts?: number; metrics?: readonly Metric[]; exhaustive?: boolean; budgetMs?: number }): MapSettings {
  const budget = m.budgetMs !== undefined ? { budgetMs: m.budgetMs } : {};
  // Effort, seed and restarts do not steer an exhaustive search: fixed values keep its key stable.
  if (m.exhaustive) return { algorithm: 'exhaustive', effort: 0, seed: 0, restarts: 0, metrics: [...(m.metrics ?? ['edp', 'delay', 'energy'])], ...budget };
  return { algorithm: 'local-search', effort: m.effort ?? 20_000, seed: m.seed ?? 1, restarts: m.restarts ?? 8, metrics: [...(m.metrics ?? ['edp', 'delay', 'energy'])], ...budget };
}

/** The presets a sweep's variants start from: the config's experiments/archs when it has them, else expt's own. */
function sweepPresetDir(loaded: LoadedConfig, base: string): string | undefined {
  const dir = presetDir(loaded);
  return existsSync(resolve(dir, `${base}.yaml`)) ? dir : undefined;
}

function configText(config: GemminiHwConfig | PimHwConfig): string {
  return Object.entries(config)
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ');
}

function expandSweep(ctx: ExpandContext, name: string, def: ExperimentDef, sink: Sink): TaskSpec {
  const sweep = def.sweep!;
  const file = ctx.loaded.displayFile;
  const field = `experiments.${name}.sweep`;
  const resolved = resolveSweepConfigs(sweep.architecture, sweep.configs, { root: ctx.loaded.root, file, field: `${field}.configs` }, { mixup: sweep.mixup });
  const modelId = sweep.model ?? 'bert-large';
  const model = ctx.loaded.models.find((m) => m.id === modelId)!;
  const layers = hwdseLayers(model, sweep.layers ?? ['KTQ', 'VScores', 'softmax'], { ignoreHeads: sweep.ignoreHeads });
  const mode = sweep.mode ?? 'fixed';
  const version = sweep.version ?? 'head';
  const beyondCacti = sweep.beyondCacti ?? 'extrapolate';
  const mapper: TaskInput = { label: `${file}: ${field}.mapper`, value: libraryMapSettings(sweep.mapper ?? {}) };
  const variants = new Map<string, HwdseVariant>();
  const variantOf = (config: GemminiHwConfig | PimHwConfig, kind: 'matmul' | 'normop', i: number): HwdseVariant => {
    const base = sweep.architecture === 'gemmini' ? (kind === 'matmul' ? 'gemmini' : 'gemmini-no') : kind === 'matmul' ? 'pim' : 'pim-no';
    const dir = sweepPresetDir(ctx.loaded, base);
    const options: VariantOptions = { mode, version, beyondCacti, ...(dir !== undefined ? { dir } : {}) };
    let v: HwdseVariant;
    try {
      v = sweep.architecture === 'gemmini' ? gemminiVariant(config as GemminiHwConfig, kind, options) : pimVariant(config as PimHwConfig, kind, options);
    } catch (error) {
      if (error instanceof UserError) throw new UserError(`config ${i} (${configText(config)}): ${error.message}`, file, `${field}.configs`);
      throw error;
    }
    // One object per variant id: identical variants hash once and their tasks merge.
    const seen = variants.get(v.id);
    if (seen) return seen;
    variants.set(v.id, v);
    return v;
  };
  const problems = new Map(layers.map((l) => [l.id, l.problem]));
  const cells: HwdseCell[] = [];
  resolved.configs.forEach((config, i) => {
    for (const layer of layers) {
      const variant = variantOf(config, layer.kind, i);
      const meta: TaskMeta = { experiment: name, model: modelId, layer: layer.id, arch: sweep.architecture, fusion: 'none', variant: `config${i}`, hw: variant.id, study: 'hwdse', config: i };
      const cell: HwdseCell = { config: i, layer: layer.id, variant: variant.id, notes: [...variant.notes], meta };
      let constraints: MapspaceConstraints;
      try {
        constraints = variantConstraints(variant, layer.problem);
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        cells.push({ ...cell, infeasible: error.message });
        continue;
      }
      const yaml = ctx.label(variant.file);
      const spec: TaskSpec = {
        id: `map:${name}/config${i}/${layer.id}`,
        kind: 'map',
        inputs: {
          problem: { label: `workload ${modelId} ${layer.id}`, value: problems.get(layer.id)! },
          architecture: { label: `${yaml} as HW-DSE config ${i} of ${resolved.source} (${configText(config)})`, value: variant.arch },
          ERT: {
            label: `${variant.energyFile ? `${ctx.label(variant.energyFile)} + ` : ''}energies estimated from ${yaml} as HW-DSE config ${i}${variant.notes.length > 0 ? ' (extrapolated beyond the CACTI runs)' : ''}`,
            value: variant.ert,
          },
          constraints: { label: `${mode} ${layer.kind === 'matmul' ? `${config.dataflow} ` : ''}constraints (${version}) on ${variant.id}`, value: constraints },
          mapper,
        },
        deps: [],
        meta: { ...meta, macs: layer.macs },
      };
      sink.cell(spec, `${field}.configs`);
      cells.push({ ...cell, task: spec.id, meta: spec.meta });
    }
  });
  const value: HwdseSweepInput = {
    architecture: sweep.architecture,
    source: resolved.source,
    configs: resolved.configs,
    keys: [...(sweep.architecture === 'gemmini' ? GEMMINI_CONFIG_KEYS : PIM_CONFIG_KEYS)],
    mode,
    version,
    beyondCacti,
    model: modelId,
    layers: layers.map((l) => ({ id: l.id, kind: l.kind, weight: l.weight, macs: l.macs })),
    ignoreHeads: sweep.ignoreHeads === true,
    mapper: mapper.value as MapSettings,
  };
  return {
    id: `hwdse:${name}`,
    kind: 'hwdse',
    inputs: { sweep: { label: `${file}: ${field}`, value }, cells: { label: `${file}: ${field}.configs × layers`, value: cells } },
    deps: [...new Set(cells.flatMap((c) => (c.task !== undefined ? [c.task] : [])))],
    meta: { experiment: name, study: 'hwdse' },
  };
}

/** What a `cross-arch` task reads besides its cells. */
export interface CrossArchStudyInput {
  mapper: 'TLD' | 'TLL' | 'TLE';
  description: string;
  /** The search of a GEMM cell and of a convolution cell (time-bound). */
  gemm: MapSettings;
  conv: MapSettings;
}

/** One cell of the cross-architecture study: workload × architecture. */
export interface CrossArchStudyCell extends StudyCell {
  comp: string;
  arch: string;
  kind: 'gemm' | 'conv';
  macs: number;
}

function expandCrossArch(ctx: ExpandContext, name: string, def: ExperimentDef, sink: Sink): TaskSpec {
  const x = def.crossArch!;
  const file = ctx.loaded.displayFile;
  const field = `experiments.${name}.crossArch`;
  const preset = MAPPER_PRESETS[x.mapper ?? 'TLL'];
  const settings = (budgetMs: number | undefined) => libraryMapSettings({ ...preset, ...(x.seed !== undefined ? { seed: x.seed } : {}), budgetMs });
  const study: CrossArchStudyInput = { mapper: preset.name, description: preset.description, gemm: settings(preset.budgetMs), conv: settings(preset.convBudgetMs ?? preset.budgetMs) };
  const mapperInput = (kind: 'gemm' | 'conv'): TaskInput => ({ label: `${file}: ${field}.mapper (${preset.name}${kind === 'conv' ? ', convolution time budget' : ''})`, value: kind === 'gemm' ? study.gemm : study.conv });
  const mappers = { gemm: mapperInput('gemm'), conv: mapperInput('conv') };
  const workloads = expandWorkloads(x.workloads).map((id) => crossArchWorkload(id));
  const cells: CrossArchStudyCell[] = [];
  x.architectures.forEach((archName, ai) => {
    const a = ctx.architecture(archName);
    for (const w of workloads) {
      const bert = !/^(MB\d|Harsh\d)$/.test(w.id) && w.kind === 'gemm';
      const meta: TaskMeta = { experiment: name, model: bert ? 'bert-large' : '-', layer: w.id, arch: archName, fusion: 'none', variant: preset.name, hw: archName, study: 'cross-arch' };
      const cell: CrossArchStudyCell = { comp: w.id, arch: archName, kind: w.kind, macs: w.macs, meta };
      let constraints: MapspaceConstraints;
      try {
        if (a.preset !== undefined && (CROSS_ARCH_ALL_ARCHITECTURES as readonly string[]).includes(a.preset.id)) constraints = crossArchConstraints(a.preset, w.problem);
        else if (w.kind === 'conv') throw new UserError(`the study's convolution constraints are known for the presets ${CROSS_ARCH_ALL_ARCHITECTURES.join(', ')} only`, file, `${field}.architectures[${ai}]`);
        else constraints = a.constraints(w.problem);
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        if (error.field === `${field}.architectures[${ai}]`) throw error;
        cells.push({ ...cell, infeasible: error.message });
        continue;
      }
      const spec: TaskSpec = {
        id: `map:${name}/${archName}/${w.id}`,
        kind: 'map',
        inputs: {
          problem: { label: `workload ${w.id}${w.kind === 'conv' ? " (the study's letters)" : ''}`, value: w.problem },
          architecture: { label: a.labels.architecture, value: a.arch },
          ERT: { label: a.labels.ERT, value: a.ert },
          constraints: { label: `${a.labels.constraints}${w.kind === 'conv' ? " + the study's R/S/Q/N constraints" : ''}`, value: constraints },
          mapper: mappers[w.kind],
        },
        deps: [],
        meta: { ...meta, macs: w.macs },
      };
      sink.cell(spec, `${field}.workloads`);
      cells.push({ ...cell, task: spec.id, meta: spec.meta });
    }
  });
  return {
    id: `cross-arch:${name}`,
    kind: 'cross-arch',
    inputs: { study: { label: `${file}: ${field}.mapper`, value: study }, cells: { label: `${file}: ${field}`, value: cells } },
    deps: [...new Set(cells.flatMap((c) => (c.task !== undefined ? [c.task] : [])))],
    meta: { experiment: name, study: 'cross-arch' },
  };
}
