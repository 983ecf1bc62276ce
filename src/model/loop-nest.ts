/**
 * The loop nest a mapping describes, innermost loop first, the way Timeloop
 * lays it out: for each storage level from the innermost outwards, the
 * spatial loops of the fanout below it, then its temporal loops, then a
 * storage boundary. Loops of bound 1 are dropped; a level with no temporal
 * loop gets a unit loop so that it still has a boundary.
 */
import type { Architecture } from '../arch/architecture.ts';
import { fanoutBelow } from '../arch/architecture.ts';
import type { Mapping } from '../mapping/mapping.ts';
import type { Problem } from '../workload/problem.ts';

export const TIME = 0;
export const SPACE_X = 1;
export const SPACE_Y = 2;
export type SpaceTime = typeof TIME | typeof SPACE_X | typeof SPACE_Y;

export interface Loop {
  readonly dim: number;
  readonly end: number;
  /** Bound of the iteration run when every outer loop of `dim` is in its last iteration. */
  readonly residualEnd: number;
  readonly space: SpaceTime;
}

export interface LoopNest {
  /** Innermost first. */
  readonly loops: readonly Loop[];
  /** Per storage level, INNERMOST level first: index of the level's outermost loop. */
  readonly boundaries: readonly number[];
  /** Physical fanout below each storage level, innermost level first. */
  readonly fanoutX: readonly number[];
  readonly fanoutY: readonly number[];
  /** Storage level (innermost first) that owns each loop. */
  readonly levelOfLoop: readonly number[];
  /** Whether any loop has a residual different from its bound. */
  readonly imperfect: boolean;
}

export class MappingShapeError extends Error {
  constructor(
    readonly level: string,
    message: string,
  ) {
    super(message);
  }
}

export function buildLoopNest(problem: Problem, arch: Architecture, mapping: Mapping): LoopNest {
  const nLevels = arch.storage.length;
  const ndims = problem.dimensions.length;
  const loops: Loop[] = [];
  const boundaries: number[] = [];
  const fanoutX: number[] = [];
  const fanoutY: number[] = [];
  const levelOfLoop: number[] = [];
  let imperfect = false;

  for (let s = 0; s < nLevels; s++) {
    const outerIndex = nLevels - 1 - s;
    const level = arch.storage[outerIndex];
    const lm = mapping.levels[outerIndex];
    const fan = fanoutBelow(arch, outerIndex);
    fanoutX.push(fan.x);
    fanoutY.push(fan.y);
    const spatial = lm.spatial;
    if (fan.x * fan.y > 1) {
      if (spatial) {
        for (let i = 0; i < ndims; i++) {
          const dim = spatial.permutation[i];
          const end = spatial.factors[dim];
          if (end > 1) {
            const residualEnd = spatial.residuals[dim];
            if (residualEnd !== end) imperfect = true;
            loops.push({ dim, end, residualEnd, space: i < spatial.split ? SPACE_X : SPACE_Y });
            levelOfLoop.push(s);
          }
        }
      }
    } else if (spatial && spatial.factors.some((f) => f > 1)) {
      throw new MappingShapeError(
        level.name,
        `level '${level.name}' has spatial factors but no fanout below it (the next inner level has as many instances)`,
      );
    }
    let added = 0;
    for (let i = 0; i < ndims; i++) {
      const dim = lm.temporal.permutation[i];
      const end = lm.temporal.factors[dim];
      if (end > 1) {
        const residualEnd = lm.temporal.residuals[dim];
        if (residualEnd !== end) imperfect = true;
        loops.push({ dim, end, residualEnd, space: TIME });
        levelOfLoop.push(s);
        added++;
      }
    }
    if (added === 0) {
      loops.push({ dim: ndims - 1, end: 1, residualEnd: 1, space: TIME });
      levelOfLoop.push(s);
    }
    boundaries.push(loops.length - 1);
  }
  return { loops, boundaries, fanoutX, fanoutY, levelOfLoop, imperfect };
}
