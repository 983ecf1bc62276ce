/**
 * Joint search of a cascade's fused mappings (the rules are fused.ts's).
 * Which links to fuse, at which level, and every layer's mapping are
 * chosen together:
 *
 * 1. Each layer gets candidate mappings per role it can take (alone,
 *    producing a fused tensor at level X, consuming one, both), under its
 *    constraints with the fused tensors' keeps. A small role's whole map
 *    space is enumerated (exact); a large one's candidates are what the
 *    local search scores, and the layers are then aligned: the fused loops
 *    of one side's best candidates are imposed on the other side's search.
 * 2. A layer's candidates are grouped by their fused loops (the loops above
 *    X over the shared tensor, in the consumer's dimensions) and pruned to
 *    the Pareto front of energy, cycles and what they reserve at each
 *    level: a candidate another beats on all of these can
 *    never be part of a better fused mapping, since the capacity a group
 *    needs grows with each of them.
 * 3. Candidates with equal fused loops are joined along each group of fused
 *    layers and checked against the shared capacities; groups are chained
 *    by a dynamic program over the cascade keeping the energy–cycles
 *    Pareto front. Not fusing is always one of the choices, so the result
 *    is never worse than the layers mapped alone (by the same search).
 */
import type { Mapping } from '../mapping/mapping.ts';
import type { MapspaceConstraints } from '../mapper/constraints.ts';
import { MapSpace, InfeasibleMapspaceError } from '../mapper/mapspace.ts';
import { better, cloneMapping, exhaustiveSearch, localSearch, type Metric } from '../mapper/search.ts';
import { evaluateMapping, prepareModel, type ModelContext } from '../model/evaluate.ts';
import { UserError } from '../util/errors.ts';
import type { Cascade, CascadeLink } from './cascade.ts';
import {
  capacityViolation,
  consumerFusedKey,
  consumerViolation,
  fusedLoopCount,
  fusionLevels,
  levelIndex,
  levelUse,
  producerFusedKey,
  producerViolation,
  withFusedKeeps,
  type NestLoop,
} from './fused.ts';

/** Consecutive layers `first..last` fused at `level` (null: one layer alone). */
export interface FusedGroup {
  readonly first: number;
  readonly last: number;
  readonly level: string | null;
  /** One per layer of the group. */
  readonly mappings: readonly Mapping[];
}

/** A mapping of the whole cascade: its groups in order, and the sums of the layers' costs (each times its count). */
export interface CascadePoint {
  readonly energy: number;
  readonly cycles: number;
  readonly groups: readonly FusedGroup[];
}

export interface JointOptions {
  /** What the best point minimizes (default EDP); the front is the same whatever it is. */
  readonly metrics?: readonly Metric[];
  /** Levels (names) a link may be fused at; default every level both layers share below the outermost. */
  readonly levels?: readonly string[];
  /**
   * How candidates are found: `enumerate` every role's whole map space,
   * `search`, or `auto` (the default): enumerate a role whose map space
   * holds at most {@link ENUMERATE_LIMIT} factor splits (over its bypass
   * choices), search the others.
   */
  readonly candidates?: 'enumerate' | 'search' | 'auto';
  /** `enumerate`: candidates one layer may have in one role before the search gives up (default 200,000). */
  readonly maxCandidates?: number;
  /** `search`: effort of each layer's local search per role (default 3000). */
  readonly effort?: number;
  /** `search`: fused loops of one side imposed on the other side's search, per link and level (default 4). */
  readonly align?: number;
  readonly seed?: number;
  /**
   * Mappings offered as candidates of a layer in a role (a layer's best
   * alone, a study rewrite's fused side): each that keeps the role's rules
   * joins its pool, so the result is at least as good as any cascade they
   * make up.
   */
  readonly seeds?: readonly { readonly layer: number; readonly role: Role; readonly mapping: Mapping }[];
}

export interface JointResult {
  readonly best: CascadePoint;
  /** Energy–cycles Pareto front over every fused mapping of the cascade found, by energy. */
  readonly front: readonly CascadePoint[];
  /** The best with no link fused. */
  readonly unfused: CascadePoint;
  readonly stats: { readonly candidates: number; readonly kept: number; readonly groupsJoined: number; readonly searches: number };
}

/** Factor splits (times bypass choices) up to which `auto` enumerates a role's map space. */
export const ENUMERATE_LIMIT = 500;

/** A layer's role in a group: the level of its fused input and of its fused output (null: not fused). */
export interface Role {
  readonly input: string | null;
  readonly output: string | null;
}

export interface Candidate {
  readonly mapping: Mapping;
  readonly energy: number;
  readonly cycles: number;
  /** Fused loops of its input link, in its own dimensions ('' when its input is not fused). */
  readonly inKey: string;
  /** Fused loops of its output link, in the consumer's dimensions ('' when its output is not fused). */
  readonly outKey: string;
  /** Per level of its architecture: persistent, transient and shared words (see levelUse). */
  readonly use: readonly number[];
}

/** What a layer needs to take a role: its fused links, their levels in its architecture, its constraints. */
interface RoleSetup {
  readonly layer: number;
  readonly role: Role;
  readonly inLink: CascadeLink | undefined;
  readonly outLink: CascadeLink | undefined;
  readonly xIn: number;
  readonly xOut: number;
  readonly constraints: MapspaceConstraints;
  readonly ctx: ModelContext;
}

function roleSetup(cascade: Cascade, layer: number, role: Role, contexts: Map<number, ModelContext>): RoleSetup {
  const l = cascade.layers[layer];
  const inLink = role.input !== null ? cascade.links[layer - 1] : undefined;
  const outLink = role.output !== null ? cascade.links[layer] : undefined;
  const xIn = role.input === null ? -1 : levelIndex(l.arch, role.input);
  const xOut = role.output === null ? -1 : levelIndex(l.arch, role.output);
  const fused: { dataspace: number; level: number }[] = [];
  if (inLink) fused.push({ dataspace: inLink.consumerDataspace, level: xIn });
  if (outLink) fused.push({ dataspace: outLink.producerDataspace, level: xOut });
  let ctx = contexts.get(layer);
  if (!ctx) {
    ctx = prepareModel(l.problem, l.arch, l.ert);
    contexts.set(layer, ctx);
  }
  return { layer, role, inLink, outLink, xIn, xOut, constraints: withFusedKeeps(l.constraints, fused), ctx };
}

const roleKey = (g: number, r: Role) => `${g}|${r.input}|${r.output}`;

/** The candidate a mapping makes in a role (copied), or null when it breaks the role's rules. */
function candidateOf(cascade: Cascade, s: RoleSetup, mapping: Mapping, energy: number, cycles: number): Candidate | null {
  const { problem } = cascade.layers[s.layer];
  if (s.inLink && consumerViolation(cascade, s.inLink, mapping, s.xIn) !== null) return null;
  if (s.outLink && producerViolation(cascade, s.outLink, mapping, s.xOut) !== null) return null;
  const inKey = s.inLink ? consumerFusedKey(s.inLink, problem, mapping, s.xIn) : '';
  const outKey = s.outLink ? producerFusedKey(s.outLink, mapping, s.xOut) : '';
  const use: number[] = [];
  const x = s.outLink ? s.xOut : s.xIn;
  if (x >= 0) {
    const links = [s.inLink, s.outLink].filter((l): l is CascadeLink => l !== undefined);
    const count = fusedLoopCount(cascade, links, s.layer, mapping, x);
    const shared = [...(s.inLink ? [s.inLink.consumerDataspace] : []), ...(s.outLink ? [s.outLink.producerDataspace] : [])];
    for (let i = 0; i < mapping.levels.length; i++) {
      const u = levelUse(problem, mapping, i, count, i === x ? shared : []);
      let words = 0;
      for (const w of u.shared.values()) words += w;
      use.push(u.persistent, u.transient, words);
    }
  }
  return { mapping: cloneMapping(mapping), energy, cycles, inKey, outKey, use };
}

/** Whether `a` is at least as good as `b` in every coordinate. */
function dominates(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] > b[i]) return false;
  return true;
}

/** The candidates no other beats on energy, cycles and use (first of equals kept), in their order. */
export function paretoCandidates<T extends { energy: number; cycles: number; use: readonly number[] }>(items: readonly T[]): T[] {
  const vec = (c: T) => [c.energy, c.cycles, ...c.use];
  const sorted = items.map((c, i) => ({ c, i, v: vec(c) })).sort((x, y) => x.v[0] - y.v[0] || x.v[1] - y.v[1] || x.i - y.i);
  const kept: typeof sorted = [];
  for (const s of sorted) if (!kept.some((k) => dominates(k.v, s.v))) kept.push(s);
  return kept.sort((x, y) => x.i - y.i).map((k) => k.c);
}

/**
 * A role's candidates by fused-loop keys. With a cap (the search), each key
 * keeps its Pareto front as candidates arrive, at most `cap` of them (the
 * lowest EDP); without, everything (pruned when joined).
 */
class Pool {
  readonly byKey = new Map<string, Candidate[]>();
  added = 0;
  constructor(private readonly cap: number | null) {}

  add(c: Candidate): void {
    this.added++;
    const key = `${c.inKey}#${c.outKey}`;
    let list = this.byKey.get(key);
    if (!list) {
      list = [];
      this.byKey.set(key, list);
    }
    if (this.cap === null) {
      list.push(c);
      return;
    }
    const v = [c.energy, c.cycles, ...c.use];
    const vec = (x: Candidate) => [x.energy, x.cycles, ...x.use];
    if (list.some((x) => dominates(vec(x), v))) return;
    const kept = list.filter((x) => !dominates(v, vec(x)));
    kept.push(c);
    if (kept.length > this.cap) {
      kept.sort((a, b) => a.energy * a.cycles - b.energy * b.cycles);
      kept.length = this.cap;
    }
    this.byKey.set(key, kept);
  }

  all(): Candidate[] {
    return [...this.byKey.values()].flat();
  }

  /** Keys of one side ('in' or 'out'), by the lowest EDP of their candidates. */
  bestKeys(side: 'in' | 'out', n: number): string[] {
    const best = new Map<string, number>();
    for (const c of this.all()) {
      const k = side === 'in' ? c.inKey : c.outKey;
      const e = c.energy * c.cycles;
      if (e < (best.get(k) ?? Infinity)) best.set(k, e);
    }
    return [...best.entries()]
      .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, n)
      .map(([k]) => k);
  }
}

function spaceOf(cascade: Cascade, s: RoleSetup, constraints: MapspaceConstraints): MapSpace | null {
  const l = cascade.layers[s.layer];
  try {
    return new MapSpace(l.problem, l.arch, constraints, { imperfect: 'off' });
  } catch (e) {
    if (e instanceof InfeasibleMapspaceError || e instanceof UserError) return null;
    throw e;
  }
}

/** Enumerates one layer's valid mappings in one role (exact; for small layers). */
export function enumerateRole(cascade: Cascade, layer: number, role: Role, maxCandidates = 200_000): Candidate[] {
  const s = roleSetup(cascade, layer, role, new Map());
  const pool = new Pool(null);
  enumerateInto(cascade, s, pool, maxCandidates);
  return pool.all();
}

function enumerateInto(cascade: Cascade, s: RoleSetup, pool: Pool, maxCandidates: number): void {
  const space = spaceOf(cascade, s, s.constraints);
  if (space === null) return;
  let seen = 0;
  exhaustiveSearch(space, s.ctx, {
    metrics: ['edp'],
    visit: (mapping, energy, cycles) => {
      if (++seen > maxCandidates) {
        throw new UserError(`cascade ${cascade.name}: layer ${cascade.layers[s.layer].id} has more than ${maxCandidates} mappings in one fusion role, too many to enumerate (use candidates: 'search' or 'auto')`);
      }
      const c = candidateOf(cascade, s, mapping, energy, cycles);
      if (c) pool.add(c);
    },
  });
}

/** Parses a fused-loop key back into loops (dimensions as the key has them). */
function keyLoops(key: string): NestLoop[] {
  if (key === '') return [];
  return key.split(' ').map((part) => {
    const [level, dim, factor] = part.split(':').map(Number);
    return { level, dim, factor, spatial: false };
  });
}

/**
 * The role's constraints for the search: a producer has no loop above its
 * fusion level over what its fused output does not walk, no layer a loop
 * there over what it needs whole; `fixed` imposes
 * fused loops (in this layer's dimensions) above level `x` over the
 * dataspace `t`: those factors exactly, 1 for its other loops over t there,
 * and their order outermost.
 */
function searchConstraints(cascade: Cascade, s: RoleSetup, fixed?: { loops: readonly NestLoop[]; x: number; t: number }): MapspaceConstraints {
  const { problem } = cascade.layers[s.layer];
  const walks = (t: number, d: number) => problem.dataspaces[t].projection.some((r) => r.some((term) => term.dimension === d));
  const levels = s.constraints.levels.map((lc, j) => {
    const temporal = { ...lc.temporal, exact: lc.temporal.exact.slice(), suffix: lc.temporal.suffix.slice() };
    const spatial = { ...lc.spatial, exact: lc.spatial.exact.slice() };
    if (s.outLink && j < s.xOut) {
      problem.dimensions.forEach((_, d) => {
        if (walks(s.outLink!.producerDataspace, d)) return;
        temporal.exact[d] = 1;
        spatial.exact[d] = 1;
      });
    }
    const x = Math.max(s.xIn, s.xOut);
    if (j < x) for (const d of cascade.layers[s.layer].whole ?? []) temporal.exact[d] = 1;
    if (fixed && j < fixed.x) {
      const here = fixed.loops.filter((l) => l.level === j);
      problem.dimensions.forEach((_, d) => {
        if (walks(fixed.t, d)) temporal.exact[d] = here.find((l) => l.dim === d)?.factor ?? 1;
      });
      temporal.suffix = here.map((l) => l.dim).reverse();
    }
    return { ...lc, temporal, spatial };
  });
  return { ...s.constraints, levels };
}

function searchInto(cascade: Cascade, s: RoleSetup, pool: Pool, options: JointOptions, fixed?: { loops: readonly NestLoop[]; x: number; t: number }): boolean {
  const space = spaceOf(cascade, s, searchConstraints(cascade, s, fixed));
  if (space === null) return false;
  localSearch(space, s.ctx, {
    metrics: options.metrics ?? ['edp'],
    effort: options.effort ?? 3000,
    seed: options.seed ?? 1,
    restarts: 4,
    visit: (mapping, energy, cycles) => {
      const c = candidateOf(cascade, s, mapping, energy, cycles);
      if (c) pool.add(c);
    },
  });
  return true;
}

/** Every valid fused mapping of group `first..last` at `level` (null: one layer alone) from the pools, its front kept. */
function groupFront(cascade: Cascade, first: number, last: number, level: string | null, pools: Map<string, Pool>, stats: { kept: number; groupsJoined: number }): CascadePoint[] {
  const role = (g: number): Role => ({ input: level !== null && g > first ? level : null, output: level !== null && g < last ? level : null });
  const links = cascade.links.slice(first, last);
  const layers = Array.from({ length: last - first + 1 }, (_, k) => first + k);
  const pruned = layers.map((g) => {
    const pool = pools.get(roleKey(g, role(g)));
    const kept = pool ? [...pool.byKey.values()].flatMap((list) => paretoCandidates(list)) : [];
    stats.kept += kept.length;
    return kept;
  });
  const points: CascadePoint[] = [];
  const chosen: Candidate[] = [];
  const mappings: Mapping[] = [];
  const join = (k: number, energy: number, cycles: number) => {
    if (k === pruned.length) {
      stats.groupsJoined++;
      if (level !== null && capacityViolation(cascade, layers, links, level, mappings) !== null) return;
      points.push({ energy, cycles, groups: [{ first, last, level, mappings: chosen.map((c) => c.mapping) }] });
      return;
    }
    const count = cascade.layers[first + k].count ?? 1;
    for (const c of pruned[k]) {
      if (k > 0 && c.inKey !== chosen[k - 1].outKey) continue;
      chosen[k] = c;
      mappings[first + k] = c.mapping;
      join(k + 1, energy + count * c.energy, cycles + count * c.cycles);
    }
    chosen.length = k;
  };
  join(0, 0, 0);
  return paretoPoints(points);
}

/** The energy–cycles Pareto front of cascade points, by energy (first of equals kept). */
export function paretoPoints(points: readonly CascadePoint[]): CascadePoint[] {
  const sorted = points.map((p, i) => ({ p, i })).sort((x, y) => x.p.energy - y.p.energy || x.p.cycles - y.p.cycles || x.i - y.i);
  const out: CascadePoint[] = [];
  let bestCycles = Infinity;
  for (const { p } of sorted) {
    if (p.cycles < bestCycles) {
      out.push(p);
      bestCycles = p.cycles;
    }
  }
  return out;
}

/**
 * The joint search (see the file's comment). With `enumerate`, throws a
 * UserError when a layer has too many mappings to list.
 */
export function jointSearch(cascade: Cascade, options: JointOptions = {}): JointResult {
  const metrics = options.metrics ?? ['edp'];
  const mode = options.candidates ?? 'auto';
  const n = cascade.layers.length;
  const levelsOf = (link: number) => fusionLevels(cascade, cascade.links[link]).filter((name) => options.levels === undefined || options.levels.includes(name));
  const groupLevels = (first: number, last: number): (string | null)[] => {
    if (first === last) return [null];
    let common = levelsOf(first);
    for (let k = first + 1; k < last; k++) common = common.filter((x) => levelsOf(k).includes(x));
    return common;
  };
  const contexts = new Map<number, ModelContext>();
  const pools = new Map<string, Pool>();
  const setups = new Map<string, RoleSetup>();
  /** Roles whose candidates come from the search (the others were enumerated: nothing to align). */
  const searched = new Set<string>();
  let searches = 0;
  const need = (g: number, r: Role) => {
    const k = roleKey(g, r);
    if (pools.has(k)) return;
    const s = roleSetup(cascade, g, r, contexts);
    const space = mode === 'auto' ? spaceOf(cascade, s, s.constraints) : null;
    const enumerate = mode === 'enumerate' || (mode === 'auto' && (space === null || space.keepChoices.length * space.factorizationCount() <= ENUMERATE_LIMIT));
    const pool = new Pool(enumerate ? null : 16);
    if (enumerate) enumerateInto(cascade, s, pool, options.maxCandidates ?? 200_000);
    else {
      searched.add(k);
      searches += searchInto(cascade, s, pool, options) ? 1 : 0;
    }
    setups.set(k, s);
    pools.set(k, pool);
  };
  const roleIn = (first: number, last: number, level: string | null, g: number): Role => ({
    input: level !== null && g > first ? level : null,
    output: level !== null && g < last ? level : null,
  });
  for (let first = 0; first < n; first++) {
    for (let last = first; last < n; last++) {
      for (const level of groupLevels(first, last)) for (let g = first; g <= last; g++) need(g, roleIn(first, last, level, g));
    }
  }
  for (const seed of options.seeds ?? []) {
    need(seed.layer, seed.role);
    const s = setups.get(roleKey(seed.layer, seed.role))!;
    const r = evaluateMapping(s.ctx, seed.mapping);
    if (!r.ok) continue;
    const c = candidateOf(cascade, s, seed.mapping, r.value.summary.energy_pJ, r.value.summary.cycles);
    if (c) pools.get(roleKey(seed.layer, seed.role))!.add(c);
  }
  if (searched.size > 0) {
    // Align each fused link: the producer's best fused loops imposed on the consumer's search, and the other way round.
    const aligned = new Set<string>();
    const k = options.align ?? 4;
    for (const [key, s] of setups) {
      if (!searched.has(key)) continue;
      if (s.inLink) {
        const producerRoles = [...setups.values()].filter((p) => p.layer === s.layer - 1 && p.role.output === s.role.input);
        for (const p of producerRoles) {
          for (const outKey of pools.get(roleKey(p.layer, p.role))!.bestKeys('out', k)) {
            const tag = `${key}<${outKey}`;
            if (aligned.has(tag)) continue;
            aligned.add(tag);
            searches += searchInto(cascade, s, pools.get(key)!, options, { loops: keyLoops(outKey), x: s.xIn, t: s.inLink.consumerDataspace }) ? 1 : 0;
          }
        }
      }
      if (s.outLink) {
        const link = s.outLink;
        const toProducer = new Map(link.ranks.map(([p, c]) => [c, p]));
        const consumerRoles = [...setups.values()].filter((c) => c.layer === s.layer + 1 && c.role.input === s.role.output);
        for (const c of consumerRoles) {
          for (const inKey of pools.get(roleKey(c.layer, c.role))!.bestKeys('in', k)) {
            const tag = `${key}>${inKey}`;
            if (aligned.has(tag)) continue;
            aligned.add(tag);
            const loops = keyLoops(inKey).map((l) => ({ ...l, dim: toProducer.get(l.dim) ?? -1 }));
            searches += searchInto(cascade, s, pools.get(key)!, options, { loops, x: s.xOut, t: link.producerDataspace }) ? 1 : 0;
          }
        }
      }
    }
  }
  let candidates = 0;
  for (const p of pools.values()) candidates += p.added;
  const stats = { candidates, kept: 0, groupsJoined: 0, searches };
  // fronts[k]: the front of the first k layers.
  const fronts: CascadePoint[][] = [[{ energy: 0, cycles: 0, groups: [] }]];
  const unfusedFronts: CascadePoint[][] = [[{ energy: 0, cycles: 0, groups: [] }]];
  const groupFronts = new Map<string, CascadePoint[]>();
  const front = (first: number, last: number, level: string | null) => {
    const key = `${first}|${last}|${level}`;
    let f = groupFronts.get(key);
    if (!f) {
      f = groupFront(cascade, first, last, level, pools, stats);
      groupFronts.set(key, f);
    }
    return f;
  };
  const extend = (before: readonly CascadePoint[], group: readonly CascadePoint[]): CascadePoint[] =>
    before.flatMap((p) => group.map((q) => ({ energy: p.energy + q.energy, cycles: p.cycles + q.cycles, groups: [...p.groups, ...q.groups] })));
  for (let last = 0; last < n; last++) {
    const points: CascadePoint[] = [];
    for (let first = 0; first <= last; first++) {
      for (const level of groupLevels(first, last)) points.push(...extend(fronts[first], front(first, last, level)));
    }
    fronts.push(paretoPoints(points));
    unfusedFronts.push(paretoPoints(extend(unfusedFronts[last], front(last, last, null))));
  }
  const pick = (points: readonly CascadePoint[]): CascadePoint => {
    let best: CascadePoint | null = null;
    for (const p of points) if (best === null || better(metrics, p.energy, p.cycles, best.energy, best.cycles)) best = p;
    if (best === null) throw new UserError(`cascade ${cascade.name}: some layer has no valid mapping alone`);
    return best;
  };
  return { best: pick(fronts[n]), front: fronts[n], unfused: pick(unfusedFronts[n]), stats };
}
