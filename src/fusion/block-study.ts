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
import { jointSearch, type CascadePoint, type JointOptions, type JointResult, type Role } from './joint.ts';

/** The block under the study's rewrite at one level: its pairs fused there where both sides map, the other layers alone. */
export interface RewriteBlock {
  readonly level: string;
  readonly point: CascadePoint;
  /** Pairs fused (`KTQ→softmax`), and those left unfused with why. */
  readonly fused: readonly string[];
  readonly unfused: readonly { readonly pair: string; readonly reason: string }[];
}

export interface BlockStudy {
  readonly cascade: Cascade;
  /** Every layer alone, with the mapper's defaults. */
  readonly alone: CascadePoint;
  readonly rewrites: readonly RewriteBlock[];
  readonly joint: JointResult;
}

function mapped(problemIndex: number, cascade: Cascade, constraints: MapspaceConstraints): { mapping: Mapping; energy: number; cycles: number } | string {
  const l = cascade.layers[problemIndex];
  const out = mapOne({ problem: l.problem, arch: l.arch, ert: l.ert, constraints, settings: mapSettings({}) });
  if (out.status !== 'mapped') return out.status === 'no-map-space' ? out.error.message : `no valid mapping (${out.status})`;
  return { mapping: out.mapping, energy: out.evaluation.summary.energy_pJ, cycles: out.evaluation.summary.cycles };
}

interface Part {
  readonly layer: number;
  readonly level: string | null;
  readonly mapping: Mapping;
  readonly energy: number;
  readonly cycles: number;
}

const sum = (cascade: Cascade, parts: readonly Part[]): CascadePoint => {
  let energy = 0;
  let cycles = 0;
  for (const p of parts) {
    const count = cascade.layers[p.layer].count ?? 1;
    energy += count * p.energy;
    cycles += count * p.cycles;
  }
  return { energy, cycles, groups: parts.map((p) => ({ first: p.layer, last: p.layer, level: p.level, mappings: [p.mapping] })) };
};

/** The block alone, under each study rewrite level, and jointly (see the file's comment). */
export function studyBlock(model: TransformerModel | string, archs: BlockArchitectures, options: LayerOptions & { readonly joint?: JointOptions } = {}): BlockStudy {
  const cascade = blockCascade(model, archs, options);
  const ids = cascade.layers.map((l) => l.id);
  const alone: Part[] = cascade.layers.map((l, g) => {
    const r = mapped(g, cascade, l.constraints);
    if (typeof r === 'string') throw new UserError(`${cascade.name}: ${l.id} has no mapping alone on its preset: ${r}`);
    return { layer: g, level: null, ...r };
  });
  const seeds: { layer: number; role: Role; mapping: Mapping }[] = alone.map((a) => ({ layer: a.layer, role: { input: null, output: null }, mapping: a.mapping }));
  const rewrites: RewriteBlock[] = [];
  for (const level of FUSION_LEVELS[fusionArchOf(archs.main)]) {
    if (level === archs.main.arch.storage[0].name) continue;
    const parts = alone.slice();
    const fused: string[] = [];
    const unfused: { pair: string; reason: string }[] = [];
    for (const [a, b] of FUSION_PAIRS) {
      const ga = ids.indexOf(a);
      const gb = ids.indexOf(b);
      if (ga < 0 || gb !== ga + 1) continue;
      const pair = `${a}→${b}`;
      const ma = mapped(ga, cascade, fusedConstraints(archs.main, cascade.layers[ga].problem, { kind: 'matmul', level }).constraints);
      const mb = mapped(gb, cascade, fusedConstraints(archs.no, cascade.layers[gb].problem, { kind: 'normop', level }).constraints);
      if (typeof ma === 'string' || typeof mb === 'string') {
        unfused.push({ pair, reason: [ma, mb].filter((x): x is string => typeof x === 'string').join('; ') });
        continue;
      }
      parts[ga] = { layer: ga, level, ...ma };
      parts[gb] = { layer: gb, level, ...mb };
      fused.push(pair);
      seeds.push({ layer: ga, role: { input: null, output: level }, mapping: ma.mapping });
      seeds.push({ layer: gb, role: { input: level, output: null }, mapping: mb.mapping });
    }
    rewrites.push({ level, point: sum(cascade, parts), fused, unfused });
  }
  const joint = jointSearch(cascade, { ...options.joint, seeds: [...seeds, ...(options.joint?.seeds ?? [])] });
  return { cascade, alone: sum(cascade, alone), rewrites, joint };
}
