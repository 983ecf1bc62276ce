/**
 * Uniformly random perfect mappings: each dimension's prime factors are dealt
 * to random loop slots (temporal loops of every level, spatial loops of every
 * fanout), with random loop orders, X/Y splits and bypass choices. Used by the
 * differential tests and as the mapper's random restarts.
 */
import type { Architecture } from '../arch/architecture.ts';
import { fanoutBelow } from '../arch/architecture.ts';
import type { Problem } from '../workload/problem.ts';
import type { LevelMapping, Mapping } from './mapping.ts';
import type { Random } from '../util/random.ts';

export function primeFactors(n: number): number[] {
  const out: number[] = [];
  for (let p = 2; p * p <= n; p++) {
    while (n % p === 0) {
      out.push(p);
      n /= p;
    }
  }
  if (n > 1) out.push(n);
  return out;
}

export interface RandomMappingOptions {
  /** Probability that an inner level bypasses a dataspace (the outermost level keeps all). */
  bypassProbability?: number;
  /** Probability that a prime factor goes to a spatial slot rather than a temporal one. */
  spatialBias?: number;
}

export function randomMapping(problem: Problem, arch: Architecture, rng: Random, options: RandomMappingOptions = {}): Mapping {
  const nL = arch.storage.length;
  const nd = problem.dimensions.length;
  const bypass = options.bypassProbability ?? 0.3;
  const spatialBias = options.spatialBias ?? 0.3;
  const hasFanout = arch.storage.map((_, i) => {
    const f = fanoutBelow(arch, i);
    return f.x * f.y > 1;
  });
  const temporal = Array.from({ length: nL }, () => new Array<number>(nd).fill(1));
  const spatial = Array.from({ length: nL }, () => new Array<number>(nd).fill(1));
  const spatialLevels = hasFanout.flatMap((h, i) => (h ? [i] : []));
  for (let d = 0; d < nd; d++) {
    for (const p of primeFactors(problem.bounds[d])) {
      if (spatialLevels.length > 0 && rng.next() < spatialBias) spatial[rng.pick(spatialLevels)][d] *= p;
      else temporal[rng.int(nL)][d] *= p;
    }
  }
  const perm = () => rng.shuffle([...Array(nd).keys()]);
  const levels: LevelMapping[] = [];
  for (let i = 0; i < nL; i++) {
    const keep = problem.dataspaces.map(() => i === 0 || rng.next() >= bypass);
    levels.push({
      temporal: { factors: temporal[i], residuals: temporal[i].slice(), permutation: perm() },
      spatial: hasFanout[i] ? { factors: spatial[i], residuals: spatial[i].slice(), permutation: perm(), split: rng.int(nd + 1) } : null,
      keep,
    });
  }
  return { levels };
}

/**
 * A random neighbour of a mapping: one prime factor of one dimension moves
 * between two loop slots (temporal or spatial), or one level's loop order is
 * reshuffled. Local search and the benchmarks walk the map space with it.
 * Residuals are reset to the factors: the result is a perfect factorization.
 */
export function perturbMapping(mapping: Mapping, rng: Random): Mapping {
  const levels = mapping.levels.map((lm) => ({
    temporal: { factors: lm.temporal.factors.slice(), residuals: lm.temporal.residuals.slice(), permutation: lm.temporal.permutation.slice() },
    spatial: lm.spatial ? { ...lm.spatial, factors: lm.spatial.factors.slice(), residuals: lm.spatial.residuals.slice(), permutation: lm.spatial.permutation.slice() } : null,
    keep: lm.keep.slice(),
  }));
  const nd = levels[0].temporal.factors.length;
  if (rng.next() < 0.25) {
    rng.shuffle(levels[rng.int(levels.length)].temporal.permutation);
    return { levels };
  }
  const slots: number[][] = [];
  for (const lm of levels) {
    slots.push(lm.temporal.factors);
    if (lm.spatial) slots.push(lm.spatial.factors);
  }
  const d = rng.int(nd);
  const from = slots.filter((f) => f[d] > 1);
  if (from.length === 0) return { levels };
  const src = rng.pick(from);
  const dst = rng.pick(slots);
  const p = rng.pick(primeFactors(src[d]));
  src[d] /= p;
  dst[d] *= p;
  for (const lm of levels) {
    lm.temporal.residuals = lm.temporal.factors.slice();
    if (lm.spatial) lm.spatial.residuals = lm.spatial.factors.slice();
  }
  return { levels };
}
