/**
 * Nest analysis: walks the loop nest and measures, for every loop that
 * bounds a tile (storage boundaries and master spatial loops), the largest
 * tile it holds and how many elements its children request from it, as a
 * histogram by multicast and scatter factor.
 *
 * This follows Timeloop's semantics (see ../../README.md, "Fidelity"):
 * children fetch only the difference between their tile at one iteration
 * and the previous one (reset when the tile's stride changes), temporal loops
 * are simulated for iterations #0, #1 and, when needed, the last ones and
 * extrapolated in between, spatial fanouts simulate the first instance and
 * translate its deltas to the others, identical deltas of sibling instances
 * are multicast, and neighbours that received the same data in the previous
 * step can forward it over links when that saves parent accesses.
 */
import type { Problem } from '../workload/problem.ts';
import type { LoopNest } from './loop-nest.ts';
import { TIME, SPACE_X } from './loop-nest.ts';
import { PointSet, sameTranslation, type Translation } from './point-set.ts';

/** Parent accesses at one (multicast, scatter) signature. */
export interface AccessStat {
  readonly multicast: number;
  readonly scatter: number;
  accesses: number;
  hops: number;
  unicastHops: number;
}

/** Histogram of accesses by (multicast, scatter), kept sorted like Timeloop's std::map. */
export class AccessHistogram {
  entries: AccessStat[] = [];

  at(multicast: number, scatter: number): AccessStat {
    for (const e of this.entries) if (e.multicast === multicast && e.scatter === scatter) return e;
    const e: AccessStat = { multicast, scatter, accesses: 0, hops: 0, unicastHops: 0 };
    let i = 0;
    while (
      i < this.entries.length &&
      (this.entries[i].multicast < multicast ||
        (this.entries[i].multicast === multicast && this.entries[i].scatter < scatter))
    )
      i++;
    this.entries.splice(i, 0, e);
    return e;
  }

  add(multicast: number, scatter: number, accesses: number, hops: number, unicastHops: number): void {
    const e = this.at(multicast, scatter);
    e.accesses += accesses;
    e.hops += hops;
    e.unicastHops += unicastHops;
  }

  accumulate(other: AccessHistogram): void {
    for (const o of other.entries) {
      const e = this.at(o.multicast, o.scatter);
      e.accesses += o.accesses;
      e.hops += o.hops;
      e.unicastHops += o.unicastHops;
    }
  }

  divide(n: number): void {
    for (const e of this.entries) {
      e.accesses /= n;
      e.hops /= n;
      e.unicastHops /= n;
    }
  }

  total(): number {
    let t = 0;
    for (const e of this.entries) t += e.accesses;
    return t;
  }

  /** Σ accesses × multicast: element deliveries to children. */
  weighted(): number {
    let t = 0;
    for (const e of this.entries) t += e.accesses * e.multicast;
    return t;
  }

  clone(): AccessHistogram {
    const h = new AccessHistogram();
    h.entries = this.entries.map((e) => ({ ...e }));
    return h;
  }
}

/** Per-dataspace point sets over the operation space's projections. */
type OperationSpace = PointSet[];

class ElementState {
  lastPointSet: OperationSpace;
  /** Where it lives: liveState[level].get(key). */
  level = 0;
  key = '';
  lastTranslations: Translation[];
  maxSize: number[];
  accessStats: AccessHistogram[];
  prevSpatialDeltas = new Map<number, OperationSpace>();
  /** The previous call's instances and first delta, when instances are grouped by translation. */
  prevFanout: { pattern: InstancePattern; first: OperationSpace } | null = null;
  linkTransfers: number[];

  constructor(orders: readonly number[]) {
    this.lastPointSet = orders.map((o) => new PointSet(o));
    this.lastTranslations = orders.map(() => null);
    this.maxSize = orders.map(() => 0);
    this.accessStats = orders.map(() => new AccessHistogram());
    this.linkTransfers = orders.map(() => 0);
  }
}

/** What one tile-bounding loop saw, averaged over the instances simulated. */
export interface LoopTile {
  size: number;
  accessStats: AccessHistogram;
  linkTransfers: number;
  /** Instances of this loop's tile: product of the spatial loops above it. */
  replicationFactor: number;
  /** Fanout to the next inner level (1 for temporal loops). */
  fanout: number;
  isBoundary: boolean;
  isMasterSpatial: boolean;
}

export interface NestAnalysisResult {
  /** Per dataspace, the tiles of the valid loops, innermost first. */
  tiles: LoopTile[][];
  /** MAC instances used (replication × fanout of the innermost valid loop). */
  computeReplication: number;
  /** Average compute iterations per MAC instance. */
  computeAccesses: number;
  /** Product of all temporal loop bounds. */
  maxTemporalIterations: number;
  imperfect: boolean;
}

export interface NestAnalysisOptions {
  linkTransfers: boolean;
  /**
   * How a fanout's instances are handled: `translations` (default) groups
   * them by the translation of their delta, cached per fanout shape, so a
   * call costs the same for 4 instances or 65,536; `enumerate` builds every
   * instance's point set, as Timeloop does (the reference the tests hold
   * the default to).
   */
  instances?: 'translations' | 'enumerate';
  /**
   * Reuse what a subtree of the walk did when it is entered again in the
   * same situation (default true with `translations`, used in imperfect
   * nests; see Recording). Off is the plain walk, which the tests hold
   * this to.
   */
  memo?: boolean;
}

/**
 * The instances one call of a fanout creates: their numbers (as Timeloop
 * numbers them, which depends on the bounds in force) and, per dataspace,
 * the translation of each one's delta from the first instance's.
 */
interface InstancePattern {
  readonly id: number;
  readonly idx: Int32Array;
  /** Below the MACs: every instance number visited, repeats included (each counts its computes). */
  readonly visits: Int32Array;
  /** tau[pv][x]: translation of instance x's delta, per rank. */
  readonly tau: number[][][];
  /** Instance number → position in `idx` (-1: no such instance in this call). */
  readonly at: Int32Array;
  /** Per dataspace: groups of instances with equal translations (multicast), by group size. */
  readonly groups: GroupEntries[];
}

/** Multicast groups by size: how many groups (scatter) and their hops, summed in the groups' order. */
export type GroupEntries = { multicast: number; scatter: number; hops: number; unicastHops: number }[];

/**
 * Groups instances whose deltas are equal (the same translation, `tauOf`)
 * and sums, per group size, the groups and their hops; `idOf` gives the
 * instance number the mesh routes by.
 */
export function groupByTranslation(members: readonly number[], tauOf: (x: number) => readonly number[], idOf: (x: number) => number, hSize: number, vSize: number): { entries: GroupEntries; groups: number } {
  const groups = new Map<number | string, number[]>();
  const keyOf = translationKeys(members, tauOf);
  for (const x of members) {
    const key = keyOf(x);
    const g = groups.get(key);
    if (g) g.push(idOf(x));
    else groups.set(key, [idOf(x)]);
  }
  const bySize = new Map<number, { multicast: number; scatter: number; hops: number; unicastHops: number }>();
  for (const ids of groups.values()) {
    let e = bySize.get(ids.length);
    if (!e) {
      e = { multicast: ids.length, scatter: 0, hops: 0, unicastHops: 0 };
      bySize.set(ids.length, e);
    }
    const h = groupHops(ids, hSize, vSize);
    e.scatter++;
    e.hops += h.hops;
    e.unicastHops += h.unicastHops;
  }
  return { entries: [...bySize.values()], groups: groups.size };
}

/**
 * A key per translation, equal exactly when the translations are: a
 * mixed-radix number over the members' range in each rank (a large array
 * groups 16,384 instances per call, and joining each into a string cost
 * most of an imperfect evaluation), or the joined string when the ranges'
 * product passes what a double holds exactly.
 */
function translationKeys(members: readonly number[], tauOf: (x: number) => readonly number[]): (x: number) => number | string {
  if (members.length === 0) return () => 0;
  const order = tauOf(members[0]).length;
  const min = new Array<number>(order).fill(Infinity);
  const max = new Array<number>(order).fill(-Infinity);
  for (const x of members) {
    const t = tauOf(x);
    for (let r = 0; r < order; r++) {
      if (t[r] < min[r]) min[r] = t[r];
      if (t[r] > max[r]) max[r] = t[r];
    }
  }
  const radix = new Array<number>(order);
  let span = 1;
  for (let r = 0; r < order; r++) {
    radix[r] = span;
    span *= max[r] - min[r] + 1;
  }
  if (!(span <= Number.MAX_SAFE_INTEGER)) return (x) => tauOf(x).join(',');
  return (x) => {
    const t = tauOf(x);
    let k = 0;
    for (let r = 0; r < order; r++) k += (t[r] - min[r]) * radix[r];
    return k;
  };
}

/**
 * Calls `compare(cur, other)` for every pair of mesh neighbours, in the
 * order Timeloop's link-transfer check visits them (vertical, then
 * horizontal; positions are v·hSize + h).
 */
export function forEachMeshNeighbour(hSize: number, vSize: number, compare: (cur: number, other: number) => void): void {
  const lin = (h: number, v: number) => v * hSize + h;
  if (vSize > 1) {
    for (let h = 0; h < hSize; h++) for (let v = 1; v < vSize; v++) compare(lin(h, v), lin(h, v - 1));
    for (let h = 0; h < hSize; h++) for (let v = 0; v < vSize - 1; v++) compare(lin(h, v), lin(h, v + 1));
  }
  if (hSize > 1) {
    for (let v = 0; v < vSize; v++) for (let h = 1; h < hSize; h++) compare(lin(h, v), lin(h - 1, v));
    for (let v = 0; v < vSize; v++) for (let h = 0; h < hSize - 1; h++) compare(lin(h, v), lin(h + 1, v));
  }
}

/** The translation u with a + u = b (superficially: the same boxes), or null. */
function translationBetween(a: PointSet, b: PointSet): number[] | null {
  if (a.boxes.length !== b.boxes.length || a.boxes.length === 0) return null;
  const least = (s: PointSet) => {
    let m = s.boxes[0].min;
    for (const box of s.boxes) {
      for (let r = 0; r < m.length; r++) {
        if (box.min[r] !== m[r]) {
          if (box.min[r] < m[r]) m = box.min;
          break;
        }
      }
    }
    return m;
  };
  const la = least(a);
  const lb = least(b);
  const u = lb.map((v, r) => v - la[r]);
  const moved = a.clone();
  moved.translate(u);
  return moved.equals(b) ? u : null;
}

export function analyzeNest(
  problem: Problem,
  nest: LoopNest,
  options: NestAnalysisOptions = { linkTransfers: true },
): NestAnalysisResult {
  return new NestAnalysis(problem, nest, options).run();
}


/**
 * Hops to deliver one multicast group from the array edge: along X to the
 * farthest column, then vertical lines from the row centre (Timeloop's
 * routing assumption). `unicastHops` is the sum of each member's own path.
 */
export function groupHops(members: readonly number[], hSize: number, vSize: number): { hops: number; unicastHops: number } {
  const vCenter = (vSize - 1) / 2;
  if (members.length === 1) {
    // A unicast (most groups of a large array): its own path, without the per-column table.
    const id = members[0];
    const path = (id % hSize) + Math.abs(Math.floor(id / hSize) - vCenter);
    return { hops: path, unicastHops: path };
  }
  let hops = 0;
  let unicastHops = 0;
  let hMax = 0;
  const vRange = new Map<number, { min: number; max: number }>();
  for (const id of members) {
    const hId = id % hSize;
    const vId = Math.floor(id / hSize);
    hMax = Math.max(hMax, hId);
    const r = vRange.get(hId);
    if (!r) vRange.set(hId, { min: vId, max: vId });
    else {
      r.min = Math.min(r.min, vId);
      r.max = Math.max(r.max, vId);
    }
    unicastHops += hId + Math.abs(vId - vCenter);
  }
  hops += hMax;
  for (const r of vRange.values()) {
    const minOff = r.min - vCenter;
    const maxOff = r.max - vCenter;
    if (minOff < 0) hops += -minOff;
    if (maxOff > 0) hops += maxOff;
  }
  return { hops, unicastHops };
}

/** Structural facts about a loop nest that the analyses share. */
export interface NestProperties {
  /** Product of the spatial loop bounds strictly above each loop. */
  numSpatialElems: number[];
  /** The outermost loop of each run of spatial loops. */
  master: boolean[];
  isBoundary: boolean[];
  /** Storage level (innermost first) owning each loop. */
  archLevel: number[];
  /** For master spatial loops: instances below (0 for other spatial loops, 1 for temporal). */
  logicalFanout: number[];
  logicalFanoutX: number[];
  logicalFanoutY: number[];
}

export function nestProperties(nest: LoopNest): NestProperties {
  const loops = nest.loops;
  const n = loops.length;
  const numSpatialElems = new Array<number>(n).fill(1);
  const master = new Array<boolean>(n).fill(false);
  let product = 1;
  let prevSpatial = false;
  for (let l = n - 1; l >= 0; l--) {
    numSpatialElems[l] = product;
    if (loops[l].space !== TIME) {
      master[l] = !prevSpatial;
      product *= loops[l].end;
      prevSpatial = true;
    } else {
      prevSpatial = false;
    }
  }
  const isBoundary = new Array<boolean>(n).fill(false);
  const archLevel = new Array<number>(n).fill(0);
  let loopLevel = 0;
  nest.boundaries.forEach((b, s) => {
    isBoundary[b] = true;
    for (; loopLevel <= b; loopLevel++) archLevel[loopLevel] = s;
  });
  const logicalFanout = new Array<number>(n).fill(1);
  const logicalFanoutX = new Array<number>(n).fill(1);
  const logicalFanoutY = new Array<number>(n).fill(1);
  for (let l = n - 1; l >= 0; l--) {
    if (loops[l].space === TIME) continue;
    if (!master[l]) {
      logicalFanout[l] = 0;
      continue;
    }
    let next = l;
    let scale = 1;
    while (loops[next].space !== TIME) {
      if (loops[next].space === SPACE_X) logicalFanoutX[l] *= loops[next].end;
      else logicalFanoutY[l] *= loops[next].end;
      if (next > 0) next--;
      else {
        scale = loops[0].end;
        break;
      }
    }
    logicalFanout[l] = (numSpatialElems[next] / numSpatialElems[l]) * scale;
  }
  return { numSpatialElems, master, isBoundary, archLevel, logicalFanout, logicalFanoutX, logicalFanoutY };
}

/** Mesh the link-transfer and hop models see below a master spatial loop. */
export function meshSize(nest: LoopNest, props: NestProperties, l: number): { h: number; v: number } {
  const s = props.archLevel[l];
  return {
    h: Math.max(nest.fanoutX[s], props.logicalFanoutX[l]),
    v: Math.max(nest.fanoutY[s], props.logicalFanoutY[l]),
  };
}

/**
 * What one call of a loop's subtree did to the walk's accumulators, per
 * epoch of the call (divided by the epoch count it was called with).
 *
 * A subtree entered again with the same last-iteration flags, the same
 * stamp and the same states relative to its position (the last tile and
 * translation of every level it reads, its fanouts' previous first delta)
 * does the same thing translated: every tile, delta and translation moves
 * with the position and every count scales with the epochs. So the walk
 * replays it instead of walking it: Timeloop's four iterations per
 * imperfect loop cost 4^depth calls, most of them repeats.
 */
interface Recording {
  readonly epochs: number;
  readonly touched: Set<ElementState>;
  readonly accesses: Map<string, { level: number; key: string; pv: number; multicast: number; scatter: number; accesses: number; hops: number; unicastHops: number }>;
  readonly maxSize: Map<string, { level: number; key: string; pv: number; value: number }>;
  readonly links: Map<string, { level: number; key: string; pv: number; value: number }>;
  readonly compute: Map<string, number>;
  readonly byPattern: Map<string, { prefix: string; pattern: InstancePattern; epochs: number }>;
}

function newRecording(epochs: number): Recording {
  return { epochs, touched: new Set(), accesses: new Map(), maxSize: new Map(), links: new Map(), compute: new Map(), byPattern: new Map() };
}

/** A recorded subtree call: its effects, the states it left (relative to its position), the stamp and indices it left, its delta. */
interface MemoEntry {
  readonly recording: Recording;
  readonly exit: { level: number; key: string; last: PointSet[]; translations: Translation[]; prevFanout: { pattern: InstancePattern; first: PointSet[] } | null }[];
  readonly stamp: number[];
  readonly indices: number[];
  readonly delta: PointSet[];
}

let memoReplays = 0;

/** Recorded subtree calls one analysis keeps at most. */
const MEMO_ENTRIES = 20_000;

/** Subtree calls replayed from a recording so far, in this thread (the tests check that the memo is used). */
export function walkMemoReplays(): number {
  return memoReplays;
}

/** A copy of `ps` moved by sign × offset. */
function shifted(ps: PointSet, offset: readonly number[], sign: 1 | -1): PointSet {
  const c = ps.clone();
  c.translate(offset.map((v) => sign * v));
  return c;
}

/** A state's last tiles, translations and previous fanout delta, relative to `offset`. */
function relativeState(st: ElementState, offset: readonly number[][]): string {
  let k = '';
  for (let pv = 0; pv < st.lastPointSet.length; pv++) {
    const t = st.lastTranslations[pv];
    k += `${shifted(st.lastPointSet[pv], offset[pv], -1).signature()}~${t === null ? 'n' : t.join(',')}`;
    if (st.prevFanout !== null) k += `~${st.prevFanout.pattern.id}:${shifted(st.prevFanout.first[pv], offset[pv], -1).signature()}`;
    k += ';';
  }
  return k;
}

/**
 * Instance patterns and link coverages, shared by every analysis in this
 * thread and keyed by everything they are computed from (the projections,
 * the fanout's loops with the bounds in force and strides, the mesh), so a
 * search that evaluates many imperfect mappings over one 128×128 fanout
 * groups its 16,384 instances once, not once per mapping. Pattern ids are
 * never reused, so a coverage keyed by ids stays right after an eviction.
 */
const sharedPatterns = new Map<string, InstancePattern>();
const sharedCoverage = new Map<string, { entries: GroupEntries; groups: number; transfers: number }>();
/** Instances the kept patterns may hold in all (a 256 × 256 array's pattern holds 65,536, some megabytes). */
const SHARED_PATTERN_INSTANCES = 1 << 20;
const SHARED_COVERAGE = 4096;
let sharedInstances = 0;
let nextPatternId = 0;

/** Empties the shared caches: the benchmark measures an evaluation that finds nothing in them. */
export function clearInstanceCaches(): void {
  sharedPatterns.clear();
  sharedCoverage.clear();
  sharedInstances = 0;
}

/** Inserts into a map kept in least-recently-added order, dropping the oldest while `over` says it holds too much. */
function remember<V>(cache: Map<string, V>, key: string, value: V, over: () => boolean, dropped: (v: V) => void = () => {}): void {
  cache.set(key, value);
  while (cache.size > 1 && over()) {
    const oldest = cache.keys().next().value!;
    dropped(cache.get(oldest)!);
    cache.delete(oldest);
  }
}

class NestAnalysis {
  private readonly loops;
  private readonly n: number;
  private readonly ndims: number;
  private readonly nds: number;
  private readonly orders: number[];
  private readonly props: NestProperties;
  private readonly isBoundary: boolean[];
  private readonly archLevel: number[];
  private readonly master: boolean[];
  private readonly numSpatialElems: number[];
  private readonly logicalFanout: number[];
  private readonly logicalFanoutX: number[];
  private readonly logicalFanoutY: number[];
  private readonly vectorStrides: number[][];
  private readonly moldHigh: number[][];
  private readonly moldHighResidual: number[][];
  private readonly liveState: Map<string, ElementState>[];
  private readonly computeInfo = new Map<string, number>();
  /** Below-MAC fanouts grouped by translation: compute counts per (stamp prefix, pattern), expanded at the end. */
  private readonly computeByPattern = new Map<string, { prefix: string; pattern: InstancePattern; epochs: number }>();
  /** This analysis's patterns by (master loop, last-iteration flags); the shared cache below is keyed by content. */
  private readonly patterns = new Map<string, InstancePattern>();
  private projectionKey: string | null = null;
  private readonly indices: number[];
  private readonly curTransform: number[];
  private readonly spaceStamp: number[] = [];
  private numEpochs = 1;
  private readonly imperfect: boolean;
  /** Loops whose subtree is memoized (see Recording). */
  private readonly memoAt: boolean[];
  /** Per (loop, last-iteration flags, stamp): the states its subtree reads. */
  private readonly shapes = new Map<string, [number, string][]>();
  private readonly memo = new Map<string, MemoEntry>();
  private readonly recorders: Recording[] = [];

  constructor(
    private readonly problem: Problem,
    private readonly nest: LoopNest,
    private readonly options: NestAnalysisOptions,
  ) {
    this.loops = nest.loops;
    this.n = nest.loops.length;
    this.ndims = problem.dimensions.length;
    this.nds = problem.dataspaces.length;
    this.orders = problem.dataspaces.map((d) => d.projection.length);
    this.indices = new Array<number>(this.n).fill(0);
    this.curTransform = new Array<number>(this.ndims).fill(0);
    this.liveState = Array.from({ length: this.n }, () => new Map<string, ElementState>());
    this.imperfect = nest.loops.some((l) => l.end !== l.residualEnd);
    // A perfect nest walks two iterations a loop, too few repeats to pay for the recordings.
    const memo = options.memo !== false && options.instances !== 'enumerate' && this.imperfect;
    let below = 0;
    this.memoAt = nest.loops.map((loop) => {
      if (loop.space === TIME && loop.end > 1) below++;
      return memo && loop.space === TIME && below >= 2;
    });

    const props = nestProperties(nest);
    this.props = props;
    this.numSpatialElems = props.numSpatialElems;
    this.master = props.master;
    this.isBoundary = props.isBoundary;
    this.archLevel = props.archLevel;
    this.logicalFanout = props.logicalFanout;
    this.logicalFanoutX = props.logicalFanoutX;
    this.logicalFanoutY = props.logicalFanoutY;

    this.vectorStrides = [];
    this.moldHigh = [];
    this.moldHighResidual = [];
    const curScale = new Array<number>(this.ndims).fill(1);
    const curScaleResidual = new Array<number>(this.ndims).fill(1);
    for (let l = 0; l < this.n; l++) {
      const { dim, end, residualEnd } = this.loops[l];
      this.vectorStrides.push(curScale.slice());
      curScaleResidual[dim] += curScale[dim] * (residualEnd - 1);
      curScale[dim] *= end;
      this.moldHigh.push(curScale.map((c) => c - 1));
      this.moldHighResidual.push(curScaleResidual.map((c) => c - 1));
    }
  }

  run(): NestAnalysisResult {
    this.numEpochs = 1;
    this.computeDeltas(this.n - 1);
    return this.collect();
  }

  private stampKey(dropLast: boolean): string {
    const len = dropLast ? this.spaceStamp.length - 1 : this.spaceStamp.length;
    let k = '';
    for (let i = 0; i < len; i++) k += this.spaceStamp[i] + '/';
    return k;
  }

  private state(l: number, key: string): ElementState {
    let s = this.liveState[l].get(key);
    if (!s) {
      s = new ElementState(this.orders);
      s.level = l;
      s.key = key;
      this.liveState[l].set(key, s);
    }
    for (const r of this.recorders) r.touched.add(s);
    return s;
  }

  private isLastGlobalIteration(level: number, dim: number): boolean {
    for (let l = level; l < this.n; l++) {
      const loop = this.loops[l];
      if (loop.dim !== dim) continue;
      if (this.indices[l] + 1 < loop.residualEnd) return false;
    }
    return true;
  }

  /** The tile of loop `l` at the current position of the enclosing loops. */
  private currentWorkingSet(l: number): OperationSpace {
    const low = new Array<number>(this.ndims);
    const high = new Array<number>(this.ndims);
    for (let d = 0; d < this.ndims; d++) {
      low[d] = this.curTransform[d];
      high[d] =
        this.curTransform[d] +
        (this.isLastGlobalIteration(l + 1, d) ? this.moldHighResidual[l][d] : this.moldHigh[l][d]);
    }
    return this.project(low, high);
  }

  /** Projects the operation-space box [low, high] (inclusive) onto every dataspace. */
  private project(low: readonly number[], high: readonly number[]): OperationSpace {
    const out: OperationSpace = [];
    for (const ds of this.problem.dataspaces) {
      const order = ds.projection.length;
      const lo = new Array<number>(order);
      const hi = new Array<number>(order);
      for (let r = 0; r < order; r++) {
        let a = 0;
        let b = 0;
        for (const t of ds.projection[r]) {
          if (t.coefficient < 0) {
            a += high[t.dimension] * t.coefficient;
            b += low[t.dimension] * t.coefficient;
          } else {
            a += low[t.dimension] * t.coefficient;
            b += high[t.dimension] * t.coefficient;
          }
        }
        lo[r] = a;
        hi[r] = b + 1;
      }
      out.push(PointSet.ofBox(order, lo, hi));
    }
    return out;
  }

  private operationPoint(): number[] {
    const p = new Array<number>(this.ndims).fill(0);
    for (let l = 0; l < this.n; l++) {
      const d = this.loops[l].dim;
      p[d] += this.vectorStrides[l][d] * this.indices[l];
    }
    return p;
  }

  private projectPoint(p: readonly number[], into: OperationSpace): void {
    this.problem.dataspaces.forEach((ds, i) => {
      const q = ds.projection.map((rank) => {
        let v = 0;
        for (const t of rank) v += p[t.dimension] * t.coefficient;
        return v;
      });
      into[i].addPoint(q);
    });
  }

  private computeDeltas(l: number): OperationSpace {
    if (!this.memoAt[l]) return this.walkDeltas(l);
    let shape = `${l}|`;
    for (let d = 0; d < this.ndims; d++) shape += this.isLastGlobalIteration(l + 1, d) ? '1' : '0';
    shape += `|${this.stampKey(false)}`;
    const touched = this.shapes.get(shape);
    const offset = this.offsets();
    if (touched === undefined) {
      // First visit: learn which states the subtree reads, to key the next visits by them.
      const r = this.record(l);
      this.shapes.set(shape, [...r.recording.touched].map((st) => [st.level, st.key]));
      return r.delta;
    }
    let key = shape;
    for (const [level, k] of touched) {
      const st = this.liveState[level].get(k);
      key += st === undefined ? '|-' : `|${relativeState(st, offset)}`;
    }
    const hit = this.memo.get(key);
    if (hit) {
      memoReplays++;
      return this.replay(hit, offset);
    }
    // A walk whose situations never repeat would only pay for the recordings: past a bound, it walks.
    if (this.memo.size >= MEMO_ENTRIES) return this.walkDeltas(l);
    const { recording, delta } = this.record(l);
    this.memo.set(key, {
      recording,
      exit: [...recording.touched].map((st) => ({
        level: st.level,
        key: st.key,
        last: st.lastPointSet.map((ps, pv) => shifted(ps, offset[pv], -1)),
        translations: st.lastTranslations.map((t) => (t === null ? null : t.slice())),
        prevFanout: st.prevFanout === null ? null : { pattern: st.prevFanout.pattern, first: st.prevFanout.first.map((ps, pv) => shifted(ps, offset[pv], -1)) },
      })),
      stamp: this.spaceStamp.slice(),
      indices: this.indices.slice(0, l + 1),
      delta: delta.map((ps, pv) => shifted(ps, offset[pv], -1)),
    });
    return delta;
  }

  /** Walks loop l's subtree while recording what it does. */
  private record(l: number): { recording: Recording; delta: OperationSpace } {
    const recording = newRecording(this.numEpochs);
    this.recorders.push(recording);
    try {
      return { recording, delta: this.walkDeltas(l) };
    } finally {
      this.recorders.pop();
    }
  }

  /** Does again what a recorded subtree did, at this position and epoch count. */
  private replay(entry: MemoEntry, offset: number[][]): OperationSpace {
    const rec = entry.recording;
    const epochs = this.numEpochs;
    for (const a of rec.accesses.values()) this.addAccesses(this.state(a.level, a.key), a.pv, a.multicast, a.scatter, a.accesses * epochs, a.hops * epochs, a.unicastHops * epochs);
    for (const m of rec.maxSize.values()) this.noteSize(this.state(m.level, m.key), m.pv, m.value);
    for (const x of rec.links.values()) this.addLinks(this.state(x.level, x.key), x.pv, x.value * epochs);
    for (const [k, v] of rec.compute) this.addCompute(k, v * epochs);
    for (const [k, b] of rec.byPattern) this.addByPattern(k, b.prefix, b.pattern, b.epochs * epochs);
    for (const x of entry.exit) {
      const st = this.state(x.level, x.key);
      st.lastPointSet = x.last.map((ps, pv) => shifted(ps, offset[pv], 1));
      st.lastTranslations = x.translations.map((t) => (t === null ? null : t.slice()));
      st.prevFanout = x.prevFanout === null ? null : { pattern: x.prevFanout.pattern, first: x.prevFanout.first.map((ps, pv) => shifted(ps, offset[pv], 1)) };
    }
    for (let i = 0; i < entry.stamp.length; i++) this.spaceStamp[i] = entry.stamp[i];
    for (let k = 0; k < entry.indices.length; k++) this.indices[k] = entry.indices[k];
    return entry.delta.map((ps, pv) => shifted(ps, offset[pv], 1));
  }

  /** The current position projected on every dataspace: what a relative state is relative to. */
  private offsets(): number[][] {
    return this.problem.dataspaces.map((ds) =>
      ds.projection.map((rank) => {
        let v = 0;
        for (const t of rank) v += this.curTransform[t.dimension] * t.coefficient;
        return v;
      }),
    );
  }

  private addAccesses(state: ElementState, pv: number, multicast: number, scatter: number, accesses: number, hops: number, unicastHops: number): void {
    state.accessStats[pv].add(multicast, scatter, accesses, hops, unicastHops);
    if (this.recorders.length === 0) return;
    const id = `${state.level}#${state.key}#${pv}#${multicast}#${scatter}`;
    for (const r of this.recorders) {
      const e = r.accesses.get(id);
      // Every value is an integer or a half-integer times this epoch count, so the division and the sums are exact.
      if (e) {
        e.accesses += accesses / r.epochs;
        e.hops += hops / r.epochs;
        e.unicastHops += unicastHops / r.epochs;
      } else r.accesses.set(id, { level: state.level, key: state.key, pv, multicast, scatter, accesses: accesses / r.epochs, hops: hops / r.epochs, unicastHops: unicastHops / r.epochs });
    }
  }

  private noteSize(state: ElementState, pv: number, size: number): void {
    state.maxSize[pv] = Math.max(state.maxSize[pv], size);
    if (this.recorders.length === 0) return;
    const id = `${state.level}#${state.key}#${pv}`;
    for (const r of this.recorders) {
      const e = r.maxSize.get(id);
      if (e) e.value = Math.max(e.value, size);
      else r.maxSize.set(id, { level: state.level, key: state.key, pv, value: size });
    }
  }

  private addLinks(state: ElementState, pv: number, transfers: number): void {
    state.linkTransfers[pv] += transfers;
    if (this.recorders.length === 0) return;
    const id = `${state.level}#${state.key}#${pv}`;
    for (const r of this.recorders) {
      const e = r.links.get(id);
      if (e) e.value += transfers / r.epochs;
      else r.links.set(id, { level: state.level, key: state.key, pv, value: transfers / r.epochs });
    }
  }

  private addCompute(key: string, n: number): void {
    this.computeInfo.set(key, (this.computeInfo.get(key) ?? 0) + n);
    for (const r of this.recorders) r.compute.set(key, (r.compute.get(key) ?? 0) + n / r.epochs);
  }

  private addByPattern(key: string, prefix: string, pattern: InstancePattern, epochs: number): void {
    const c = this.computeByPattern.get(key);
    if (c) c.epochs += epochs;
    else this.computeByPattern.set(key, { prefix, pattern, epochs });
    for (const r of this.recorders) {
      const e = r.byPattern.get(key);
      if (e) e.epochs += epochs / r.epochs;
      else r.byPattern.set(key, { prefix, pattern, epochs: epochs / r.epochs });
    }
  }

  private walkDeltas(l: number): OperationSpace {
    if (this.isBoundary[l]) this.spaceStamp.push(0);
    const key = this.stampKey(true);
    const state = this.state(l, key);

    if (this.loops[l].space !== TIME) this.computeSpatialWorkingSet(l);
    else this.computeTemporalWorkingSet(l, state);

    const pointSet = this.currentWorkingSet(l);
    if (this.isBoundary[l] || this.master[l]) {
      for (let pv = 0; pv < this.nds; pv++) this.noteSize(state, pv, pointSet[pv].size());
    }

    // Subtract the previous tile unless the tile's stride changed direction or magnitude.
    for (let pv = 0; pv < this.nds; pv++) {
      const prev = state.lastPointSet[pv];
      const cur = pointSet[pv];
      const translation: Translation = prev.isEmpty() ? null : prev.translationTo(cur);
      const prevTranslation = state.lastTranslations[pv];
      if (prevTranslation === null) {
        state.lastPointSet[pv] = cur.clone();
        cur.subtract(prev);
        state.lastTranslations[pv] = translation;
      } else if (sameTranslation(translation, prevTranslation)) {
        state.lastPointSet[pv] = cur.clone();
        cur.subtract(prev);
      } else {
        state.lastPointSet[pv] = cur.clone();
        state.lastTranslations[pv] = null;
      }
    }

    if (this.isBoundary[l]) this.spaceStamp.pop();
    return pointSet;
  }

  private computeTemporalWorkingSet(l: number, state: ElementState): void {
    const loop = this.loops[l];
    const end = this.isLastGlobalIteration(l + 1, loop.dim) ? loop.residualEnd : loop.end;
    const numIterations = end;

    if (l === 0) {
      const body = numIterations * this.numEpochs;
      const key = this.stampKey(true);
      this.addCompute(key, body);
      for (let pv = 0; pv < this.nds; pv++) this.addAccesses(state, pv, 1, 1, body, 0, 0);
      return;
    }

    const sizes: number[][] = [];
    const scales: number[] = [];
    const runLast = this.imperfect;
    const runSecondLast = this.imperfect;
    const dim = loop.dim;
    const scale = this.vectorStrides[l][dim];
    const savedTransform = this.curTransform[dim];
    const sizesOf = (os: OperationSpace) => os.map((s) => s.size());

    this.indices[l] = 0;
    if (numIterations >= 1) {
      sizes.push(sizesOf(this.computeDeltas(l - 1)));
      scales.push(1);
      this.curTransform[dim] += scale;
      this.indices[l] += 1;
    }
    if (
      (runSecondLast && numIterations >= 4) ||
      (runLast && !runSecondLast && numIterations >= 3) ||
      (!runLast && numIterations >= 2)
    ) {
      let virtual = runLast ? numIterations - 2 : numIterations - 1;
      if (runSecondLast) virtual -= 1;
      const savedEpochs = this.numEpochs;
      this.numEpochs *= virtual;
      sizes.push(sizesOf(this.computeDeltas(l - 1)));
      this.numEpochs = savedEpochs;
      scales.push(virtual);
      this.curTransform[dim] += scale * virtual;
      this.indices[l] += virtual;
    }
    if (runSecondLast && numIterations >= 3) {
      const delta = this.computeDeltas(l - 1);
      if (numIterations >= 4) scales[scales.length - 1]++;
      else {
        sizes.push(sizesOf(delta));
        scales.push(1);
      }
      this.curTransform[dim] += scale;
      this.indices[l] += 1;
    }
    if (runLast && numIterations >= 2) {
      const delta = this.computeDeltas(l - 1);
      if (!runSecondLast && numIterations >= 3) scales[scales.length - 1]++;
      else {
        sizes.push(sizesOf(delta));
        scales.push(1);
        this.curTransform[dim] += scale;
      }
      this.indices[l] += 1;
    }
    this.curTransform[dim] = savedTransform;

    if (this.isBoundary[l - 1]) {
      for (let pv = 0; pv < this.nds; pv++) {
        let total = 0;
        for (let i = 0; i < sizes.length; i++) total += sizes[i][pv] * scales[i];
        this.addAccesses(state, pv, 1, 1, total * this.numEpochs, 0, 0);
      }
    }
  }

  private computeSpatialWorkingSet(l: number): void {
    if (this.options.instances !== 'enumerate') {
      this.spatialByTranslation(l);
      return;
    }
    const deltas = new Map<number, OperationSpace>();
    const skewTable = new Map<number, number>();
    this.fillSpatialDeltas(l, deltas, skewTable, 0, 0, l);

    const state = this.state(l, this.stampKey(true));
    const all = () => Array.from({ length: this.nds }, () => new Set<number>(deltas.keys()));

    const without = this.multicastAccesses(l, deltas, all());
    let chosen = without;
    if (this.options.linkTransfers) {
      const unaccounted = all();
      const linkTransfers = this.linkTransfers(l, deltas, unaccounted, state);
      const withLinks = this.multicastAccesses(l, deltas, unaccounted);
      chosen = without.slice();
      for (let pv = 0; pv < this.nds; pv++) {
        if (withLinks[pv].total() < without[pv].total()) {
          state.linkTransfers[pv] += linkTransfers[pv];
          chosen[pv] = withLinks[pv];
        }
      }
    }
    for (let pv = 0; pv < this.nds; pv++) state.accessStats[pv].accumulate(chosen[pv]);
  }

  private fillSpatialDeltas(
    l: number,
    deltas: Map<number, OperationSpace>,
    skewTable: Map<number, number>,
    baseIndex: number,
    extrapolationStride: number,
    extrapolationLevel: number,
  ): void {
    const loop = this.loops[l];
    const dim = loop.dim;
    const end = this.isLastGlobalIteration(l + 1, dim) ? loop.residualEnd : loop.end;
    baseIndex *= end;

    if (l === 0) {
      for (let i = 0; i < end; i++) {
        this.indices[0] = i;
        const idx = baseIndex + i;
        const os = this.orders.map((o) => new PointSet(o));
        this.projectPoint(this.operationPoint(), os);
        deltas.set(idx, os);
        this.spaceStamp[this.spaceStamp.length - 1] = idx;
        const key = this.stampKey(false);
        this.computeInfo.set(key, (this.computeInfo.get(key) ?? 0) + this.numEpochs);
      }
      return;
    }

    const next = l - 1;
    const scale = this.vectorStrides[l][dim];
    const savedTransform = this.curTransform[dim];
    // Spatial extrapolation simulates only the first instance and translates the rest.
    const iterationsToRun = 1;
    let iterationsRun = 0;

    if (this.loops[next].space !== TIME) {
      for (let i = 0; i < end; i++, iterationsRun++) {
        this.indices[l] = i;
        let nextStride = extrapolationStride * end;
        let nextLevel = extrapolationLevel;
        if (iterationsRun >= iterationsToRun) {
          nextStride = 1;
          nextLevel = l;
        }
        this.fillSpatialDeltas(next, deltas, skewTable, baseIndex + i, nextStride, nextLevel);
        this.curTransform[dim] += scale;
      }
    } else {
      if (extrapolationStride === 0) {
        for (this.indices[l] = 0; this.indices[l] < end && iterationsRun < iterationsToRun; this.indices[l]++, iterationsRun++) {
          const idx = baseIndex + this.indices[l];
          skewTable.set(idx, idx);
          this.spaceStamp[this.spaceStamp.length - 1] = idx;
          deltas.set(idx, this.computeDeltas(next));
          this.curTransform[dim] += scale;
        }
        extrapolationStride = 1;
        extrapolationLevel = l;
      } else {
        extrapolationStride *= end;
        this.indices[l] = 0;
      }

      let translation: number[][] = [];
      if (this.indices[l] < end) translation = this.currentTranslation(extrapolationLevel);
      for (; this.indices[l] < end; this.indices[l]++, iterationsRun++) {
        const dst = baseIndex + this.indices[l];
        const src = skewTable.get(dst - extrapolationStride);
        if (src === undefined) throw new Error(`nest analysis: no delta to extrapolate instance ${dst} from`);
        skewTable.set(dst, dst);
        const srcDelta = deltas.get(src)!;
        deltas.set(
          dst,
          srcDelta.map((s, pv) => {
            const c = s.clone();
            c.translate(translation[pv]);
            return c;
          }),
        );
      }
    }
    this.curTransform[dim] = savedTransform;
  }

  private currentTranslation(l: number): number[][] {
    const dim = this.loops[l].dim;
    const saved = this.curTransform[dim];
    const first = this.currentWorkingSet(l);
    this.curTransform[dim] += this.vectorStrides[l][dim];
    const second = this.currentWorkingSet(l);
    this.curTransform[dim] = saved;
    return first.map((s, pv) => s.translationTo(second[pv]));
  }

  /**
   * The instances of the fanout below master loop `top` in this call, as
   * `fillSpatialDeltas` numbers and translates them. They depend only on
   * which dimensions of the run are in their last iteration above it (that
   * sets the bounds in force), so they are computed once per such case.
   */
  private instancePattern(top: number, bottom: number): InstancePattern {
    let key = `${top}|`;
    for (let l = bottom; l <= top; l++) key += this.isLastGlobalIteration(top + 1, this.loops[l].dim) ? '1' : '0';
    const known = this.patterns.get(key);
    if (known) return known;
    const { h, v } = this.meshSize(top);
    this.projectionKey ??= JSON.stringify(this.problem.dataspaces.map((ds) => ds.projection));
    let signature = `${this.projectionKey}|${bottom === 0 ? 'macs' : 'tile'}|${h}x${v}`;
    // The bounds in force inside the run change with the run's own indices, so the key holds both bounds and the case above it.
    for (let l = bottom; l <= top; l++) {
      const loop = this.loops[l];
      const last = this.isLastGlobalIteration(top + 1, loop.dim) ? 1 : 0;
      signature += `|${loop.dim}:${loop.end}:${loop.residualEnd}:${last}:${loop.space}:${this.vectorStrides[l][loop.dim]}`;
    }
    const shared = sharedPatterns.get(signature);
    if (shared) {
      this.patterns.set(key, shared);
      return shared;
    }
    // Each spatial loop's step, projected: the translation fillSpatialDeltas applies.
    const steps = this.loops.map((loop, l) =>
      this.problem.dataspaces.map((ds) =>
        ds.projection.map((rank) => {
          let c = 0;
          for (const t of rank) if (t.dimension === loop.dim) c += t.coefficient;
          return l >= bottom && l <= top ? c * this.vectorStrides[l][loop.dim] : 0;
        }),
      ),
    );
    const saved = this.indices.slice();
    // A port of fillSpatialDeltas with each delta replaced by its translation
    // from the first instance's: the same numbering, overwrites and errors.
    const deltas = new Map<number, number[][]>();
    const visits: number[] = [];
    const skew = new Map<number, number>();
    const zero = () => this.problem.dataspaces.map((ds) => ds.projection.map(() => 0));
    const fill = (l: number, baseIndex: number, exStride: number, exLevel: number): void => {
      const loop = this.loops[l];
      const end = this.isLastGlobalIteration(l + 1, loop.dim) ? loop.residualEnd : loop.end;
      baseIndex *= end;
      if (l === 0) {
        for (let i = 0; i < end; i++) {
          this.indices[0] = i;
          const tau = zero();
          for (let k = bottom; k <= top; k++) tau.forEach((t, pv) => t.forEach((_, r) => (t[r] += this.indices[k] * steps[k][pv][r])));
          deltas.set(baseIndex + i, tau);
          visits.push(baseIndex + i);
        }
        return;
      }
      const next = l - 1;
      if (this.loops[next].space !== TIME) {
        for (let i = 0; i < end; i++) {
          this.indices[l] = i;
          if (i >= 1) fill(next, baseIndex + i, 1, l);
          else fill(next, baseIndex + i, exStride * end, exLevel);
        }
        return;
      }
      if (exStride === 0) {
        this.indices[l] = 0;
        if (end > 0) {
          skew.set(baseIndex, baseIndex);
          deltas.set(baseIndex, zero());
          this.indices[l] = 1;
        }
        exStride = 1;
        exLevel = l;
      } else {
        exStride *= end;
        this.indices[l] = 0;
      }
      const move = steps[exLevel];
      for (; this.indices[l] < end; this.indices[l]++) {
        const dst = baseIndex + this.indices[l];
        const src = skew.get(dst - exStride);
        if (src === undefined) throw new Error(`nest analysis: no delta to extrapolate instance ${dst} from`);
        skew.set(dst, dst);
        deltas.set(dst, deltas.get(src)!.map((t, pv) => t.map((v, r) => v + move[pv][r])));
      }
    };
    fill(top, 0, 0, top);
    saved.forEach((x, l) => (this.indices[l] = x));
    const idx = Int32Array.from(deltas.keys());
    const tau: number[][][] = this.problem.dataspaces.map((_, pv) => [...deltas.values()].map((t) => t[pv]));
    let most = 0;
    for (const n of idx) most = Math.max(most, n);
    const at = new Int32Array(most + 1).fill(-1);
    idx.forEach((n, x) => (at[n] = x));
    const all = [...idx.keys()];
    const pattern: InstancePattern = {
      id: nextPatternId++,
      idx,
      visits: Int32Array.from(visits),
      tau,
      at,
      groups: tau.map((_, pv) => groupByTranslation(all, (x) => tau[pv][x], (x) => idx[x], h, v).entries),
    };
    this.patterns.set(key, pattern);
    sharedInstances += pattern.idx.length;
    remember(sharedPatterns, signature, pattern, () => sharedInstances > SHARED_PATTERN_INSTANCES, (p) => (sharedInstances -= p.idx.length));
    return pattern;
  }

  /** computeSpatialWorkingSet with instances grouped by translation (see NestAnalysisOptions). */
  private spatialByTranslation(l: number): void {
    let bottom = l;
    while (bottom > 0 && this.loops[bottom - 1].space !== TIME) bottom--;
    const pattern = this.instancePattern(l, bottom);
    const state = this.state(l, this.stampKey(true));
    // The first instance's delta, computed as fillSpatialDeltas computes it.
    for (let k = bottom; k <= l; k++) this.indices[k] = 0;
    let first: OperationSpace;
    const last = this.spaceStamp.length - 1;
    if (bottom === 0) {
      first = this.orders.map((o) => new PointSet(o));
      this.projectPoint(this.operationPoint(), first);
      const prefix = this.stampKey(true);
      const key = `${prefix}#${pattern.id}`;
      this.addByPattern(key, prefix, pattern, this.numEpochs);
      this.spaceStamp[last] = pattern.visits[pattern.visits.length - 1];
    } else {
      this.spaceStamp[last] = pattern.idx[0];
      first = this.computeDeltas(bottom - 1);
    }
    const { h: hSize, v: vSize } = this.meshSize(l);
    const prev = state.prevFanout;
    for (let pv = 0; pv < this.nds; pv++) {
      const size = first[pv].size();
      if (size === 0) continue;
      const amount = size * this.numEpochs;
      const full = pattern.groups[pv];
      let fullGroups = 0;
      for (const e of full) fullGroups += e.scatter;
      let chosen = full;
      if (this.options.linkTransfers && prev !== null) {
        const u = translationBetween(prev.first[pv], first[pv]);
        if (u !== null) {
          const linked = this.linkedGroups(prev.pattern, pattern, pv, u, hSize, vSize);
          if (linked.groups < fullGroups) {
            chosen = linked.entries;
            this.addLinks(state, pv, linked.transfers * amount);
          }
        }
      }
      for (const e of chosen) {
        // As multicastAccesses: Σ of the groups' accesses, hops scaled by accesses per group.
        const accesses = e.scatter * amount;
        this.addAccesses(state, pv, e.multicast, e.scatter, accesses, (e.hops * accesses) / e.scatter, (e.unicastHops * accesses) / e.scatter);
      }
    }
    if (this.options.linkTransfers) state.prevFanout = { pattern, first };
  }

  /**
   * The groups left when instances whose mesh neighbour held their delta on
   * the previous call take it over a link: instance x now holds first + τ_x,
   * neighbour y held prevFirst + τ'_y = first + τ'_y − u, so they match when
   * τ'_y − τ_x = u (linkTransfers' comparisons, by translation).
   */
  private linkedGroups(prev: InstancePattern, cur: InstancePattern, pv: number, u: readonly number[], hSize: number, vSize: number): { entries: GroupEntries; groups: number; transfers: number } {
    const key = `${prev.id}|${cur.id}|${pv}|${u.join(',')}`;
    const known = sharedCoverage.get(key);
    if (known) return known;
    const covered = new Uint8Array(cur.idx.length);
    let transfers = 0;
    // Instance x takes its delta over a link when a mesh neighbour held it: the
    // count does not depend on the order linkTransfers visits the pairs in.
    const curTau = cur.tau[pv];
    const prevTau = prev.tau[pv];
    const matches = (x: number, o: number): boolean => {
      const y = o < prev.at.length ? prev.at[o] : -1;
      if (y < 0) return false;
      const a = curTau[x];
      const b = prevTau[y];
      for (let r = 0; r < a.length; r++) if (b[r] - a[r] !== u[r]) return false;
      return true;
    };
    for (let x = 0; x < cur.idx.length; x++) {
      const c = cur.idx[x];
      const h = c % hSize;
      const v = (c - h) / hSize;
      if (v >= vSize) continue;
      if (
        (vSize > 1 && ((v > 0 && matches(x, c - hSize)) || (v < vSize - 1 && matches(x, c + hSize)))) ||
        (hSize > 1 && ((h > 0 && matches(x, c - 1)) || (h < hSize - 1 && matches(x, c + 1))))
      ) {
        covered[x] = 1;
        transfers++;
      }
    }
    let result: { entries: GroupEntries; groups: number; transfers: number };
    if (transfers === 0) {
      // Nothing came over a link: the groups are the pattern's own (grouped from the same instances in the same order).
      let groups = 0;
      for (const e of cur.groups[pv]) groups += e.scatter;
      result = { entries: cur.groups[pv], groups, transfers };
    } else {
      const rest: number[] = [];
      for (let x = 0; x < cur.idx.length; x++) if (covered[x] === 0) rest.push(x);
      result = { ...groupByTranslation(rest, (x) => cur.tau[pv][x], (x) => cur.idx[x], hSize, vSize), transfers };
    }
    remember(sharedCoverage, key, result, () => sharedCoverage.size > SHARED_COVERAGE);
    return result;
  }

  private meshSize(l: number): { h: number; v: number } {
    return meshSize(this.nest, this.props, l);
  }

  /** Groups identical deltas of sibling instances into multicasts. */
  private multicastAccesses(
    l: number,
    deltas: Map<number, OperationSpace>,
    unaccounted: Set<number>[],
  ): AccessHistogram[] {
    const { h: hSize, v: vSize } = this.meshSize(l);
    const temp: Map<number, { accesses: number; scatter: number; hops: number; unicastHops: number }>[] =
      Array.from({ length: this.nds }, () => new Map());
    for (let pv = 0; pv < this.nds; pv++) {
      // Identical deltas form one multicast group; grouping by signature is the
      // pairwise comparison Timeloop makes, in linear time.
      const groups = new Map<string, number[]>();
      const sizes = new Map<string, number>();
      for (const [idx, delta] of deltas) {
        if (!unaccounted[pv].has(idx)) continue;
        unaccounted[pv].delete(idx);
        const sig = delta[pv].signature();
        const g = groups.get(sig);
        if (g) g.push(idx);
        else {
          groups.set(sig, [idx]);
          sizes.set(sig, delta[pv].size());
        }
      }
      for (const [sig, matches] of groups) {
        const size = sizes.get(sig)!;
        if (size === 0) continue;
        let t = temp[pv].get(matches.length);
        if (!t) {
          t = { accesses: 0, scatter: 0, hops: 0, unicastHops: 0 };
          temp[pv].set(matches.length, t);
        }
        t.accesses += size * this.numEpochs;
        t.scatter++;
        const { hops, unicastHops } = groupHops(matches, hSize, vSize);
        t.hops += hops;
        t.unicastHops += unicastHops;
      }
    }
    return temp.map((m) => {
      const h = new AccessHistogram();
      for (const [multicast, t] of m) {
        const e = h.at(multicast, t.scatter);
        e.accesses = t.accesses;
        e.hops = (t.hops * t.accesses) / t.scatter;
        e.unicastHops = (t.unicastHops * t.accesses) / t.scatter;
      }
      return h;
    });
  }

  /**
   * Marks instances whose delta equals what a mesh neighbour received in the
   * previous step: they can get it over a link instead of from the parent.
   */
  private linkTransfers(
    l: number,
    deltas: Map<number, OperationSpace>,
    unaccounted: Set<number>[],
    state: ElementState,
  ): number[] {
    const { h: hSize, v: vSize } = this.meshSize(l);
    const prev = state.prevSpatialDeltas;
    const reuse = Array.from({ length: hSize * vSize }, () => new Array<boolean>(this.nds).fill(false));
    const compare = (cur: number, other: number) => {
      const c = deltas.get(cur);
      const p = prev.get(other);
      if (!c || !p) return;
      for (let pv = 0; pv < this.nds; pv++) {
        if (!c[pv].isEmpty() && c[pv].equals(p[pv])) reuse[cur][pv] = true;
      }
    };
    forEachMeshNeighbour(hSize, vSize, compare);
    const transfers = new Array<number>(this.nds).fill(0);
    for (const [idx, delta] of deltas) {
      for (let pv = 0; pv < this.nds; pv++) {
        if (reuse[idx]?.[pv]) {
          transfers[pv] += delta[pv].size() * this.numEpochs;
          unaccounted[pv].delete(idx);
        }
      }
    }
    state.prevSpatialDeltas = new Map(deltas);
    return transfers;
  }

  private collect(): NestAnalysisResult {
    const tiles: LoopTile[][] = Array.from({ length: this.nds }, () => []);
    for (let l = 0; l < this.n; l++) {
      if (this.loops[l].space !== TIME && !this.master[l]) continue;
      const states = [...this.liveState[l].values()];
      const count = states.length;
      for (let pv = 0; pv < this.nds; pv++) {
        const hist = new AccessHistogram();
        let maxSize = 0;
        let link = 0;
        for (const s of states) {
          hist.accumulate(s.accessStats[pv]);
          maxSize += s.maxSize[pv];
          link += s.linkTransfers[pv];
        }
        if (count > 0) {
          hist.divide(count);
          maxSize = Math.floor(maxSize / count);
          link = Math.floor(link / count);
        }
        tiles[pv].push({
          size: maxSize,
          accessStats: hist,
          linkTransfers: link,
          replicationFactor: this.numSpatialElems[l],
          fanout: this.logicalFanout[l],
          isBoundary: this.isBoundary[l],
          isMasterSpatial: this.master[l],
        });
      }
    }

    let maxTemporalIterations = 1;
    for (const loop of this.loops) if (loop.space === TIME) maxTemporalIterations *= loop.end;

    let computeReplication = 1;
    for (let l = 0; l < this.n; l++) {
      if (this.loops[l].space !== TIME && !this.master[l]) continue;
      computeReplication = this.numSpatialElems[l] * this.logicalFanout[l];
      break;
    }
    for (const { prefix, pattern, epochs } of this.computeByPattern.values()) {
      for (const idx of pattern.visits) {
        const key = `${prefix}${idx}/`;
        this.computeInfo.set(key, (this.computeInfo.get(key) ?? 0) + epochs);
      }
    }
    let sum = 0;
    for (const v of this.computeInfo.values()) sum += v;
    const computeAccesses = this.computeInfo.size > 0 ? sum / this.computeInfo.size : 0;

    return { tiles, computeReplication, computeAccesses, maxTemporalIterations, imperfect: this.imperfect };
  }
}
