/**
 * A mapping job as plain data (what a search worker thread receives) and
 * the mapper's settings with their one set of defaults. Every way expt maps
 * a problem — the build's map tasks, the sweeps, `expt map`, `expt check`,
 * `expt export --map` — fills its settings here, so that a default changed
 * once changes everywhere (and, through the map tasks' keys, reruns them).
 */
import type { Mapping } from '../mapping/mapping.ts';
import type { Architecture } from '../arch/architecture.ts';
import type { EnergyReferenceTable } from '../arch/energy-table.ts';
import type { Problem } from '../workload/problem.ts';
import type { MapspaceConstraints } from './constraints.ts';
import type { ImperfectMode } from './mapspace.ts';

/** What the search minimizes; a list is lexicographic (ties on the first go to the second). */
export type Metric = 'edp' | 'energy' | 'delay';

/** How one problem is mapped. A map task's `mapper` input: every field is part of its key. */
export interface MapSettings {
  /** `exhaustive` visits the whole constrained map space (the cross-architecture study's TLE); effort, seed and restarts then do not apply. */
  algorithm: 'local-search' | 'exhaustive';
  /** Factor splits the local search may score. */
  effort: number;
  seed: number;
  /** Independent restarts sharing the effort (they can run on separate threads with the same result). */
  restarts: number;
  metrics: Metric[];
  /** Present only when not 'off', so that perfect-only tasks keep their keys. */
  imperfect?: ImperfectMode;
  /** Stop the search after this long and keep the best so far (results then depend on the machine). */
  budgetMs?: number;
}

/** Settings as a caller states them: any field left out takes its default. */
export interface MapSettingsInput {
  readonly algorithm?: MapSettings['algorithm'];
  readonly effort?: number;
  readonly seed?: number;
  readonly restarts?: number;
  readonly metrics?: readonly Metric[];
  readonly imperfect?: ImperfectMode;
  readonly budgetMs?: number;
}

/** A problem, where it runs, and how to search: everything a mapping needs, as data. */
export interface MapJob {
  readonly problem: Problem;
  readonly arch: Architecture;
  readonly ert: EnergyReferenceTable;
  /** Read against the problem, `maximize_dims` resolved (see `constraintsFor`). */
  readonly constraints: MapspaceConstraints;
  readonly settings: MapSettings;
  /**
   * A start for one more restart of the local search: an imperfect job's
   * imperfect search also climbs from the perfect search's best, instead of
   * only hoping to find it again.
   */
  readonly start?: Mapping;
  /** Every restart starts from `start` (each kicks it its own way), instead of one more restart. */
  readonly fromStart?: boolean;
}

/** The defaults a study may state for its own searches (see `mapSettings`). */
export interface MapDefaults {
  readonly effort: number;
  readonly seed: number;
  readonly restarts: number;
  readonly metrics: readonly Metric[];
}

/**
 * The mapper's defaults. Effort 10,000 over 8 restarts reaches the better
 * of Timeloop's mapper and the study's run on the study's eight reference
 * cases (tests/mapper/paper-map.test.ts); the seed only has to be fixed,
 * so that a result is reproducible.
 */
export const MAPPER_DEFAULTS: MapDefaults & { readonly algorithm: 'local-search'; readonly imperfect: ImperfectMode } = {
  algorithm: 'local-search',
  effort: 10_000,
  seed: 1,
  restarts: 8,
  metrics: ['edp'],
  imperfect: 'off',
};

/**
 * The time budget of a search run from the command line (`expt map`,
 * `expt check`, `expt export --map`): someone is waiting. The build's map
 * tasks have none unless a study asks for one (the cross-architecture
 * convolutions), since a result cut by the clock depends on the machine
 * and is no longer a function of the task's inputs.
 */
export const COMMAND_BUDGET_MS = 10_000;


/**
 * Complete settings: what `given` leaves out (or sets to undefined) from
 * `defaults` (the mapper's, or a study's own). An exhaustive search has no
 * effort, seed or restarts: they are 0, so that they cannot split the keys
 * of searches that are the same.
 */
export function mapSettings(given: MapSettingsInput = {}, defaults: MapDefaults = MAPPER_DEFAULTS): MapSettings {
  const metrics = [...(given.metrics ?? defaults.metrics)];
  const imperfect = given.imperfect !== undefined && given.imperfect !== 'off' ? { imperfect: given.imperfect } : {};
  const budget = given.budgetMs !== undefined ? { budgetMs: given.budgetMs } : {};
  if (given.algorithm === 'exhaustive') return { algorithm: 'exhaustive', effort: 0, seed: 0, restarts: 0, metrics, ...imperfect, ...budget };
  return {
    algorithm: 'local-search',
    effort: given.effort ?? defaults.effort,
    seed: given.seed ?? defaults.seed,
    restarts: given.restarts ?? defaults.restarts,
    metrics,
    ...imperfect,
    ...budget,
  };
}

/**
 * Imperfect factors: `spatial` when asked for (`--imperfect`, a config's
 * `imperfect: true`), else Timeloop's 'ruby' map-space template gives loops
 * with a `remainders` constraint theirs, and 'uber' none.
 */
export function imperfectFor(spatial: boolean | undefined, template: 'uber' | 'ruby'): ImperfectMode {
  return spatial ? 'spatial' : template === 'ruby' ? 'ruby' : 'off';
}

const METRIC_NAMES: Readonly<Record<string, Metric>> = { edp: 'edp', energy: 'energy', delay: 'delay', cycles: 'delay' };

/** A metric by the names Timeloop's `optimization_metrics` and `--objective` use (`cycles` is delay). */
export function metricNamed(name: string): Metric | undefined {
  return Object.hasOwn(METRIC_NAMES, name) ? METRIC_NAMES[name] : undefined;
}
