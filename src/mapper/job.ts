/**
 * One mapping job: search a problem's map space on an architecture under
 * its constraints, then evaluate the best mapping with the exact model (the
 * search ranks candidates with the lean cost model). This is the one way
 * expt maps a problem — the build's map tasks, the HW-DSE and
 * cross-architecture sweeps, `expt map`, `expt check`, `expt export --map`
 * and the search workers all come here — so that they search the same space
 * with the same defaults and tell apart the same ways of finding nothing.
 *
 * Each caller words the outcome its own way (a cached infeasible result, a
 * sweep's ∞ row, a command-line error): the outcome carries what they need.
 */
import type { Mapping } from '../mapping/mapping.ts';
import { evaluateMapping, prepareModel, type ModelContext } from '../model/evaluate.ts';
import type { Evaluation } from '../model/result.ts';
import { UserError } from '../util/errors.ts';
import { InfeasibleMapspaceError, MapSpace } from './mapspace.ts';
import { parallelSearch, type SearchShare } from './parallel.ts';
import { better, exhaustiveSearch, localSearch, mergeResults, type SearchResult, type SearchStats } from './search.ts';
import type { MapJob, MapSettings } from './settings.ts';


/** How the search went, whatever it found. */
export interface MapSearch {
  readonly stats: SearchStats;
  /** Wall time of the search alone (not the model's set-up), ms. */
  readonly wallMs: number;
  /** What Timeloop would warn about: ignored constraints, then notes of the map space. */
  readonly warnings: readonly string[];
}

export type MapOutcome =
  | { readonly status: 'mapped'; readonly mapping: Mapping; readonly evaluation: Evaluation; readonly search: MapSearch }
  /**
   * No map space: a constraint no factor split satisfies (InfeasibleMapspaceError),
   * or one no loop slot can take, such as a factor larger than the dimension
   * or the fanout (UserError). No search ran.
   */
  | { readonly status: 'no-map-space'; readonly error: InfeasibleMapspaceError | UserError }
  /** The search found no valid mapping: its stats say which capacities and fanouts cut the splits, and why the model rejected candidates. */
  | { readonly status: 'no-mapping'; readonly search: MapSearch }
  /** The exact model rejects the search's best mapping (the lean model and it disagree: a bug, kept as a result for the sweeps' reports). */
  | { readonly status: 'not-reevaluated'; readonly mapping: Mapping; readonly reason: string; readonly search: MapSearch };

interface Prepared {
  readonly ctx: ModelContext;
  readonly space: MapSpace;
}

/** A missing energy in the ERT is thrown (MissingEnergyError): a broken input, not an empty map space. */
function prepare(job: MapJob): Prepared | { readonly error: InfeasibleMapspaceError | UserError } {
  const ctx = prepareModel(job.problem, job.arch, job.ert);
  try {
    return { ctx, space: new MapSpace(job.problem, job.arch, job.constraints, { imperfect: job.settings.imperfect ?? 'off' }) };
  } catch (error) {
    if (error instanceof InfeasibleMapspaceError || error instanceof UserError) return { error };
    throw error;
  }
}

function search({ ctx, space }: Prepared, s: MapSettings, share?: SearchShare, start?: MapJob['start'], fromStart = false): SearchResult {
  if (s.algorithm === 'exhaustive') {
    const partFilter = share ? (k: number, a: number) => (k * 7 + a) % share.workers === share.worker : undefined;
    return exhaustiveSearch(space, ctx, { metrics: s.metrics, budgetMs: s.budgetMs, partFilter });
  }
  const restartFilter = share ? (r: number) => r % share.workers === share.worker : undefined;
  return localSearch(space, ctx, { metrics: s.metrics, budgetMs: s.budgetMs, effort: s.effort, seed: s.seed, restarts: s.restarts, restartFilter, ...(start ? { start, fromStart } : {}) });
}

function finish(job: MapJob, { ctx, space }: Prepared, result: SearchResult, wallMs: number): MapOutcome {
  const report: MapSearch = { stats: result.stats, wallMs, warnings: [...job.constraints.warnings, ...space.warnings] };
  if (result.mapping === null) return { status: 'no-mapping', search: report };
  const evaluated = evaluateMapping(ctx, result.mapping);
  if (!evaluated.ok) return { status: 'not-reevaluated', mapping: result.mapping, reason: evaluated.error.reason, search: report };
  return { status: 'mapped', mapping: result.mapping, evaluation: evaluated.value, search: report };
}

/**
 * The second phase of a perfect local search: its restarts, each kicking
 * the first phase's best its own way (another seed), with the same effort.
 * The first phase spreads its effort over bypass choices and starts (one
 * restart each); this one spends it where the best already is (Simba's
 * BERT-large KQV: 7.82e6 → 6.94e6 J·cycle). It starts from the merged best,
 * so the result does not depend on the threads; it keeps the first phase's
 * mapping on a tie, so it is never worse. Undefined when there is no second
 * phase: exhaustive or imperfect searches (the latter already climb from the
 * perfect best), no mapping, or a budget already spent.
 */
function secondPhase(job: MapJob, first: SearchResult, elapsedMs: number): MapJob | undefined {
  const s = job.settings;
  if (s.algorithm === 'exhaustive' || (s.imperfect !== undefined && s.imperfect !== 'off') || first.mapping === null || first.stats.stoppedByBudget) return undefined;
  const left = s.budgetMs === undefined ? undefined : s.budgetMs - elapsedMs;
  if (left !== undefined && left <= 0) return undefined;
  return { ...job, start: first.mapping, fromStart: true, settings: { ...s, seed: s.seed + 1, ...(left !== undefined ? { budgetMs: left } : {}) } };
}

function withSecond(metrics: MapSettings['metrics'], first: SearchResult, second: SearchResult | undefined): SearchResult {
  if (second === undefined) return first;
  // Tags order the merge's ties: the first phase's come first.
  return mergeResults(metrics, [{ ...first, tag: [0, ...first.tag] }, { ...second, tag: [1, ...second.tag] }]);
}

function mapInSpace(job: MapJob): MapOutcome {
  const prepared = prepare(job);
  if ('error' in prepared) return { status: 'no-map-space', error: prepared.error };
  const t0 = performance.now();
  const first = search(prepared, job.settings, undefined, job.start);
  const next = secondPhase(job, first, performance.now() - t0);
  const result = withSecond(job.settings.metrics, first, next && search(prepared, next.settings, undefined, next.start, true));
  return finish(job, prepared, result, performance.now() - t0);
}

async function mapInSpaceParallel(job: MapJob, threads: number): Promise<MapOutcome> {
  const prepared = prepare(job);
  if ('error' in prepared) return { status: 'no-map-space', error: prepared.error };
  const t0 = performance.now();
  const first = await parallelSearch(job, threads);
  const next = secondPhase(job, first, performance.now() - t0);
  const result = withSecond(job.settings.metrics, first, next && (await parallelSearch(next, threads)));
  return finish(job, prepared, result, performance.now() - t0);
}

/**
 * The imperfect map space holds the perfect one, but a search of the larger
 * space with the same effort can end worse (Simba's KQV: 28× the perfect
 * search's EDP). So an imperfect job searches the perfect space first, then
 * the imperfect one with what is left of the budget, and keeps the better
 * mapping: asking for more freedom never gives a worse answer. Undefined for
 * a perfect job (one search).
 */
function perfectFirst(job: MapJob): { perfect: MapJob; free: (perfect: MapOutcome) => MapJob | undefined } | undefined {
  const { imperfect, budgetMs, ...settings } = job.settings;
  if (imperfect === undefined || imperfect === 'off') return undefined;
  return {
    perfect: { ...job, settings: { ...settings, ...(budgetMs !== undefined ? { budgetMs } : {}) } },
    free: (perfect) => {
      const seeded = perfect.status === 'mapped' ? { ...job, start: perfect.mapping } : job;
      if (budgetMs === undefined) return seeded;
      const left = budgetMs - ('search' in perfect ? perfect.search.wallMs : 0);
      return left > 0 ? { ...seeded, settings: { ...seeded.settings, budgetMs: left } } : undefined;
    },
  };
}

function noted(outcome: MapOutcome, warning: string): MapOutcome {
  return 'search' in outcome ? { ...outcome, search: { ...outcome.search, warnings: [...outcome.search.warnings, warning] } } : outcome;
}

/** The better of the perfect and the imperfect search (ties: the perfect one), with both searches' time and evaluations. */
function pickBetter(metrics: MapSettings['metrics'], perfect: MapOutcome, free: MapOutcome | undefined): MapOutcome {
  if (free === undefined) {
    const cut = noted(perfect, 'the time budget ran out before the imperfect search');
    return 'search' in cut ? { ...cut, search: { ...cut.search, stats: { ...cut.search.stats, stoppedByBudget: true } } } : cut;
  }
  const wallMs = ('search' in perfect ? perfect.search.wallMs : 0) + ('search' in free ? free.search.wallMs : 0);
  const stoppedByBudget = ('search' in perfect && perfect.search.stats.stoppedByBudget) || ('search' in free && free.search.stats.stoppedByBudget);
  // The job's effort is both searches', whichever mapping wins.
  const evaluated = ('search' in perfect ? perfect.search.stats.evaluated : 0) + ('search' in free ? free.search.stats.evaluated : 0);
  const exactEvaluations = ('search' in perfect ? perfect.search.stats.exactEvaluations : 0) + ('search' in free ? free.search.stats.exactEvaluations : 0);
  const withTime = (o: MapOutcome): MapOutcome => ('search' in o ? { ...o, search: { ...o.search, wallMs, stats: { ...o.search.stats, stoppedByBudget, evaluated, exactEvaluations, wallMs } } } : o);
  if (free.status !== 'mapped') return withTime(perfect.status === 'no-map-space' ? free : perfect);
  if (perfect.status !== 'mapped') return withTime(free);
  const p = perfect.evaluation.summary;
  const f = free.evaluation.summary;
  if (better(metrics, f.energy_pJ, f.cycles, p.energy_pJ, p.cycles)) return withTime(free);
  return withTime(noted(perfect, 'the imperfect search found nothing better than the perfect one'));
}

/** Maps one problem on this thread. */
export function mapOne(job: MapJob): MapOutcome {
  const two = perfectFirst(job);
  if (two === undefined) return mapInSpace(job);
  const perfect = mapInSpace(two.perfect);
  const free = two.free(perfect);
  return pickBetter(job.settings.metrics, perfect, free && mapInSpace(free));
}

/**
 * Maps one problem on `threads` worker threads (./parallel.ts): the same
 * result as `mapOne`, whatever the number of threads.
 */
export async function mapOneParallel(job: MapJob, threads: number): Promise<MapOutcome> {
  const two = perfectFirst(job);
  if (two === undefined) return mapInSpaceParallel(job, threads);
  const perfect = await mapInSpaceParallel(two.perfect, threads);
  const free = two.free(perfect);
  return pickBetter(job.settings.metrics, perfect, free && (await mapInSpaceParallel(free, threads)));
}

/** One worker's share of a parallel search: restarts, or exhaustive parts, dealt round-robin. */
export function searchShare(job: MapJob, share: SearchShare): SearchResult {
  const prepared = prepare(job);
  // The main thread has prepared the same job before starting the workers.
  if ('error' in prepared) throw prepared.error;
  return search(prepared, job.settings, share, job.start, job.fromStart === true);
}

/** The `n` most frequent entries of a count table, most frequent first (why splits were cut or candidates rejected). */
export function mostFrequent(counts: Readonly<Record<string, number>>, n: number): [string, number][] {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n);
}
