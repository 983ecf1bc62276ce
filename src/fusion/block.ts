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
import { linkLayers, type Cascade, type CascadeLayer, type CascadeLink } from './cascade.ts';
import { UserError } from '../util/errors.ts';

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

/**
 * What a layer needs whole below a fusion level: a normalization op with
 * more than one sweep needs its column (E) whole, since each sweep uses the
 * previous one's result over the column (a point-wise op, one sweep, does not).
 */
export function wholeDimensions(layer: Pick<LayerInstance, 'kind' | 'problem'>): number[] {
  const { problem } = layer;
  const d = problem.dimensions.indexOf('D');
  const e = problem.dimensions.indexOf('E');
  return layer.kind === 'normop' && d >= 0 && e >= 0 && problem.bounds[d] > 1 ? [e] : [];
}

/**
 * The links of a block's layers in order: each layer's Outputs are the
 * next one's Inputs. Layers that run a different number of times per block
 * (KQV once, KTQ per head) cannot be fused, nor can a link whose ranks do
 * not match (a slice); such a link says why.
 */
export function blockLinks(layers: readonly CascadeLayer[]): CascadeLink[] {
  return layers.slice(1).map((b, k) => {
    const a = layers[k];
    const unfusable = (why: string): CascadeLink => ({ producer: k, consumer: k + 1, producerDataspace: -1, consumerDataspace: -1, ranks: [], unfusable: why });
    if ((a.count ?? 1) !== (b.count ?? 1)) {
      return unfusable((b.count ?? 1) > (a.count ?? 1) ? `${b.id} reads one slice of ${a.id}'s output per instance` : `${b.id} reads the output of every ${a.id} instance at once`);
    }
    try {
      return linkLayers(layers, k, k + 1);
    } catch (error) {
      if (error instanceof UserError) return unfusable(error.message);
      throw error;
    }
  });
}
