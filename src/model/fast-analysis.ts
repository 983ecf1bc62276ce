/**
 * Closed-form nest analysis for the common case: every dataspace rank is a
 * single dimension (GEMMs, normalization ops, 1×1 convolutions) and every
 * factorization is perfect. It returns exactly what `analyzeNest` returns for
 * such nests, without walking the nest.
 *
 * Why the closed forms hold (see also the differential tests):
 * - Tiles are boxes whose extent in each dimension is the product of the
 *   inner loop bounds, and every enclosing loop moves a tile by a multiple of
 *   its extent, so a child's delta is either empty or its whole tile.
 * - Timeloop simulates iterations #0 and #1 of each temporal loop (weights 1
 *   and bound−1) in lexicographic order. Walking that sequence through its
 *   stride-reset rule, a delta is whole exactly on the calls where every
 *   irrelevant loop inside the innermost relevant one is at iteration 0, so
 *   a child fetches `tile × Π(bounds of the temporal loops from the innermost
 *   relevant one outwards)`.
 * - Sibling instances' deltas are translates of the first one's; they are
 *   equal (multicast) exactly when the instances differ only along spatial
 *   loops of dimensions the dataspace does not use.
 * - Link transfers need a neighbour's previous delta to equal this instance's
 *   current one. Temporal strides above a fanout exceed any offset between
 *   instances, so that happens only below MACs (whose "deltas" are single
 *   operand points) on calls where the dataspace did not move.
 */
import type { Problem } from '../workload/problem.ts';
import { isAxisAligned } from '../workload/problem.ts';
import type { LoopNest } from './loop-nest.ts';
import { TIME } from './loop-nest.ts';
import {
  AccessHistogram,
  groupHops,
  meshSize,
  nestProperties,
  type LoopTile,
  type NestAnalysisResult,
  type NestProperties,
} from './nest-analysis.ts';

export function canAnalyzeInClosedForm(problem: Problem, nest: LoopNest): boolean {
  return !nest.imperfect && isAxisAligned(problem);
}

/** How one spatial fanout groups its instances for one dataspace. */
interface FanoutPattern {
  /** Number of distinct operand groups (scatter) and instances per group (multicast). */
  scatter: number;
  multicast: number;
  /** Σ over groups of hops / unicast hops, for one delivery to every group. */
  hops: number;
  unicastHops: number;
  /** Below MACs only: the pattern on calls where the operand did not move, if links help. */
  linked: {
    transfers: number;
    entries: { multicast: number; scatter: number; hops: number; unicastHops: number }[];
  } | null;
}

const patternCache = new Map<string, FanoutPattern>();

/**
 * Enumerates the instances of a spatial run (loops `top` down to `bottom`,
 * innermost least significant) once, and caches the result: the mapper sees
 * the same few fanout shapes over and over.
 */
function fanoutPattern(
  nest: LoopNest,
  props: NestProperties,
  top: number,
  bottom: number,
  relevant: (dim: number) => boolean,
  relevantKey: string,
  belowMacs: boolean,
): FanoutPattern {
  const { h: hSize, v: vSize } = meshSize(nest, props, top);
  let key = `${hSize}x${vSize}|${belowMacs ? 'M' : 'S'}|${relevantKey}|`;
  for (let l = top; l >= bottom; l--) {
    const loop = nest.loops[l];
    key += `${loop.dim}:${loop.end}:${loop.space},`;
  }
  const cached = patternCache.get(key);
  if (cached) return cached;

  const loops = nest.loops.slice(bottom, top + 1); // innermost first
  const n = loops.reduce((p, l) => p * l.end, 1);
  // Group key per instance: the indices of the relevant loops.
  const groupOf = new Array<string>(n);
  for (let idx = 0; idx < n; idx++) {
    let rest = idx;
    let k = '';
    for (const loop of loops) {
      const i = rest % loop.end;
      rest = Math.floor(rest / loop.end);
      if (relevant(loop.dim)) k += i + ',';
    }
    groupOf[idx] = k;
  }
  const groups = new Map<string, number[]>();
  for (let idx = 0; idx < n; idx++) {
    const g = groups.get(groupOf[idx]);
    if (g) g.push(idx);
    else groups.set(groupOf[idx], [idx]);
  }
  let hops = 0;
  let unicastHops = 0;
  for (const members of groups.values()) {
    const h = groupHops(members, hSize, vSize);
    hops += h.hops;
    unicastHops += h.unicastHops;
  }
  const scatter = groups.size;
  const multicast = n / scatter;

  let linked: FanoutPattern['linked'] = null;
  if (belowMacs) {
    // An instance is served over a link when a mesh neighbour (which held the
    // same operand on the previous call) is in its group.
    const covered = new Array<boolean>(n).fill(false);
    let transfers = 0;
    for (let idx = 0; idx < n; idx++) {
      const h = idx % hSize;
      const v = Math.floor(idx / hSize);
      const neighbours: number[] = [];
      if (vSize > 1) {
        if (v >= 1) neighbours.push(idx - hSize);
        if (v < vSize - 1) neighbours.push(idx + hSize);
      }
      if (hSize > 1) {
        if (h >= 1) neighbours.push(idx - 1);
        if (h < hSize - 1) neighbours.push(idx + 1);
      }
      for (const nb of neighbours) {
        if (nb < n && groupOf[nb] === groupOf[idx]) {
          covered[idx] = true;
          transfers++;
          break;
        }
      }
    }
    const byMulticast = new Map<number, { scatter: number; hops: number; unicastHops: number }>();
    for (const members of groups.values()) {
      const rest = members.filter((i) => !covered[i]);
      if (rest.length === 0) continue;
      const e = byMulticast.get(rest.length) ?? { scatter: 0, hops: 0, unicastHops: 0 };
      const h = groupHops(rest, hSize, vSize);
      e.scatter++;
      e.hops += h.hops;
      e.unicastHops += h.unicastHops;
      byMulticast.set(rest.length, e);
    }
    let totalWith = 0;
    for (const e of byMulticast.values()) totalWith += e.scatter;
    if (totalWith < scatter) {
      linked = {
        transfers,
        entries: [...byMulticast.entries()].map(([m, e]) => ({ multicast: m, ...e })),
      };
    }
  }
  const pattern = { scatter, multicast, hops, unicastHops, linked };
  patternCache.set(key, pattern);
  return pattern;
}

export function analyzeInClosedForm(problem: Problem, nest: LoopNest): NestAnalysisResult {
  const loops = nest.loops;
  const n = loops.length;
  const ndims = problem.dimensions.length;
  const props = nestProperties(nest);

  // extent[l][d]: the tile extent along d at loop l (product of bounds of loops ≤ l on d).
  const extent: number[][] = [];
  const cur = new Array<number>(ndims).fill(1);
  for (let l = 0; l < n; l++) {
    cur[loops[l].dim] *= loops[l].end;
    extent.push(cur.slice());
  }
  let temporalProduct = 1;
  for (const loop of loops) if (loop.space === TIME) temporalProduct *= loop.end;

  const tiles: LoopTile[][] = problem.dataspaces.map((ds) => {
    const dims = ds.projection.map((rank) => rank[0].dimension);
    const relevant = (d: number) => dims.includes(d);
    const relevantKey = dims.join('.');
    const tileSize = (l: number) => {
      let s = 1;
      for (const d of dims) s *= extent[l][d];
      return s;
    };
    /** Π bounds of the temporal loops above `c`, from the innermost relevant one outwards. */
    const refetches = (c: number) => {
      let p = 1;
      let found = false;
      for (let l = c + 1; l < n; l++) {
        const loop = loops[l];
        if (loop.space !== TIME) continue;
        if (!found && loop.end > 1 && relevant(loop.dim)) found = true;
        if (found) p *= loop.end;
      }
      return p;
    };

    const out: LoopTile[] = [];
    for (let l = 0; l < n; l++) {
      const loop = loops[l];
      const spatial = loop.space !== TIME;
      if (spatial && !props.master[l]) continue;
      const hist = new AccessHistogram();
      let linkTransfers = 0;
      if (!spatial && l === 0) {
        hist.at(1, 1).accesses = temporalProduct;
      } else if (!spatial && props.isBoundary[l - 1]) {
        hist.at(1, 1).accesses = tileSize(l - 1) * refetches(l - 1);
      } else if (spatial) {
        let bottom = l;
        while (bottom > 0 && loops[bottom - 1].space !== TIME) bottom--;
        const belowMacs = bottom === 0;
        const p = fanoutPattern(nest, props, l, bottom, relevant, relevantKey, belowMacs);
        if (belowMacs) {
          // One operand point per instance per call; calls where the operand stayed put may use links.
          const moving = refetches(l);
          const still = temporalProduct - moving;
          const useLinks = p.linked !== null && still > 0;
          const fullCalls = useLinks ? moving : temporalProduct;
          const e = hist.at(p.multicast, p.scatter);
          e.accesses = p.scatter * fullCalls;
          e.hops = p.hops * fullCalls;
          e.unicastHops = p.unicastHops * fullCalls;
          if (useLinks && p.linked) {
            linkTransfers = p.linked.transfers * still;
            for (const le of p.linked.entries) {
              const x = hist.at(le.multicast, le.scatter);
              x.accesses += le.scatter * still;
              x.hops += le.hops * still;
              x.unicastHops += le.unicastHops * still;
            }
          }
          if (fullCalls === 0) hist.entries = hist.entries.filter((x) => x.accesses !== 0);
        } else {
          const c = bottom - 1;
          const deliveries = tileSize(c) * refetches(c);
          const e = hist.at(p.multicast, p.scatter);
          e.accesses = p.scatter * deliveries;
          e.hops = p.hops * deliveries;
          e.unicastHops = p.unicastHops * deliveries;
        }
      }
      out.push({
        size: props.isBoundary[l] || props.master[l] ? tileSize(l) : 0,
        accessStats: hist,
        linkTransfers,
        replicationFactor: props.numSpatialElems[l],
        fanout: props.logicalFanout[l],
        isBoundary: props.isBoundary[l],
        isMasterSpatial: props.master[l],
      });
    }
    return out;
  });

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
