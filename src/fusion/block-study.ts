/**
 * One block three ways, for the question the study asks (what does fusion
 * buy?): every layer mapped alone, the study's method (each fusion pair
 * rewritten at one level and its two layers mapped on their own, study-facts
 * §3), and the joint search over every fused mapping of the block.
 *
 * The joint search is offered the other two as candidates (each layer's
 * best alone, each rewrite's fused sides where they keep the fusion rules),
 * so its block EDP is at most theirs; whatever else it finds comes from its
 * own search.
 */
import type { Mapping } from '../mapping/mapping.ts';
import { mapOne } from '../mapper/job.ts';
import { mapSettings } from '../mapper/settings.ts';
import type { MapspaceConstraints } from '../mapper/constraints.ts';
import { FUSION_PAIRS, type LayerOptions } from '../workload/layers.ts';
import { UserError } from '../util/errors.ts';
import type { TransformerModel } from '../workload/models.ts';
import { blockCascade, type BlockArchitectures } from './block.ts';
import type { Cascade } from './cascade.ts';
import { fusedConstraints, fusionArchOf } from './index.ts';
import { FUSION_LEVELS } from './rewrite.ts';
import type { JointOptions } from './joint.ts';
import { compareBlock, type BlockComparison, type RewriteMappings } from './compare.ts';

export interface BlockStudy extends BlockComparison {
  readonly cascade: Cascade;
}

function mapped(layer: number, cascade: Cascade, constraints: MapspaceConstraints): Mapping | string {
  const l = cascade.layers[layer];
  const out = mapOne({ problem: l.problem, arch: l.arch, ert: l.ert, constraints, settings: mapSettings({}) });
  if (out.status !== 'mapped') return out.status === 'no-map-space' ? out.error.message : `no valid mapping (${out.status})`;
  return out.mapping;
}

/** The block alone, under each study rewrite level, and jointly (see the file's comment). */
export function studyBlock(model: TransformerModel | string, archs: BlockArchitectures, options: LayerOptions & { readonly joint?: JointOptions } = {}): BlockStudy {
  const cascade = blockCascade(model, archs, options);
  const ids = cascade.layers.map((l) => l.id);
  const alone = cascade.layers.map((l, g) => {
    const m = mapped(g, cascade, l.constraints);
    if (typeof m === 'string') throw new UserError(`${cascade.name}: ${l.id} has no mapping alone on its preset: ${m}`);
    return m;
  });
  const rewrites: RewriteMappings[] = [];
  for (const level of FUSION_LEVELS[fusionArchOf(archs.main)]) {
    if (level === archs.main.arch.storage[0].name) continue;
    const pairs: RewriteMappings['pairs'][number][] = [];
    const unfused: { pair: string; reason: string }[] = [];
    for (const [a, b] of FUSION_PAIRS) {
      const ga = ids.indexOf(a);
      if (ga < 0 || ids[ga + 1] !== b) continue;
      const name = `${a}→${b}`;
      const producer = mapped(ga, cascade, fusedConstraints(archs.main, cascade.layers[ga].problem, { kind: 'matmul', level }).constraints);
      const consumer = mapped(ga + 1, cascade, fusedConstraints(archs.no, cascade.layers[ga + 1].problem, { kind: 'normop', level }).constraints);
      if (typeof producer === 'string' || typeof consumer === 'string') {
        unfused.push({ pair: name, reason: [producer, consumer].filter((x): x is string => typeof x === 'string').join('; ') });
      } else pairs.push({ first: ga, name, producer, consumer });
    }
    rewrites.push({ level, pairs, unfused });
  }
  return { cascade, ...compareBlock(cascade, alone, rewrites, options.joint) };
}
