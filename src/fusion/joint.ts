/**
 * Joint search of a cascade's fused mappings (the rules are fused.ts's).
 * Which links to fuse, at which level, and every layer's mapping are
 * chosen together:
 *
 * 1. Each layer's map space is enumerated once per role it can take (alone,
 *    producing a fused tensor at level X, consuming one, both), under its
 *    constraints with the fused tensors' keeps.
 * 2. A layer's candidates are grouped by their fused loops (the loops above
 *    X over the shared tensor, in the consumer's dimensions) and pruned to
 *    the Pareto front of energy, cycles and what they reserve at each
 *    shared level: a candidate another beats on all of these can never be
 *    part of a better fused mapping, since the capacity a group needs grows
 *    with each of them.
 * 3. Candidates with equal fused loops are joined along each group of fused
 *    layers and checked against the shared capacities; groups are chained
 *    by a dynamic program over the cascade keeping the energy–cycles
 *    Pareto front. Not fusing is always one of the choices, so the result
 *    is never worse than the layers mapped alone.
 *
 * The enumeration makes this exact and is meant for layers small enough to
 * enumerate; larger layers need a search that proposes the candidates
 * (not built yet).
 */
import type { Mapping } from '../mapping/mapping.ts';
import { MapSpace, InfeasibleMapspaceError } from '../mapper/mapspace.ts';
import { better, exhaustiveSearch, type Metric } from '../mapper/search.ts';
import { prepareModel } from '../model/evaluate.ts';
import { UserError } from '../util/errors.ts';
import type { Cascade } from './cascade.ts';
import {
  capacityViolation,
  consumerFusedKey,
  consumerViolation,
  fusedLoopCount,
  fusionLevels,
  levelIndex,
  levelUse,
  physicalLevel,
  producerFusedKey,
  producerViolation,
  withFusedKeeps,
} from './fused.ts';

/** A layer's mapping and its cost under the exact model. */
export interface LayerCandidate {
  readonly mapping: Mapping;
  readonly energy: number;
  readonly cycles: number;
}

/** Consecutive layers `first..last` fused at `level` (null: one layer alone). */
export interface FusedGroup {
  readonly first: number;
  readonly last: number;
  readonly level: string | null;
  /** One per layer of the group. */
  readonly mappings: readonly Mapping[];
}

/** A mapping of the whole cascade: its groups in order, and the sums of the layers' costs. */
export interface CascadePoint {
  readonly energy: number;
  readonly cycles: number;
  readonly groups: readonly FusedGroup[];
}

export interface JointOptions {
  /** What the best point minimizes (default EDP); the front is the same whatever it is. */
  readonly metrics?: readonly Metric[];
  /** Levels (names) a link may be fused at; default every level both layers have below the outermost. */
  readonly levels?: readonly string[];
  /** Candidates one layer may enumerate in one role before the search gives up (default 200,000). */
  readonly maxCandidates?: number;
}

export interface JointResult {
  readonly best: CascadePoint;
  /** Energy–cycles Pareto front over every fused mapping of the cascade, by energy. */
  readonly front: readonly CascadePoint[];
  /** The best with no link fused. */
  readonly unfused: CascadePoint;
  readonly stats: { readonly candidates: number; readonly kept: number; readonly groupsJoined: number };
}

/** A layer's role in a group: the level of its fused input and of its fused output (null: not fused). */
interface Role {
  readonly input: string | null;
  readonly output: string | null;
}

interface Keyed extends LayerCandidate {
  readonly inKey: string;
  readonly outKey: string;
  /** What it reserves at the levels its group shares, for the pruning. */
  readonly use: readonly number[];
}

/** Enumerates one layer's valid mappings in one role, each with its fused-loop keys. */
export function enumerateRole(cascade: Cascade, layer: number, role: Role, maxCandidates = 200_000): Keyed[] {
  const l = cascade.layers[layer];
  const inLink = layer > 0 ? cascade.links[layer - 1] : undefined;
  const outLink = layer < cascade.links.length ? cascade.links[layer] : undefined;
  const fused: { dataspace: number; level: number }[] = [];
  const xIn = role.input === null ? -1 : levelIndex(l.arch, role.input);
  const xOut = role.output === null ? -1 : levelIndex(l.arch, role.output);
  if (role.input !== null && inLink) fused.push({ dataspace: inLink.consumerDataspace, level: xIn });
  if (role.output !== null && outLink) fused.push({ dataspace: outLink.producerDataspace, level: xOut });
  let space: MapSpace;
  try {
    space = new MapSpace(l.problem, l.arch, withFusedKeeps(l.constraints, fused), { imperfect: 'off' });
  } catch (e) {
    if (e instanceof InfeasibleMapspaceError || e instanceof UserError) return [];
    throw e;
  }
  const ctx = prepareModel(l.problem, l.arch, l.ert);
  const out: Keyed[] = [];
  exhaustiveSearch(space, ctx, {
    metrics: ['edp'],
    visit: (mapping, energy, cycles) => {
      if (out.length >= maxCandidates) {
        throw new UserError(`cascade ${cascade.name}: layer ${l.id} has more than ${maxCandidates} mappings in one fusion role, too many to enumerate`);
      }
      if (role.input !== null && inLink && consumerViolation(cascade, inLink, mapping, xIn) !== null) return;
      if (role.output !== null && outLink && producerViolation(cascade, outLink, mapping, xOut) !== null) return;
      const inKey = role.input !== null && inLink ? consumerFusedKey(inLink, l.problem, mapping, xIn) : '';
      const outKey = role.output !== null && outLink ? producerFusedKey(outLink, mapping, xOut) : '';
      out.push({ mapping, energy, cycles, inKey, outKey, use: [] });
    },
  });
  return out;
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

/** Every valid fused mapping of group `first..last` at `level` (null: one layer alone), its front kept. */
function groupFront(cascade: Cascade, first: number, last: number, level: string | null, roles: Map<string, Keyed[]>, stats: { kept: number; groupsJoined: number }): CascadePoint[] {
  const role = (g: number): Role => ({ input: level !== null && g > first ? level : null, output: level !== null && g < last ? level : null });
  const links = cascade.links.slice(first, last);
  const layers = Array.from({ length: last - first + 1 }, (_, k) => first + k);
  // Levels whose capacity the group shares (by name): the use vectors the pruning compares.
  const shared: string[] = [];
  if (level !== null) {
    for (const g of layers) {
      const arch = cascade.layers[g].arch;
      for (let i = levelIndex(arch, level); i < arch.storage.length; i++) if (!shared.includes(physicalLevel(arch, i))) shared.push(physicalLevel(arch, i));
    }
  }
  const pruned = layers.map((g) => {
    const r = role(g);
    const all = roles.get(`${g}|${r.input}|${r.output}`) ?? [];
    const withUse = all.map((c) => {
      if (level === null) return c;
      const arch = cascade.layers[g].arch;
      const x = levelIndex(arch, level);
      const mine = links.flatMap((l) => (l.producer === g ? [l.producerDataspace] : l.consumer === g ? [l.consumerDataspace] : []));
      const count = fusedLoopCount(cascade, links, g, c.mapping, x);
      const use = shared.flatMap((key) => {
        const i = arch.storage.findIndex((_, j) => physicalLevel(arch, j) === key);
        if (i < x) return [0, 0, 0];
        const u = levelUse(cascade.layers[g].problem, c.mapping, i, count, i === x ? mine : []);
        let shared = 0;
        for (const w of u.shared.values()) shared += w;
        return [u.persistent, u.transient, shared];
      });
      return { ...c, use };
    });
    // Prune within each pair of keys: only candidates with the same fused loops compete.
    const byKeys = new Map<string, Keyed[]>();
    for (const c of withUse) {
      const k = `${c.inKey}#${c.outKey}`;
      const list = byKeys.get(k);
      if (list) list.push(c);
      else byKeys.set(k, [c]);
    }
    const kept = [...byKeys.values()].flatMap((list) => paretoCandidates(list));
    stats.kept += kept.length;
    return kept;
  });
  const points: CascadePoint[] = [];
  const chosen: Keyed[] = [];
  const join = (k: number, energy: number, cycles: number) => {
    if (k === pruned.length) {
      stats.groupsJoined++;
      const mappings = chosen.map((c) => c.mapping);
      const all = cascade.layers.map((_, g) => (g >= first && g <= last ? mappings[g - first] : chosen[0].mapping));
      if (level !== null && capacityViolation(cascade, layers, links, level, all) !== null) return;
      points.push({ energy, cycles, groups: [{ first, last, level, mappings }] });
      return;
    }
    for (const c of pruned[k]) {
      if (k > 0 && c.inKey !== chosen[k - 1].outKey) continue;
      chosen[k] = c;
      join(k + 1, energy + c.energy, cycles + c.cycles);
    }
    chosen.length = k;
  };
  join(0, 0, 0);
  return paretoPoints(points);
}

/**
 * The joint search (see the file's comment). Throws a UserError when a
 * layer has too many mappings to enumerate.
 */
export function jointSearch(cascade: Cascade, options: JointOptions = {}): JointResult {
  const metrics = options.metrics ?? ['edp'];
  const n = cascade.layers.length;
  const levelsOf = (link: number) => fusionLevels(cascade, cascade.links[link]).filter((name) => options.levels === undefined || options.levels.includes(name));
  // Every role any group can give a layer.
  const roles = new Map<string, Keyed[]>();
  let candidates = 0;
  const need = (g: number, r: Role) => {
    const k = `${g}|${r.input}|${r.output}`;
    if (roles.has(k)) return;
    const list = enumerateRole(cascade, g, r, options.maxCandidates);
    candidates += list.length;
    roles.set(k, list);
  };
  const groupLevels = (first: number, last: number): (string | null)[] => {
    if (first === last) return [null];
    let common = levelsOf(first);
    for (let k = first + 1; k < last; k++) common = common.filter((x) => levelsOf(k).includes(x));
    return common;
  };
  for (let first = 0; first < n; first++) {
    for (let last = first; last < n; last++) {
      for (const level of groupLevels(first, last)) {
        for (let g = first; g <= last; g++) need(g, { input: level !== null && g > first ? level : null, output: level !== null && g < last ? level : null });
      }
    }
  }
  const stats = { candidates, kept: 0, groupsJoined: 0 };
  // fronts[k]: the front of the first k layers.
  const fronts: CascadePoint[][] = [[{ energy: 0, cycles: 0, groups: [] }]];
  const unfusedFronts: CascadePoint[][] = [[{ energy: 0, cycles: 0, groups: [] }]];
  const groupFronts = new Map<string, CascadePoint[]>();
  const front = (first: number, last: number, level: string | null) => {
    const k = `${first}|${last}|${level}`;
    let f = groupFronts.get(k);
    if (!f) {
      f = groupFront(cascade, first, last, level, roles, stats);
      groupFronts.set(k, f);
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
    if (best === null) throw new UserError(`cascade ${cascade.name}: no layer has a valid mapping alone`);
    return best;
  };
  return { best: pick(fronts[n]), front: fronts[n], unfused: pick(unfusedFronts[n]), stats };
}
