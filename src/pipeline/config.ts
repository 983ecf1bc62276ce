/**
 * `experiments.config.ts` (or `.mjs`, `.js`, `.json`, `.yaml`): loading with
 * cosmiconfig, the typed schema (`defineConfig`), and validation with
 * one-line errors (`file: path.of.field: expected …, got …`).
 *
 * The schema names the study's axes (models, layers, fusion levels,
 * architectures, HW-DSE sweeps, the cross-architecture study) and explicit
 * Timeloop mapper jobs. Which of them can already be expanded into tasks is
 * decided by the expanders (expand.ts); the validation here is about shape,
 * names and sizes.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cosmiconfig, defaultLoaders, type Loader } from 'cosmiconfig';
import { durationMs } from '../util/duration.ts';
import { UserError } from '../util/errors.ts';
import { bundledConfigUrl } from './config-bundle.ts';
import { checkScriptConfig, ConfigSyntaxError, lineInStack, parseJsonConfig, parseYamlConfig } from './config-syntax.ts';
import { listArchitectures } from '../inputs/preset-files.ts';
import { ALL_LAYER_IDS, layerDefinition } from '../workload/layers.ts';
import { loadModelDir } from '../inputs/models.ts';
import { modelCatalog, type TransformerModel } from '../workload/models.ts';
import { CROSS_ARCH_WORKLOAD_GROUPS, crossArchWorkloadIds, resolveSweepConfigs } from './sweep-config.ts';
import type { GemminiHwConfig, PimHwConfig } from '../sweeps/hwdse-configs.ts';
import type { ConstraintMode, StudyVersion } from '../sweeps/hwdse.ts';
import type { MapperPresetName } from '../sweeps/cross-arch.ts';
import { EXECUTOR_KINDS, SLURM_FIELDS, type ExecutorDef } from '../slurm/settings.ts';

export type Objective = 'edp' | 'energy' | 'delay';

/** Built-in mapper settings (hashed into every map task's key). */
export interface MapperSettings {
  /** Factor splits the local search may score (default 10000). */
  effort?: number;
  /** Seed of the search restarts (default 1). */
  seed?: number;
  /** Independent restarts sharing the effort (default 8). */
  restarts?: number;
  /** Lexicographic objective (default: the job's `mapper.optimization_metrics`, else edp). */
  objective?: Objective[];
  /**
   * Imperfect factorizations (default false): spatial loops may take any
   * factor up to their fanout, the last iteration doing the rest. A job
   * file with Timeloop's `mapspace.template: ruby` gets its `remainders`.
   */
  imperfect?: boolean;
}

/** Which engine maps and evaluates the map tasks: expt's own (default) or the real Timeloop. */
export type EngineName = 'embedded' | 'timeloop';
export const ENGINE_NAMES: readonly EngineName[] = ['embedded', 'timeloop'];

/**
 * Settings of the `timeloop` engine (`timeloop-mapper` per map task). All of
 * them are part of the map tasks' keys: changing one reruns the Timeloop tasks.
 */
export interface TimeloopSettings {
  /** Wall-time limit per task: a duration such as '120s', '2m', or ms (default 120 s); then SIGINT, and Timeloop reports its best mapping so far. */
  timeLimit?: string | number;
  /**
   * Timeloop `mapper` block keys (underscore spelling; written hyphenated for
   * v3.0.3), over the defaults `{algorithm: hybrid, num_threads: 1, timeout:
   * 1000, victory_condition: 500}` and a job file's own mapper block.
   */
  mapper?: Record<string, unknown>;
}

/** An architecture given as Timeloop-format files (architecture, ERT, constraints). */
export interface ArchitectureDef {
  files: string[];
  description?: string;
}

/**
 * One explicit mapper job: Timeloop-format files with a problem, an
 * architecture and an ERT; or, without files, a layer of a model on a named
 * architecture (a preset or a declared one, with its constraints).
 */
export interface MapJobDef {
  files?: string[];
  model?: string;
  layer?: string;
  arch?: string;
  fusion?: string;
  /** Extra label to tell cells apart (e.g. the study's TLD / TLL mapper settings). */
  variant?: string;
}

/**
 * A HW design-space sweep (study-facts §1.4, §1.7; src/sweeps/hwdse.ts):
 * each config becomes architecture variants of the preset (the matmuls on
 * `gemmini` / `pim`, the normalization ops on `gemmini-no` / `pim-no`),
 * every layer is mapped on its variant, and the configs are ranked with
 * the study's aggregation and the correct one. The fields are the library's
 * (`HwdseOptions`, `VariantOptions`, `MapperChoice`).
 */
export interface SweepDef {
  architecture: HwdseArchitecture;
  /**
   * The study's lists — `hardcoded` (hwdse_run.py's own), `json` (its
   * hw_configs.json at HEAD), `2024-05-08` (the 15 configs of the HW-DSE
   * table, gemmini only) — or a study-format hw_configs JSON file (relative
   * to the config), or the config objects themselves (the study's keys).
   */
  configs: HwdseConfigList | string | (GemminiHwConfig | PimHwConfig)[];
  /** `-mx`: the Cartesian product of every value seen per key. */
  mixup?: boolean;
  /** The constraints of a dataflow: `fixed` (default; the dataflows as meant) or `study` (the study's, quirks included). */
  mode?: ConstraintMode;
  /** The study's state: `head` (default) or `2024-05-08` (what the HW-DSE table ran with). */
  version?: StudyVersion;
  /** An SRAM deeper than the stored CACTI runs: `extrapolate` (default) or `clamp`. */
  beyondCacti?: 'extrapolate' | 'clamp';
  /** Default `bert-large` (S 4096, as the study ran it). */
  model?: string;
  /** Default the study's KTQ, VScores, softmax. */
  layers?: string[];
  /** `-ih`: count per-head layers once instead of × heads. */
  ignoreHeads?: boolean;
  /** The search per (variant, layer); the library's defaults (effort 20,000, metrics edp, delay, energy). */
  mapper?: SweepMapperSettings;
}

export type HwdseArchitecture = 'gemmini' | 'pim';
export type HwdseConfigList = 'hardcoded' | 'json' | '2024-05-08';
export const HWDSE_ARCHITECTURES: readonly HwdseArchitecture[] = ['gemmini', 'pim'];
export const HWDSE_CONFIG_LISTS: readonly HwdseConfigList[] = ['hardcoded', 'json', '2024-05-08'];

/** The library's `MapperChoice` without the time budget (a budget makes results depend on the machine). */
export interface SweepMapperSettings {
  effort?: number;
  seed?: number;
  restarts?: number;
  metrics?: Objective[];
  /** Visit the whole constrained map space (optimal under the model; tens of seconds per matmul). */
  exhaustive?: boolean;
}

/**
 * The cross-architecture study (study-facts §1.5; src/sweeps/cross-arch.ts):
 * every workload mapped on every architecture preset with the preset's
 * constraints (plus the study's R/S/Q/N ones for convolutions).
 */
export interface CrossArchDef {
  architectures: string[];
  /**
   * Workload ids — MB1–MB6, Harsh1, Harsh2, BERT-large layers (KQV, KTQ,
   * VScores, FF1, Out, FF2), convolutions I–XVII — or the groups `gemms`
   * (MB + Harsh), `bert` (KQV, KTQ, VScores, FF1) and `convs` (I–XVII).
   */
  workloads: string[];
  /** The study's mapper blocks: TLD (short local search), TLL (long; default), TLE (exhaustive). */
  mapper?: MapperPresetName;
  seed?: number;
}

export const CROSS_ARCH_MAPPERS: readonly MapperPresetName[] = ['TLD', 'TLL', 'TLE'];

export interface ExperimentDef {
  description?: string;
  mapper?: MapperSettings;
  /** Explicit Timeloop mapper jobs. */
  jobs?: MapJobDef[];
  /** The matrix: models × layers × architectures × fusion levels. */
  models?: string[];
  layers?: 'study' | 'all' | string[];
  architectures?: string[];
  /**
   * Fusion levels: `none`, or a storage level a fused pair is fused at
   * (gemmini: DRAM, Accumulator, Registers; pim: DRAM, shared_glb,
   * scratchpad). A level applies to the architectures that have it; the
   * unfused cells (`none`) are always part of the matrix.
   */
  fusion?: string[];
  /**
   * Fused pairs [matmul, normalization op] (default, when fusion levels are
   * given: the study's KTQ → softmax and Out → layernorm, those whose two
   * layers are in `layers`).
   */
  fusedPairs?: [string, string][];
  /** The fusion constraint rewrite: `fixed` (default; repairs the study's bugs) or `study` (the study's rewrite, quirks included). */
  fusionMode?: 'fixed' | 'study';
  /** `-nef`: do not force E=1 above the fusion level (matmul side). */
  noEFusion?: boolean;
  /** `-lf`: force L=1 above the fusion level (matmul side). */
  lFusion?: boolean;
  /** `-pwim`: the matmul pays the DRAM write-back of the fused output instead of the normalization op. */
  payWritebackInMatmul?: boolean;
  seqLength?: number;
  batch?: number;
  /** A HW-DSE sweep (the experiment is then only that). */
  sweep?: SweepDef;
  /** The cross-architecture study (the experiment is then only that). */
  crossArch?: CrossArchDef;
  /** Study-specific settings not in the schema yet: hashed into tasks as given. */
  options?: Record<string, unknown>;
  /** The engine of this experiment's map tasks (default: the config's `engine`). */
  engine?: EngineName;
  /** Settings of the timeloop engine for this experiment. */
  timeloop?: TimeloopSettings;
  /** Where this experiment's tasks run (over the config's `executor`: the kind, and Slurm settings field by field). */
  executor?: ExecutorDef;
}

export interface ExptConfig {
  /** Experiments `expt run` runs when none is named (default: all, in order). */
  default?: string[];
  /** Result cache folder, relative to the config file (default `cache`). */
  cacheDir?: string;
  /** Report folder, relative to the config file (default `reports`). */
  reportsDir?: string;
  /** Extra model definitions (YAML), relative to the config file (default `experiments/models` if present). */
  modelsDir?: string;
  /** Mapper settings for every experiment (an experiment's own `mapper` overrides them field by field). */
  mapper?: MapperSettings;
  /**
   * Named architectures given as Timeloop-format files. Names not declared
   * here refer to the presets in `experiments/archs/<name>.yaml`.
   */
  architectures?: Record<string, ArchitectureDef>;
  /**
   * Where the normalization ops (softmax, layernorm) of a matrix run:
   * architecture → its normalization-op variant. Merged over the default
   * {@link DEFAULT_NO_ARCHITECTURES}; an architecture not listed runs them
   * on `<name>-no` when that architecture exists, else on itself.
   */
  noArchitectures?: Record<string, string>;
  /** The engine of every experiment's map tasks (default 'embedded'; `expt run --engine` overrides it). */
  engine?: EngineName;
  /** Settings of the timeloop engine (an experiment's own `timeloop` overrides them field by field). */
  timeloop?: TimeloopSettings;
  /**
   * Where `expt run` executes tasks: `local` (default) or `slurm` (job arrays
   * on the cluster; `{ kind: 'slurm', partition, time, ... }` with sbatch
   * settings). `expt run --executor` overrides the kind.
   */
  executor?: ExecutorDef;
  experiments: Record<string, ExperimentDef>;
}

/** The study's normalization-op architectures (experiments/archs/gemmini-no.yaml, pim-no.yaml). */
export const DEFAULT_NO_ARCHITECTURES: Readonly<Record<string, string>> = { gemmini: 'gemmini-no', pim: 'pim-no' };

export const FUSION_MODES = ['fixed', 'study'] as const;

/** The experiments to expand: `names`, else the config's `default`, else all. */
export function selectExperiments(loaded: Pick<LoadedConfig, 'config' | 'displayFile'>, names: readonly string[] = []): string[] {
  const all = Object.keys(loaded.config.experiments);
  if (names.length === 0) return loaded.config.default ?? all;
  for (const n of names) if (!all.includes(n)) throw new UserError(`unknown experiment '${n}' (experiments in ${loaded.displayFile}: ${all.join(', ')})`);
  return [...names];
}

/** A loaded, validated config with the places it refers to. */
export interface LoadedConfig {
  config: ExptConfig;
  /** The config file as found. */
  file: string;
  /** How the file is named in messages (relative to the working directory). */
  displayFile: string;
  /** The folder of the config file: paths in it are relative to this. */
  root: string;
  cacheDir: string;
  reportsDir: string;
  models: TransformerModel[];
}

export const CONFIG_NAMES = [
  'experiments.config.ts',
  'experiments.config.mts',
  'experiments.config.mjs',
  'experiments.config.js',
  'experiments.config.json',
  'experiments.config.yaml',
  'experiments.config.yml',
];

function unwrapDefault(mod: Record<string, unknown>): unknown {
  const value: unknown = mod['default'] ?? mod['config'] ?? null;
  // tsx compiles a .ts file outside a `"type": "module"` package to CommonJS:
  // the namespace's default is then module.exports, marked __esModule.
  if (typeof value === 'object' && value !== null && (value as Record<string, unknown>)['__esModule'] === true) {
    const exports = value as Record<string, unknown>;
    return exports['default'] ?? exports['config'] ?? null;
  }
  return value;
}

const importLoader: Loader = async (filepath, content) => {
  await checkScriptConfig(filepath, content);
  const url = `${pathToFileURL(filepath).href}?t=${statSync(filepath).mtimeMs}`;
  return unwrapDefault((await import(url)) as Record<string, unknown>);
};

/**
 * TypeScript configs are bundled and imported by Node (config-bundle.ts); one
 * that imports another package goes through tsx's tsImport (works with or
 * without a package.json nearby).
 */
const tsLoader: Loader = async (filepath, content) => {
  await checkScriptConfig(filepath, content);
  const url = await bundledConfigUrl(filepath, content);
  if (url !== undefined) {
    try {
      return unwrapDefault((await import(url)) as Record<string, unknown>);
    } catch {
      // The config threw while it ran: through tsx the error's stack names the config's own line.
    }
  }
  const { tsImport } = await import('tsx/esm/api');
  return unwrapDefault((await tsImport(pathToFileURL(filepath).href, import.meta.url)) as Record<string, unknown>);
};

const yamlLoader: Loader = (_filepath, content) => parseYamlConfig(content);
const jsonLoader: Loader = (_filepath, content) => parseJsonConfig(content);

/**
 * Two config files in one folder: cosmiconfig would take the first in
 * {@link CONFIG_NAMES} order and silently ignore the other.
 */
function checkSingleConfig(found: string, shown: (f: string) => string): void {
  const dir = dirname(found);
  const others = CONFIG_NAMES.filter((n) => n !== basename(found) && existsSync(join(dir, n)));
  if (others.length > 0) {
    const list = others.map((n) => shown(join(dir, n))).join(', ');
    throw new UserError(`${others.length > 1 ? 'other config files are' : 'another config file is'} in the same folder: ${list}; expt reads only one (remove or rename all but one, or name one with --config)`, shown(found));
  }
}

/**
 * Finds (from `cwd` up to the nearest package.json) or loads (`explicit`)
 * the config, and validates it.
 */
export async function loadConfig(options: { cwd?: string; explicit?: string } = {}): Promise<LoadedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const explorer = cosmiconfig('experiments', {
    searchPlaces: CONFIG_NAMES,
    searchStrategy: 'project',
    loaders: { ...defaultLoaders, '.ts': tsLoader, '.mts': tsLoader, '.mjs': importLoader, '.js': importLoader, '.json': jsonLoader, '.yaml': yamlLoader, '.yml': yamlLoader },
    cache: false,
  });
  let found: { config: unknown; filepath: string } | null;
  const shown = (f: string) => displayPath(f, cwd);
  try {
    found = options.explicit !== undefined ? await explorer.load(resolve(cwd, options.explicit)) : await explorer.search(cwd);
  } catch (error) {
    if (error instanceof UserError) throw error;
    const e = error as NodeJS.ErrnoException & { filepath?: string; mark?: { line?: number } };
    const file = e.filepath ?? options.explicit ?? 'experiments.config';
    if (e.code === 'ENOENT') throw new UserError('config file not found', shown(file));
    // Two config files explain a failure of the first better than its own error.
    if (options.explicit === undefined && e.filepath !== undefined) checkSingleConfig(e.filepath, shown);
    if (error instanceof ConfigSyntaxError) throw new UserError(`cannot load the config: ${error.where()}`, shown(file));
    // An error thrown while the config module runs: Node's message has no line, its stack may.
    const at = lineInStack(error, pathToFileURL(resolve(file)).href);
    const where = at === undefined ? '' : ` (at line ${at.line}${at.column !== undefined ? `, column ${at.column}` : ''})`;
    throw new UserError(`cannot load the config: ${loadErrorText(String(e.message ?? e), file)}${where}`, shown(file));
  }
  if (found === null) {
    throw new UserError(`no experiments config found in ${shown(cwd) || '.'} or its parents (looked for ${CONFIG_NAMES.slice(0, 1).join(', ')} and its .mjs/.json/.yaml variants)`);
  }
  if (options.explicit === undefined) checkSingleConfig(found.filepath, shown);
  const displayFile = shown(found.filepath);
  const root = dirname(found.filepath);
  const config = validateConfig(found.config, displayFile, root);
  const modelsDir = config.modelsDir !== undefined ? resolve(root, config.modelsDir) : join(root, 'experiments', 'models');
  let extra: TransformerModel[] = [];
  if (config.modelsDir !== undefined || existsSync(modelsDir)) {
    try {
      extra = loadModelDir(modelsDir);
    } catch (error) {
      // The folder itself (not one of its files) cannot be read: the config's field (or the default folder) is at fault.
      if (error instanceof UserError && error.file === modelsDir) {
        throw new UserError(`${error.message} ${config.modelsDir ?? relative(root, modelsDir)}`, displayFile, config.modelsDir !== undefined ? 'modelsDir' : undefined);
      }
      throw error;
    }
  }
  const models = modelCatalog(extra);
  const presetDir = join(root, 'experiments', 'archs');
  const presets = existsSync(presetDir) ? listArchitectures(presetDir) : [];
  checkNames(config, models, presets, displayFile);
  return {
    config,
    file: found.filepath,
    displayFile,
    root,
    // EXPT_CACHE_DIR / EXPT_REPORTS_DIR (relative to the working directory) override the config.
    cacheDir: process.env['EXPT_CACHE_DIR'] ? resolve(cwd, process.env['EXPT_CACHE_DIR']) : resolve(root, config.cacheDir ?? 'cache'),
    reportsDir: process.env['EXPT_REPORTS_DIR'] ? resolve(cwd, process.env['EXPT_REPORTS_DIR']) : resolve(root, config.reportsDir ?? 'reports'),
    models,
  };
}

/** The informative line of a loader error (esbuild: the `file:line:col: ERROR: ...` line). */
function loadErrorText(message: string, file: string): string {
  const lines = message.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const error = lines.find((l) => /\bERROR:/.test(l));
  const line = error ?? lines[0] ?? 'unknown error';
  return line.replace(resolve(file), '').replace(/^:(\d+):(\d+):\s*ERROR:\s*/, 'line $1, column $2: ');
}

function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

// ---------------------------------------------------------------------------
// Validation: each check throws a UserError naming the file and the field.

type Obj = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 37) + '...' : value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return `${value}`;
  if (typeof value === 'function') return 'a function';
  return 'an object';
}

class Checker {
  constructor(readonly file: string, readonly root: string) {}

  fail(path: string, message: string): never {
    throw new UserError(message, this.file, path || undefined);
  }

  expected(path: string, what: string, got: unknown): never {
    this.fail(path, `expected ${what}, got ${describe(got)}`);
  }

  object(value: unknown, path: string, what = 'an object'): Obj {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.expected(path, what, value);
    return value as Obj;
  }

  /** Rejects fields not in `known`, suggesting a close one. */
  fields(o: Obj, path: string, known: readonly string[]): void {
    for (const k of Object.keys(o)) {
      if (known.includes(k)) continue;
      const near = closest(k, known);
      this.fail(join2(path, k), `unknown field '${k}'${near ? ` (did you mean '${near}'?)` : ''}; known fields: ${known.join(', ')}`);
    }
  }

  required(o: Obj, key: string, path: string, what: string): unknown {
    if (o[key] === undefined) this.fail(join2(path, key), `missing required field (expected ${what})`);
    return o[key];
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string' || value.trim() === '') this.expected(path, 'a non-empty string', value);
    return value;
  }

  name(value: unknown, path: string): string {
    const s = this.string(value, path);
    if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(s)) this.fail(path, `'${s}' is not a valid name (letters, digits, '.', '_', '+', '-')`);
    return s;
  }

  positiveInt(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) this.expected(path, 'a positive whole number', value);
    return value;
  }

  nonNegativeInt(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) this.expected(path, 'a whole number >= 0', value);
    return value;
  }

  boolean(value: unknown, path: string): boolean {
    if (typeof value !== 'boolean') this.expected(path, 'true or false', value);
    return value;
  }

  list(value: unknown, path: string, what: string, nonEmpty = true): unknown[] {
    if (!Array.isArray(value)) this.expected(path, what, value);
    if (nonEmpty && value.length === 0) this.expected(path, what, value);
    return value;
  }

  names(value: unknown, path: string, what: string): string[] {
    const list = this.list(value, path, what).map((x, i) => this.name(x, `${path}[${i}]`));
    const seen = new Set<string>();
    list.forEach((x, i) => {
      if (seen.has(x)) this.fail(`${path}[${i}]`, `'${x}' is listed twice`);
      seen.add(x);
    });
    return list;
  }

  modelsFolder(dir: string, path: string): void {
    let isDir: boolean;
    try {
      isDir = statSync(resolve(this.root, dir)).isDirectory();
    } catch {
      this.fail(path, `folder not found: ${dir} (paths are relative to the config file)`);
    }
    if (!isDir) this.fail(path, `not a folder: ${dir} (expected a folder of model definitions, *.yaml)`);
  }

  files(value: unknown, path: string): string[] {
    const list = this.list(value, path, 'a list of file paths').map((x, i) => this.string(x, `${path}[${i}]`));
    list.forEach((f, i) => {
      const abs = resolve(this.root, f);
      if (!existsSync(abs)) this.fail(`${path}[${i}]`, `file not found: ${f} (paths are relative to the config file)`);
      if (!statSync(abs).isFile()) this.fail(`${path}[${i}]`, `not a file: ${f}`);
    });
    return list;
  }
}

function join2(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return dp[a.length][b.length];
}

const TOP_FIELDS = ['default', 'cacheDir', 'reportsDir', 'modelsDir', 'mapper', 'engine', 'timeloop', 'executor', 'architectures', 'noArchitectures', 'experiments'];
const EXPERIMENT_FIELDS = [
  'description',
  'mapper',
  'jobs',
  'models',
  'layers',
  'architectures',
  'fusion',
  'fusedPairs',
  'fusionMode',
  'noEFusion',
  'lFusion',
  'payWritebackInMatmul',
  'seqLength',
  'batch',
  'sweep',
  'crossArch',
  'options',
  'engine',
  'timeloop',
  'executor',
];
const SWEEP_FIELDS = ['architecture', 'configs', 'mixup', 'mode', 'version', 'beyondCacti', 'model', 'layers', 'ignoreHeads', 'mapper'];
const SWEEP_MAPPER_FIELDS = ['effort', 'seed', 'restarts', 'metrics', 'exhaustive'];
const CROSS_ARCH_FIELDS = ['architectures', 'workloads', 'mapper', 'seed'];
const MAPPER_FIELDS = ['effort', 'seed', 'restarts', 'objective', 'imperfect'];
const JOB_FIELDS = ['files', 'model', 'layer', 'arch', 'fusion', 'variant'];
const OBJECTIVES: readonly Objective[] = ['edp', 'energy', 'delay'];

/** Checks the shape of a config value; the result is the same object, typed. */
export function validateConfig(value: unknown, file: string, root: string): ExptConfig {
  const c = new Checker(file, root);
  if (value === null || value === undefined) c.fail('', 'the config is empty (expected `export default defineConfig({ experiments: { ... } })`)');
  const o = c.object(value, '', 'the config object (export default defineConfig({ experiments: { ... } }))');
  c.fields(o, '', TOP_FIELDS);
  const exps = c.object(c.required(o, 'experiments', '', 'an object of named experiments'), 'experiments', 'an object of named experiments');
  if (Object.keys(exps).length === 0) c.fail('experiments', 'expected at least one experiment, got an empty object');
  for (const k of ['cacheDir', 'reportsDir', 'modelsDir']) if (o[k] !== undefined) c.string(o[k], k);
  if (o['modelsDir'] !== undefined) c.modelsFolder(o['modelsDir'] as string, 'modelsDir');
  if (o['mapper'] !== undefined) checkMapper(c, o['mapper'], 'mapper');
  if (o['engine'] !== undefined) checkEngine(c, o['engine'], 'engine');
  if (o['timeloop'] !== undefined) checkTimeloop(c, o['timeloop'], 'timeloop');
  if (o['executor'] !== undefined) checkExecutor(c, o['executor'], 'executor');
  if (o['architectures'] !== undefined) {
    const archs = c.object(o['architectures'], 'architectures', 'an object of named architectures');
    for (const [name, def] of Object.entries(archs)) {
      const path = join2('architectures', name);
      c.name(name, path);
      const a = c.object(def, path, 'an architecture ({ files: [...] })');
      c.fields(a, path, ['files', 'description']);
      c.files(c.required(a, 'files', path, 'a list of Timeloop-format files'), join2(path, 'files'));
      if (a['description'] !== undefined) c.string(a['description'], join2(path, 'description'));
    }
  }
  if (o['noArchitectures'] !== undefined) {
    const nos = c.object(o['noArchitectures'], 'noArchitectures', 'an object mapping architectures to their normalization-op variants ({ gemmini: \'gemmini-no\' })');
    for (const [name, target] of Object.entries(nos)) {
      c.name(name, join2('noArchitectures', name));
      c.name(target, join2('noArchitectures', name));
    }
  }
  for (const [name, def] of Object.entries(exps)) checkExperiment(c, name, def);
  if (o['default'] !== undefined) {
    c.names(o['default'], 'default', 'a list of experiment names').forEach((n, i) => {
      if (!(n in exps)) c.fail(`default[${i}]`, `unknown experiment '${n}' (experiments: ${Object.keys(exps).join(', ')})`);
    });
  }
  return o as unknown as ExptConfig;
}

function checkMapper(c: Checker, value: unknown, path: string): void {
  const m = c.object(value, path, 'mapper settings ({ effort, seed, restarts, objective, imperfect })');
  c.fields(m, path, MAPPER_FIELDS);
  if (m['effort'] !== undefined) c.positiveInt(m['effort'], join2(path, 'effort'));
  if (m['restarts'] !== undefined) c.positiveInt(m['restarts'], join2(path, 'restarts'));
  if (m['seed'] !== undefined) c.nonNegativeInt(m['seed'], join2(path, 'seed'));
  if (m['imperfect'] !== undefined && typeof m['imperfect'] !== 'boolean') c.expected(join2(path, 'imperfect'), 'true or false', m['imperfect']);
  if (m['objective'] !== undefined) {
    c.list(m['objective'], join2(path, 'objective'), 'a list of objectives (edp, energy, delay)').forEach((x, i) => {
      if (!OBJECTIVES.includes(x as Objective)) c.expected(`${path}.objective[${i}]`, 'one of edp, energy, delay', x);
    });
  }
}

function checkEngine(c: Checker, value: unknown, path: string): void {
  if (!(ENGINE_NAMES as readonly unknown[]).includes(value)) c.expected(path, `one of ${ENGINE_NAMES.join(', ')}`, value);
}

function knownLayer(c: Checker, layer: string, path: string): void {
  if ((ALL_LAYER_IDS as readonly string[]).includes(layer)) return;
  const near = closest(layer, ALL_LAYER_IDS);
  c.fail(path, `unknown layer '${layer}'${near ? ` (did you mean '${near}'?)` : ''}; known layers: ${ALL_LAYER_IDS.join(', ')}`);
}

function checkExecutor(c: Checker, value: unknown, path: string): void {
  const kinds = `${EXECUTOR_KINDS.map((k) => `'${k}'`).join(' or ')}`;
  if (typeof value === 'string') {
    oneOf(c, value, path, EXECUTOR_KINDS);
    return;
  }
  const e = c.object(value, path, `${kinds}, or { kind: 'slurm', partition, time, ... }`);
  c.fields(e, path, ['kind', ...SLURM_FIELDS]);
  oneOf(c, c.required(e, 'kind', path, kinds), join2(path, 'kind'), EXECUTOR_KINDS);
  for (const k of ['partition', 'account', 'time', 'mem', 'command'] as const) if (e[k] !== undefined) c.string(e[k], join2(path, k));
  for (const k of ['cpusPerTask', 'throttle', 'tasksPerElement'] as const) if (e[k] !== undefined) c.positiveInt(e[k], join2(path, k));
  if (e['sbatchArgs'] !== undefined) c.list(e['sbatchArgs'], join2(path, 'sbatchArgs'), "a list of sbatch arguments (['--qos=short'])", false).forEach((a, i) => c.string(a, `${join2(path, 'sbatchArgs')}[${i}]`));
}

function checkTimeloop(c: Checker, value: unknown, path: string): void {
  const t = c.object(value, path, "timeloop engine settings ({ timeLimit: '120s', mapper: { ... } })");
  c.fields(t, path, ['timeLimit', 'mapper']);
  if (t['timeLimit'] !== undefined) {
    try {
      parseDuration(t['timeLimit'] as string | number);
    } catch (error) {
      c.fail(join2(path, 'timeLimit'), (error as Error).message);
    }
  }
  if (t['mapper'] !== undefined) {
    const m = c.object(t['mapper'], join2(path, 'mapper'), 'Timeloop mapper settings ({ algorithm, num_threads, timeout, victory_condition, ... })');
    for (const [k, v] of Object.entries(m)) {
      if (!['string', 'number', 'boolean'].includes(typeof v) && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) c.expected(join2(join2(path, 'mapper'), k), 'a string, number, boolean or list of strings', v);
    }
  }
}

/** A duration: ms as a number, or a string such as '120s', '2m', '500ms' (default unit: s). */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`expected a positive duration, got ${value}`);
    return value;
  }
  const ms = durationMs(String(value));
  if (ms === undefined) throw new Error(`expected a duration such as 120s, 2m or 500ms, got '${String(value)}'`);
  return ms;
}

function checkExperiment(c: Checker, name: string, value: unknown): void {
  const path = join2('experiments', name);
  c.name(name, path);
  const e = c.object(value, path, 'an experiment (an object)');
  c.fields(e, path, EXPERIMENT_FIELDS);
  const at = (k: string) => join2(path, k);
  if (e['description'] !== undefined) c.string(e['description'], at('description'));
  if (e['mapper'] !== undefined) checkMapper(c, e['mapper'], at('mapper'));
  if (e['engine'] !== undefined) checkEngine(c, e['engine'], at('engine'));
  if (e['timeloop'] !== undefined) checkTimeloop(c, e['timeloop'], at('timeloop'));
  if (e['executor'] !== undefined) checkExecutor(c, e['executor'], at('executor'));
  if (e['jobs'] !== undefined) {
    c.list(e['jobs'], at('jobs'), 'a list of mapper jobs ({ files: [...], model, layer, arch })').forEach((j, i) => {
      const jp = `${at('jobs')}[${i}]`;
      const job = c.object(j, jp, 'a mapper job ({ files: [...], model, layer, arch })');
      c.fields(job, jp, JOB_FIELDS);
      for (const k of ['model', 'layer', 'arch', 'fusion', 'variant']) if (job[k] !== undefined) c.name(job[k], join2(jp, k));
      if (job['files'] !== undefined) c.files(job['files'], join2(jp, 'files'));
      else {
        const missing = ['model', 'layer', 'arch'].find((k) => job[k] === undefined);
        if (missing !== undefined) c.fail(join2(jp, missing), `missing required field (a job without files is a layer of a model on an architecture: expected files, or model, layer and arch)`);
        if (job['fusion'] !== undefined && job['fusion'] !== 'none') c.fail(join2(jp, 'fusion'), "a job without files is unfused (expected 'none'; fused cells come from the matrix's fusion levels)");
        knownLayer(c, job['layer'] as string, join2(jp, 'layer'));
      }
    });
  }
  if (e['models'] !== undefined) c.names(e['models'], at('models'), 'a list of model names');
  if (e['layers'] !== undefined && e['layers'] !== 'study' && e['layers'] !== 'all') {
    if (!Array.isArray(e['layers'])) c.expected(at('layers'), "'study', 'all' or a list of layer names", e['layers']);
    c.names(e['layers'], at('layers'), "'study', 'all' or a list of layer names").forEach((l, i) => knownLayer(c, l, `${at('layers')}[${i}]`));
  }
  if (e['architectures'] !== undefined) c.names(e['architectures'], at('architectures'), 'a list of architecture names');
  if (e['fusion'] !== undefined) c.names(e['fusion'], at('fusion'), "a list of fusion levels ('none' or a storage level name)");
  if (e['fusedPairs'] !== undefined) {
    const used = new Map<string, string>();
    c.list(e['fusedPairs'], at('fusedPairs'), 'a list of [matmul, normalization op] layer pairs').forEach((p, i) => {
      const pp = `${at('fusedPairs')}[${i}]`;
      const pair = c.list(p, pp, 'a [matmul, normalization op] pair of layer names');
      if (pair.length !== 2) c.expected(pp, 'a [matmul, normalization op] pair of layer names', p);
      pair.forEach((l, j) => {
        const s = c.name(l, `${pp}[${j}]`);
        if (!(ALL_LAYER_IDS as readonly string[]).includes(s)) c.fail(`${pp}[${j}]`, `unknown layer '${s}'; known layers: ${ALL_LAYER_IDS.join(', ')}`);
        const kind = layerDefinition(s).kind;
        const want = j === 0 ? 'gemm' : 'normop';
        if (kind !== want) c.fail(`${pp}[${j}]`, `'${s}' is ${kind === 'gemm' ? 'a matmul' : 'a normalization op'}; a fused pair is [matmul, normalization op]`);
        if (used.has(s)) c.fail(`${pp}[${j}]`, `layer '${s}' is already in the fused pair ${used.get(s)}`);
        used.set(s, `${at('fusedPairs')}[${i}]`);
      });
    });
  }
  if (e['fusionMode'] !== undefined && !(FUSION_MODES as readonly unknown[]).includes(e['fusionMode'])) c.expected(at('fusionMode'), `one of ${FUSION_MODES.join(', ')}`, e['fusionMode']);
  for (const k of ['noEFusion', 'lFusion', 'payWritebackInMatmul']) if (e[k] !== undefined) c.boolean(e[k], at(k));
  if (e['seqLength'] !== undefined) c.positiveInt(e['seqLength'], at('seqLength'));
  if (e['batch'] !== undefined) c.positiveInt(e['batch'], at('batch'));
  if (e['sweep'] !== undefined) checkSweep(c, e['sweep'], at('sweep'));
  if (e['crossArch'] !== undefined) checkCrossArch(c, e['crossArch'], at('crossArch'));
  if (e['options'] !== undefined) c.object(e['options'], at('options'), 'an object of settings');
  const study = e['sweep'] !== undefined ? 'sweep' : e['crossArch'] !== undefined ? 'crossArch' : undefined;
  if (study !== undefined) {
    // A sweep or the cross-architecture study has its own reports and mapper settings: it is the whole experiment.
    const other = ['jobs', 'models', 'layers', 'architectures', 'fusion', 'fusedPairs', 'mapper', 'sweep', 'crossArch'].find((k) => k !== study && e[k] !== undefined);
    if (other !== undefined) c.fail(at(other), `an experiment with \`${study}\` is only that (${other === 'mapper' ? `its mapper settings go in ${study}.mapper` : `declare \`${other}\` in another experiment`})`);
  }
  const hasMatrix = e['models'] !== undefined || e['architectures'] !== undefined || e['layers'] !== undefined || e['fusion'] !== undefined;
  if (hasMatrix) {
    if (e['models'] === undefined) c.fail(at('models'), 'missing required field (expected a list of model names next to architectures/layers)');
    if (e['architectures'] === undefined) c.fail(at('architectures'), 'missing required field (expected a list of architecture names next to models)');
  }
  if (!hasMatrix && e['jobs'] === undefined && study === undefined) {
    c.fail(path, 'the experiment has nothing to run (expected jobs, models + architectures, sweep or crossArch)');
  }
}

function oneOf<T extends string>(c: Checker, value: unknown, path: string, values: readonly T[]): T {
  if (!(values as readonly unknown[]).includes(value)) c.expected(path, `one of ${values.map((v) => `'${v}'`).join(', ')}`, value);
  return value as T;
}

function checkSweep(c: Checker, value: unknown, path: string): void {
  const s = c.object(value, path, "a HW-DSE sweep ({ architecture: 'gemmini' | 'pim', configs })");
  if (s['constraints'] !== undefined || s['dataflows'] !== undefined) {
    const k = s['constraints'] !== undefined ? 'constraints' : 'dataflows';
    c.fail(join2(path, k), `unknown field '${k}': the constraints of the dataflows are chosen with \`mode: 'fixed' | 'study'\` (and \`version: 'head' | '2024-05-08'\`), the dataflow itself is a key of each config`);
  }
  c.fields(s, path, SWEEP_FIELDS);
  const arch = oneOf(c, c.required(s, 'architecture', path, "'gemmini' or 'pim'"), join2(path, 'architecture'), HWDSE_ARCHITECTURES);
  const configs = c.required(s, 'configs', path, `${HWDSE_CONFIG_LISTS.map((v) => `'${v}'`).join(', ')}, a hw_configs JSON file or a list of configs`);
  if (s['mixup'] !== undefined) c.boolean(s['mixup'], join2(path, 'mixup'));
  if (s['ignoreHeads'] !== undefined) c.boolean(s['ignoreHeads'], join2(path, 'ignoreHeads'));
  if (s['mode'] !== undefined) oneOf(c, s['mode'], join2(path, 'mode'), ['fixed', 'study']);
  if (s['version'] !== undefined) oneOf(c, s['version'], join2(path, 'version'), ['head', '2024-05-08']);
  if (s['beyondCacti'] !== undefined) oneOf(c, s['beyondCacti'], join2(path, 'beyondCacti'), ['extrapolate', 'clamp']);
  if (s['model'] !== undefined) c.name(s['model'], join2(path, 'model'));
  if (s['layers'] !== undefined) {
    c.names(s['layers'], join2(path, 'layers'), 'a list of layer names').forEach((l, i) => knownLayer(c, l, `${join2(path, 'layers')}[${i}]`));
  }
  if (s['mapper'] !== undefined) {
    const mp = join2(path, 'mapper');
    const m = c.object(s['mapper'], mp, 'mapper settings ({ effort, seed, restarts, metrics, exhaustive })');
    c.fields(m, mp, SWEEP_MAPPER_FIELDS);
    if (m['effort'] !== undefined) c.positiveInt(m['effort'], join2(mp, 'effort'));
    if (m['restarts'] !== undefined) c.positiveInt(m['restarts'], join2(mp, 'restarts'));
    if (m['seed'] !== undefined) c.nonNegativeInt(m['seed'], join2(mp, 'seed'));
    if (m['exhaustive'] !== undefined) c.boolean(m['exhaustive'], join2(mp, 'exhaustive'));
    if (m['metrics'] !== undefined) {
      c.list(m['metrics'], join2(mp, 'metrics'), 'a list of metrics (edp, energy, delay)').forEach((x, i) => oneOf(c, x, `${mp}.metrics[${i}]`, OBJECTIVES));
    }
  }
  // Reads and checks the configs (a file's errors name the file and the config).
  resolveSweepConfigs(arch, configs, { root: c.root, file: c.file, field: join2(path, 'configs') });
}

function checkCrossArch(c: Checker, value: unknown, path: string): void {
  const x = c.object(value, path, "the cross-architecture study ({ architectures, workloads, mapper: 'TLD' | 'TLL' | 'TLE' })");
  c.fields(x, path, CROSS_ARCH_FIELDS);
  c.names(c.required(x, 'architectures', path, 'a list of architecture names'), join2(path, 'architectures'), 'a list of architecture names');
  const wp = join2(path, 'workloads');
  const known = [...crossArchWorkloadIds(), ...Object.keys(CROSS_ARCH_WORKLOAD_GROUPS)];
  c.names(c.required(x, 'workloads', path, 'a list of workload names'), wp, 'a list of workload names').forEach((w, i) => {
    if (known.includes(w)) return;
    const near = closest(w, known);
    c.fail(`${wp}[${i}]`, `unknown workload '${w}'${near ? ` (did you mean '${near}'?)` : ''}; known: ${known.join(', ')}`);
  });
  if (x['mapper'] !== undefined) oneOf(c, x['mapper'], join2(path, 'mapper'), CROSS_ARCH_MAPPERS);
  if (x['seed'] !== undefined) c.nonNegativeInt(x['seed'], join2(path, 'seed'));
}

/** Names that need catalogs: models, architectures, sweep and cross-arch architectures. */
function checkNames(config: ExptConfig, models: readonly TransformerModel[], presets: readonly string[], file: string): void {
  const archNames = [...new Set([...Object.keys(config.architectures ?? {}), ...presets])];
  const modelIds = models.map((m) => m.id);
  const fail = (path: string, message: string): never => {
    throw new UserError(message, file, path);
  };
  const known = (kind: string, name: string, list: readonly string[], path: string) => {
    if (list.includes(name)) return;
    const near = closest(name, list);
    fail(path, `unknown ${kind} '${name}'${near ? ` (did you mean '${near}'?)` : ''}; known ${kind}s: ${list.length > 0 ? list.join(', ') : '(none declared)'}`);
  };
  for (const [name, target] of Object.entries(config.noArchitectures ?? {})) {
    known('architecture', name, archNames, join2('noArchitectures', name));
    known('architecture', target, archNames, join2('noArchitectures', name));
  }
  for (const [name, e] of Object.entries(config.experiments)) {
    const path = join2('experiments', name);
    e.models?.forEach((m, i) => known('model', m, modelIds, `${path}.models[${i}]`));
    e.architectures?.forEach((a, i) => known('architecture', a, archNames, `${path}.architectures[${i}]`));
    if (e.sweep?.model !== undefined) known('model', e.sweep.model, modelIds, `${path}.sweep.model`);
    e.crossArch?.architectures.forEach((a, i) => known('architecture', a, archNames, `${path}.crossArch.architectures[${i}]`));
    e.jobs?.forEach((j, i) => {
      if (j.files === undefined) {
        known('model', j.model!, modelIds, `${path}.jobs[${i}].model`);
        known('architecture', j.arch!, archNames, `${path}.jobs[${i}].arch`);
      }
      if (j.layer !== undefined && j.model !== undefined && modelIds.includes(j.model)) known('layer', j.layer, ALL_LAYER_IDS, `${path}.jobs[${i}].layer`);
    });
  }
}
