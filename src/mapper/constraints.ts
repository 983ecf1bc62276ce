/**
 * Map-space constraints with Timeloop's `mapspace_constraints` semantics:
 * per target storage level, temporal and spatial factors (`D=4` exact, `D=0`
 * the whole dimension, `D>=2` / `D<=8` bounds), permutations (a prefix of
 * innermost loops, and after `_` a suffix of outermost ones), the spatial
 * X/Y `split`, and which dataspaces a level keeps or bypasses.
 */
import type { Architecture } from '../arch/architecture.ts';
import type { Problem } from '../workload/problem.ts';
import { UserError } from '../util/errors.ts';

export interface LoopConstraint {
  /** Exact factor per dimension (undefined = free). */
  exact: (number | undefined)[];
  min: (number | undefined)[];
  max: (number | undefined)[];
  /** Dimensions that must be innermost, innermost first. */
  prefix: number[];
  /** Dimensions that must be outermost (listed innermost first). */
  suffix: number[];
  /**
   * Timeloop's `remainders: n` (read by its 'ruby' map space only): this
   * loop may take any factor up to n, not only divisors, the last iteration
   * doing the rest (an imperfect factorization).
   */
  remainders?: number;
}

/** A timeloopfe `maximize_dims` macro, resolved into exact factors before the search. */
export interface MaximizeDims {
  level: number;
  spatial: boolean;
  /** Groups of dimensions, maximized one group after the other. */
  groups: number[][];
  /** Product the factors may reach (temporal: `maximize_dims_capacity`; spatial: the fanout). */
  capacity: number | undefined;
  path: string;
}

export interface LevelConstraints {
  temporal: LoopConstraint;
  spatial: LoopConstraint;
  /** Number of dimensions of the spatial permutation on X; undefined = free. */
  split: number | undefined;
  /** Per dataspace: true = must keep, false = must bypass, undefined = free. */
  keep: (boolean | undefined)[];
}

export interface MapspaceConstraints {
  /** Outermost first, parallel to `Architecture.storage`. */
  levels: LevelConstraints[];
  /** Warnings Timeloop would print (ignored constraints). */
  warnings: string[];
  /** `maximize_dims` macros not yet resolved (see `resolveMaximizeDims`). */
  maximize: MaximizeDims[];
}

function emptyLoop(nd: number): LoopConstraint {
  return { exact: new Array(nd).fill(undefined), min: new Array(nd).fill(undefined), max: new Array(nd).fill(undefined), prefix: [], suffix: [] };
}

export function unconstrained(problem: Problem, arch: Architecture): MapspaceConstraints {
  const nd = problem.dimensions.length;
  return {
    levels: arch.storage.map(() => ({
      temporal: emptyLoop(nd),
      spatial: emptyLoop(nd),
      split: undefined,
      keep: problem.dataspaces.map(() => undefined),
    })),
    warnings: [],
    maximize: [],
  };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Adds the constraints of one `mapspace_constraints` block (a list of
 * targets, or `{targets: [...]}` / `{constraints: [...]}`) to `into`. A
 * second value for something already constrained is an error, as in Timeloop.
 */
export function addConstraints(
  into: MapspaceConstraints,
  value: unknown,
  problem: Problem,
  arch: Architecture,
  origin: { file: string; path: string },
): void {
  const fail = (path: string, message: string): never => {
    throw new UserError(message, origin.file, path);
  };
  let list: unknown = value;
  if (isObj(value)) list = value['targets'] ?? value['constraints'];
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) fail(origin.path, 'expected a list of constraint targets');
  const dims = problem.dimensions;
  (list as unknown[]).forEach((entry, i) => {
    const path = `${origin.path}[${i}]`;
    if (!isObj(entry)) fail(path, 'expected a mapping with target and type');
    const e = entry as Obj;
    const target = e['target'];
    const level = arch.storage.findIndex((s) => s.name === target);
    if (level < 0) {
      fail(`${path}.target`, `'${String(target)}' is not a storage level of the architecture (${arch.storage.map((s) => s.name).join(', ')})`);
    }
    const type = String(e['type'] ?? '');
    const lc = into.levels[level];
    if (type === 'temporal' || type === 'spatial') {
      const loop = type === 'temporal' ? lc.temporal : lc.spatial;
      const factors = e['factors'];
      if (factors !== undefined) {
        if (typeof factors !== 'string') fail(`${path}.factors`, `expected a string such as "D=4 E<=8", got ${JSON.stringify(factors)}`);
        const text = (factors as string).split('#')[0];
        for (const m of text.matchAll(/([A-Za-z]+)\s*(<=|>=|=)?\s*([0-9]+)/g)) {
          const d = dims.indexOf(m[1]);
          if (d < 0) fail(`${path}.factors`, `'${m[1]}' is not a dimension of the problem (${dims.join(', ')})`);
          const op = m[2] ?? '=';
          let v = Number(m[3]);
          if (op === '=') {
            if (v === 0) v = problem.bounds[d];
            if (v > problem.bounds[d]) {
              into.warnings.push(`constraint ${m[1]}=${v} at ${arch.storage[level].name} (${type}) exceeds the problem dimension ${problem.bounds[d]}, ignoring`);
              continue;
            }
            if (loop.exact[d] !== undefined) fail(`${path}.factors`, `factor of ${m[1]} at ${arch.storage[level].name} (${type}) is constrained twice`);
            loop.exact[d] = v;
          } else if (op === '<=') {
            loop.max[d] = v;
          } else {
            loop.min[d] = v;
          }
        }
      }
      const remainders = e['remainders'];
      if (remainders !== undefined) {
        if (typeof remainders !== 'number' || !Number.isInteger(remainders) || remainders < 1) {
          fail(`${path}.remainders`, `expected a positive whole number, got ${JSON.stringify(remainders)}`);
        }
        loop.remainders = remainders as number;
      }
      const perm = e['permutation'];
      if (perm !== undefined) {
        if (typeof perm !== 'string') fail(`${path}.permutation`, 'expected a string such as "DEL" or "D_L"');
        if (loop.prefix.length > 0 || loop.suffix.length > 0) fail(`${path}.permutation`, `permutation of ${arch.storage[level].name} (${type}) is constrained twice`);
        let suffix = false;
        for (const ch of (perm as string).split('#')[0].replace(/\s/g, '')) {
          if (ch === '_') {
            suffix = true;
            continue;
          }
          const d = dims.indexOf(ch);
          if (d < 0) fail(`${path}.permutation`, `'${ch}' is not a dimension of the problem (${dims.join(', ')})`);
          (suffix ? loop.suffix : loop.prefix).push(d);
        }
      }
      const maximize = e['maximize_dims'];
      if (maximize !== undefined && maximize !== null) {
        if (!Array.isArray(maximize)) fail(`${path}.maximize_dims`, 'expected a list of dimensions or a list of lists of dimensions');
        const list = maximize as unknown[];
        const groups = (list.every((x) => typeof x === 'string') ? [list] : list).map((g, j) => {
          if (!Array.isArray(g)) fail(`${path}.maximize_dims[${j}]`, 'expected a list of dimensions (do not mix names and lists)');
          return (g as unknown[]).map((name) => {
            const d = dims.indexOf(String(name));
            if (d < 0) fail(`${path}.maximize_dims[${j}]`, `'${String(name)}' is not a dimension of the problem (${dims.join(', ')})`);
            return d;
          });
        });
        const cap = e['maximize_dims_capacity'];
        if (cap !== undefined && (typeof cap !== 'number' || !Number.isInteger(cap) || cap < 1)) {
          fail(`${path}.maximize_dims_capacity`, `expected a positive whole number, got ${JSON.stringify(cap)}`);
        }
        if (type === 'temporal' && cap === undefined) fail(`${path}.maximize_dims_capacity`, 'a temporal maximize_dims needs maximize_dims_capacity');
        into.maximize.push({ level, spatial: type === 'spatial', groups, capacity: cap as number | undefined, path: `${path}.maximize_dims` });
      }
      if (type === 'spatial' && e['split'] !== undefined) {
        const split = Number(e['split']);
        if (!Number.isInteger(split) || split < 0) fail(`${path}.split`, `expected a non-negative whole number, got ${JSON.stringify(e['split'])}`);
        if (lc.split !== undefined) fail(`${path}.split`, `split of ${arch.storage[level].name} is constrained twice`);
        lc.split = split;
      }
    } else if (type === 'bypass' || type === 'datatype' || type === 'dataspace' || type === 'bypassing') {
      const apply = (key: 'keep' | 'bypass', value: boolean) => {
        const names = e[key];
        if (names === undefined || names === null) return;
        if (!Array.isArray(names)) fail(`${path}.${key}`, 'expected a list of dataspace names');
        (names as unknown[]).forEach((n, j) => {
          const pv = problem.dataspaces.findIndex((d) => d.name === n);
          if (pv < 0) fail(`${path}.${key}[${j}]`, `'${String(n)}' is not a dataspace of the problem (${problem.dataspaces.map((d) => d.name).join(', ')})`);
          lc.keep[pv] = value;
        });
      };
      apply('keep', true);
      apply('bypass', false);
    } else if (type === 'utilization' || type === 'parallelism') {
      into.warnings.push(`${path}: '${type}' constraints are not supported and were ignored`);
    } else {
      fail(`${path}.type`, `unknown constraint type '${type}' (expected temporal, spatial or bypass)`);
    }
  });
}

function primeSet(n: number): number[] {
  const out: number[] = [];
  for (let p = 2; p * p <= n; p++) {
    if (n % p === 0) {
      out.push(p);
      while (n % p === 0) n /= p;
    }
  }
  if (n > 1) out.push(n);
  return out;
}

/**
 * Largest product of factors of `sizes` (dimension → remaining size) that
 * fits `capacity`, searched depth-first over prime factors in dimension
 * order, first best kept (timeloopfe's greedy allocation). Allocations that
 * would need an imperfect factor are not considered: the mapper works with
 * perfect factorizations.
 */
function allocate(sizes: Map<number, number>, capacity: number): { factors: Map<number, number>; utilization: number } {
  let best = { factors: new Map<number, number>(), utilization: 1 };
  if (capacity <= 1) return best;
  for (const [d, v] of sizes) {
    for (const p of primeSet(v)) {
      if (p > capacity) continue;
      const rest = new Map(sizes);
      rest.set(d, v / p);
      const sub = allocate(rest, Math.floor(capacity / p));
      const utilization = sub.utilization * p;
      if (utilization > best.utilization) {
        const factors = new Map(sub.factors);
        factors.set(d, (factors.get(d) ?? 1) * p);
        best = { factors, utilization };
      }
    }
  }
  return best;
}

/**
 * Turns the `maximize_dims` macros into exact factors the way timeloopfe
 * does: spatial ones first, then temporal ones, innermost level first; each
 * group of dimensions gets the largest factors that fit the capacity left
 * after the level's exact factors, out of what the other exact factors leave
 * of each dimension.
 */
export function resolveMaximizeDims(c: MapspaceConstraints, problem: Problem, arch: Architecture, file: string): void {
  if (c.maximize.length === 0) return;
  const nd = problem.dimensions.length;
  const remaining = problem.bounds.slice();
  for (const lc of c.levels) {
    for (const loop of [lc.temporal, lc.spatial]) {
      for (let d = 0; d < nd; d++) if (loop.exact[d] !== undefined) remaining[d] = Math.ceil(remaining[d] / loop.exact[d]!);
    }
  }
  const order = [...c.maximize].sort((a, b) => Number(b.spatial) - Number(a.spatial) || b.level - a.level);
  for (const m of order) {
    const loop = m.spatial ? c.levels[m.level].spatial : c.levels[m.level].temporal;
    let start = m.capacity;
    if (start === undefined) {
      const inner = m.level + 1 < arch.storage.length ? arch.storage[m.level + 1] : arch.arithmetic;
      const here = arch.storage[m.level];
      start = (inner.meshX * inner.meshY) / (here.meshX * here.meshY);
    }
    for (const group of m.groups) {
      let capacity = start;
      for (let d = 0; d < nd; d++) {
        const v = loop.exact[d] ?? loop.min[d];
        if (v !== undefined && v > 0) capacity = Math.floor(capacity / v);
      }
      const sizes = new Map<number, number>();
      for (const d of group) {
        if (loop.exact[d] !== undefined) {
          throw new UserError(`cannot maximize ${problem.dimensions[d]}: it is already constrained to ${loop.exact[d]}`, file, m.path);
        }
        sizes.set(d, remaining[d]);
      }
      const { factors } = allocate(sizes, capacity);
      for (const d of group) {
        const f = factors.get(d) ?? 1;
        loop.exact[d] = f;
        remaining[d] = Math.ceil(remaining[d] / f);
      }
    }
  }
  c.maximize = [];
}

/** One `mapspace_constraints`-style block, and where it was read (for the errors). */
export interface ConstraintBlock {
  readonly value: unknown;
  readonly file: string;
  /** The block's place in the file, e.g. `mapspace_constraints`. */
  readonly path: string;
}

/**
 * The map space's constraints for a problem on an architecture: the blocks
 * read in order (a second value for one slot is an error, as in Timeloop),
 * then the `maximize_dims` macros resolved, since they depend on every
 * other exact factor. `where` names the input in a macro's errors.
 */
export function constraintsFor(problem: Problem, arch: Architecture, blocks: readonly ConstraintBlock[], where: string): MapspaceConstraints {
  const c = unconstrained(problem, arch);
  for (const block of blocks) addConstraints(c, block.value, problem, arch, block);
  resolveMaximizeDims(c, problem, arch, where);
  return c;
}
