/**
 * A Transformer block as a cascade (see cascade.ts): its layers in block
 * order, the matmuls on the main architecture and the normalization ops on
 * its NO variant (as the study costs them), each layer counted as often as
 * it runs in one block (the per-head layers once per head and sequence).
 *
 * Two links cannot be fused, whatever the level: KTQ reads one head's
 * slice of KQV's output (its Q and Kᵀ), and Out reads all heads of VScores
 * at once; the layers on either side also run a different number of times.
 */
import type { ArchitecturePreset } from '../inputs/presets.ts';
import { presetConstraints } from '../inputs/presets.ts';
import { blockLayers, type LayerInstance, type LayerOptions } from '../workload/layers.ts';
import type { TransformerModel } from '../workload/models.ts';
import { blockLinks, wholeDimensions, type Cascade, type CascadeLayer } from './cascade.ts';

export interface BlockArchitectures {
  /** Where the matmuls run (gemmini, pim, ...). */
  readonly main: ArchitecturePreset;
  /** Where the normalization ops run (gemmini-no, pim-no, ...). */
  readonly no: ArchitecturePreset;
}

/** The block's layers (as `blockLayers` lists them) as a cascade on `archs`. */
export function blockCascade(model: TransformerModel | string, archs: BlockArchitectures, options: LayerOptions = {}): Cascade {
  const instances = blockLayers(model, options);
  const layers: CascadeLayer[] = instances.map((l: LayerInstance) => {
    const preset = l.kind === 'gemm' ? archs.main : archs.no;
    return { id: l.id, problem: l.problem, arch: preset.arch, ert: preset.ert, constraints: presetConstraints(preset, l.problem), count: l.perBlock, whole: wholeDimensions(l) };
  });
  const name = typeof model === 'string' ? model : model.id;
  return { name: `${name} block on ${archs.main.id}`, layers, links: blockLinks(layers) };
}

