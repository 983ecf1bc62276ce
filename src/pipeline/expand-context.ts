/**
 * What every expander (expand.ts, kinds/*-expand.ts) works with: the loaded
 * config and the command line's engine overrides, the config's documents
 * (each read once) and its named architectures resolved — from Timeloop
 * files or a preset — to architecture, ERT and constraints, with the labels
 * their inputs carry.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve, relative, isAbsolute } from 'node:path';
import type { Architecture } from '../arch/architecture.ts';
import type { EnergyReferenceTable } from '../arch/energy-table.ts';
import { constraintsFor, type MapspaceConstraints } from '../mapper/constraints.ts';
import { timeloopConstraintBlocks } from '../inputs/mapper-job.ts';
import { importTimeloopDocuments } from '../timeloop/tree-import.ts';
import { UserError } from '../util/errors.ts';
import { parseYamlText, readYamlFile } from '../util/yaml.ts';
import { listArchitectures } from '../inputs/preset-files.ts';
import { loadArchitecture, presetConstraints, type ArchitecturePreset } from '../inputs/presets.ts';
import type { Problem } from '../workload/problem.ts';
import { DEFAULT_NO_ARCHITECTURES, type EngineName, type LoadedConfig } from './config.ts';
import type { TaskSpec } from '../build/task.ts';

/** Command-line overrides of the config's engine settings (`expt run --engine timeloop --timeout 60s`). */
export interface EngineOverrides {
  engine?: EngineName;
  /** Wall-time limit per timeloop-mapper run, ms. */
  timeLimitMs?: number;
}

/** Where an expander puts the specs of an experiment's cells (expand.ts keeps them per experiment). */
export interface Sink {
  /** A matrix cell (a `map` task). */
  cell(spec: TaskSpec, field: string): void;
  /** A fused-pair cell. */
  pair(spec: TaskSpec, field: string): void;
  /** A block fused jointly (a `joint-block` task). */
  joint(spec: TaskSpec, field: string): void;
}

export class ExpandContext {
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
        constraints: (problem) => constraintsFor(problem, arch, timeloopConstraintBlocks(input.raw), where),
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

export interface Labels {
  architecture: string;
  problem: string;
  ERT: string;
  constraints: string;
}

/** Which file each block comes from (the last file defining a top-level key wins, as in Timeloop). */
export function blockLabels(files: { label: string; doc: unknown }[]): Labels {
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
