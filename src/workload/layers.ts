/**
 * The layers of one Transformer block, in the study's D/E/L convention
 * (study-facts §2.1–2.3): six GEMMs `Out[D][L] += W[D][E] · In[E][L]` and the
 * normalization ops softmax and layernorm, modelled as D sweeps over L
 * columns of length E.
 *
 * A layer's shape is one instance of its operation; how often it occurs is
 * carried next to it: `perBlock` (the heads, times the batch, for the
 * per-head layers KTQ, softmax, VScores; 1 otherwise) and `blocks` (the
 * model's blocks). Nothing is folded into the shape except the batch of the
 * token-wise layers (their L is `batch × seqLength`: one GEMM over all
 * tokens shares the weights).
 *
 * What the study leaves out is offered as optional layers, off by default:
 * the softmax scaling by 1/√d (`scale`), the two residual additions
 * (`residual1`, `residual2`), GELU (`GELU`) and the second layernorm
 * (`layernorm2`). They are point-wise, so they use the normalization-op
 * shape with one sweep (D = 1; a residual add is `Outputs += Inputs`), or
 * three for the layernorm.
 */
import type { Problem } from './problem.ts';
import { UserError } from '../util/errors.ts';
import { operationCount } from './problem.ts';
import { fieldOf, gemmProblem, normOpProblem, userError, type Origin } from './shapes.ts';
import { findModel, withOverrides, type TransformerModel } from './models.ts';

/** The eight layers the study ran (`run.py <layer>`), in block order. */
export const STUDY_LAYER_IDS = ['KQV', 'KTQ', 'softmax', 'VScores', 'Out', 'layernorm', 'FF1', 'FF2'] as const;
/** Operations of a block the study does not model (study-facts §2.3, §8 B22). */
export const OPTIONAL_LAYER_IDS = ['scale', 'residual1', 'GELU', 'residual2', 'layernorm2'] as const;

export type StudyLayerId = (typeof STUDY_LAYER_IDS)[number];
export type OptionalLayerId = (typeof OPTIONAL_LAYER_IDS)[number];
export type LayerId = StudyLayerId | OptionalLayerId;
export type LayerKind = 'gemm' | 'normop';

/** The size variables a layer's shape is written in. */
export interface SizeVariables {
  /** EMBEDDING. */
  readonly embedding: number;
  /** EMBEDDING_HEADS: width of one head. */
  readonly headDim: number;
  /** Width of all heads together (`heads × headDim`; = EMBEDDING when it divides). */
  readonly attention: number;
  /** FF_DIM. */
  readonly ffDim: number;
  /** SEQ_LENGTH: tokens of one sequence. */
  readonly seq: number;
  /** Tokens of the whole batch (`batch × seq`): the columns of the token-wise layers. */
  readonly tokens: number;
  /** Sweeps of the softmax: 2, or 3 with max subtraction. */
  readonly softmaxSweeps: number;
}

export interface LayerDefinition {
  readonly id: LayerId;
  readonly kind: LayerKind;
  /** Repeated for every head (and every sequence of the batch). */
  readonly perHead: boolean;
  /** Not part of the study's block; only built when asked for. */
  readonly optional: boolean;
  /** For a normalization op: the GEMM whose output it consumes, when the study fuses the two. */
  readonly fusesWith?: LayerId;
  readonly description: string;
  /** D, E, L of one instance (GEMM: D rows × E inner × L columns; normop: D sweeps, E column length, L columns). */
  readonly sizes: (v: SizeVariables) => { readonly D: number; readonly E: number; readonly L: number };
}

/**
 * The block, as data. Order: the order the operations run in a BERT
 * (post-LN) encoder block. The sizes of the study's eight layers are
 * study-facts §2.2's table; KTQ's Weights operand is Kᵀ (D = SEQ, E = head),
 * VScores' is V (D = head, E = SEQ).
 */
export const LAYER_DEFINITIONS: readonly LayerDefinition[] = [
  {
    id: 'KQV',
    kind: 'gemm',
    perHead: false,
    optional: false,
    description: 'First matmul: Q, K and V from the input with one projection (Wk, Wq, Wv concatenated)',
    sizes: (v) => ({ D: 3 * v.attention, E: v.embedding, L: v.tokens }),
  },
  {
    id: 'KTQ',
    kind: 'gemm',
    perHead: true,
    optional: false,
    description: 'Second matmul, per head: the scores Kᵀ·Q',
    sizes: (v) => ({ D: v.seq, E: v.headDim, L: v.seq }),
  },
  {
    id: 'scale',
    kind: 'normop',
    perHead: true,
    optional: true,
    description: 'Scaling of the scores by 1/sqrt(head width), one point-wise sweep over the output of KTQ (not in the study)',
    sizes: (v) => ({ D: 1, E: v.seq, L: v.seq }),
  },
  {
    id: 'softmax',
    kind: 'normop',
    perHead: true,
    optional: false,
    fusesWith: 'KTQ',
    description: 'Softmax, column-wise on the output of KTQ: 2 sweeps (exp-sum, normalize), 3 with max subtraction',
    sizes: (v) => ({ D: v.softmaxSweeps, E: v.seq, L: v.seq }),
  },
  {
    id: 'VScores',
    kind: 'gemm',
    perHead: true,
    optional: false,
    description: "Third matmul, per head: V' = V·Scores",
    sizes: (v) => ({ D: v.headDim, E: v.seq, L: v.seq }),
  },
  {
    id: 'Out',
    kind: 'gemm',
    perHead: false,
    optional: false,
    description: "Fourth matmul: the output projection of V'",
    sizes: (v) => ({ D: v.embedding, E: v.attention, L: v.tokens }),
  },
  {
    id: 'residual1',
    kind: 'normop',
    perHead: false,
    optional: true,
    description: 'Residual addition after the attention (Outputs += Inputs, one sweep; not in the study)',
    sizes: (v) => ({ D: 1, E: v.embedding, L: v.tokens }),
  },
  {
    id: 'layernorm',
    kind: 'normop',
    perHead: false,
    optional: false,
    fusesWith: 'Out',
    description: 'LayerNorm, column-wise on the output of Out: 3 sweeps (mean, variance, normalize)',
    sizes: (v) => ({ D: 3, E: v.embedding, L: v.tokens }),
  },
  {
    id: 'FF1',
    kind: 'gemm',
    perHead: false,
    optional: false,
    description: 'Fifth matmul: first projection of the feed-forward block, up to FF_DIM',
    sizes: (v) => ({ D: v.ffDim, E: v.embedding, L: v.tokens }),
  },
  {
    id: 'GELU',
    kind: 'normop',
    perHead: false,
    optional: true,
    description: 'GELU activation on the output of FF1, one point-wise sweep (not in the study)',
    sizes: (v) => ({ D: 1, E: v.ffDim, L: v.tokens }),
  },
  {
    id: 'FF2',
    kind: 'gemm',
    perHead: false,
    optional: false,
    description: 'Sixth matmul: second projection of the feed-forward block, back to EMBEDDING',
    sizes: (v) => ({ D: v.embedding, E: v.ffDim, L: v.tokens }),
  },
  {
    id: 'residual2',
    kind: 'normop',
    perHead: false,
    optional: true,
    description: 'Residual addition after the feed-forward block (Outputs += Inputs, one sweep; not in the study)',
    sizes: (v) => ({ D: 1, E: v.embedding, L: v.tokens }),
  },
  {
    id: 'layernorm2',
    kind: 'normop',
    perHead: false,
    optional: true,
    description: 'Second LayerNorm, after the feed-forward block: 3 sweeps (not in the study)',
    sizes: (v) => ({ D: 3, E: v.embedding, L: v.tokens }),
  },
];

export const ALL_LAYER_IDS: readonly LayerId[] = LAYER_DEFINITIONS.map((d) => d.id);

/** The study's fusion pairs (`fusable` in its scripts): GEMM → normalization op. */
export const FUSION_PAIRS: readonly (readonly [LayerId, LayerId])[] = LAYER_DEFINITIONS.filter((d) => d.fusesWith !== undefined).map(
  (d) => [d.fusesWith!, d.id] as const,
);

export interface LayerInstance {
  readonly id: LayerId;
  readonly kind: LayerKind;
  readonly description: string;
  readonly optional: boolean;
  /** One instance of the operation. Its name is the layer id. */
  readonly problem: Problem;
  /** Repeated per head (KTQ, softmax, VScores; and `scale`). */
  readonly perHead: boolean;
  /** Instances in one block: `heads × batch` for a per-head layer, else 1. */
  readonly perBlock: number;
  /** Blocks of the model. */
  readonly blocks: number;
  /** Instances in the whole model: `perBlock × blocks`. */
  readonly count: number;
  /** Operations of one instance: MACs of a GEMM, L·E·D "ops" of a normalization op. */
  readonly macs: number;
  /** `macs × count`. */
  readonly totalMacs: number;
}

export interface LayerOptions {
  /** Overrides the model's sequence length. */
  readonly seqLength?: number;
  /** Overrides the model's batch. */
  readonly batch?: number;
  /** Softmax with the max-subtraction trick: 3 sweeps instead of 2. */
  readonly maxSubtraction?: boolean;
  /**
   * Which layers: `'study'` (the default: the study's eight), `'all'` (with
   * the optional ones) or a list of layer ids. Returned in block order.
   */
  readonly layers?: 'study' | 'all' | readonly string[];
  /** Where the options come from (an experiment file), for error messages. */
  readonly origin?: Origin;
}

/** Size variables of a model (after overrides). */
export function sizeVariables(model: TransformerModel, options: { readonly maxSubtraction?: boolean } = {}): SizeVariables {
  return {
    embedding: model.embedding,
    headDim: model.headDim,
    attention: model.heads * model.headDim,
    ffDim: model.ffDim,
    seq: model.seqLength,
    tokens: model.batch * model.seqLength,
    softmaxSweeps: options.maxSubtraction === true ? 3 : 2,
  };
}

function selectedIds(layers: LayerOptions['layers'], origin: Origin | undefined): Set<LayerId> {
  if (layers === undefined || layers === 'study') return new Set(STUDY_LAYER_IDS);
  if (layers === 'all') return new Set(ALL_LAYER_IDS);
  const field = fieldOf(origin, 'layers');
  if (!Array.isArray(layers)) throw userError(field, `expected 'study', 'all' or a list of layer names, got ${JSON.stringify(layers)}`);
  const out = new Set<LayerId>();
  layers.forEach((name, i) => {
    const id = ALL_LAYER_IDS.find((x) => x === name);
    if (id === undefined) {
      const near = ALL_LAYER_IDS.find((x) => x.toLowerCase() === String(name).toLowerCase());
      throw userError(
        fieldOf(field, i),
        `unknown layer '${String(name)}'${near ? ` (did you mean '${near}'?)` : ''}; known: ${ALL_LAYER_IDS.join(', ')}`,
      );
    }
    if (out.has(id)) throw userError(fieldOf(field, i), `layer '${id}' is listed twice`);
    out.add(id);
  });
  return out;
}

/** Looks a layer definition up by id; an unknown id is a {@link UserError}. */
export function layerDefinition(id: string, origin?: Origin): LayerDefinition {
  const d = LAYER_DEFINITIONS.find((x) => x.id === id);
  if (!d) throw userError(origin, `unknown layer '${id}'; known: ${ALL_LAYER_IDS.join(', ')}`);
  return d;
}

/** Builds one layer of a model (after overrides) as an instance. */
export function buildLayer(def: LayerDefinition, model: TransformerModel, options: { readonly maxSubtraction?: boolean; readonly origin?: Origin } = {}): LayerInstance {
  const v = sizeVariables(model, options);
  const s = def.sizes(v);
  let problem: Problem;
  try {
    problem = def.kind === 'gemm' ? gemmProblem(def.id, s) : normOpProblem(def.id, s);
  } catch (error) {
    // A model's sizes can be valid one by one and still give a layer whose operation count is not exact.
    if (error instanceof UserError) throw userError(options.origin, `layer ${def.id} of model '${model.id}': ${error.field ? `${error.field}: ` : ''}${error.message}`);
    throw error;
  }
  const perBlock = def.perHead ? model.heads * model.batch : 1;
  const macs = operationCount(problem);
  const count = perBlock * model.blocks;
  return {
    id: def.id,
    kind: def.kind,
    description: def.description,
    optional: def.optional,
    problem,
    perHead: def.perHead,
    perBlock,
    blocks: model.blocks,
    count,
    macs,
    totalMacs: macs * count,
  };
}

function resolve(model: TransformerModel | string, options: LayerOptions): TransformerModel {
  const m = typeof model === 'string' ? findModel(model, undefined, fieldOf(options.origin, 'model')) : model;
  return withOverrides(m, { seqLength: options.seqLength, batch: options.batch }, options.origin);
}

/**
 * The layers of one block of `model` (a model or a preset id), in block
 * order, each with its multiplicity (`perBlock`, `blocks`).
 */
export function blockLayers(model: TransformerModel | string, options: LayerOptions = {}): LayerInstance[] {
  const m = resolve(model, options);
  const ids = selectedIds(options.layers, options.origin);
  return LAYER_DEFINITIONS.filter((d) => ids.has(d.id)).map((d) => buildLayer(d, m, options));
}

export interface OperationTotals {
  /** MACs of the GEMMs. */
  readonly gemmMacs: number;
  /** L·E·D operations of the normalization ops. */
  readonly normOps: number;
}

export interface ModelWorkload {
  /** The model after overrides (sequence length, batch). */
  readonly model: TransformerModel;
  readonly layers: readonly LayerInstance[];
  /** One block: Σ macs × perBlock. */
  readonly perBlock: OperationTotals;
  /** The whole model: Σ macs × perBlock × blocks. */
  readonly total: OperationTotals;
}

/** Sums the operations of a list of layers, per block and for the whole model. */
export function layerTotals(layers: readonly LayerInstance[]): { perBlock: OperationTotals; total: OperationTotals } {
  const sum = (kind: LayerKind, f: (l: LayerInstance) => number) => layers.filter((l) => l.kind === kind).reduce((a, l) => a + f(l), 0);
  return {
    perBlock: { gemmMacs: sum('gemm', (l) => l.macs * l.perBlock), normOps: sum('normop', (l) => l.macs * l.perBlock) },
    total: { gemmMacs: sum('gemm', (l) => l.totalMacs), normOps: sum('normop', (l) => l.totalMacs) },
  };
}

/** The whole model: its block's layers with their multiplicities, and the totals. */
export function modelLayers(model: TransformerModel | string, options: LayerOptions = {}): ModelWorkload {
  const m = resolve(model, options);
  const layers = blockLayers(m, { ...options, seqLength: undefined, batch: undefined });
  return { model: m, layers, ...layerTotals(layers) };
}
