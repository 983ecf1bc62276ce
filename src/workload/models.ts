/**
 * Transformer model definitions: the size variables of the study
 * (EMBEDDING, SEQ_LENGTH, HEADS, FF_DIM; EMBEDDING_HEADS = EMBEDDING/HEADS)
 * plus the number of blocks and the batch.
 *
 * The presets are a typed table ({@link MODEL_PRESETS}); the same models are
 * shipped as user-editable YAML in `experiments/models/`, read with
 * src/inputs/models.ts. Sequence length and batch
 * can be overridden per experiment ({@link withOverrides}).
 */
import { isPlainObject } from '../util/yaml.ts';
import { fieldOf, userError, type Origin } from './shapes.ts';
import { outsideDomain, POSITIVE_INTEGER } from '../util/domains.ts';

export interface TransformerModel {
  /** Identifier used by experiment files, e.g. `bert-large`. */
  readonly id: string;
  /** Human-readable name. */
  readonly name: string;
  /** Model width (the study's EMBEDDING). */
  readonly embedding: number;
  /** Attention heads (HEADS). */
  readonly heads: number;
  /** Width of one head (EMBEDDING_HEADS); `embedding / heads` unless given. */
  readonly headDim: number;
  /** Hidden width of the feed-forward block (FF_DIM). */
  readonly ffDim: number;
  /** Tokens per sequence (SEQ_LENGTH): BERT's sequence length, GPT-2's context for prefill. */
  readonly seqLength: number;
  /** Transformer blocks (encoder or decoder layers). */
  readonly blocks: number;
  /** Sequences processed together (the study: 1). */
  readonly batch: number;
  /** Where the numbers come from, caveats. */
  readonly notes?: string;
}

/**
 * Built-in models. BERT-base and `bert-large` are the two variable sets of
 * the study (`transformer_gemmini/mapper/variables.yaml`); `bert-large` keeps
 * the study's SEQ_LENGTH 4096 (real BERT-large stops at 512, which is
 * `bert-large-s512`). GPT-2 is named by the study's README but never
 * defined there: these are the public GPT-2 configurations, run as prefill
 * over the full 1024-token context. Block counts are public knowledge.
 */
export const MODEL_PRESETS: readonly TransformerModel[] = [
  {
    id: 'bert-base',
    name: 'BERT-base',
    embedding: 768,
    heads: 12,
    headDim: 64,
    ffDim: 3072,
    seqLength: 512,
    blocks: 12,
    batch: 1,
    notes: "the study's BERT-base variables (commented-out block of variables.yaml)",
  },
  {
    id: 'bert-large',
    name: 'BERT-large (study, S 4096)',
    embedding: 1024,
    heads: 16,
    headDim: 64,
    ffDim: 4096,
    seqLength: 4096,
    blocks: 24,
    batch: 1,
    notes: "the study's active variables: SEQ_LENGTH 4096, not BERT's 512 (study-facts §2.2, §8 B19)",
  },
  {
    id: 'bert-large-s512',
    name: 'BERT-large (S 512)',
    embedding: 1024,
    heads: 16,
    headDim: 64,
    ffDim: 4096,
    seqLength: 512,
    blocks: 24,
    batch: 1,
    notes: 'standard BERT-large, maximum sequence length 512',
  },
  {
    id: 'gpt2-small',
    name: 'GPT-2 small',
    embedding: 768,
    heads: 12,
    headDim: 64,
    ffDim: 3072,
    seqLength: 1024,
    blocks: 12,
    batch: 1,
    notes: 'public GPT-2 config (not in the study); prefill of the 1024-token context',
  },
  {
    id: 'gpt2-medium',
    name: 'GPT-2 medium',
    embedding: 1024,
    heads: 16,
    headDim: 64,
    ffDim: 4096,
    seqLength: 1024,
    blocks: 24,
    batch: 1,
    notes: 'public GPT-2 config (not in the study); prefill of the 1024-token context',
  },
  {
    id: 'gpt2-large',
    name: 'GPT-2 large',
    embedding: 1280,
    heads: 20,
    headDim: 64,
    ffDim: 5120,
    seqLength: 1024,
    blocks: 36,
    batch: 1,
    notes: 'public GPT-2 config (not in the study); prefill of the 1024-token context',
  },
  {
    id: 'gpt2-xl',
    name: 'GPT-2 XL',
    embedding: 1600,
    heads: 25,
    headDim: 64,
    ffDim: 6400,
    seqLength: 1024,
    blocks: 48,
    batch: 1,
    notes: 'public GPT-2 config (not in the study); prefill of the 1024-token context',
  },
];

/** The YAML keys of a model, with their TypeScript field. */
const FIELDS = {
  id: 'id',
  name: 'name',
  embedding: 'embedding',
  heads: 'heads',
  head_dim: 'headDim',
  ff_dim: 'ffDim',
  seq_length: 'seqLength',
  blocks: 'blocks',
  batch: 'batch',
  notes: 'notes',
} as const satisfies Record<string, keyof TransformerModel>;
type YamlKey = keyof typeof FIELDS;

const REQUIRED: readonly YamlKey[] = ['id', 'embedding', 'heads', 'ff_dim', 'seq_length', 'blocks'];
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function sizeField(o: Record<string, unknown>, key: YamlKey, origin: Origin): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  const reason = typeof v === 'number' ? outsideDomain(POSITIVE_INTEGER, v) : `expected ${POSITIVE_INTEGER.expected}, got ${JSON.stringify(v)}`;
  if (reason !== undefined) throw userError(fieldOf(origin, key), reason);
  return v as number;
}

function stringField(o: Record<string, unknown>, key: YamlKey, origin: Origin): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw userError(fieldOf(origin, key), `expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Validates one model definition (YAML keys: `id`, `name`, `embedding`,
 * `heads`, `head_dim`, `ff_dim`, `seq_length`, `blocks`, `batch`, `notes`;
 * the camelCase spellings of the TypeScript fields are accepted too).
 * Missing, unknown or non-positive fields are a {@link UserError} naming
 * the file and field.
 */
export function parseModel(value: unknown, origin: Origin = {}): TransformerModel {
  if (!isPlainObject(value)) throw userError(origin, `expected a model definition (a map with ${REQUIRED.join(', ')}), got ${Array.isArray(value) ? 'a list' : JSON.stringify(value)}`);
  // Accept the TypeScript spelling of each key as well as the YAML one.
  const o: Record<string, unknown> = {};
  const camel = new Map<string, YamlKey>(Object.entries(FIELDS).map(([k, f]) => [f, k as YamlKey]));
  for (const [key, v] of Object.entries(value)) {
    const yamlKey = key in FIELDS ? (key as YamlKey) : camel.get(key);
    if (yamlKey === undefined) {
      throw userError(fieldOf(origin, key), `unknown field '${key}' (known: ${Object.keys(FIELDS).join(', ')})`);
    }
    if (yamlKey in o) throw userError(fieldOf(origin, key), `'${key}' repeats the field '${yamlKey}'`);
    o[yamlKey] = v;
  }
  for (const key of REQUIRED) {
    if (o[key] === undefined || o[key] === null) throw userError(fieldOf(origin, key), `missing required field '${key}'`);
  }
  const id = stringField(o, 'id', origin)!;
  if (!ID.test(id)) throw userError(fieldOf(origin, 'id'), `'${id}' is not a valid id (letters, digits, '.', '_', '-')`);
  const embedding = sizeField(o, 'embedding', origin)!;
  const heads = sizeField(o, 'heads', origin)!;
  let headDim = sizeField(o, 'head_dim', origin);
  if (headDim === undefined) {
    if (embedding % heads !== 0) {
      throw userError(fieldOf(origin, 'heads'), `embedding ${embedding} is not divisible by ${heads} heads; give head_dim explicitly`);
    }
    headDim = embedding / heads;
  }
  const notes = stringField(o, 'notes', origin);
  return {
    id,
    name: stringField(o, 'name', origin) ?? id,
    embedding,
    heads,
    headDim,
    ffDim: sizeField(o, 'ff_dim', origin)!,
    seqLength: sizeField(o, 'seq_length', origin)!,
    blocks: sizeField(o, 'blocks', origin)!,
    batch: sizeField(o, 'batch', origin) ?? 1,
    ...(notes !== undefined ? { notes } : {}),
  };
}

/** The model as YAML-ready data (snake_case keys), the inverse of {@link parseModel}. */
export function modelToData(model: TransformerModel): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(FIELDS)) {
    const v = model[field];
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/**
 * The built-in presets with `extra` models added; an extra model with the
 * id of a preset replaces it.
 */
export function modelCatalog(extra: readonly TransformerModel[] = []): TransformerModel[] {
  const byId = new Map<string, TransformerModel>(MODEL_PRESETS.map((m) => [m.id, m]));
  for (const m of extra) byId.set(m.id, m);
  return [...byId.values()];
}

/** Looks a model up by id; an unknown id is a {@link UserError} listing the known ones. */
export function findModel(id: string, catalog: readonly TransformerModel[] = MODEL_PRESETS, origin?: Origin): TransformerModel {
  const m = catalog.find((x) => x.id === id);
  if (!m) throw userError(origin, `unknown model '${id}' (known: ${catalog.map((x) => x.id).join(', ')})`);
  return m;
}

export interface ModelOverrides {
  readonly seqLength?: number;
  readonly batch?: number;
}

/** The model with its sequence length and/or batch replaced (validated: positive whole numbers). */
export function withOverrides(model: TransformerModel, overrides: ModelOverrides = {}, origin?: Origin): TransformerModel {
  const check = (v: number | undefined, key: string): number | undefined => {
    if (v === undefined) return undefined;
    const reason = outsideDomain(POSITIVE_INTEGER, v);
    if (reason !== undefined) throw userError(fieldOf(origin, key), reason);
    return v;
  };
  const seqLength = check(overrides.seqLength, 'seq_length') ?? model.seqLength;
  const batch = check(overrides.batch, 'batch') ?? model.batch;
  if (seqLength === model.seqLength && batch === model.batch) return model;
  return { ...model, seqLength, batch };
}
