/**
 * The map space of a problem on an architecture under constraints, as the
 * pieces a search combines: per dimension, the ways to split its size over
 * the loop slots (each level's temporal loops and each fanout's spatial
 * loops); the keep/bypass choices; per level, the loop orders that can give
 * different results; per fanout, the X/Y placements.
 */
import type { Architecture } from '../arch/architecture.ts';
import { fanoutBelow } from '../arch/architecture.ts';
import type { Problem } from '../workload/problem.ts';
import { isAxisAligned } from '../workload/problem.ts';
import type { LevelConstraints, LoopConstraint, MapspaceConstraints } from './constraints.ts';

export interface Slot {
  /** Storage level, outermost first. */
  readonly level: number;
  readonly spatial: boolean;
  /** For spatial slots: instances below (fanout X × Y). */
  readonly fanout: number;
  readonly constraint: LoopConstraint;
}

export interface SpatialPlacement {
  permutation: number[];
  split: number;
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let i = 1; i * i <= n; i++) {
    if (n % i === 0) {
      out.push(i);
      if (i * i !== n) out.push(n / i);
    }
  }
  return out.sort((a, b) => a - b);
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  const out: T[][] = [];
  items.forEach((x, i) => {
    for (const rest of permutations([...items.slice(0, i), ...items.slice(i + 1)])) out.push([x, ...rest]);
  });
  return out;
}

export class InfeasibleMapspaceError extends Error {}

/**
 * Which loops may take a factor that does not divide what is left of their
 * dimension (an imperfect factorization, the last iteration doing the rest):
 * - `off`: none (Timeloop's 'uber' map space);
 * - `ruby`: the loops whose constraint has `remainders: n`, up to n
 *   (Timeloop's 'ruby' map space; without any `remainders` it is 'uber');
 * - `spatial`: those, and every spatial loop up to its fanout — where
 *   imperfect factors pay off, filling a 14-wide array with a dimension of
 *   1024.
 */
export type ImperfectMode = 'off' | 'ruby' | 'spatial';

export interface MapSpaceOptions {
  imperfect?: ImperfectMode;
}

/**
 * Last-iteration bounds of a factor vector (outermost first) covering n
 * points: the digits of n − 1 in the mixed radix of the factors, plus one.
 * This is how Timeloop's 'ruby' reads a (factor, residual) chain: an inner
 * loop runs to its residual only while every outer loop of its dimension is
 * in its last iteration. Returns null if the factors do not cover exactly
 * n points without an idle outer loop.
 */
export function residualsOf(n: number, factors: readonly number[]): number[] | null {
  const out = new Array<number>(factors.length).fill(1);
  let x = n - 1;
  for (let s = factors.length - 1; s >= 0; s--) {
    const f = factors[s];
    out[s] = (x % f) + 1;
    x = Math.floor(x / f);
  }
  if (x !== 0) return null;
  // An outer loop whose last iteration is its first never runs past it.
  for (let s = 0; s < factors.length; s++) {
    if (factors[s] === 1) continue;
    if (out[s] === 1) return null;
    break;
  }
  return out;
}

export class MapSpace {
  readonly slots: Slot[] = [];
  /** Per dimension: every admissible vector of factors over `slots`. */
  readonly allocations: number[][][];
  /**
   * Per dimension, parallel to `allocations`: the last-iteration bound of
   * each loop, or null for a perfect split (every residual = its factor).
   */
  readonly residuals: (number[] | null)[][];
  readonly imperfect: ImperfectMode;
  /** Constraints the map space could not honour, as Timeloop would warn. */
  readonly warnings: string[] = [];
  /** Slots that may take imperfect factors, with the largest factor allowed. */
  readonly imperfectBound: (number | undefined)[];
  /** Every admissible keep matrix [level][dataspace]. */
  readonly keepChoices: boolean[][][];
  readonly fanX: number[];
  readonly fanY: number[];
  /** Whether loop orders may be collapsed by their reuse signature (axis-aligned problems). */
  readonly orderClassesExact: boolean;
  private readonly relevant: boolean[][];

  constructor(
    readonly problem: Problem,
    readonly arch: Architecture,
    readonly constraints: MapspaceConstraints,
    options: MapSpaceOptions = {},
  ) {
    const nL = arch.storage.length;
    this.imperfect = options.imperfect ?? 'off';
    this.fanX = [];
    this.fanY = [];
    for (let i = 0; i < nL; i++) {
      const f = fanoutBelow(arch, i);
      this.fanX.push(f.x);
      this.fanY.push(f.y);
      const lc = constraints.levels[i];
      this.slots.push({ level: i, spatial: false, fanout: 1, constraint: lc.temporal });
      if (f.x * f.y > 1) this.slots.push({ level: i, spatial: true, fanout: f.x * f.y, constraint: lc.spatial });
      else if (lc.spatial.exact.some((e) => e !== undefined && e > 1)) {
        throw new InfeasibleMapspaceError(`spatial factors are constrained at '${arch.storage[i].name}', which has no fanout below it`);
      }
    }
    this.relevant = problem.dataspaces.map((ds) => problem.dimensions.map((_, d) => ds.projection.some((rank) => rank.some((t) => t.dimension === d))));
    this.orderClassesExact = isAxisAligned(problem);
    this.imperfectBound = this.slots.map((slot) => {
      if (this.imperfect === 'off') return undefined;
      const r = slot.constraint.remainders;
      if (this.imperfect === 'spatial' && slot.spatial) return Math.max(r ?? 0, slot.fanout);
      return r;
    });
    this.allocations = [];
    this.residuals = [];
    problem.dimensions.forEach((_, d) => {
      const { factors, residuals } = this.dimensionAllocations(d);
      this.allocations.push(factors);
      this.residuals.push(residuals);
    });
    this.keepChoices = this.enumerateKeeps();
  }

  /**
   * Exact factors of dimension d per slot, as Timeloop's factorization takes
   * them: innermost loop first, each kept only if it divides what the kept
   * ones leave of the dimension; one that does not is dropped with a warning
   * and its loop becomes free ("cannot accept F as a factor of N ...,
   * ignoring mapping constraint and setting to a free variable").
   * A loop that may take imperfect factors keeps its factor as given.
   */
  private exactFactors(d: number): (number | undefined)[] {
    const n = this.problem.bounds[d];
    const out = this.slots.map((slot) => slot.constraint.exact[d]);
    let partial = 1;
    for (let s = this.slots.length - 1; s >= 0; s--) {
      const e = out[s];
      if (e === undefined) continue;
      if ((this.imperfectBound[s] ?? 0) >= e) continue;
      if (n % (e * partial) === 0) {
        partial *= e;
        continue;
      }
      out[s] = undefined;
      const slot = this.slots[s];
      this.warnings.push(
        `cannot accept ${this.problem.dimensions[d]}=${e} at ${this.arch.storage[slot.level].name}${slot.spatial ? ' (spatial)' : ''} as a factor of ${n}${partial > 1 ? ` with the other exact factors (${partial})` : ''}: the constraint is ignored and the factor left free, as Timeloop does`,
      );
    }
    return out;
  }

  private dimensionAllocations(d: number): { factors: number[][]; residuals: (number[] | null)[] } {
    const n = this.problem.bounds[d];
    const out: number[][] = [];
    const cur = new Array<number>(this.slots.length).fill(1);
    const imperfectHere = this.imperfectBound.some((b) => b !== undefined && b > 1);
    const exact = this.exactFactors(d);
    const fits = (s: number, f: number) => {
      const slot = this.slots[s];
      const c = slot.constraint;
      const e = exact[s];
      if (e !== undefined && e !== f) return false;
      if (c.min[d] !== undefined && f < c.min[d]!) return false;
      if (c.max[d] !== undefined && f > c.max[d]!) return false;
      if (slot.spatial && f > slot.fanout) return false;
      return true;
    };
    const rec = (i: number, rest: number) => {
      if (i === this.slots.length - 1) {
        if (fits(i, rest)) {
          cur[i] = rest;
          out.push(cur.slice());
        }
        return;
      }
      for (const f of divisors(rest)) {
        if (!fits(i, f)) continue;
        cur[i] = f;
        rec(i + 1, rest / f);
      }
      cur[i] = 1;
    };
    if (imperfectHere) this.imperfectSplits(n, fits, exact, out);
    else rec(0, n);
    if (out.length === 0) {
      const parts = this.slots
        .map((s) => {
          const c = s.constraint;
          const bits = [c.exact[d] !== undefined ? `=${c.exact[d]}` : '', c.min[d] !== undefined ? `>=${c.min[d]}` : '', c.max[d] !== undefined ? `<=${c.max[d]}` : '']
            .filter(Boolean)
            .join(',');
          return bits ? `${this.arch.storage[s.level].name}${s.spatial ? ' (spatial)' : ''} ${bits}` : '';
        })
        .filter(Boolean);
      throw new InfeasibleMapspaceError(
        `no split of dimension ${this.problem.dimensions[d]}=${n} over the loops satisfies the constraints${parts.length ? ` (${parts.join('; ')})` : ''}`,
      );
    }
    const residuals = out.map((f) => {
      const r = residualsOf(n, f);
      return r && r.some((x, s) => x !== f[s]) ? r : null;
    });
    return { factors: out, residuals };
  }

  /**
   * Splits with imperfect factors, built from the innermost loop outwards:
   * a loop takes a divisor of the count m still to cover, or, where allowed,
   * any factor f up to its bound, leaving ceil(m / f) to the loops above.
   * Among the factors that leave the same count above, only the smallest is
   * kept: it does the same iterations on fewer instances or a smaller tile.
   * The outermost loop takes what is left.
   */
  private imperfectSplits(n: number, fits: (s: number, f: number) => boolean, exact: readonly (number | undefined)[], out: number[][]): void {
    const S = this.slots.length;
    const cur = new Array<number>(S).fill(1);
    const seen = new Set<string>();
    const rec = (s: number, m: number) => {
      const slot = this.slots[s];
      if (s === 0) {
        if (!fits(0, m)) return;
        cur[0] = m;
        const key = cur.join(',');
        if (!seen.has(key) && residualsOf(n, cur)) {
          seen.add(key);
          out.push(cur.slice());
        }
        cur[0] = 1;
        return;
      }
      const choices = new Set(divisors(m));
      // An exact constraint is honoured even where a smaller factor leaves the same count above.
      const e = exact[s];
      const bound = this.imperfectBound[s];
      if (e !== undefined && bound !== undefined && e <= Math.min(bound, m)) choices.add(e);
      if (bound !== undefined) {
        let lastAbove = -1;
        for (let f = 2; f <= Math.min(bound, m); f++) {
          const above = Math.ceil(m / f);
          if (above === lastAbove) continue;
          lastAbove = above;
          choices.add(f);
        }
      }
      for (const f of [...choices].sort((a, b) => a - b)) {
        if (!fits(s, f)) continue;
        cur[s] = f;
        rec(s - 1, Math.ceil(m / f));
      }
      cur[s] = 1;
    };
    rec(S - 1, n);
    // Same order as the perfect enumeration: lexicographic, outermost first.
    out.sort((a, b) => {
      for (let i = 0; i < S; i++) if (a[i] !== b[i]) return a[i] - b[i];
      return 0;
    });
  }

  private enumerateKeeps(): boolean[][][] {
    const nL = this.arch.storage.length;
    const nds = this.problem.dataspaces.length;
    const free: [number, number][] = [];
    const base: boolean[][] = [];
    for (let i = 0; i < nL; i++) {
      const lc: LevelConstraints = this.constraints.levels[i];
      base.push(
        this.problem.dataspaces.map((_, t) => {
          const k = lc.keep[t];
          // A level without capacity for anything keeps nothing; DRAM keeps everything unless told otherwise.
          if (k !== undefined) return k;
          if (i === 0) return true;
          if (this.arch.storage[i].sizeWords === 0) return false;
          free.push([i, t]);
          return true;
        }),
      );
    }
    const out: boolean[][][] = [];
    const total = 1 << free.length;
    for (let mask = 0; mask < total; mask++) {
      const keep = base.map((row) => row.slice());
      free.forEach(([i, t], b) => (keep[i][t] = (mask & (1 << b)) === 0));
      // Every dataspace must live somewhere.
      let ok = true;
      for (let t = 0; t < nds; t++) if (!keep.some((row) => row[t])) ok = false;
      if (ok) out.push(keep);
    }
    if (out.length === 0) throw new InfeasibleMapspaceError('the keep/bypass constraints leave some dataspace stored nowhere');
    return out;
  }

  /**
   * Temporal loop orders at one level (innermost first, every dimension)
   * that can give different results. For axis-aligned problems two orders are
   * equivalent when, for every dataspace, the innermost run of loops it does
   * not depend on has the same product — that run is all its reuse depends on.
   */
  temporalOrders(level: number, factors: readonly number[], all = false): number[][] {
    // Without exact classes (sliding windows: the order of the loops a
    // dataspace depends on changes its halos) the classes are a heuristic:
    // searches that must see every order ask for all.
    const collapse = this.orderClassesExact || !all;
    const key = `${level}|${collapse}|${factors.join(',')}`;
    let cached = this.orderCache.get(key);
    if (!cached) {
      cached = this.orders(factors, this.constraints.levels[level].temporal, collapse);
      if (this.orderCache.size < 200_000) this.orderCache.set(key, cached);
    }
    return cached;
  }

  private readonly orderCache = new Map<string, number[][]>();
  private readonly placementCache = new Map<string, SpatialPlacement[]>();

  private orders(factors: readonly number[], c: LoopConstraint, collapse: boolean): number[][] {
    const nd = factors.length;
    const fixedInner = c.prefix.filter((d) => factors[d] > 1);
    const fixedOuter = c.suffix.filter((d) => factors[d] > 1);
    const freeDims = [...Array(nd).keys()].filter((d) => factors[d] > 1 && !fixedInner.includes(d) && !fixedOuter.includes(d));
    const units = [...Array(nd).keys()].filter((d) => factors[d] <= 1);
    const out: number[][] = [];
    const seen = new Set<string>();
    for (const middle of permutations(freeDims)) {
      const nonUnit = [...fixedInner, ...middle, ...fixedOuter];
      if (collapse) {
        const sig = this.relevant
          .map((rel) => {
            let p = 1;
            for (const d of nonUnit) {
              if (rel[d]) break;
              p *= factors[d];
            }
            return p;
          })
          .join(',');
        if (seen.has(sig)) continue;
        seen.add(sig);
      }
      out.push([...nonUnit, ...units]);
    }
    return out;
  }

  /**
   * X/Y placements of one fanout's spatial loops. With a `split` constraint
   * the permutation decides the axes; without, every assignment of the
   * non-unit loops to X or Y that fits the fanout is tried. Below the MACs the
   * order of the loops also matters (link transfers), elsewhere it does not.
   */
  spatialPlacements(level: number, factors: readonly number[], belowMacs: boolean): SpatialPlacement[] {
    const key = `${level}|${belowMacs}|${factors.join(',')}`;
    let cached = this.placementCache.get(key);
    if (!cached) {
      cached = this.computeSpatialPlacements(level, factors, belowMacs);
      if (this.placementCache.size < 200_000) this.placementCache.set(key, cached);
    }
    return cached;
  }

  private computeSpatialPlacements(level: number, factors: readonly number[], belowMacs: boolean): SpatialPlacement[] {
    const nd = factors.length;
    const lc = this.constraints.levels[level];
    const fx = this.fanX[level];
    const fy = this.fanY[level];
    const out: SpatialPlacement[] = [];
    const seen = new Set<string>();
    const add = (permutation: number[], split: number) => {
      let px = 1;
      let py = 1;
      const xs: number[] = [];
      const ys: number[] = [];
      permutation.forEach((d, i) => {
        if (factors[d] <= 1) return;
        if (i < split) {
          px *= factors[d];
          xs.push(d);
        } else {
          py *= factors[d];
          ys.push(d);
        }
      });
      if (px > fx || py > fy) return;
      const key = belowMacs ? `${xs.join(',')}|${ys.join(',')}` : `${[...xs].sort().join(',')}|${[...ys].sort().join(',')}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push({ permutation, split });
    };
    if (lc.split !== undefined) {
      for (const p of this.orders(factors, lc.spatial, false)) add(p, lc.split);
      return out;
    }
    const nonUnit = [...Array(nd).keys()].filter((d) => factors[d] > 1);
    const units = [...Array(nd).keys()].filter((d) => factors[d] <= 1);
    const orders = belowMacs ? permutations(nonUnit) : [nonUnit];
    for (const order of orders) {
      for (let mask = 0; mask < 1 << order.length; mask++) {
        const xs = order.filter((_, i) => (mask & (1 << i)) !== 0);
        const ys = order.filter((_, i) => (mask & (1 << i)) === 0);
        add([...xs, ...ys, ...units], xs.length);
      }
    }
    return out;
  }

  /** Number of factor allocations (before capacity pruning). */
  factorizationCount(): number {
    return this.allocations.reduce((p, a) => p * a.length, 1);
  }
}
