/**
 * A mapping in Timeloop's sense: per storage level, the temporal loops that run
 * at that level, the spatial loops of the fanout below it, and which
 * dataspaces the level keeps.
 */

export interface LoopBlock {
  /** Loop bound per problem dimension (1 = no loop). */
  readonly factors: readonly number[];
  /**
   * Bound of the last iteration per dimension, for imperfect factorizations
   * (`X=a,b`): equal to `factors` when the factorization is perfect.
   */
  readonly residuals: readonly number[];
  /** Dimension indices, INNERMOST FIRST, every dimension present once. */
  readonly permutation: readonly number[];
}

export interface SpatialBlock extends LoopBlock {
  /** The first `split` dimensions of the permutation go on the X axis, the rest on Y. */
  readonly split: number;
}

export interface LevelMapping {
  readonly temporal: LoopBlock;
  /** Loops of the fanout below this level; `null` when the level has no fanout. */
  readonly spatial: SpatialBlock | null;
  /** Per dataspace (problem order): is it stored at this level? */
  readonly keep: readonly boolean[];
}

export interface Mapping {
  /** One entry per storage level, OUTERMOST FIRST, parallel to `Architecture.storage`. */
  readonly levels: readonly LevelMapping[];
}

/** The dimension size a chain of (factor, residual) pairs spans, folded outer to inner. */
export function foldedSize(pairs: readonly (readonly [number, number])[]): number {
  let n = 0;
  for (const [a, b] of pairs) n = n * a + (b - 1);
  return n + 1;
}
