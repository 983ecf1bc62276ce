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
import { TIME, SPACE_X } from './loop-nest.ts';
import {
  AccessHistogram,
  forEachMeshNeighbour,
  groupByTranslation,
  meshSize,
  nestProperties,
  type GroupEntries,
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
  /** Fanout patterns seen so far, by dataspace, mesh and spatial loops: the mapper sees the same few. */
  readonly patterns: Map<number, PatternEntry[]>;
}

/** A spatial run (its dataspace, mesh, bounds and steps) and its patterns. */
interface PatternEntry {
  readonly t: number;
  readonly hSize: number;
  readonly vSize: number;
  readonly ends: readonly number[];
  readonly steps: Float64Array;
  readonly patterns: FanoutPatterns;
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
  const g = { ranks, coef, patterns: new Map<number, PatternEntry[]>() };
  geometries.set(problem, g);
  return g;
}

/** One spatial fanout's grouping of instances for one dataspace, with or without links. */
interface FanoutPattern {
  /** Per multicast size: groups of that size, Σ hops, Σ unicast hops. */
  readonly entries: GroupEntries;
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
    forEachMeshNeighbour(hSize, vSize, (x, y) => {
      if (x >= n || y >= n || covered[x] === 1) return;
      const a = tau[x];
      const b = tau[y];
      for (let r = 0; r < R; r++) if (b[r] - a[r] !== shift[r]) return;
      covered[x] = 1;
      transfers++;
    });
  }
  const rest: number[] = [];
  for (let x = 0; x < n; x++) if (covered[x] === 0) rest.push(x);
  return { ...groupByTranslation(rest, (x) => tau[x], (x) => x, hSize, vSize), transfers };
}

function makePatterns(ends: readonly number[], steps: readonly Float64Array[], R: number, hSize: number, vSize: number): FanoutPatterns {
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
  forEachMeshNeighbour(hSize, vSize, (x, y) => {
    if (x >= count || y >= count) return;
    for (let r = 0; r < R; r++) reach[r] = Math.max(reach[r], Math.abs(tau[y][r] - tau[x][r]));
  });
  return { tau, hSize, vSize, full: groupInstances(tau, hSize, vSize, null), reach, linked: new Map<string, FanoutPattern>() };
}

/** The pattern on a call whose window moved by `shift` since the previous one, when links beat the parent. */
function linkedPattern(p: FanoutPatterns, shift: Float64Array, at: number, R: number): FanoutPattern | null {
  for (let r = 0; r < R; r++) if (Math.abs(shift[at + r]) > p.reach[r]) return null;
  let key = '';
  for (let r = 0; r < R; r++) key += shift[at + r] + ',';
  let linked = p.linked.get(key);
  if (!linked) {
    linked = groupInstances(p.tau, p.hSize, p.vSize, shift.slice(at, at + R));
    p.linked.set(key, linked);
  }
  return linked.groups < p.full.groups ? linked : null;
}

/** Where the accesses of one fanout or temporal tile go: a histogram by (multicast, scatter). */
export interface AccessSink {
  add(multicast: number, scatter: number, accesses: number, hops: number, unicastHops: number): void;
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

/**
 * One dataspace's view of a nest: per loop, the projected tile (extents and
 * volume) and the translation one step of the loop makes.
 */
class DataspaceNest {
  R = 0;
  n = 0;
  box = new Float64Array(64);
  volume = new Float64Array(16);
  step = new Float64Array(64);
  /** Temporal loops of bound ≥ 2, innermost first. */
  moving = new Int32Array(16);
  movingCount = 0;
  loops: LoopNest['loops'] = [];

  load(nest: LoopNest, coef: Float64Array, R: number, ndims: number): void {
    const loops = nest.loops;
    const n = loops.length;
    this.loops = loops;
    this.R = R;
    this.n = n;
    if (this.volume.length < n) {
      this.volume = new Float64Array(2 * n);
      this.moving = new Int32Array(2 * n);
    }
    if (this.box.length < n * R) {
      this.box = new Float64Array(2 * n * R);
      this.step = new Float64Array(2 * n * R);
    }
    // Extents grow inner to outer; a rank's extent is 1 + Σ |c|·(extent_d − 1).
    const ext = extentScratch.length >= ndims ? extentScratch.fill(1, 0, ndims) : (extentScratch = new Float64Array(ndims).fill(1));
    let moving = 0;
    for (let l = 0; l < n; l++) {
      const { dim, end } = loops[l];
      const stride = ext[dim];
      ext[dim] *= end;
      let v = 1;
      for (let r = 0; r < R; r++) {
        const c = coef[r * ndims + dim];
        this.step[l * R + r] = c * stride;
        const prev = l === 0 ? 1 : this.box[(l - 1) * R + r];
        const x = prev + Math.abs(c) * (ext[dim] - stride);
        this.box[l * R + r] = x;
        v *= x;
      }
      this.volume[l] = v;
      if (loops[l].space === TIME && end > 1) this.moving[moving++] = l;
    }
    this.movingCount = moving;
  }

  private overlap(c: number, shift: Float64Array, at: number): number {
    const R = this.R;
    let v = 1;
    for (let r = 0; r < R; r++) {
      const o = this.box[c * R + r] - Math.abs(shift[at + r]);
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
  callKinds(c: number, points: boolean): void {
    const { loops, R } = this;
    let first = 0;
    while (first < this.movingCount && this.moving[first] <= c) first++;
    const m = this.movingCount - first;
    const k = scratch;
    k.ensure(2 * m + 1, R);
    const V = points ? 1 : this.volume[c];
    k.count = 1;
    k.weight[0] = 1;
    k.delta[0] = V;
    k.linkable[0] = 0;
    if (m === 0) return;
    // Slot 0 (kind 0 has no shift) keeps Σ_{i<j} T_i; slot 1 is T_1.
    const shift = k.shift;
    const l1 = this.moving[first];
    for (let r = 0; r < R; r++) {
      shift[r] = this.step[l1 * R + r];
      shift[R + r] = shift[r];
    }
    const partial = points ? 1 : V - this.overlap(c, shift, R);
    // A difference under T_1 that overlaps nothing is the whole tile, cut the same way.
    const partialIsWhole = partial === V;
    const oddWeight = loops[l1].end - 1;
    let suffix = 1;
    for (let j = first + 1; j < this.movingCount; j++) suffix *= loops[this.moving[j]].end;
    // Odd calls right after the first one: the previous delta was the whole tile.
    k.weight[1] = oddWeight;
    k.delta[1] = partial;
    k.linkable[1] = points || partialIsWhole ? 1 : 0;
    k.count = 2;
    for (let j = first + 1; j < this.movingCount; j++) {
      const lj = this.moving[j];
      const at = k.count * R;
      let underT1 = true;
      for (let r = 0; r < R; r++) {
        const step = this.step[lj * R + r];
        const tj = step - shift[r];
        shift[at + r] = tj;
        if (tj !== shift[R + r]) underT1 = false;
        shift[r] += step;
      }
      suffix /= loops[lj].end;
      const w = (loops[lj].end - 1) * suffix;
      const sameShape = points || underT1 || partialIsWhole;
      k.weight[k.count] = w;
      k.delta[k.count] = points ? 1 : underT1 ? V - this.overlap(c, shift, at) : V;
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

  /** Elements the tile of loop `c` fetches from its parent over the whole nest: Σ weight × delta of `callKinds`. */
  fetches(c: number): number {
    const { loops, R } = this;
    let first = 0;
    while (first < this.movingCount && this.moving[first] <= c) first++;
    const V = this.volume[c];
    if (first === this.movingCount) return V;
    const shift = scratch.shift;
    if (shift.length < 3 * R) scratch.ensure(2, 2 * R);
    // shift[0…R): Σ_{i<j} T_i; shift[R…2R): T_1; shift[2R…3R): t_j.
    const l1 = this.moving[first];
    for (let r = 0; r < R; r++) {
      shift[r] = this.step[l1 * R + r];
      shift[R + r] = shift[r];
    }
    let total = 1;
    for (let j = first; j < this.movingCount; j++) total *= loops[this.moving[j]].end;
    const partial = V - this.overlap(c, shift, R);
    let suffix = total / loops[l1].end;
    // The first call, then every odd one (weight (e_1 − 1) · Π_{i>1} e_i).
    let sum = V + partial * (loops[l1].end - 1) * suffix;
    for (let j = first + 1; j < this.movingCount; j++) {
      const lj = this.moving[j];
      let underT1 = true;
      for (let r = 0; r < R; r++) {
        const step = this.step[lj * R + r];
        const tj = step - shift[r];
        shift[2 * R + r] = tj;
        if (tj !== shift[R + r]) underT1 = false;
        shift[r] += step;
      }
      suffix /= loops[lj].end;
      sum += (underT1 ? V - this.overlap(c, shift, 2 * R) : V) * (loops[lj].end - 1) * suffix;
    }
    return sum;
  }

  private sameRun(e: PatternEntry, t: number, bottom: number, top: number, hSize: number, vSize: number): boolean {
    if (e.t !== t || e.hSize !== hSize || e.vSize !== vSize || e.ends.length !== top - bottom + 1) return false;
    for (let i = 0; i < e.ends.length; i++) if (e.ends[i] !== this.loops[bottom + i].end) return false;
    const base = bottom * this.R;
    for (let i = 0; i < e.steps.length; i++) if (e.steps[i] !== this.step[base + i]) return false;
    return true;
  }

  /**
   * Sends to `sink` the accesses the fanout of spatial loops `bottom`…`top`
   * makes on a `hSize`×`vSize` mesh; returns its link transfers.
   */
  spatialAccesses(patterns: Map<number, PatternEntry[]>, t: number, bottom: number, top: number, hSize: number, vSize: number, links: boolean, sink: AccessSink): number {
    const { loops, R } = this;
    const belowMacs = bottom === 0;
    // A hash of the run picks the bucket; the run itself is compared exactly.
    let hash = Math.imul(Math.imul(t + 1, 0x9e3779b1) ^ hSize, 0x85ebca6b) ^ vSize;
    for (let l = bottom; l <= top; l++) {
      hash = Math.imul(hash ^ loops[l].end, 0xc2b2ae35);
      for (let r = 0; r < R; r++) hash = Math.imul(hash ^ (this.step[l * R + r] | 0), 0x27d4eb2f);
    }
    const bucket = patterns.get(hash);
    let p: FanoutPatterns | undefined;
    if (bucket !== undefined) {
      for (const entry of bucket) {
        if (this.sameRun(entry, t, bottom, top, hSize, vSize)) {
          p = entry.patterns;
          break;
        }
      }
    }
    if (p === undefined) {
      const ends: number[] = [];
      const steps: Float64Array[] = [];
      for (let l = bottom; l <= top; l++) {
        ends.push(loops[l].end);
        steps.push(this.step.slice(l * R, (l + 1) * R));
      }
      p = makePatterns(ends, steps, R, hSize, vSize);
      const entry = { t, hSize, vSize, ends, steps: this.step.slice(bottom * R, (top + 1) * R), patterns: p };
      if (bucket !== undefined) bucket.push(entry);
      else patterns.set(hash, [entry]);
    }
    this.callKinds(belowMacs ? top : bottom - 1, belowMacs);
    const k = scratch;
    let transfers = 0;
    for (let i = 0; i < k.count; i++) {
      const amount = k.delta[i] * k.weight[i];
      if (amount === 0) continue;
      let pattern = p.full;
      if (links && k.linkable[i] === 1) {
        const linked = linkedPattern(p, k.shift, i * R, R);
        if (linked !== null) {
          pattern = linked;
          transfers += linked.transfers * amount;
        }
      }
      for (const e of pattern.entries) sink.add(e.multicast, e.scatter, e.scatter * amount, e.hops * amount, e.unicastHops * amount);
    }
    return transfers;
  }
}

let extentScratch = new Float64Array(8);
const view = new DataspaceNest();

function temporalProductOf(nest: LoopNest): number {
  let p = 1;
  for (const loop of nest.loops) if (loop.space === TIME) p *= loop.end;
  return p;
}

export function analyzeInClosedForm(
  problem: Problem,
  nest: LoopNest,
  options: NestAnalysisOptions = { linkTransfers: true },
): NestAnalysisResult {
  const loops = nest.loops;
  const n = loops.length;
  const props = nestProperties(nest);
  const geo = geometryOf(problem);
  const temporalProduct = temporalProductOf(nest);

  const tiles: LoopTile[][] = [];
  for (let t = 0; t < problem.dataspaces.length; t++) {
    view.load(nest, geo.coef[t], geo.ranks[t], problem.dimensions.length);
    const out: LoopTile[] = [];
    for (let l = 0; l < n; l++) {
      const spatial = loops[l].space !== TIME;
      if (spatial && !props.master[l]) continue;
      const hist = new AccessHistogram();
      let linkTransfers = 0;
      if (!spatial && l === 0) {
        hist.at(1, 1).accesses = temporalProduct;
      } else if (!spatial && props.isBoundary[l - 1]) {
        hist.at(1, 1).accesses = view.fetches(l - 1);
      } else if (spatial) {
        let bottom = l;
        while (bottom > 0 && loops[bottom - 1].space !== TIME) bottom--;
        const { h, v } = meshSize(nest, props, l);
        linkTransfers = view.spatialAccesses(geo.patterns, t, bottom, l, h, v, options.linkTransfers, hist);
      }
      out.push({
        size: props.isBoundary[l] || props.master[l] ? view.volume[l] : 0,
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

/**
 * What the collapse into storage levels (./tiling.ts) reads of the closed
 * form, per level (innermost first) and dataspace, without building the
 * per-loop tiles: the lean cost model's input.
 */
export class LevelAccesses implements AccessSink {
  static readonly MAX_ENTRIES = 8;
  size: Float64Array;
  masterSize: Float64Array;
  fanout: Float64Array;
  link: Float64Array;
  count: Int32Array;
  multicast: Float64Array;
  scatter: Float64Array;
  accesses: Float64Array;
  /** Set when a histogram had more entries than fit. */
  overflow = false;
  private slot = 0;

  constructor(levels: number, dataspaces: number) {
    const n = levels * dataspaces;
    this.size = new Float64Array(n);
    this.masterSize = new Float64Array(n);
    this.fanout = new Float64Array(n);
    this.link = new Float64Array(n);
    this.count = new Int32Array(n);
    this.multicast = new Float64Array(n * LevelAccesses.MAX_ENTRIES);
    this.scatter = new Float64Array(n * LevelAccesses.MAX_ENTRIES);
    this.accesses = new Float64Array(n * LevelAccesses.MAX_ENTRIES);
  }

  /** Kept in (multicast, scatter) order, as AccessHistogram keeps them: sums run in that order. */
  add(multicast: number, scatter: number, accesses: number): void {
    const base = this.slot * LevelAccesses.MAX_ENTRIES;
    const count = this.count[this.slot];
    let i = 0;
    while (i < count && (this.multicast[base + i] < multicast || (this.multicast[base + i] === multicast && this.scatter[base + i] < scatter))) i++;
    if (i < count && this.multicast[base + i] === multicast && this.scatter[base + i] === scatter) {
      this.accesses[base + i] += accesses;
      return;
    }
    if (count === LevelAccesses.MAX_ENTRIES) {
      this.overflow = true;
      return;
    }
    for (let j = count; j > i; j--) {
      this.multicast[base + j] = this.multicast[base + j - 1];
      this.scatter[base + j] = this.scatter[base + j - 1];
      this.accesses[base + j] = this.accesses[base + j - 1];
    }
    this.multicast[base + i] = multicast;
    this.scatter[base + i] = scatter;
    this.accesses[base + i] = accesses;
    this.count[this.slot] = count + 1;
  }

  /**
   * Fills every level's entries for a perfect nest. Returns false when a
   * histogram does not fit (the caller then takes the full evaluation).
   */
  analyze(problem: Problem, nest: LoopNest): boolean {
    const loops = nest.loops;
    const geo = geometryOf(problem);
    const nds = problem.dataspaces.length;
    const levels = nest.boundaries.length;
    this.overflow = false;
    this.count.fill(0);
    const temporalProduct = temporalProductOf(nest);
    for (let t = 0; t < nds; t++) {
      view.load(nest, geo.coef[t], geo.ranks[t], problem.dimensions.length);
      for (let s = 0; s < levels; s++) {
        const i = s * nds + t;
        this.slot = i;
        const first = s === 0 ? 0 : nest.boundaries[s - 1] + 1;
        this.size[i] = view.volume[nest.boundaries[s]];
        this.link[i] = 0;
        if (loops[first].space === TIME) {
          this.masterSize[i] = 0;
          this.fanout[i] = 1;
          this.add(1, 1, first === 0 ? temporalProduct : view.fetches(first - 1));
          continue;
        }
        let top = first;
        let fx = 1;
        let fy = 1;
        for (; ; top++) {
          if (loops[top].space === SPACE_X) fx *= loops[top].end;
          else fy *= loops[top].end;
          if (top + 1 >= loops.length || loops[top + 1].space === TIME) break;
        }
        this.masterSize[i] = view.volume[top];
        this.fanout[i] = fx * fy;
        const h = Math.max(nest.fanoutX[s], fx);
        const v = Math.max(nest.fanoutY[s], fy);
        this.link[i] = view.spatialAccesses(geo.patterns, t, first, top, h, v, true, this);
      }
    }
    return !this.overflow;
  }
}
