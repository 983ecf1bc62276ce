/**
 * Fused mappings of a cascade (see cascade.ts): which links keep their
 * shared tensor at a level below the outermost, and the rules that make
 * the layers' own Timeloop mappings one fused schedule.
 *
 * A link fused at level X (a storage level both layers' architectures name):
 * - the shared tensor is kept at X and at no level above it, in both layers
 *   (the producer leaves it there, the consumer finds it there);
 * - the producer's loops above X walk only the shared tensor's ranks (a
 *   loop over its reduction above X would leave partial sums at X, with
 *   nowhere above to go), and are perfect;
 * - the consumer's temporal loops above X over the shared tensor's ranks are
 *   the producer's temporal loops above X (same level, matching dimension,
 *   same factor, same order) and enclose all its other loops above X: the two
 *   layers alternate once per iteration of these loops (the fused loops),
 *   the producer writing one tile of the shared tensor at X, the consumer
 *   reading it. Spatial loops above X spread a tile over X's instances and
 *   may differ (the study's NO sees Gemmini's 16 accumulator rows as one
 *   array);
 * - no fused loop splits what a layer needs whole (a normalization op's
 *   column: CascadeLayer.whole);
 * - the capacity of every bounded memory both layers use is shared (see
 *   {@link capacityViolation}; {@link physicalLevel} says which levels of
 *   two architectures are one memory).
 * Each layer's part stays a mapping of its own, evaluated by the exact
 * model alone: a fused cascade costs the sum of its layers.
 *
 * A group of consecutive fused links shares one level (this version).
 */
import type { Architecture } from '../arch/architecture.ts';
import type { Mapping } from '../mapping/mapping.ts';
import type { MapspaceConstraints } from '../mapper/constraints.ts';
import type { Problem } from '../workload/problem.ts';
import type { Cascade, CascadeLink } from './cascade.ts';

/** A loop of a mapping, outermost first in a nest. */
export interface NestLoop {
  /** Storage level index. */
  readonly level: number;
  readonly dim: number;
  readonly factor: number;
  readonly spatial: boolean;
}

/** The loops above storage level `x` with a factor above 1, outermost first (a level's temporal loops, then its fanout's). */
export function loopsAbove(mapping: Mapping, x: number): NestLoop[] {
  const out: NestLoop[] = [];
  for (let level = 0; level < x; level++) {
    const lm = mapping.levels[level];
    const perm = lm.temporal.permutation;
    for (let k = perm.length - 1; k >= 0; k--) {
      const dim = perm[k];
      if (lm.temporal.factors[dim] > 1) out.push({ level, dim, factor: lm.temporal.factors[dim], spatial: false });
    }
    if (lm.spatial) {
      const sp = lm.spatial.permutation;
      for (let k = sp.length - 1; k >= 0; k--) {
        const dim = sp[k];
        if (lm.spatial.factors[dim] > 1) out.push({ level, dim, factor: lm.spatial.factors[dim], spatial: true });
      }
    }
  }
  return out;
}

/** Index of a storage level by name, or -1. */
export function levelIndex(arch: Architecture, name: string): number {
  return arch.storage.findIndex((s) => s.name === name);
}

/**
 * Which physical memory a level is: two architectures' levels are one when
 * they have the same name and hold the same words over all instances.
 * gemmini-no's Accumulator (one array of 65,536) is Gemmini's (16 rows of
 * 4,096), as the study models it; its Registers (the sweeps' 3 fake
 * weights) are not Gemmini's 256 PE registers.
 */
export function physicalLevel(arch: Architecture, i: number): string {
  const s = arch.storage[i];
  return `${s.name}|${s.sizeWords === null ? 'unbounded' : s.sizeWords * s.instances}`;
}

/** Levels (by name) at which a link can be fused: below the outermost, the same memory in both layers' architectures, outermost first. */
export function fusionLevels(cascade: Cascade, link: CascadeLink): string[] {
  if (link.unfusable !== undefined) return [];
  if ((cascade.layers[link.producer].count ?? 1) !== (cascade.layers[link.consumer].count ?? 1)) return [];
  const a = cascade.layers[link.producer].arch;
  const b = cascade.layers[link.consumer].arch;
  return a.storage
    .map((s, i) => ({ name: s.name, i }))
    .filter(({ name, i }) => i > 0 && levelIndex(b, name) > 0 && physicalLevel(b, levelIndex(b, name)) === physicalLevel(a, i))
    .map(({ name }) => name);
}

/**
 * A layer's constraints with its shared tensors fused: each dataspace in
 * `fused` kept at its level and bypassed above it (overriding the preset's
 * keep or bypass there). Other constraints stay.
 */
export function withFusedKeeps(constraints: MapspaceConstraints, fused: readonly { dataspace: number; level: number }[]): MapspaceConstraints {
  const levels = constraints.levels.map((lc, i) => {
    const keep = lc.keep.slice();
    for (const f of fused) {
      if (i < f.level) keep[f.dataspace] = false;
      else if (i === f.level) keep[f.dataspace] = true;
    }
    return { ...lc, keep };
  });
  return { ...constraints, levels };
}

function relevant(problem: Problem, dataspace: number, dim: number): boolean {
  return problem.dataspaces[dataspace].projection.some((rank) => rank.some((t) => t.dimension === dim));
}

/** The fused loops of a link's producer: its temporal loops above the level (its only loops there, when the link is valid). */
export function fusedLoops(mapping: Mapping, x: number): NestLoop[] {
  return loopsAbove(mapping, x).filter((l) => !l.spatial);
}

/** A key of the fused loops seen from the consumer's side (consumer dimensions), for grouping compatible mappings. */
export function fusedKey(loops: readonly NestLoop[]): string {
  return loops.map((l) => `${l.level}:${l.dim}:${l.factor}`).join(' ');
}

/** The producer's fused loops in the consumer's dimensions. */
export function producerFusedKey(link: CascadeLink, mapping: Mapping, x: number): string {
  const toConsumer = new Map(link.ranks.map(([p, c]) => [p, c]));
  return fusedKey(fusedLoops(mapping, x).map((l) => ({ ...l, dim: toConsumer.get(l.dim) ?? -1 })));
}

/** The consumer's loops above X over the shared tensor, which must be the producer's fused loops. */
export function consumerFusedKey(link: CascadeLink, consumer: Problem, mapping: Mapping, x: number): string {
  return fusedKey(loopsAbove(mapping, x).filter((l) => !l.spatial && relevant(consumer, link.consumerDataspace, l.dim)));
}

/**
 * Why the producer's mapping cannot be the producing side of `link` fused at
 * level `x` (null: it can): keeps, loops above X over its reduction, or
 * imperfect loops above X.
 */
export function producerViolation(cascade: Cascade, link: CascadeLink, mapping: Mapping, x: number): string | null {
  const { problem } = cascade.layers[link.producer];
  const t = link.producerDataspace;
  const keeps = keepViolation(problem, t, mapping, x);
  if (keeps !== null) return keeps;
  for (const l of loopsAbove(mapping, x)) {
    if (!relevant(problem, t, l.dim)) return `${problem.name} has a loop over ${problem.dimensions[l.dim]} above the fusion level`;
  }
  return splitsWhole(cascade, link.producer, mapping, x) ?? (imperfectAbove(mapping, x) ? `${problem.name} has an imperfect loop above the fusion level` : null);
}

/** Why dataspace `t` is not kept at level `x` alone among the levels down to it (null: it is). */
function keepViolation(problem: Problem, t: number, mapping: Mapping, x: number): string | null {
  for (let i = 0; i <= x; i++) {
    if (mapping.levels[i].keep[t] !== (i === x)) return `${problem.name} must keep ${problem.dataspaces[t].name} at level ${x} and not above`;
  }
  return null;
}

/** Why a fused loop of a layer splits a dimension it needs whole (null: none does). */
function splitsWhole(cascade: Cascade, layer: number, mapping: Mapping, x: number): string | null {
  const { problem, whole } = cascade.layers[layer];
  if (!whole || whole.length === 0) return null;
  const l = loopsAbove(mapping, x).find((loop) => !loop.spatial && whole.includes(loop.dim));
  return l ? `${problem.name} needs ${problem.dimensions[l.dim]} whole below the fusion level (its sweeps)` : null;
}

/** Why the consumer's mapping cannot be the consuming side (null: it can). Its fused loops are matched by key. */
export function consumerViolation(cascade: Cascade, link: CascadeLink, mapping: Mapping, x: number): string | null {
  const { problem } = cascade.layers[link.consumer];
  const t = link.consumerDataspace;
  const name = problem.dataspaces[t].name;
  const keeps = keepViolation(problem, t, mapping, x);
  if (keeps !== null) return keeps;
  // The loops over the shared tensor enclose the others: once another loop has started, none over the tensor may follow.
  let other = false;
  for (const l of loopsAbove(mapping, x)) {
    if (l.spatial) continue;
    if (!relevant(problem, t, l.dim)) other = true;
    else if (other) return `${problem.name} has a loop over ${problem.dimensions[l.dim]} above the fusion level inside a loop that does not walk ${name}`;
  }
  return splitsWhole(cascade, link.consumer, mapping, x) ?? (imperfectAbove(mapping, x) ? `${problem.name} has an imperfect loop above the fusion level` : null);
}

function imperfectAbove(mapping: Mapping, x: number): boolean {
  for (let i = 0; i < x; i++) {
    const lm = mapping.levels[i];
    if (lm.temporal.factors.some((f, d) => f !== lm.temporal.residuals[d])) return true;
    if (lm.spatial && lm.spatial.factors.some((f, d) => f !== lm.spatial!.residuals[d])) return true;
  }
  return false;
}

/** One layer's use of one level: words over all its instances, split by whether a tile must outlive the other layers' turns. */
export interface LevelUse {
  /** Tiles the layer reuses across the fused loops' steps (Timeloop counts no refill there), so they stay while the others run. */
  readonly persistent: number;
  /** Tiles refilled at every step of the fused loops: they need room only during the layer's own turn. */
  readonly transient: number;
  /** The shared tensors' tiles at this level (counted once per link by the caller). */
  readonly shared: ReadonlyMap<number, number>;
}

/**
 * A layer's use of level `i`, in words over all its instances. A tile held
 * at i must keep its room while the other layers run when a fused loop
 * steps during its life: a fused loop at or below i (above the fusion
 * level, a level's tile outlives the fused loops inside it), or a fused
 * loop above i whose step, with every loop inside it above i, leaves the
 * tile unchanged (the loops do not walk the dataspace), since Timeloop then
 * counts no refill.
 * The fused loops are the layer's `fusedLoopCount` outermost temporal loops
 * (see {@link fusedLoopCount}); `sharedDataspaces` are its fused tensors at i.
 */
export function levelUse(problem: Problem, mapping: Mapping, i: number, fusedLoopCount: number, sharedDataspaces: readonly number[]): LevelUse {
  const nd = problem.dimensions.length;
  // Extent of the per-instance tile of level i along each dimension, and the instances used.
  const extent = new Array<number>(nd).fill(1);
  for (let j = i; j < mapping.levels.length; j++) {
    const lm = mapping.levels[j];
    for (let d = 0; d < nd; d++) extent[d] *= lm.temporal.factors[d] * (lm.spatial ? lm.spatial.factors[d] : 1);
  }
  let instances = 1;
  for (let j = 0; j < i; j++) {
    const sp = mapping.levels[j].spatial;
    if (sp) instances *= sp.factors.reduce((p, f) => p * f, 1);
  }
  // The fused loops are the outermost ones (see fusedLoopCount).
  const outer = loopsAbove(mapping, i).filter((l) => !l.spatial);
  const fused = loopsAbove(mapping, mapping.levels.length)
    .filter((l) => !l.spatial)
    .slice(0, fusedLoopCount);
  // A fused loop at or below level i runs inside the life of every tile of i: the other layers take turns while it is held.
  const turnsInside = fused.some((l) => l.level >= i);
  let persistent = 0;
  let transient = 0;
  const shared = new Map<number, number>();
  problem.dataspaces.forEach((ds, t) => {
    if (!mapping.levels[i].keep[t]) return;
    let words = 1;
    for (const rank of ds.projection) {
      let e = 1;
      for (const term of rank) e += Math.abs(term.coefficient) * (extent[term.dimension] - 1);
      words *= e;
    }
    words *= instances;
    if (sharedDataspaces.includes(t)) {
      shared.set(t, words);
      return;
    }
    // The innermost outer loop that walks the dataspace; a fused loop inside it is a reuse across the layers' turns.
    let walker = -1;
    outer.forEach((l, k) => {
      if (relevant(problem, t, l.dim)) walker = k;
    });
    const reusedAcrossTurns = outer.some((_, k) => k > walker && k < fusedLoopCount);
    if (turnsInside || reusedAcrossTurns) persistent += words;
    else transient += words;
  });
  return { persistent, transient, shared };
}

/**
 * How many of a fused layer's outermost temporal loops are fused loops, the
 * steps at which the other layers of its group take their turn: all its
 * loops above the level when it produces a fused tensor, else (the last
 * consumer) those over the tensor it consumes, which enclose its others.
 */
export function fusedLoopCount(cascade: Cascade, links: readonly CascadeLink[], layer: number, mapping: Mapping, x: number): number {
  const above = loopsAbove(mapping, x).filter((l) => !l.spatial);
  if (links.some((l) => l.producer === layer)) return above.length;
  const input = links.find((l) => l.consumer === layer);
  if (!input) return 0;
  const { problem } = cascade.layers[layer];
  let n = 0;
  while (n < above.length && relevant(problem, input.consumerDataspace, above[n].dim)) n++;
  return n;
}

/** Usable words of a level over all its instances. */
function levelCapacity(arch: Architecture, i: number): number {
  const s = arch.storage[i];
  return s.sizeWords === null ? Infinity : Math.floor(s.sizeWords / s.multipleBuffering) * s.instances;
}

/**
 * Why a group of fused layers does not fit (null: it fits). `group` lists
 * layer indices (consecutive, linked), `links` the fused links between
 * them, all at level `levelName`. For every bounded memory that two or
 * more of the layers use ({@link physicalLevel}), the persistent tiles of all of them, the
 * shared tiles (once per link) and the largest transient use of one layer
 * must fit the smallest capacity any of them gives the level.
 */
export function capacityViolation(cascade: Cascade, group: readonly number[], links: readonly CascadeLink[], levelName: string, mappings: readonly Mapping[]): string | null {
  // The bounded memories, and the layers that use each.
  const users = new Map<string, number[]>();
  for (const g of group) {
    const arch = cascade.layers[g].arch;
    for (let i = 0; i < arch.storage.length; i++) {
      if (arch.storage[i].sizeWords === null) continue;
      const key = physicalLevel(arch, i);
      const list = users.get(key);
      if (list) list.push(g);
      else users.set(key, [g]);
    }
  }
  for (const [key, layers] of users) {
    if (layers.length < 2) continue;
    const name = key.slice(0, key.lastIndexOf('|'));
    let persistent = 0;
    let transient = 0;
    let capacity = Infinity;
    const sharedWords = new Map<CascadeLink, number>();
    for (const g of layers) {
      const layer = cascade.layers[g];
      const i = levelIndex(layer.arch, name);
      const x = levelIndex(layer.arch, levelName);
      const mine = links.flatMap((l) => (l.producer === g ? [{ link: l, t: l.producerDataspace }] : l.consumer === g ? [{ link: l, t: l.consumerDataspace }] : []));
      const use = levelUse(layer.problem, mappings[g], i, fusedLoopCount(cascade, links, g, mappings[g], x), i === x ? mine.map((m) => m.t) : []);
      persistent += use.persistent;
      transient = Math.max(transient, use.transient);
      for (const m of mine) {
        const w = use.shared.get(m.t);
        if (w !== undefined) sharedWords.set(m.link, Math.max(sharedWords.get(m.link) ?? 0, w));
      }
      capacity = Math.min(capacity, levelCapacity(layer.arch, i));
    }
    let total = persistent + transient;
    for (const w of sharedWords.values()) total += w;
    if (total > capacity) return `${name}: the fused layers need ${total} words at once, it holds ${capacity}`;
  }
  return null;
}
