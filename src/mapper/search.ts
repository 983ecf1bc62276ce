/**
 * Mapping search. The exhaustive search walks the whole (constrained) map
 * space in a fixed order: keep choices, then each dimension's split over the
 * loop slots (pruned as soon as a kept tile overflows its buffer or a fanout
 * overflows its instances), then the loop orders and spatial placements that
 * can differ. Every candidate goes through the lean cost model; the first
 * best one in that order wins, so the result does not depend on timing.
 */
import type { Mapping, LevelMapping } from '../mapping/mapping.ts';
import type { ModelContext } from '../model/evaluate.ts';
import { FastCostModel } from '../model/fast-cost.ts';
import { evaluateMapping } from '../model/evaluate.ts';
import { isAxisAligned } from '../workload/problem.ts';
import type { MapSpace, SpatialPlacement } from './mapspace.ts';
import { primeFactors } from '../mapping/random-mapping.ts';
import { Random } from '../util/random.ts';
import { MAPPER_DEFAULTS, type Metric } from './settings.ts';

export type { Metric };

export interface SearchOptions {
  metrics: readonly Metric[];
  /** Stop after this many milliseconds (the best so far is returned). */
  budgetMs?: number;
  /** Record when the best EDP first reaches this value (J·cycle), for benchmarks. */
  targetEdp?: number;
  /**
   * Called with every valid perfect candidate the search scores and its
   * cost: the joint fusion search collects candidates with it. The mapping
   * is the search's own and changes after the call: copy what you keep.
   */
  visit?: (mapping: Mapping, energy: number, cycles: number) => void;
}

export interface SearchStats {
  /** Candidates given to the model. */
  evaluated: number;
  valid: number;
  /** Partial factor splits cut before reaching the model (tile or fanout overflow). */
  pruned: number;
  factorizations: number;
  wallMs: number;
  /** Whether the whole space was visited (the result is optimal under the model). */
  complete: boolean;
  /**
   * Whether the search stopped on its time budget before its effort (or the
   * space) ran out: the result then depends on the machine's speed.
   */
  stoppedByBudget: boolean;
  /** Most frequent reasons the model rejected candidates, with counts. */
  rejections: Record<string, number>;
  /** Why factor splits were pruned: "<level> capacity ..." / "fanout below <level> ..." → count. */
  prunedBy: Record<string, number>;
  /** Milliseconds until the best EDP first reached `targetEdp` (null if never or not asked). */
  reachedTargetMs: number | null;
  /** Imperfect candidates re-evaluated with the exact model after the surrogate's ranking. */
  exactEvaluations: number;
}

export interface SearchResult {
  mapping: Mapping | null;
  /** Where the best was found in the sequential order; merges of parallel parts break ties with it. */
  tag: number[];
  energy: number;
  cycles: number;
  stats: SearchStats;
}

/**
 * Imperfect candidates kept per restart for the exact model. The padded
 * surrogate ranks them well (on the study's Eyeriss layers its best was the
 * exact best with 1, 2 or 4 kept), and an exact evaluation of a large
 * imperfect mapping takes the general nest walk (~0.1 s), so few are kept.
 */
const PENDING_IMPERFECT = 2;

/**
 * Imperfect moves: factor pairs tried against the splits' hash index per
 * lookup, beyond which the two loops' splits are indexed in one pass.
 */
const PAIR_PROBES = 1024;

/** Improving steps a restart may take after its effort (see `settle` in localSearch). */
const SETTLE_STEPS = 50;

/**
 * Regroupings of two loops scored per pair at most (the product over
 * dimensions of the ways to split what the two loops hold); a pair past it
 * is skipped. Two of Simba's loops holding 4096 × 1024 × 1024 take 2,197.
 */
const REGROUP_LIMIT = 4096;

function metricValue(m: Metric, energy: number, cycles: number): number {
  if (m === 'edp') return energy * 1e-12 * cycles;
  if (m === 'energy') return energy;
  return cycles;
}

/** Lexicographic comparison with a relative tolerance for float noise. */
export function better(metrics: readonly Metric[], e1: number, c1: number, e2: number, c2: number): boolean {
  for (const m of metrics) {
    const a = metricValue(m, e1, c1);
    const b = metricValue(m, e2, c2);
    if (Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b))) continue;
    return a < b;
  }
  return false;
}

export function cloneMapping(m: Mapping): Mapping {
  return {
    levels: m.levels.map((l) => ({
      temporal: { factors: l.temporal.factors.slice(), residuals: l.temporal.residuals.slice(), permutation: l.temporal.permutation.slice() },
      spatial: l.spatial ? { factors: l.spatial.factors.slice(), residuals: l.spatial.residuals.slice(), permutation: l.spatial.permutation.slice(), split: l.spatial.split } : null,
      keep: l.keep.slice(),
    })),
  };
}

interface MutableLevel {
  temporal: { factors: number[]; residuals: number[]; permutation: number[] };
  spatial: { factors: number[]; residuals: number[]; permutation: number[]; split: number } | null;
  keep: boolean[];
}

/**
 * Shared machinery of the searches: one mapping object mutated in place,
 * the lean model, the pruning tables, and "evaluate every loop order and
 * spatial placement of the current factors".
 */
class Candidates {
  readonly stats: SearchStats = { evaluated: 0, valid: 0, pruned: 0, factorizations: 0, wallMs: 0, complete: true, stoppedByBudget: false, rejections: {}, prunedBy: {}, reachedTargetMs: null, exactEvaluations: 0 };
  best: Mapping | null = null;
  /** Position of the best in the sequential search order (restart, or keep choice and first split). */
  bestTag: number[] = [];
  tag: number[] = [];
  bestEnergy = Infinity;
  bestCycles = Infinity;
  stop = false;
  readonly start = performance.now();
  private readonly deadline: number;
  private readonly levels: MutableLevel[];
  private readonly mapping: Mapping;
  private readonly lean: FastCostModel | null;
  readonly relevant: boolean[][];
  readonly axisAligned: boolean;
  /** ext[d][a][i]: extent along d of level i's tile under allocation a of dimension d. */
  readonly ext: number[][][];
  readonly capacity: number[];
  private readonly belowMacs: boolean[];
  /** Allocation index currently set per dimension. */
  readonly current: number[];
  /** Per dimension: whether the split now set is imperfect. */
  private readonly imperfectDims: boolean[];
  /** Best imperfect candidates under the surrogate, awaiting the exact model. */
  private readonly pending: { mapping: Mapping; energy: number; cycles: number; tag: number[] }[] = [];
  private readonly exactCache = new Map<string, ReturnType<typeof evaluateMapping>>();
  /**
   * Visit every combination of the levels' loop orders even under the general
   * model (exhaustive search), instead of choosing them one level at a time.
   */
  allOrders = false;
  /** Score imperfect splits with the exact model (slow) instead of the padded surrogate. */
  exactImperfect = false;

  constructor(
    readonly space: MapSpace,
    private readonly ctx: ModelContext,
    private readonly options: SearchOptions,
  ) {
    const { problem, arch } = space;
    const nd = problem.dimensions.length;
    const nds = problem.dataspaces.length;
    this.deadline = options.budgetMs !== undefined ? this.start + options.budgetMs : Infinity;
    this.axisAligned = isAxisAligned(problem);
    this.lean = new FastCostModel(ctx);
    this.relevant = problem.dataspaces.map((ds) => problem.dimensions.map((_, d) => ds.projection.some((r) => r.some((t) => t.dimension === d))));
    this.levels = arch.storage.map((_, i) => ({
      temporal: { factors: new Array<number>(nd).fill(1), residuals: new Array<number>(nd).fill(1), permutation: [...Array(nd).keys()] },
      spatial: space.slots.some((s) => s.level === i && s.spatial)
        ? { factors: new Array<number>(nd).fill(1), residuals: new Array<number>(nd).fill(1), permutation: [...Array(nd).keys()], split: nd }
        : null,
      keep: new Array<boolean>(nds).fill(true),
    }));
    this.mapping = { levels: this.levels as LevelMapping[] };
    const firstSlot = arch.storage.map((_, i) => space.slots.findIndex((s) => s.level === i));
    this.ext = space.allocations.map((allocs) =>
      allocs.map((a) => arch.storage.map((_, i) => a.slice(firstSlot[i]).reduce((p, f) => p * f, 1))),
    );
    this.capacity = arch.storage.map((s) => (s.sizeWords === null ? Infinity : Math.floor(s.sizeWords / s.multipleBuffering)));
    this.belowMacs = arch.storage.map((_, i) => i === arch.storage.length - 1);
    this.current = new Array<number>(nd).fill(-1);
    this.imperfectDims = new Array<boolean>(nd).fill(false);
  }

  setKeep(keep: boolean[][]): void {
    this.levels.forEach((lv, i) => (lv.keep = keep[i].slice()));
  }

  setAllocation(d: number, a: number): void {
    const alloc = this.space.allocations[d][a];
    const residuals = this.space.residuals[d][a];
    this.current[d] = a;
    this.imperfectDims[d] = residuals !== null;
    // The lean model scores an imperfect split as the padded problem
    // (residual = factor); the few best are re-evaluated exactly.
    const exact = residuals !== null && (this.lean === null || this.exactImperfect);
    this.space.slots.forEach((slot, s) => {
      const lv = this.levels[slot.level];
      const target = slot.spatial ? lv.spatial! : lv.temporal;
      target.factors[d] = alloc[s];
      target.residuals[d] = exact ? residuals[s] : alloc[s];
    });
  }

  /** Whether the split now set is scored by the padded surrogate. */
  private surrogate(): boolean {
    return this.lean !== null && !this.exactImperfect && this.imperfectDims.some(Boolean);
  }

  /** The mapping now set, with the real last-iteration bounds. */
  private exactMapping(): Mapping {
    const m = cloneMapping(this.mapping) as { levels: MutableLevel[] };
    const { space } = this;
    this.current.forEach((a, d) => {
      const residuals = a < 0 ? null : space.residuals[d][a];
      if (!residuals) return;
      space.slots.forEach((slot, s) => {
        const lv = m.levels[slot.level];
        (slot.spatial ? lv.spatial! : lv.temporal).residuals[d] = residuals[s];
      });
    });
    return m;
  }

  private offerImperfect(energy: number, cycles: number): void {
    const { pending } = this;
    const metrics = this.options.metrics;
    if (pending.length === PENDING_IMPERFECT && !better(metrics, energy, cycles, pending[pending.length - 1].energy, pending[pending.length - 1].cycles)) return;
    let at = pending.length;
    while (at > 0 && better(metrics, energy, cycles, pending[at - 1].energy, pending[at - 1].cycles)) at--;
    pending.splice(at, 0, { mapping: this.exactMapping(), energy, cycles, tag: this.tag.slice() });
    if (pending.length > PENDING_IMPERFECT) pending.pop();
  }

  /**
   * Evaluates the best imperfect splits seen since the last call with the
   * exact model and lets them compete with the best so far. Called at fixed
   * points of the search order (the end of a restart), so the result does
   * not depend on how the work is spread over threads.
   */
  flushImperfect(): void {
    for (const p of this.pending) {
      if (performance.now() > this.deadline) {
        this.stats.complete = false;
        this.stats.stoppedByBudget = true;
        break;
      }
      // Restarts often end on the same mapping; its exact cost is computed once.
      const key = JSON.stringify(p.mapping.levels);
      let r = this.exactCache.get(key);
      if (!r) {
        r = evaluateMapping(this.ctx, p.mapping);
        this.exactCache.set(key, r);
        this.stats.exactEvaluations++;
      }
      if (!r.ok) {
        const reason = `${r.error.level ?? ''}: ${r.error.reason} (imperfect, exact model)`.replace(/[0-9]+/g, 'N');
        this.stats.rejections[reason] = (this.stats.rejections[reason] ?? 0) + 1;
        continue;
      }
      const { energy_pJ: energy, cycles } = r.value.summary;
      if (this.best === null || better(this.options.metrics, energy, cycles, this.bestEnergy, this.bestCycles)) {
        this.best = p.mapping;
        this.bestTag = p.tag;
        this.bestEnergy = energy;
        this.bestCycles = cycles;
        this.noteTarget(energy, cycles);
      }
    }
    this.pending.length = 0;
  }

  private noteTarget(energy: number, cycles: number): void {
    const target = this.options.targetEdp;
    if (target !== undefined && this.stats.reachedTargetMs === null && energy * 1e-12 * cycles <= target * (1 + 1e-9)) {
      this.stats.reachedTargetMs = performance.now() - this.start;
    }
  }

  /** Whether the full allocation `allocs` (one index per dimension) fits every kept buffer and fanout. */
  fits(allocs: readonly number[], keep: boolean[][]): boolean {
    const { space } = this;
    for (let s = 0; s < space.slots.length; s++) {
      if (!space.slots[s].spatial) continue;
      let use = 1;
      for (let d = 0; d < allocs.length; d++) use *= space.allocations[d][allocs[d]][s];
      if (use > space.slots[s].fanout) return this.prune(this.fanoutReason(s));
    }
    if (!this.axisAligned) return this.fitsProjected(allocs, keep);
    for (let i = 0; i < this.capacity.length; i++) {
      if (this.capacity[i] === Infinity) continue;
      let sum = 0;
      for (let t = 0; t < this.relevant.length; t++) {
        if (!keep[i][t]) continue;
        let tile = 1;
        for (let d = 0; d < allocs.length; d++) if (this.relevant[t][d]) tile *= this.ext[d][allocs[d]][i];
        sum += tile;
      }
      if (sum > this.capacity[i]) return this.prune(this.capacityReason(i));
    }
    return true;
  }

  /**
   * Capacity check for any projection (convolutions: P + R, strides,
   * dilations): a tile's footprint along a rank is its hull, 1 + Σ |c|·(e − 1),
   * which is what Timeloop's axis-aligned hyper-rectangle point sets hold.
   */
  private fitsProjected(allocs: readonly number[], keep: boolean[][]): boolean {
    const { problem } = this.space;
    for (let i = 0; i < this.capacity.length; i++) {
      if (this.capacity[i] === Infinity) continue;
      let sum = 0;
      problem.dataspaces.forEach((ds, t) => {
        if (!keep[i][t]) return;
        let tile = 1;
        for (const rank of ds.projection) {
          let extent = 1;
          for (const term of rank) extent += Math.abs(term.coefficient) * (this.ext[term.dimension][allocs[term.dimension]][i] - 1);
          tile *= extent;
        }
        sum += tile;
      });
      if (sum > this.capacity[i]) return this.prune(this.capacityReason(i));
    }
    return true;
  }

  fanoutReason(slot: number): string {
    const s = this.space.slots[slot];
    return `fanout below ${this.space.arch.storage[s.level].name} (${s.fanout} instances)`;
  }

  capacityReason(level: number): string {
    return `${this.space.arch.storage[level].name} capacity (${this.capacity[level]} words for its kept tiles)`;
  }

  prune(reason: string): false {
    this.stats.prunedBy[reason] = (this.stats.prunedBy[reason] ?? 0) + 1;
    return false;
  }

  private evaluate(): { ok: boolean; energy: number; cycles: number } {
    const { stats } = this;
    let ok: boolean;
    let energy = 0;
    let cycles = 0;
    if (this.lean) {
      ok = this.lean.evaluate(this.mapping);
      if (!ok && this.lean.unsupported) ok = this.lean.evaluateAny(this.mapping);
      energy = this.lean.energy;
      cycles = this.lean.cycles;
      if (!ok) {
        const reason = this.lean.invalidReason.replace(/[0-9]+/g, 'N');
        stats.rejections[reason] = (stats.rejections[reason] ?? 0) + 1;
      }
    } else {
      const r = evaluateMapping(this.ctx, this.mapping);
      ok = r.ok;
      if (r.ok) {
        energy = r.value.summary.energy_pJ;
        cycles = r.value.summary.cycles;
      } else {
        const reason = `${r.error.level ?? ''}: ${r.error.reason}`.replace(/[0-9]+/g, 'N');
        stats.rejections[reason] = (stats.rejections[reason] ?? 0) + 1;
      }
    }
    stats.evaluated++;
    // The general model takes milliseconds per mapping: check the clock every time then.
    if (((stats.evaluated & 1023) === 0 || this.lean === null) && performance.now() > this.deadline) {
      this.stop = true;
      stats.complete = false;
      stats.stoppedByBudget = true;
    }
    return { ok, energy, cycles };
  }

  /** Scores the mapping now set and keeps it if it is the best; null if invalid. */
  private consider(surrogate: boolean): { energy: number; cycles: number } | null {
    const r = this.evaluate();
    if (!r.ok) return null;
    this.stats.valid++;
    if (!surrogate && this.options.visit) this.options.visit(this.mapping, r.energy, r.cycles);
    if (surrogate) {
      this.offerImperfect(r.energy, r.cycles);
    } else if (this.best === null || better(this.options.metrics, r.energy, r.cycles, this.bestEnergy, this.bestCycles)) {
      this.best = cloneMapping(this.mapping);
      this.bestTag = this.tag.slice();
      this.bestEnergy = r.energy;
      this.bestCycles = r.cycles;
      this.noteTarget(r.energy, r.cycles);
    }
    return { energy: r.energy, cycles: r.cycles };
  }

  /**
   * Sliding windows: the order classes ignore halos, so once a restart has
   * its best split, every temporal order of each level (not one per class)
   * is tried in turn with the others fixed, from the orders `visitOrders`
   * chose, until none improves.
   */
  polishOrders(): void {
    if (this.space.orderClassesExact || this.surrogate()) return;
    if (this.visitOrders() === null) return;
    // visitOrders leaves its chosen orders set only on the coordinate-descent path; set the best's.
    const lists = this.levels
      .map((lv, i) => ({ lv, orders: this.space.temporalOrders(i, lv.temporal.factors, true) }))
      .filter((x) => x.orders.length > 1);
    let cur = this.consider(false);
    if (cur === null) return;
    for (let sweep = 0; sweep < 3 && !this.stop; sweep++) {
      let improved = false;
      for (const { lv, orders } of lists) {
        let chosen = lv.temporal.permutation;
        for (const perm of orders) {
          if (this.stop) break;
          if (perm === chosen) continue;
          lv.temporal.permutation = perm;
          const r = this.consider(false);
          if (r !== null && better(this.options.metrics, r.energy, r.cycles, cur.energy, cur.cycles)) {
            cur = r;
            chosen = perm;
            improved = true;
          }
        }
        lv.temporal.permutation = chosen;
      }
      if (!improved) break;
    }
  }

  /**
   * Evaluates every loop order and spatial placement of the factors now set;
   * returns the best (energy, cycles) among them, or null if none is valid.
   */
  visitOrders(): { energy: number; cycles: number } | null {
    const { space, levels, stats, options } = this;
    stats.factorizations++;
    const temporalChoices = levels.map((lv, i) => space.temporalOrders(i, lv.temporal.factors, this.allOrders));
    const spatialChoices: (SpatialPlacement[] | null)[] = levels.map((lv, i) =>
      lv.spatial ? space.spatialPlacements(i, lv.spatial.factors, this.belowMacs[i]) : null,
    );
    if (spatialChoices.some((c) => c !== null && c.length === 0)) {
      stats.pruned++;
      return null;
    }
    const choiceLists: { apply: (k: number) => void; count: number }[] = [];
    levels.forEach((lv, i) => {
      const tc = temporalChoices[i];
      if (tc.length > 1) choiceLists.push({ count: tc.length, apply: (k) => (lv.temporal.permutation = tc[k]) });
      else lv.temporal.permutation = tc[0];
      const sc = spatialChoices[i];
      const sp = lv.spatial;
      if (sc && sp) {
        if (sc.length > 1) choiceLists.push({ count: sc.length, apply: (k) => ((sp.permutation = sc[k].permutation), (sp.split = sc[k].split)) });
        else ((sp.permutation = sc[0].permutation), (sp.split = sc[0].split));
      }
    });
    let local: { energy: number; cycles: number } | null = null;
    const surrogate = this.surrogate();
    const consider = (): { energy: number; cycles: number } | null => {
      const r = this.consider(surrogate);
      if (r !== null && (local === null || better(options.metrics, r.energy, r.cycles, local.energy, local.cycles))) local = r;
      return r;
    };
    const combinations = choiceLists.reduce((p, c) => p * c.count, 1);
    if (!space.orderClassesExact && !this.allOrders && combinations > choiceLists.reduce((p, c) => p + c.count, 0)) {
      // Without exact order classes (sliding windows) the product of every
      // level's orders runs into the millions: choose each level's order with
      // the others fixed, sweeping until none improves.
      const chosen = choiceLists.map(() => 0);
      choiceLists.forEach((c) => c.apply(0));
      let cur = consider();
      for (let sweep = 0; sweep < 3 && !this.stop; sweep++) {
        let improved = false;
        choiceLists.forEach((c, j) => {
          for (let k = 0; k < c.count && !this.stop; k++) {
            if (k === chosen[j]) continue;
            c.apply(k);
            const r = consider();
            if (r && (cur === null || better(options.metrics, r.energy, r.cycles, cur.energy, cur.cycles))) {
              cur = r;
              chosen[j] = k;
              improved = true;
            }
          }
          c.apply(chosen[j]);
        });
        if (!improved) break;
      }
      return local;
    }
    // The best combination is left set, for polishOrders to start from.
    const at = choiceLists.map(() => 0);
    let bestAt: number[] | null = null;
    let bestLeaf: { energy: number; cycles: number } | null = null;
    const rec = (j: number) => {
      if (this.stop) return;
      if (j === choiceLists.length) {
        const r = consider();
        if (r !== null && (bestLeaf === null || better(options.metrics, r.energy, r.cycles, bestLeaf.energy, bestLeaf.cycles))) {
          bestLeaf = r;
          bestAt = at.slice();
        }
        return;
      }
      for (let k = 0; k < choiceLists[j].count; k++) {
        at[j] = k;
        choiceLists[j].apply(k);
        rec(j + 1);
      }
    };
    rec(0);
    const chosen: number[] | null = bestAt;
    if (chosen !== null) choiceLists.forEach((c, j) => c.apply(chosen[j]));
    return local;
  }

  result(): SearchResult {
    this.stats.wallMs = performance.now() - this.start;
    return { mapping: this.best, tag: this.bestTag, energy: this.bestEnergy, cycles: this.bestCycles, stats: this.stats };
  }
}

export interface ExhaustiveOptions extends SearchOptions {
  /** Visit only the (keep choice, split of the first dimension) pairs this accepts (a worker's share). */
  partFilter?: (keepIndex: number, firstSplit: number) => boolean;
}

export function exhaustiveSearch(space: MapSpace, ctx: ModelContext, options: ExhaustiveOptions): SearchResult {
  const c = new Candidates(space, ctx, options);
  // A proof of the optimum needs every candidate's exact cost, imperfect ones included.
  c.exactImperfect = true;
  c.allOrders = true;
  const { problem, arch } = space;
  const nL = arch.storage.length;
  const nd = problem.dimensions.length;
  const nds = problem.dataspaces.length;
  const slots = space.slots;
  // Running tile products per (level, dataspace) and fanout use, for pruning partial splits.
  const tile = arch.storage.map(() => new Array<number>(nds).fill(1));
  const spatialUse = slots.map(() => 1);

  const assignDim = (d: number, keep: boolean[][]) => {
    if (c.stop) return;
    if (d === nd) {
      if (!c.axisAligned && !c.fits(c.current, keep)) {
        c.stats.pruned++;
        return;
      }
      c.visitOrders();
      return;
    }
    const allocs = space.allocations[d];
    for (let a = 0; a < allocs.length; a++) {
      if (d === 0) {
        if (options.partFilter && !options.partFilter(c.tag[0], a)) continue;
        c.tag[1] = a;
      }
      const alloc = allocs[a];
      let fits = true;
      for (let s = 0; s < slots.length && fits; s++) {
        if (slots[s].spatial && spatialUse[s] * alloc[s] > slots[s].fanout) fits = c.prune(c.fanoutReason(s));
      }
      if (fits && c.axisAligned) {
        for (let i = 0; i < nL && fits; i++) {
          if (c.capacity[i] === Infinity) continue;
          let sum = 0;
          for (let t = 0; t < nds; t++) {
            if (!keep[i][t]) continue;
            sum += c.relevant[t][d] ? tile[i][t] * c.ext[d][a][i] : tile[i][t];
          }
          if (sum > c.capacity[i]) fits = c.prune(c.capacityReason(i));
        }
      }
      if (!fits) {
        c.stats.pruned++;
        continue;
      }
      c.setAllocation(d, a);
      for (let s = 0; s < slots.length; s++) if (slots[s].spatial) spatialUse[s] *= alloc[s];
      for (let i = 0; i < nL; i++) for (let t = 0; t < nds; t++) if (c.relevant[t][d]) tile[i][t] *= c.ext[d][a][i];
      assignDim(d + 1, keep);
      for (let i = 0; i < nL; i++) for (let t = 0; t < nds; t++) if (c.relevant[t][d]) tile[i][t] /= c.ext[d][a][i];
      for (let s = 0; s < slots.length; s++) if (slots[s].spatial) spatialUse[s] /= alloc[s];
      if (c.stop) return;
    }
  };

  space.keepChoices.forEach((keep, k) => {
    if (c.stop) return;
    c.tag = [k, 0];
    c.setKeep(keep);
    assignDim(0, keep);
  });
  return c.result();
}

export interface LocalSearchOptions extends SearchOptions {
  /** Factor splits the whole search may score (cached ones count too, so runs are reproducible). */
  effort?: number;
  seed?: number;
  /** Independent restarts sharing the effort; they can run on separate threads with the same result. */
  restarts?: number;
  /** Run only the restarts this accepts (a worker's share). */
  restartFilter?: (restart: number) => boolean;
  /** One more restart starts from this mapping's factor split and bypass choice, when the space holds them. */
  start?: Mapping;
  /** Every restart starts from `start` (each kicks it its own way) instead of one more. */
  fromStart?: boolean;
}

/**
 * Iterated local search over factor splits, each split scored by its best
 * loop orders and placements (so orders never trap the search). A move sends
 * one prime factor of one dimension from one loop slot to another. Restart r
 * starts from the split that puts as much as possible on the fanouts and the
 * innermost buffers under keep choice r (or, past the keep choices, from a
 * seeded random split), climbs to a local optimum, then kicks its best split
 * with a few random moves and climbs again until its share of the effort is
 * spent. Restarts are independent and each counts every split it scores, so
 * the result is the same whatever the threads or the order they run in:
 * the best over restarts, ties going to the lowest restart.
 */
export function localSearch(space: MapSpace, ctx: ModelContext, options: LocalSearchOptions): SearchResult {
  const c = new Candidates(space, ctx, options);
  c.stats.complete = false;
  const { problem } = space;
  const nd = problem.dimensions.length;
  const effort = options.effort ?? MAPPER_DEFAULTS.effort;
  const restarts = options.restarts ?? MAPPER_DEFAULTS.restarts;
  const quota = Math.ceil(effort / restarts);
  const seed = options.seed ?? MAPPER_DEFAULTS.seed;
  const key = (v: readonly number[]) => v.join(',');
  const index = space.allocations.map((allocs) => new Map(allocs.map((a, i) => [key(a), i])));
  // Neighbouring splits of each dimension: one prime factor moved between two slots.
  const neighbourCache = space.allocations.map(() => new Map<number, number[]>());
  const imperfectSlots = space.slots.map((_, sl) => sl).filter((sl) => (space.imperfectBound[sl] ?? 0) > 1);
  // Imperfect splits of a dimension that differ from a given one only in an
  // imperfect loop s1 and one other loop s2, sorted by the imperfect loop's
  // factor. Found by trying each factor the two loops take anywhere in the
  // dimension's splits against a hash index of the splits (checked exactly),
  // not by indexing every pair of loops: a dimension of 3072 over Simba's
  // slots has 160,000 imperfect splits and a search asks for a few thousand.
  /** FNV-1a over a split's factors, leaving out loops `skip1` and `skip2`. */
  const fnv = (v: readonly number[], skip1 = -1, skip2 = -1) => {
    let h = 0x811c9dc5;
    for (let i = 0; i < v.length; i++) if (i !== skip1 && i !== skip2) h = Math.imul(h ^ v[i], 16777619);
    return h >>> 0;
  };
  const byHash = space.allocations.map(() => null as Map<number, number[]> | null);
  const slotValues = space.allocations.map(() => null as number[][] | null);
  const splitsOf = (d: number): { hashes: Map<number, number[]>; values: number[][] } => {
    let hashes = byHash[d];
    let values = slotValues[d];
    if (hashes === null || values === null) {
      const allocs = space.allocations[d];
      hashes = new Map();
      const seen = space.slots.map(() => new Set<number>());
      for (let j = 0; j < allocs.length; j++) {
        const h = fnv(allocs[j]);
        const list = hashes.get(h);
        if (list) list.push(j);
        else hashes.set(h, [j]);
        allocs[j].forEach((f, sl) => seen[sl].add(f));
      }
      values = seen.map((set) => [...set].sort((a, b) => a - b));
      byHash[d] = hashes;
      slotValues[d] = values;
    }
    return { hashes, values };
  };
  // Where the two loops take many factors each (a 128-wide crossbar), one pass over the splits per loop pair is cheaper.
  const nSlots = space.slots.length;
  const pairBuckets = new Map<number, Map<number, number[]>>();
  const hashExcept = (v: readonly number[], s1: number, s2: number) => fnv(v, s1, s2);
  const pairBucket = (d: number, alloc: readonly number[], s1: number, s2: number): number[] => {
    const pair = (d * nSlots + s1) * nSlots + s2;
    const allocs = space.allocations[d];
    let b = pairBuckets.get(pair);
    if (!b) {
      b = new Map();
      for (let j = 0; j < allocs.length; j++) {
        const h = hashExcept(allocs[j], s1, s2);
        const list = b.get(h);
        if (list) list.push(j);
        else b.set(h, [j]);
      }
      for (const list of b.values()) list.sort((x, y) => allocs[x][s1] - allocs[y][s1] || x - y);
      pairBuckets.set(pair, b);
    }
    return (b.get(hashExcept(alloc, s1, s2)) ?? []).filter((j) => allocs[j].every((f, i) => i === s1 || i === s2 || f === alloc[i]));
  };
  const bucket = (d: number, alloc: readonly number[], s1: number, s2: number): number[] => {
    const { hashes, values } = splitsOf(d);
    if (values[s1].length * values[s2].length > PAIR_PROBES) return pairBucket(d, alloc, s1, s2);
    const allocs = space.allocations[d];
    const v = alloc.slice();
    const out: number[] = [];
    for (const f1 of values[s1]) {
      v[s1] = f1;
      for (const f2 of values[s2]) {
        v[s2] = f2;
        for (const j of hashes.get(fnv(v)) ?? []) if (allocs[j].every((f, i) => f === v[i])) out.push(j);
      }
    }
    return out.sort((x, y) => allocs[x][s1] - allocs[y][s1] || x - y);
  };
  const hasImperfect = space.residuals.map((rs) => rs.some((r) => r !== null));
  const neighbours = (d: number, a: number): number[] => {
    let out = neighbourCache[d].get(a);
    if (out) return out;
    out = [];
    const seen = new Set<number>([a]);
    if (hasImperfect[d]) {
      // Imperfect moves: the imperfect loop's factor one or two steps up or
      // down, or to its largest, the other loop absorbing the change.
      const alloc = space.allocations[d][a];
      for (const s1 of imperfectSlots) {
        for (let s2 = 0; s2 < alloc.length; s2++) {
          if (s2 === s1) continue;
          const list = bucket(d, alloc, s1, s2);
          const at = list.indexOf(a);
          for (const j of [at - 2, at - 1, at + 1, at + 2, list.length - 1]) {
            if (j < 0 || j >= list.length || seen.has(list[j])) continue;
            seen.add(list[j]);
            out.push(list[j]);
          }
        }
      }
    }
    const alloc = space.allocations[d][a];
    for (let src = 0; src < alloc.length; src++) {
      if (alloc[src] === 1) continue;
      for (const p of new Set(primeFactors(alloc[src]))) {
        for (let dst = 0; dst < alloc.length; dst++) {
          if (dst === src) continue;
          const v = alloc.slice();
          v[src] /= p;
          v[dst] *= p;
          const j = index[d].get(key(v));
          if (j !== undefined && !seen.has(j)) {
            seen.add(j);
            out.push(j);
          }
        }
      }
    }
    neighbourCache[d].set(a, out);
    return out;
  };

  type Score = { energy: number; cycles: number } | null;
  const scores = new Map<string, Score>();
  let used = 0;
  const score = (keepIndex: number, allocs: number[]): Score => {
    used++;
    const k = `${keepIndex}|${key(allocs)}`;
    const cached = scores.get(k);
    if (cached !== undefined || scores.has(k)) return cached ?? null;
    let s: Score = null;
    if (c.fits(allocs, space.keepChoices[keepIndex])) {
      c.setKeep(space.keepChoices[keepIndex]);
      allocs.forEach((a, d) => c.setAllocation(d, a));
      s = c.visitOrders();
    } else {
      c.stats.pruned++;
    }
    scores.set(k, s);
    return s;
  };
  const isBetter = (a: Score, b: Score) => a !== null && (b === null || better(options.metrics, a.energy, a.cycles, b.energy, b.cycles));
  const exhausted = () => c.stop || used >= quota;

  const spatialSlots = space.slots.map((slot, i) => (slot.spatial ? i : -1)).filter((i) => i >= 0);
  /**
   * Swaps at a full fanout: one dimension's factor moves into a spatial slot
   * while another's moves out of it. Neither move alone is valid (the first
   * overflows the fanout) or better (the second idles instances), so single
   * moves cannot reshape a fanout two dimensions share (Simba's PE array,
   * Eyeriss's columns).
   */
  const swapMoves = (cur: readonly number[]): number[][] => {
    const out: number[][] = [];
    for (const sl of spatialSlots) {
      let use = 1;
      for (let d = 0; d < nd; d++) use *= space.allocations[d][cur[d]][sl];
      for (let d1 = 0; d1 < nd; d1++) {
        for (const j1 of neighbours(d1, cur[d1])) {
          const grow = space.allocations[d1][j1][sl] / space.allocations[d1][cur[d1]][sl];
          if (grow <= 1 || use * grow <= space.slots[sl].fanout) continue;
          for (let d2 = 0; d2 < nd; d2++) {
            if (d2 === d1) continue;
            for (const j2 of neighbours(d2, cur[d2])) {
              const shrink = space.allocations[d2][cur[d2]][sl] / space.allocations[d2][j2][sl];
              if (shrink <= 1 || use * grow > space.slots[sl].fanout * shrink) continue;
              const cand = cur.slice();
              cand[d1] = j1;
              cand[d2] = j2;
              out.push(cand);
            }
          }
        }
      }
    }
    return out;
  };
  /**
   * Regroupings of two loops: every way to redistribute, for all dimensions
   * at once, the factors that loops s1 and s2 hold between them, the other
   * loops unchanged (a small exhaustive search around `cur`). Single moves
   * and swaps change one or two dimensions by one prime; a better tiling of
   * Simba's BERT-large FF1 or Eyeriss's conv IV moves several dimensions
   * between two levels at once (a DRAM/GlobalBuffer boundary shifted), which
   * no sequence of improving single moves reaches. Imperfect splits keep
   * their dimension as it is.
   */
  const regroupMoves = function* (cur: readonly number[]): Generator<number[]> {
    for (let s1 = 0; s1 < nSlots; s1++) {
      for (let s2 = s1 + 1; s2 < nSlots; s2++) {
        const ways: number[][] = [];
        let combinations = 1;
        for (let d = 0; d < nd && combinations <= REGROUP_LIMIT; d++) {
          const alloc = space.allocations[d][cur[d]];
          const held = alloc[s1] * alloc[s2];
          const list: number[] = [];
          if (space.residuals[d][cur[d]] !== null || held === 1) list.push(cur[d]);
          else {
            const v = alloc.slice();
            for (let f = 1; f <= held; f++) {
              if (held % f !== 0) continue;
              v[s1] = f;
              v[s2] = held / f;
              const j = index[d].get(key(v));
              if (j !== undefined && space.residuals[d][j] === null) list.push(j);
            }
          }
          ways.push(list);
          combinations *= list.length;
        }
        if (combinations <= 1 || combinations > REGROUP_LIMIT) continue;
        const at = new Array<number>(nd).fill(0);
        for (let n = 0; n < combinations; n++) {
          const cand = ways.map((list, d) => list[at[d]]);
          if (cand.some((j, d) => j !== cur[d])) yield cand;
          for (let d = nd - 1; d >= 0 && ++at[d] === ways[d].length; d--) at[d] = 0;
        }
      }
    }
  };
  /**
   * After a restart's effort: climbs on from its best with single moves and
   * swaps, then with regroupings of two loops where those find nothing,
   * until none improves. It starts where the restart ended, so it can only
   * improve the restart's result; it is bounded by its steps, not by the
   * effort.
   */
  const settle = (keepIndex: number, from: { allocs: number[]; score: Score }): { allocs: number[]; score: Score } => {
    let cur = from;
    for (let step = 0; step < SETTLE_STEPS && !c.stop; step++) {
      let next: { allocs: number[]; score: Score } | null = null;
      const consider = (cand: number[]) => {
        const s = score(keepIndex, cand);
        if (isBetter(s, (next ?? cur).score)) next = { allocs: cand, score: s };
      };
      for (let d = 0; d < nd; d++) {
        for (const j of neighbours(d, cur.allocs[d])) {
          const cand = cur.allocs.slice();
          cand[d] = j;
          consider(cand);
        }
      }
      for (const cand of swapMoves(cur.allocs)) consider(cand);
      if (next === null) for (const cand of regroupMoves(cur.allocs)) consider(cand);
      if (next === null) break;
      cur = next;
    }
    return cur;
  };

  /** Best-improvement hill climb; returns the local optimum reached. */
  const climb = (keepIndex: number, start: number[]): { allocs: number[]; score: Score } => {
    let cur = start.slice();
    let curScore = score(keepIndex, cur);
    while (!exhausted()) {
      let bestMove: number[] | null = null;
      let bestScore = curScore;
      for (let d = 0; d < nd && !exhausted(); d++) {
        for (const j of neighbours(d, cur[d])) {
          const cand = cur.slice();
          cand[d] = j;
          const s = score(keepIndex, cand);
          if (isBetter(s, bestScore)) {
            bestScore = s;
            bestMove = cand;
          }
          if (exhausted()) break;
        }
      }
      if (bestMove === null) break;
      cur = bestMove;
      curScore = bestScore;
    }
    return { allocs: cur, score: curScore };
  };

  /** A mapping's factor split (allocation indices) and bypass choice in this space, if it holds them and they fit. */
  const startOf = (m: Mapping): { keepIndex: number; allocs: number[] } | null => {
    const keep = m.levels.map((lv) => lv.keep);
    const keepIndex = space.keepChoices.findIndex((k) => k.every((row, i) => row.every((x, t) => x === keep[i][t])));
    if (keepIndex < 0) return null;
    const allocs: number[] = [];
    for (let d = 0; d < nd; d++) {
      const v = space.slots.map((slot) => {
        const lv = m.levels[slot.level];
        return slot.spatial ? (lv.spatial?.factors[d] ?? 1) : lv.temporal.factors[d];
      });
      const j = index[d].get(key(v));
      if (j === undefined) return null;
      allocs.push(j);
    }
    return c.fits(allocs, space.keepChoices[keepIndex]) ? { keepIndex, allocs } : null;
  };
  // Each dimension's splits, most spatial (then outermost) first: the same for every restart, so sorted once.
  let greedyOrder: number[][] | null = null;
  const greedyStart = (keepIndex: number): number[] | null => {
    if (greedyOrder === null) {
      const weight = (alloc: number[]) => alloc.reduce((w, f, s) => w + Math.log2(f) * (space.slots[s].spatial ? 1000 : s + 1), 0);
      greedyOrder = space.allocations.map((allocs) => {
        const w = allocs.map(weight);
        return [...allocs.keys()].sort((x, y) => w[y] - w[x] || x - y);
      });
    }
    const order = greedyOrder;
    const pick = new Array<number>(nd).fill(0);
    const cur = order.map((o) => o[0]);
    for (let tries = 0; tries < 10_000; tries++) {
      if (c.fits(cur, space.keepChoices[keepIndex])) return cur;
      const d = tries % nd;
      pick[d] = Math.min(pick[d] + 1, order[d].length - 1);
      cur[d] = order[d][pick[d]];
    }
    return null;
  };
  const randomStart = (keepIndex: number, rng: Random): number[] | null => {
    for (let tries = 0; tries < 2000; tries++) {
      const cand = space.allocations.map((allocs) => rng.int(allocs.length));
      if (c.fits(cand, space.keepChoices[keepIndex])) return cand;
    }
    return null;
  };

  // A given start is one more restart after the usual ones, so the search can only do better with it.
  const seeded = options.start !== undefined ? startOf(options.start) : null;
  const fromStart = options.fromStart === true && seeded !== null;
  const runs = fromStart ? restarts : restarts + (seeded !== null ? 1 : 0);
  for (let r = 0; r < runs && !c.stop; r++) {
    if (options.restartFilter && !options.restartFilter(r)) continue;
    used = 0;
    c.tag = [r];
    const rng = new Random(seed * 7919 + r);
    const given = fromStart || r === restarts ? seeded : null;
    const keepIndex = given?.keepIndex ?? (r < space.keepChoices.length ? r : rng.int(space.keepChoices.length));
    const start = given?.allocs ?? (r < space.keepChoices.length ? greedyStart(keepIndex) : randomStart(keepIndex, rng));
    if (start === null) continue;
    let best = climb(keepIndex, start);
    while (!exhausted()) {
      // Kick: a few random moves away from this restart's best, then climb again.
      const kicked = best.allocs.slice();
      const moves = 2 + rng.int(3);
      for (let m = 0; m < moves; m++) {
        const d = rng.int(nd);
        const nb = neighbours(d, kicked[d]);
        if (nb.length > 0) kicked[d] = rng.pick(nb);
      }
      const next = climb(keepIndex, kicked);
      if (isBetter(next.score, best.score)) best = next;
    }
    if (best.score !== null && !c.stop) best = settle(keepIndex, best);
    if (best.score !== null && !c.stop) {
      c.setKeep(space.keepChoices[keepIndex]);
      best.allocs.forEach((a, d) => c.setAllocation(d, a));
      c.polishOrders();
    }
    c.flushImperfect();
  }
  if (scores.size >= space.keepChoices.length * space.factorizationCount()) c.stats.complete = true;
  return c.result();
}

/** Lexicographic order of search positions. */
function tagLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i];
  return a.length < b.length;
}

/**
 * Merges the results of disjoint parts of one search into what the
 * sequential search returns: the best, ties going to the earliest position.
 */
export function mergeResults(metrics: readonly Metric[], parts: readonly SearchResult[]): SearchResult {
  let best: SearchResult | null = null;
  const stats: SearchStats = { evaluated: 0, valid: 0, pruned: 0, factorizations: 0, wallMs: 0, complete: true, stoppedByBudget: false, rejections: {}, prunedBy: {}, reachedTargetMs: null, exactEvaluations: 0 };
  for (const p of parts) {
    stats.evaluated += p.stats.evaluated;
    stats.valid += p.stats.valid;
    stats.pruned += p.stats.pruned;
    stats.factorizations += p.stats.factorizations;
    stats.exactEvaluations += p.stats.exactEvaluations;
    stats.wallMs = Math.max(stats.wallMs, p.stats.wallMs);
    stats.complete &&= p.stats.complete;
    stats.stoppedByBudget ||= p.stats.stoppedByBudget;
    for (const [k, v] of Object.entries(p.stats.rejections)) stats.rejections[k] = (stats.rejections[k] ?? 0) + v;
    for (const [k, v] of Object.entries(p.stats.prunedBy)) stats.prunedBy[k] = (stats.prunedBy[k] ?? 0) + v;
    if (p.mapping === null) continue;
    if (
      best === null ||
      better(metrics, p.energy, p.cycles, best.energy, best.cycles) ||
      (!better(metrics, best.energy, best.cycles, p.energy, p.cycles) && tagLess(p.tag, best.tag))
    ) {
      best = p;
    }
  }
  return { mapping: best?.mapping ?? null, tag: best?.tag ?? [], energy: best?.energy ?? Infinity, cycles: best?.cycles ?? Infinity, stats };
}
