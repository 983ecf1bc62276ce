/**
 * A cascade: layers that run one after the other, linked by the tensors one
 * produces and the next consumes. A link names the producer's dataspace
 * (its Outputs) and the consumer's (its Inputs) and which dimension of the
 * consumer walks each rank of the shared tensor, so that a loop of one layer
 * over the tensor can be matched with a loop of the other (FF1's D is FF2's
 * E; both walk the tokens with L).
 *
 * Where each layer runs is part of the cascade: the study's normalization
 * ops run on their NO architectures (gemmini-no, pim-no), the matmuls on the
 * main one. Levels of two architectures are the same level when they have
 * the same name (the NO variants extend the main architecture).
 */
import type { Architecture } from '../arch/architecture.ts';
import type { EnergyReferenceTable } from '../arch/energy-table.ts';
import type { MapspaceConstraints } from '../mapper/constraints.ts';
import type { Problem } from '../workload/problem.ts';
import { UserError } from '../util/errors.ts';

export interface CascadeLayer {
  readonly id: string;
  readonly problem: Problem;
  readonly arch: Architecture;
  readonly ert: EnergyReferenceTable;
  /** The layer's own map-space constraints (its preset's); a fusion adds its keep constraints on top. */
  readonly constraints: MapspaceConstraints;
  /** Times the layer runs in the cascade (the heads of a per-head layer); default 1. Fused layers run equally often. */
  readonly count?: number;
  /**
   * Dimensions no fused loop may split: a normalization op's column (E),
   * whose later sweeps need the earlier ones over the whole column (the
   * softmax's sum, the layernorm's mean and variance).
   */
  readonly whole?: readonly number[];
}

export interface CascadeLink {
  readonly producer: number;
  readonly consumer: number;
  /** Dataspace index in the producer's problem (its output). */
  readonly producerDataspace: number;
  /** Dataspace index in the consumer's problem (an input). */
  readonly consumerDataspace: number;
  /** Per rank of the shared tensor: [producer dimension, consumer dimension]. */
  readonly ranks: readonly (readonly [number, number])[];
  /** Why the link cannot be fused (the consumer reads a slice of the tensor, or runs a different number of times); absent when it can. */
  readonly unfusable?: string;
}

export interface Cascade {
  readonly name: string;
  readonly layers: readonly CascadeLayer[];
  /** Link i joins layer i and layer i + 1 (a chain). */
  readonly links: readonly CascadeLink[];
}

function dataspaceIndex(problem: Problem, name: string): number {
  const i = problem.dataspaces.findIndex((d) => d.name === name);
  if (i < 0) throw new UserError(`cascade: problem '${problem.name}' has no dataspace '${name}'`);
  return i;
}

/**
 * The link between a producer's `from` dataspace and a consumer's `to`
 * dataspace, rank by rank: each rank must be one dimension with coefficient
 * 1 on both sides, of the same extent (a GEMM's Outputs[D][L] feeding the
 * next GEMM's Inputs[E][L], or a normalization op's Inputs[E][L]).
 */
export function linkLayers(layers: readonly CascadeLayer[], producer: number, consumer: number, from = 'Outputs', to = 'Inputs'): CascadeLink {
  const p = layers[producer].problem;
  const c = layers[consumer].problem;
  const pd = dataspaceIndex(p, from);
  const cd = dataspaceIndex(c, to);
  const pr = p.dataspaces[pd].projection;
  const cr = c.dataspaces[cd].projection;
  if (pr.length !== cr.length) throw new UserError(`cascade: ${p.name}.${from} has ${pr.length} ranks, ${c.name}.${to} has ${cr.length}`);
  const ranks = pr.map((rank, r): [number, number] => {
    const other = cr[r];
    if (rank.length !== 1 || other.length !== 1 || rank[0].coefficient !== 1 || other[0].coefficient !== 1) {
      throw new UserError(`cascade: rank ${r} of ${p.name}.${from} or ${c.name}.${to} is not one dimension (sliding windows cannot be fused here)`);
    }
    const a = rank[0].dimension;
    const b = other[0].dimension;
    if (p.bounds[a] !== c.bounds[b]) {
      throw new UserError(`cascade: ${p.name}.${from} rank ${r} (${p.dimensions[a]}=${p.bounds[a]}) does not match ${c.name}.${to} (${c.dimensions[b]}=${c.bounds[b]})`);
    }
    return [a, b];
  });
  return { producer, consumer, producerDataspace: pd, consumerDataspace: cd, ranks };
}

/** A chain: each layer's Outputs are the next one's Inputs. */
export function chainCascade(name: string, layers: readonly CascadeLayer[]): Cascade {
  if (layers.length < 1) throw new UserError('cascade: no layers');
  const links = layers.slice(1).map((_, i) => linkLayers(layers, i, i + 1));
  return { name, layers, links };
}

/**
 * What a layer needs whole below a fusion level: a normalization op with
 * more than one sweep needs its column (E) whole, since each sweep uses the
 * previous one's result over the column (a point-wise op, one sweep, does not).
 */
export function wholeDimensions(layer: { readonly kind: string; readonly problem: Problem }): number[] {
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
