/**
 * A problem (workload) in Timeloop's sense: an operation space spanned by named
 * one-letter dimensions, and dataspaces (tensors) that project it.
 */

/** One `dimension × coefficient` term of a projection. */
export interface ProjectionTerm {
  /** Index into `Problem.dimensions`. */
  readonly dimension: number;
  /** Resolved coefficient value (1 when the term has no coefficient). */
  readonly coefficient: number;
  /** Name of the coefficient, kept so the problem can be written back out. */
  readonly coefficientName?: string;
}

export interface DataSpace {
  readonly name: string;
  /** One entry per tensor rank; each rank index is a sum of terms. */
  readonly projection: readonly (readonly ProjectionTerm[])[];
  /** The output (partial sums): read-modify-write, with first-read elision. */
  readonly readWrite: boolean;
}

export interface Problem {
  readonly name: string;
  /** One-letter dimension names, in declaration order. */
  readonly dimensions: readonly string[];
  /** Size of each dimension, parallel to `dimensions`. */
  readonly bounds: readonly number[];
  /** Coefficient values by name (strides, dilations), defaults applied. */
  readonly coefficients: Readonly<Record<string, number>>;
  readonly dataspaces: readonly DataSpace[];
}

/** Number of multiply-accumulates: the volume of the operation space. */
export function operationCount(problem: Problem): number {
  let n = 1;
  for (const b of problem.bounds) n *= b;
  return n;
}

/** Size of a dataspace, in words, over the whole operation space. */
export function dataspaceSize(problem: Problem, ds: DataSpace): number {
  let n = 1;
  for (const rank of ds.projection) {
    let extent = 1;
    for (const t of rank) extent += Math.abs(t.coefficient) * (problem.bounds[t.dimension] - 1);
    n *= extent;
  }
  return n;
}

/**
 * True when every rank of every dataspace is a single dimension with
 * coefficient 1 and no dimension appears twice in one dataspace: GEMMs,
 * normalization ops, 1x1 convolutions. The model has a closed-form fast path
 * for these.
 */
export function isAxisAligned(problem: Problem): boolean {
  for (const ds of problem.dataspaces) {
    const seen = new Set<number>();
    for (const rank of ds.projection) {
      if (rank.length !== 1 || rank[0].coefficient !== 1) return false;
      if (seen.has(rank[0].dimension)) return false;
      seen.add(rank[0].dimension);
    }
  }
  return true;
}

/**
 * The same problem with every size-1 dimension taken out of the projections
 * (and ranks left without terms dropped). Such a term is always 0, so tiles,
 * deltas and every count are unchanged; but a GEMM written in a
 * convolution's 7- or 8-dimension form (R = S = N = Q = 1) becomes
 * axis-aligned, which the closed-form analysis and the mapper's pruning need.
 */
export function withoutUnitTerms(problem: Problem): Problem {
  return {
    ...problem,
    dataspaces: problem.dataspaces.map((ds) => ({
      ...ds,
      projection: ds.projection.map((rank) => rank.filter((t) => problem.bounds[t.dimension] > 1)).filter((rank) => rank.length > 0),
    })),
  };
}
