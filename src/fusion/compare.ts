/**
 * One block three ways, from mappings already found: every layer alone,
 * each of the study's rewrite levels (its fused pairs' two sides in place
 * of those layers alone), and the joint search seeded with all of them, so
 * that its EDP is at most theirs. `studyBlock` (block-study.ts) finds the
 * mappings with the mapper; the `joint-block` task takes them from the
 * experiment's cached map tasks. Points are costed by the exact model.
 */
import type { Mapping } from '../mapping/mapping.ts';
import { evaluateMapping, prepareModel } from '../model/evaluate.ts';
import type { Cascade } from './cascade.ts';
import { jointSearch, type CascadePoint, type FusedGroup, type JointOptions, type JointResult, type Role } from './joint.ts';

/** The mappings of one rewrite level: each fused pair's two sides (the pair's first layer index), and the pairs it could not fuse. */
export interface RewriteMappings {
  readonly level: string;
  readonly pairs: readonly { readonly first: number; readonly name: string; readonly producer: Mapping; readonly consumer: Mapping }[];
  readonly unfused: readonly { readonly pair: string; readonly reason: string }[];
}

/** The block under the study's rewrite at one level: its pairs fused there where both sides map, the other layers alone. */
export interface RewriteBlock {
  readonly level: string;
  /** Each layer a group of its own; the pairs' layers carry the level. */
  readonly point: CascadePoint;
  /** Pairs fused (`KTQ→softmax`), and those left alone with why. */
  readonly fused: readonly string[];
  readonly unfused: readonly { readonly pair: string; readonly reason: string }[];
}

export interface BlockComparison {
  readonly alone: CascadePoint;
  readonly rewrites: readonly RewriteBlock[];
  readonly joint: JointResult;
}

export function compareBlock(cascade: Cascade, alone: readonly Mapping[], rewrites: readonly RewriteMappings[], options: JointOptions = {}): BlockComparison {
  const contexts = cascade.layers.map((l) => prepareModel(l.problem, l.arch, l.ert));
  const point = (groups: readonly FusedGroup[]): CascadePoint => {
    let energy = 0;
    let cycles = 0;
    for (const g of groups) {
      g.mappings.forEach((m, k) => {
        const i = g.first + k;
        const r = evaluateMapping(contexts[i], m);
        if (!r.ok) throw new Error(`${cascade.name}: ${cascade.layers[i].id}'s mapping does not evaluate: ${r.error.reason}`);
        const count = cascade.layers[i].count ?? 1;
        energy += count * r.value.summary.energy_pJ;
        cycles += count * r.value.summary.cycles;
      });
    }
    return { energy, cycles, groups };
  };
  const single = (g: number, mapping: Mapping, level: string | null = null): FusedGroup => ({ first: g, last: g, level, mappings: [mapping] });
  const seeds: { layer: number; role: Role; mapping: Mapping }[] = alone.map((mapping, g) => ({ layer: g, role: { input: null, output: null }, mapping }));
  const rewriteBlocks = rewrites.map((rw): RewriteBlock => {
    const groups = alone.map((m, g) => single(g, m));
    for (const p of rw.pairs) {
      groups[p.first] = single(p.first, p.producer, rw.level);
      groups[p.first + 1] = single(p.first + 1, p.consumer, rw.level);
      seeds.push({ layer: p.first, role: { input: null, output: rw.level }, mapping: p.producer }, { layer: p.first + 1, role: { input: rw.level, output: null }, mapping: p.consumer });
    }
    return { level: rw.level, point: point(groups), fused: rw.pairs.map((p) => p.name), unfused: rw.unfused };
  });
  const joint = jointSearch(cascade, { ...options, seeds: [...seeds, ...(options.seeds ?? [])] });
  return { alone: point(alone.map((m, g) => single(g, m))), rewrites: rewriteBlocks, joint };
}
