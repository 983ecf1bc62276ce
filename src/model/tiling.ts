/**
 * Collapses the per-loop tiles of the nest analysis into one tile per storage
 * level and dataspace, then turns children's accesses into each level's
 * reads, fills and updates: partition sizes, each child's share of its
 * parent's reads, bypass (accesses of a bypassed level go to the next outer
 * one), link-transfer peer traffic, and first-read elision for outputs.
 */
import type { AccessHistogram, LoopTile } from './nest-analysis.ts';

export interface LevelTile {
  /** Tile size (words) per instance; 0 when bypassed. */
  size: number;
  partitionSize: number;
  accessStats: AccessHistogram;
  contentAccesses: number;
  parentAccessShare: number;
  linkTransfers: number;
  peerAccesses: number;
  peerFills: number;
  replicationFactor: number;
  fanout: number;
  partitionFractionDenominator: number;
  reads: number;
  fills: number;
  /** The counts before wrapping, for sums Timeloop does in uint64 (they wrap back). */
  signedReads: number;
  signedFills: number;
  signedUpdates: number;
  updates: number;
  temporalReductions: number;
}

/**
 * @param loopTiles one dataspace's loop tiles, innermost first
 * @param keep keep mask per storage level, innermost level first
 */
export function collapseTiles(
  loopTiles: readonly LoopTile[],
  numLevels: number,
  keep: readonly boolean[],
  readWrite: boolean,
): LevelTile[] {
  const nest: LevelTile[] = [];
  let processed = 0;
  const total = loopTiles.length;
  while (processed < total) {
    let boundary = processed;
    while (!loopTiles[boundary].isBoundary && boundary < total - 1) boundary++;
    const outermost = loopTiles[boundary];
    const innermost = loopTiles[processed];
    if (nest.length > 0) {
      const inner = nest[nest.length - 1];
      inner.partitionFractionDenominator = innermost.isMasterSpatial ? innermost.size : inner.size;
    }
    nest.push({
      size: outermost.size,
      partitionSize: 0,
      accessStats: innermost.accessStats.clone(),
      contentAccesses: innermost.accessStats.total(),
      parentAccessShare: 0,
      linkTransfers: innermost.linkTransfers,
      peerAccesses: 0,
      peerFills: 0,
      replicationFactor: outermost.replicationFactor,
      fanout: innermost.fanout,
      partitionFractionDenominator: 0,
      reads: 0,
      fills: 0,
      updates: 0,
      signedReads: 0,
      signedFills: 0,
      signedUpdates: 0,
      temporalReductions: 0,
    });
    processed = boundary + 1;
  }
  if (nest.length !== numLevels) {
    throw new Error(`tiling: ${nest.length} collapsed levels for ${numLevels} storage levels`);
  }

  computePartitionSizes(nest);
  computeParentAccessShare(nest);
  maskTiles(nest, keep);
  processOuterMaskedLevels(nest, keep);
  computePeerAccesses(nest);
  computeReadsFillsUpdates(nest, readWrite);
  return nest;
}

function computePartitionSizes(nest: LevelTile[]): void {
  const top = nest.length - 1;
  let partition = nest[top].size;
  nest[top].partitionSize = partition;
  for (let cur = top - 1; cur >= 0; cur--) {
    const d = nest[cur].partitionFractionDenominator;
    if (d !== 0) partition = Math.floor((partition * nest[cur].size) / d);
    nest[cur].partitionSize = partition;
  }
}

function nextNonEmptyOuter(nest: LevelTile[], cur: number): number {
  let outer = cur + 1;
  while (outer < nest.length && nest[outer].size === 0) outer++;
  return outer;
}

function computeParentAccessShare(nest: LevelTile[]): void {
  for (let cur = 0; cur < nest.length; cur++) {
    if (nest[cur].size === 0) continue;
    nest[cur].parentAccessShare = 0;
    const outer = nextNonEmptyOuter(nest, cur);
    if (outer === nest.length) continue;
    // Each child receives (accesses × multicast) / fanout elements on average.
    for (const e of nest[outer].accessStats.entries) {
      nest[cur].parentAccessShare += (e.accesses * e.multicast) / nest[outer].fanout;
    }
  }
}

function clearBufferStats(t: LevelTile): void {
  t.size = 0;
  t.partitionSize = 0;
  t.contentAccesses = 0;
  t.parentAccessShare = 0;
}

/** A bypassed level hands its children's accesses to the next outer level. */
function maskTiles(nest: LevelTile[], keep: readonly boolean[]): void {
  for (let cur = 0; cur < nest.length; cur++) {
    if (nest[cur].size === 0 || keep[cur]) continue;
    const outer = nextNonEmptyOuter(nest, cur);
    if (outer === nest.length) {
      clearBufferStats(nest[cur]);
      break;
    }
    const allChildrenAccesses = nest[cur].contentAccesses * nest[outer].fanout;
    const childTemporalFactor = allChildrenAccesses / nest[outer].accessStats.weighted();
    for (const e of nest[outer].accessStats.entries) {
      if (e.accesses === 0) continue;
      e.accesses *= childTemporalFactor;
      nest[outer].linkTransfers = 0;
    }
    nest[outer].contentAccesses = nest[outer].accessStats.total();
    clearBufferStats(nest[cur]);
  }
}

function processOuterMaskedLevels(nest: LevelTile[], keep: readonly boolean[]): void {
  for (let cur = nest.length - 1; cur >= 0; cur--) {
    if (!keep[cur]) {
      const t = nest[cur];
      const replication = t.replicationFactor;
      clearBufferStats(t);
      t.accessStats.entries = [];
      t.linkTransfers = 0;
      t.fanout = 0;
      t.replicationFactor = replication;
    } else {
      nest[cur].parentAccessShare = 0;
      break;
    }
  }
}

function computePeerAccesses(nest: LevelTile[]): void {
  for (let cur = nest.length - 1; cur > 0; cur--) {
    if (nest[cur].linkTransfers !== 0) {
      const perElement = nest[cur].linkTransfers / nest[cur - 1].replicationFactor;
      nest[cur - 1].peerAccesses += perElement;
      nest[cur - 1].peerFills += perElement;
    }
  }
}

/** C/C++ round(): halves away from zero. */
function cround(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * Timeloop stores counts in unsigned 64-bit integers: a negative count (some
 * imperfect factorizations make `fills = share − partition` negative) wraps
 * around to 2^64 − n. Reproduced, as a double, for fidelity.
 */
export function asUint64(x: number): number {
  return x < 0 ? 2 ** 64 + x : x;
}

function computeReadsFillsUpdates(nest: LevelTile[], readWrite: boolean): void {
  for (let cur = 0; cur < nest.length; cur++) {
    const t = nest[cur];
    if (t.size === 0) {
      t.reads = 0;
      t.updates = 0;
      t.fills = 0;
      t.temporalReductions = 0;
      continue;
    }
    if (readWrite) {
      // The first update of each element needs no read (first-read elision).
      t.signedUpdates = cround(t.contentAccesses);
      t.signedReads = cround(t.contentAccesses + t.peerAccesses - t.partitionSize);
      const outermost = nextNonEmptyOuter(nest, cur) === nest.length;
      t.signedFills = outermost ? cround(t.parentAccessShare + t.peerFills) : cround(t.parentAccessShare + t.peerFills - t.partitionSize);
      t.updates = asUint64(t.signedUpdates);
      t.reads = asUint64(t.signedReads);
      t.fills = asUint64(t.signedFills);
      t.temporalReductions = t.reads;
    } else {
      t.reads = cround(t.contentAccesses + t.peerAccesses);
      t.updates = 0;
      t.fills = Math.trunc(t.parentAccessShare + t.peerFills);
      t.signedReads = t.reads;
      t.signedUpdates = 0;
      t.signedFills = t.fills;
      t.temporalReductions = 0;
    }
  }
}
