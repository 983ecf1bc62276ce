/**
 * A mapping as the loop nest Timeloop's map.txt prints: levels outer to
 * inner, each with the tiles it keeps, its temporal loops outermost first,
 * then its spatial loops marked (Spatial-X) / (Spatial-Y).
 */
import type { Architecture } from '../arch/architecture.ts';
import type { Problem } from '../workload/problem.ts';
import type { Mapping } from './mapping.ts';

/**
 * What the loop nest shows of an evaluation: each level's utilized capacity
 * per kept dataspace. Stated here, not imported from the model, since a
 * mapping is below the model that evaluates it; the model's `Evaluation`
 * has this shape.
 */
export interface TileOccupancy {
  readonly storage: readonly { readonly dataspaces: Readonly<Record<string, { readonly utilized_capacity: number }>> }[];
}

export function loopNestText(problem: Problem, arch: Architecture, mapping: Mapping, evaluation?: TileOccupancy): string {
  const lines: string[] = [];
  let depth = 0;
  mapping.levels.forEach((lm, i) => {
    const level = arch.storage[i];
    const stats = evaluation?.storage[i];
    const kept = problem.dataspaces
      .map((ds, t) => (lm.keep[t] ? `${ds.name}${stats?.dataspaces[ds.name] ? `:${stats.dataspaces[ds.name].utilized_capacity}` : ''}` : null))
      .filter((x): x is string => x !== null);
    const header = `${level.name} [ ${kept.join(' ')} ]`;
    lines.push(header, '-'.repeat(header.length));
    const loop = (d: number, end: number, residual: number, tag: string) => {
      const bound = residual !== end ? `${end},${residual}` : `${end}`;
      lines.push(`${'|'.padEnd(depth * 2 + 2)}for ${problem.dimensions[d]} in [0:${bound})${tag}`);
      depth++;
    };
    // Permutations are innermost first; print outermost first.
    for (const d of [...lm.temporal.permutation].reverse()) {
      if (lm.temporal.factors[d] > 1) loop(d, lm.temporal.factors[d], lm.temporal.residuals[d], '');
    }
    if (lm.spatial) {
      const sp = lm.spatial;
      const placed = sp.permutation.map((d, idx) => ({ d, axis: idx < sp.split ? 'X' : 'Y' }));
      for (const { d, axis } of placed.reverse()) {
        if (sp.factors[d] > 1) loop(d, sp.factors[d], sp.residuals[d], ` (Spatial-${axis})`);
      }
    }
    lines.push('');
  });
  lines.push(`${'|'.padEnd(depth * 2 + 2)}<< Compute >>`);
  return lines.join('\n') + '\n';
}
