/**
 * Closed-form nest analysis for perfect factorizations of any problem whose
 * dataspace indices are sums of dimension terms with coefficients (GEMMs,
 * normalization ops, convolutions with strides and dilations). It returns
 * exactly what `analyzeNest` returns, without walking the nest.
 *
 * Why the closed forms hold (the differential tests pin them to the walk):
 * - A tile is a box in the operation space; its projection onto a dataspace
 *   rank Σ c·d spans Σ |c|·(extent_d − 1) + 1 points, and Timeloop keeps the
 *   projection as that box. Moving one loop by one step translates every
 *   tile below it by the same vector (c × the loop's stride, per rank).
 * - Timeloop simulates iterations #0 and #1 of each temporal loop (weights 1
 *   and bound−1) in lexicographic order, so the tile of loop c sees a binary
 *   counter over the temporal loops above it, u1 (innermost) … um. The step
 *   that sets bit j and clears the bits below it moves the tile by
 *   t_j = T_j − Σ_{i<j} T_i. Timeloop fetches the difference with the
 *   previous tile while the translation repeats, and the whole tile when it
 *   changes; before every step j ≥ 2 the recorded translation is T_1, so that
 *   step fetches `V − overlap(t_j)` if t_j = T_1 and `V` otherwise, and
 *   every odd step fetches `V − overlap(T_1)`. The calls of step j weigh
 *   (e_j − 1) · Π_{i>j} e_i in all.
 * - Sibling instances' deltas are translates of the first instance's by the
 *   spatial loops' steps; they are equal (multicast) exactly when those
 *   translations are equal, which with sliding windows groups instances
 *   along diagonals, not only along dimensions the dataspace ignores.
 * - A link transfer needs a neighbour's previous delta to equal this
 *   instance's current one: both deltas must have the same shape (both
 *   whole tiles, or both differences under T_1) and the neighbour must sit
 *   where the window moved, τ_neighbour − τ_instance = the step's shift.
 *   Below the MACs every "delta" is one operand point, so only the shift
 *   matters.
 */
import type { Problem } from '../workload/problem.ts';
import type { LoopNest } from './loop-nest.ts';
import { TIME } from './loop-nest.ts';
import {
  AccessHistogram,
  groupHops,
  meshSize,
  nestProperties,
  type LoopTile,
  type NestAnalysisOptions,
  type NestAnalysisResult,
  type NestProperties,
} from './nest-analysis.ts';

export function canAnalyzeInClosedForm(_problem: Problem, nest: LoopNest): boolean {
  return !nest.imperfect;
}

/** Per dataspace: rank count and the summed coefficient of each dimension in each rank. */
interface Geometry {
  readonly ranks: number[];
  /** coef[t][r * ndims + d] */
  readonly coef: Float64Array[];
}

const geometries = new WeakMap<Problem, Geometry>();

function geometryOf(problem: Problem): Geometry {
  const known = geometries.get(problem);
  if (known) return known;
  const nd = problem.dimensions.length;
  const ranks: number[] = [];
  const coef: Float64Array[] = [];
  for (const ds of problem.dataspaces) {
    const c = new Float64Array(ds.projection.length * nd);
    ds.projection.forEach((rank, r) => {
      for (const term of rank) c[r * nd + term.dimension] += term.coefficient;
    });
    ranks.push(ds.projection.length);
    coef.push(c);
  }
  const g = { ranks, coef };
  geometries.set(problem, g);
  return g;
}

/** One spatial fanout's grouping of instances for one dataspace, with or without links. */
interface FanoutPattern {
  /** Per multicast size: groups of that size, Σ hops, Σ unicast hops. */
  readonly entries: readonly { multicast: number; scatter: number; hops: number; unicastHops: number }[];
  /** Groups that still need the parent (all groups when there are no links). */
  readonly groups: number;
  /** Instances served over a link. */
  readonly transfers: number;
}

/** A spatial run's patterns: without links, and per link shift that can cover anyone. */
interface FanoutPatterns {
  readonly tau: readonly number[][];
  readonly hSize: number;
  readonly vSize: number;
  readonly full: FanoutPattern;
  /** Per rank, the largest |τ difference| between mesh neighbours: a larger shift links no one. */
  readonly reach: Float64Array;
  readonly linked: Map<string, FanoutPattern>;
}

const patternCache = new Map<string, FanoutPatterns>();

/** Calls `visit(x, y)` for each instance x and each mesh neighbour y of it, as Timeloop's link check pairs them. */
function neighbours(n: number, hSize: number, vSize: number, x: number, out: number[]): number {
  const h = x % hSize;
  const v = Math.floor(x / hSize);
  let k = 0;
  if (vSize > 1 && v >= 1 && x - hSize < n) out[k++] = x - hSize;
  if (vSize > 1 && v < vSize - 1 && x + hSize < n) out[k++] = x + hSize;
  if (hSize > 1 && h >= 1 && x - 1 < n) out[k++] = x - 1;
  if (hSize > 1 && h < hSize - 1 && x + 1 < n) out[k++] = x + 1;
  return k;
}

/**
 * Groups the instances of a spatial run by the translation of their delta
 * (`tau`) after taking out those whose mesh neighbour held this delta on the
 * previous call (`shift`: where the window moved; null for no links).
 */
function groupInstances(tau: readonly number[][], hSize: number, vSize: number, shift: Float64Array | null): FanoutPattern {
  const n = tau.length;
  const R = n > 0 ? tau[0].length : 0;
  const covered = new Uint8Array(n);
  let transfers = 0;
  if (shift !== null) {
    const nb = [0, 0, 0, 0];
    for (let x = 0; x < n; x++) {
      const count = neighbours(n, hSize, vSize, x, nb);
      for (let k = 0; k < count && covered[x] === 0; k++) {
        const a = tau[x];
        const b = tau[nb[k]];
        let match = true;
        for (let r = 0; r < R && match; r++) if (b[r] - a[r] !== shift[r]) match = false;
        if (match) {
          covered[x] = 1;
          transfers++;
        }
      }
    }
  }
  const groups = new Map<string, number[]>();
  for (let x = 0; x < n; x++) {
    if (covered[x] === 1) continue;
    const key = tau[x].join(',');
    const g = groups.get(key);
    if (g) g.push(x);
    else groups.set(key, [x]);
  }
  const bySize = new Map<number, { multicast: number; scatter: number; hops: number; unicastHops: number }>();
  for (const members of groups.values()) {
    let e = bySize.get(members.length);
    if (!e) {
      e = { multicast: members.length, scatter: 0, hops: 0, unicastHops: 0 };
      bySize.set(members.length, e);
    }
    const h = groupHops(members, hSize, vSize);
    e.scatter++;
    e.hops += h.hops;
    e.unicastHops += h.unicastHops;
  }
  return { entries: [...bySize.values()], groups: groups.size, transfers };
}

function patternsFor(key: string, ends: readonly number[], steps: readonly Float64Array[], R: number, hSize: number, vSize: number): FanoutPatterns {
  const cached = patternCache.get(key);
  if (cached) return cached;
  let count = 1;
  for (const e of ends) count *= e;
  // The innermost spatial loop varies fastest, as Timeloop numbers the instances.
  const tau: number[][] = [];
  for (let idx = 0; idx < count; idx++) {
    const v = new Array<number>(R).fill(0);
    let rest = idx;
    for (let i = 0; i < ends.length; i++) {
      const k = rest % ends[i];
      rest = Math.floor(rest / ends[i]);
      for (let r = 0; r < R; r++) v[r] += k * steps[i][r];
    }
    tau.push(v);
  }
  const reach = new Float64Array(R);
  const nb = [0, 0, 0, 0];
  for (let x = 0; x < count; x++) {
    const c = neighbours(count, hSize, vSize, x, nb);
    for (let k = 0; k < c; k++) {
      for (let r = 0; r < R; r++) reach[r] = Math.max(reach[r], Math.abs(tau[nb[k]][r] - tau[x][r]));
    }
  }
  const patterns = { tau, hSize, vSize, full: groupInstances(tau, hSize, vSize, null), reach, linked: new Map<string, FanoutPattern>() };
  patternCache.set(key, patterns);
  return patterns;
}

/** The pattern on a call whose window moved by `shift` since the previous one, when links beat the parent. */
function linkedPattern(p: FanoutPatterns, shift: Float64Array, R: number): FanoutPattern | null {
  for (let r = 0; r < R; r++) if (Math.abs(shift[r]) > p.reach[r]) return null;
  let key = '';
  for (let r = 0; r < R; r++) key += shift[r] + ',';
  let linked = p.linked.get(key);
  if (!linked) {
    linked = groupInstances(p.tau, p.hSize, p.vSize, shift.slice());
    p.linked.set(key, linked);
  }
  return linked.groups < p.full.groups ? linked : null;
}

/**
 * Scratch for the calls a tile sees (see the file comment): kind k happens
 * `weight[k]` times in all, fetches `delta[k]`, and — when `linkable[k]` —
 * has the same delta shape as the call before it, the window having moved by
 * `shift[k·R…]`.
 */
class CallKinds {
  count = 0;
  weight = new Float64Array(16);
  delta = new Float64Array(16);
  linkable = new Uint8Array(16);
  shift = new Float64Array(64);
  ensure(kinds: number, R: number): void {
    if (this.weight.length < kinds) {
      this.weight = new Float64Array(kinds);
      this.delta = new Float64Array(kinds);
      this.linkable = new Uint8Array(kinds);
    }
    if (this.shift.length < kinds * R) this.shift = new Float64Array(kinds * R);
  }
}

const scratch = new CallKinds();

/** Per-evaluation facts shared by the dataspaces. */
interface NestFacts {
  readonly nest: LoopNest;
  readonly ndims: number;
  /** extent[l·ndims + d]: the tile extent along d at loop l. */
  readonly extent: Float64Array;
  /** Loop l's step along its dimension. */
  readonly stride: Float64Array;
  /** Temporal loops of bound ≥ 2, innermost first. */
  readonly moving: Int32Array;
}

/** The projected tile of loop l onto the dataspace: its extents into `out`, its volume returned. */
function tileBox(f: NestFacts, coef: Float64Array, R: number, l: number, out: Float64Array): number {
  const nd = f.ndims;
  let v = 1;
  for (let r = 0; r < R; r++) {
    let e = 1;
    for (let d = 0; d < nd; d++) {
      const c = coef[r * nd + d];
      if (c !== 0) e += Math.abs(c) * (f.extent[l * nd + d] - 1);
    }
    out[r] = e;
    v *= e;
  }
  return v;
}

function overlap(box: Float64Array, shift: Float64Array, at: number, R: number): number {
  let v = 1;
  for (let r = 0; r < R; r++) {
    const o = box[r] - Math.abs(shift[at + r]);
    if (o <= 0) return 0;
    v *= o;
  }
  return v;
}

/**
 * Fills `scratch` with the kinds of call the tile of loop `c` sees from the
 * temporal loops above it (`points`: below the MACs, where each call
 * fetches one operand point per instance).
 */
function callKinds(f: NestFacts, coef: Float64Array, R: number, c: number, points: boolean, box: Float64Array): void {
  const loops = f.nest.loops;
  const nd = f.ndims;
  let first = 0;
  while (first < f.moving.length && f.moving[first] <= c) first++;
  const m = f.moving.length - first;
  const k = scratch;
  k.ensure(2 * m + 1, R);
  const V = points ? 1 : tileBox(f, coef, R, c, box);
  k.count = 1;
  k.weight[0] = 1;
  k.delta[0] = V;
  k.linkable[0] = 0;
  if (m === 0) return;
  // Σ_{i<j} T_i, kept in the slot of kind 0 (which has no shift).
  const shift = k.shift;
  const l1 = f.moving[first];
  const dim1 = loops[l1].dim;
  for (let r = 0; r < R; r++) {
    shift[r] = coef[r * nd + dim1] * f.stride[l1];
    shift[R + r] = shift[r];
  }
  const partial = points ? 1 : V - overlap(box, shift, R, R);
  // A difference under T_1 that overlaps nothing is the whole tile, cut the same way.
  const partialIsWhole = partial === V;
  const oddWeight = loops[l1].end - 1;
  let suffix = 1;
  for (let j = first + 1; j < f.moving.length; j++) suffix *= loops[f.moving[j]].end;
  // Odd calls right after the first one: the previous delta was the whole tile.
  k.weight[1] = oddWeight;
  k.delta[1] = partial;
  k.linkable[1] = points || partialIsWhole ? 1 : 0;
  k.count = 2;
  for (let j = first + 1; j < f.moving.length; j++) {
    const lj = f.moving[j];
    const dim = loops[lj].dim;
    const at = k.count * R;
    let underT1 = true;
    for (let r = 0; r < R; r++) {
      const tj = coef[r * nd + dim] * f.stride[lj] - shift[r];
      shift[at + r] = tj;
      if (tj !== shift[R + r]) underT1 = false;
      shift[r] += coef[r * nd + dim] * f.stride[lj];
    }
    suffix /= loops[lj].end;
    const w = (loops[lj].end - 1) * suffix;
    const sameShape = points || underT1 || partialIsWhole;
    k.weight[k.count] = w;
    k.delta[k.count] = points ? 1 : underT1 ? V - overlap(box, shift, at, R) : V;
    k.linkable[k.count] = sameShape ? 1 : 0;
    k.count++;
    // The odd calls that follow a step-j call move by T_1.
    k.weight[k.count] = oddWeight * w;
    k.delta[k.count] = partial;
    k.linkable[k.count] = sameShape ? 1 : 0;
    for (let r = 0; r < R; r++) shift[k.count * R + r] = shift[R + r];
    k.count++;
  }
}

export function analyzeInClosedForm(
  problem: Problem,
  nest: LoopNest,
  options: NestAnalysisOptions = { linkTransfers: true },
): NestAnalysisResult {
  const loops = nest.loops;
  const n = loops.length;
  const ndims = problem.dimensions.length;
  const props = nestProperties(nest);
  const geo = geometryOf(problem);

  const extent = new Float64Array(n * ndims);
  const stride = new Float64Array(n);
  const cur = new Float64Array(ndims).fill(1);
  let temporalProduct = 1;
  let movingCount = 0;
  for (let l = 0; l < n; l++) {
    const loop = loops[l];
    stride[l] = cur[loop.dim];
    cur[loop.dim] *= loop.end;
    extent.set(cur, l * ndims);
    if (loop.space === TIME) {
      temporalProduct *= loop.end;
      if (loop.end > 1) movingCount++;
    }
  }
  const moving = new Int32Array(movingCount);
  for (let l = 0, k = 0; l < n; l++) if (loops[l].space === TIME && loops[l].end > 1) moving[k++] = l;
  const facts: NestFacts = { nest, ndims, extent, stride, moving };

  const tiles: LoopTile[][] = [];
  for (let t = 0; t < problem.dataspaces.length; t++) {
    const R = geo.ranks[t];
    const coef = geo.coef[t];
    const box = new Float64Array(R);
    const out: LoopTile[] = [];
    for (let l = 0; l < n; l++) {
      const spatial = loops[l].space !== TIME;
      if (spatial && !props.master[l]) continue;
      const hist = new AccessHistogram();
      let linkTransfers = 0;
      if (!spatial && l === 0) {
        hist.at(1, 1).accesses = temporalProduct;
      } else if (!spatial && props.isBoundary[l - 1]) {
        callKinds(facts, coef, R, l - 1, false, box);
        let sum = 0;
        for (let k = 0; k < scratch.count; k++) sum += scratch.delta[k] * scratch.weight[k];
        hist.at(1, 1).accesses = sum;
      } else if (spatial) {
        linkTransfers = spatialAccesses(facts, props, coef, R, l, hist, options.linkTransfers, box);
      }
      out.push({
        size: props.isBoundary[l] || props.master[l] ? tileBox(facts, coef, R, l, box) : 0,
        accessStats: hist,
        linkTransfers,
        replicationFactor: props.numSpatialElems[l],
        fanout: props.logicalFanout[l],
        isBoundary: props.isBoundary[l],
        isMasterSpatial: props.master[l],
      });
    }
    tiles.push(out);
  }

  let computeReplication = 1;
  for (let l = 0; l < n; l++) {
    if (loops[l].space !== TIME && !props.master[l]) continue;
    computeReplication = props.numSpatialElems[l] * props.logicalFanout[l];
    break;
  }
  return {
    tiles,
    computeReplication,
    computeAccesses: temporalProduct,
    maxTemporalIterations: temporalProduct,
    imperfect: false,
  };
}

/** Fills `hist` with the accesses the fanout below master loop `top` makes; returns the link transfers. */
function spatialAccesses(
  f: NestFacts,
  props: NestProperties,
  coef: Float64Array,
  R: number,
  top: number,
  hist: AccessHistogram,
  links: boolean,
  box: Float64Array,
): number {
  const loops = f.nest.loops;
  const nd = f.ndims;
  let bottom = top;
  while (bottom > 0 && loops[bottom - 1].space !== TIME) bottom--;
  const belowMacs = bottom === 0;
  const { h: hSize, v: vSize } = meshSize(f.nest, props, top);
  const ends: number[] = [];
  const steps: Float64Array[] = [];
  let key = `${hSize}x${vSize}|`;
  for (let l = bottom; l <= top; l++) {
    const step = new Float64Array(R);
    for (let r = 0; r < R; r++) step[r] = coef[r * nd + loops[l].dim] * f.stride[l];
    ends.push(loops[l].end);
    steps.push(step);
    key += loops[l].end + ':' + step.join(',') + ';';
  }
  const patterns = patternsFor(key, ends, steps, R, hSize, vSize);
  callKinds(f, coef, R, belowMacs ? top : bottom - 1, belowMacs, box);
  const k = scratch;
  let transfers = 0;
  const shift = new Float64Array(R);
  for (let i = 0; i < k.count; i++) {
    const amount = k.delta[i] * k.weight[i];
    if (amount === 0) continue;
    let pattern = patterns.full;
    if (links && k.linkable[i] === 1) {
      for (let r = 0; r < R; r++) shift[r] = k.shift[i * R + r];
      const linked = linkedPattern(patterns, shift, R);
      if (linked !== null) {
        pattern = linked;
        transfers += linked.transfers * amount;
      }
    }
    for (const p of pattern.entries) {
      const e = hist.at(p.multicast, p.scatter);
      e.accesses += p.scatter * amount;
      e.hops += p.hops * amount;
      e.unicastHops += p.unicastHops * amount;
    }
  }
  return transfers;
}
