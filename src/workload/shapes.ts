/**
 * Problem shapes and the builders that turn a shape plus sizes into a
 * {@link Problem}.
 *
 * A shape is written the way Timeloop's YAML writes one (`dimensions`,
 * `coefficients` with defaults, `data_spaces` whose projections are lists of
 * `[dimension]` / `[dimension, coefficient]` terms), so the same constant
 * serves both the typed builders here and the tree-format reader
 * (`src/timeloop/tree-import.ts` resolves `shape: cnn_layer` to
 * {@link CNN_LAYER_SHAPE}).
 *
 * Three shapes occur in the study:
 * - GEMM, dimensions `D E L`: `Out[D][L] += W[D][E] · In[E][L]` (the study's
 *   convention: D = weight rows, E = inner dimension, L = input columns).
 * - normalization op, dimensions `L E D`: `Weights[D]`, `Inputs[E][L]`,
 *   `Outputs[E][L]` (in place). E is the column length, L the number of
 *   columns and D the number of sweeps over each column.
 * - convolution: Timeloop's built-in `cnn_layer` (R S P Q C K N with strides
 *   and dilations). The study writes the same shape with E for C, D for K and
 *   L for P (`naming: 'study'`).
 */
import { UserError } from '../util/errors.ts';
import { FIELD_DOMAINS, MAX_EXACT_INTEGER, operationCountError, outsideDomain, type Domain } from '../util/domains.ts';
import type { DataSpace, Problem, ProjectionTerm } from './problem.ts';

/** One projection term: `[dimension]` or `[dimension, coefficient name]`. */
export type ShapeTerm = readonly [string] | readonly [string, string];

export interface ShapeDataSpace {
  readonly name: string;
  /** One entry per rank; each rank is a sum of terms. */
  readonly projection: readonly (readonly ShapeTerm[])[];
  readonly read_write?: boolean;
}

/** A problem shape in Timeloop's YAML form (underscore keys). */
export interface ShapeSpec {
  readonly name: string;
  readonly dimensions: readonly string[];
  readonly coefficients?: readonly { readonly name: string; readonly default: number }[];
  readonly data_spaces: readonly ShapeDataSpace[];
}

/** Where a definition came from, for error messages. */
export interface Origin {
  /** The file, as the user named it (absent for built-in data). */
  readonly file?: string;
  /** The field path inside the file, e.g. `models[2]` or `instance`. */
  readonly field?: string;
}

export function fieldOf(origin: Origin | undefined, key: string | number): Origin {
  const base = origin?.field ?? '';
  const field = typeof key === 'number' ? `${base}[${key}]` : base === '' ? key : `${base}.${key}`;
  return { file: origin?.file, field };
}

export function userError(origin: Origin | undefined, message: string): UserError {
  return new UserError(message, origin?.file, origin?.field);
}

/** GEMM in the study's convention: `Out[D][L] += W[D][E] · In[E][L]`. */
export const GEMM_SHAPE: ShapeSpec = {
  name: 'gemm',
  dimensions: ['D', 'E', 'L'],
  data_spaces: [
    { name: 'Weights', projection: [[['D']], [['E']]] },
    { name: 'Inputs', projection: [[['E']], [['L']]] },
    { name: 'Outputs', projection: [[['D']], [['L']]], read_write: true },
  ],
};

/**
 * The study's normalization op: D sweeps over each of L columns of length E.
 * `Weights[D]` are one fake value per sweep; every operation reads one input
 * element and updates one output element in place.
 */
export const NORMOP_SHAPE: ShapeSpec = {
  name: 'normop',
  dimensions: ['L', 'E', 'D'],
  data_spaces: [
    { name: 'Weights', projection: [[['D']]] },
    { name: 'Inputs', projection: [[['E']], [['L']]] },
    { name: 'Outputs', projection: [[['E']], [['L']]], read_write: true },
  ],
};

/** Timeloop's built-in `cnn_layer` shape. */
export const CNN_LAYER_SHAPE: ShapeSpec = {
  name: 'cnn_layer',
  dimensions: ['R', 'S', 'P', 'Q', 'C', 'K', 'N'],
  coefficients: [
    { name: 'Wstride', default: 1 },
    { name: 'Hstride', default: 1 },
    { name: 'Wdilation', default: 1 },
    { name: 'Hdilation', default: 1 },
  ],
  data_spaces: [
    { name: 'Weights', projection: [[['C']], [['K']], [['R']], [['S']]] },
    { name: 'Inputs', projection: [[['N']], [['C']], [['R', 'Wdilation'], ['P', 'Wstride']], [['S', 'Hdilation'], ['Q', 'Hstride']]] },
    { name: 'Outputs', projection: [[['N']], [['K']], [['Q']], [['P']]], read_write: true },
  ],
};

/** Returns the shape with its dimensions renamed (letters not in `rename` are kept). */
export function renameDimensions(shape: ShapeSpec, rename: Readonly<Record<string, string>>, name = shape.name): ShapeSpec {
  const r = (d: string) => rename[d] ?? d;
  const dimensions = shape.dimensions.map(r);
  if (new Set(dimensions).size !== dimensions.length) throw new Error(`renaming gives a repeated dimension: ${dimensions.join(' ')}`);
  return {
    name,
    dimensions,
    ...(shape.coefficients ? { coefficients: shape.coefficients } : {}),
    data_spaces: shape.data_spaces.map((ds) => ({
      ...ds,
      projection: ds.projection.map((rank) => rank.map((t): ShapeTerm => (t.length === 1 ? [r(t[0])] : [r(t[0]), t[1]]))),
    })),
  };
}

/**
 * The convolution in the study's letters (`dimensions: [R, S, L, Q, E, D, N]`):
 * `cnn_layer` with E for C (input channels), D for K (output channels) and L
 * for P (the output dimension paired with R, Wstride and Wdilation).
 */
export const STUDY_CONV_SHAPE: ShapeSpec = renameDimensions(CNN_LAYER_SHAPE, { P: 'L', C: 'E', K: 'D' }, 'CNN-Layer');

function inDomain(domain: Domain, value: unknown, origin: Origin, what: string): number {
  if (typeof value !== 'number' || outsideDomain(domain, value) !== undefined) {
    const note = typeof value === 'number' && Number.isInteger(value) && value > MAX_EXACT_INTEGER ? ` (at most 2^53 - 1 = ${MAX_EXACT_INTEGER})` : '';
    throw userError(origin, `${what} must be ${domain.expected}${note}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Builds a {@link Problem} from a shape and an `instance` map (a size for
 * every dimension, optionally values for coefficients). The result is the
 * same object Timeloop's YAML reader produces for `{shape, instance}`.
 * A missing or non-positive size, or a key that is neither a dimension nor a
 * coefficient, is a {@link UserError} naming `origin` and the key.
 */
export function buildProblem(
  shape: ShapeSpec,
  instance: Readonly<Record<string, number | undefined>>,
  options: { readonly name?: string; readonly origin?: Origin } = {},
): Problem {
  const origin = options.origin ?? {};
  const coefficients: Record<string, number> = {};
  for (const c of shape.coefficients ?? []) coefficients[c.name] = c.default;
  for (const [key, value] of Object.entries(instance)) {
    if (value === undefined) continue;
    if (key in coefficients) coefficients[key] = inDomain(FIELD_DOMAINS.coefficient, value, fieldOf(origin, key), `coefficient '${key}'`);
    else if (!shape.dimensions.includes(key)) {
      throw userError(fieldOf(origin, key), `'${key}' is neither a dimension (${shape.dimensions.join(', ')}) nor a coefficient of the shape '${shape.name}'`);
    }
  }
  const bounds = shape.dimensions.map((d) => {
    if (instance[d] === undefined) throw userError(origin, `no size for dimension '${d}' of the shape '${shape.name}'`);
    return inDomain(FIELD_DOMAINS.dimension, instance[d], fieldOf(origin, d), `the size of dimension '${d}'`);
  });
  const tooMany = operationCountError(shape.dimensions, bounds);
  if (tooMany !== undefined) throw userError(origin, tooMany);
  const dataspaces: DataSpace[] = shape.data_spaces.map((ds) => ({
    name: ds.name,
    projection: ds.projection.map((rank) =>
      rank.map((t): ProjectionTerm => {
        const dimension = shape.dimensions.indexOf(t[0]);
        if (dimension < 0) throw new Error(`shape '${shape.name}': '${t[0]}' is not a dimension`);
        if (t.length === 1) return { dimension, coefficient: 1 };
        const name = t[1];
        if (!(name in coefficients)) throw new Error(`shape '${shape.name}': '${name}' is not a declared coefficient`);
        return { dimension, coefficient: coefficients[name], coefficientName: name };
      }),
    ),
    readWrite: ds.read_write === true,
  }));
  return { name: options.name ?? shape.name, dimensions: [...shape.dimensions], bounds, coefficients, dataspaces };
}

export interface GemmSizes {
  readonly D: number;
  readonly E: number;
  readonly L: number;
}

/** A GEMM `Out[D][L] += W[D][E] · In[E][L]`. */
export function gemmProblem(name: string, sizes: GemmSizes, origin?: Origin): Problem {
  return buildProblem(GEMM_SHAPE, { D: sizes.D, E: sizes.E, L: sizes.L }, { name, origin });
}

export interface NormOpSizes {
  /** Number of columns. */
  readonly L: number;
  /** Column length. */
  readonly E: number;
  /** Sweeps over each column. */
  readonly D: number;
}

/** A normalization op: D sweeps over L columns of length E (see {@link NORMOP_SHAPE}). */
export function normOpProblem(name: string, sizes: NormOpSizes, origin?: Origin): Problem {
  return buildProblem(NORMOP_SHAPE, { L: sizes.L, E: sizes.E, D: sizes.D }, { name, origin });
}

/** Sizes of a `cnn_layer`, in Timeloop's letters. Strides and dilations default to 1. */
export interface ConvSizes {
  /** Filter width (paired with P, Wstride, Wdilation). */
  readonly R: number;
  /** Filter height (paired with Q, Hstride, Hdilation). */
  readonly S: number;
  /** Output width. The study calls it L. */
  readonly P: number;
  /** Output height. */
  readonly Q: number;
  /** Input channels. The study calls it E. */
  readonly C: number;
  /** Output channels. The study calls it D (M in its tables). */
  readonly K: number;
  /** Batch. */
  readonly N: number;
  readonly Wstride?: number;
  readonly Hstride?: number;
  readonly Wdilation?: number;
  readonly Hdilation?: number;
}

export type ConvNaming = 'timeloop' | 'study';

/**
 * A convolution. With `naming: 'timeloop'` (the default) the problem is
 * Timeloop's `cnn_layer` (R S P Q C K N); with `naming: 'study'` the same
 * problem uses the study's letters (R S L Q E D N), so that constraints
 * written with D/E/L apply.
 */
export function convProblem(name: string, sizes: ConvSizes, options: { readonly naming?: ConvNaming; readonly origin?: Origin } = {}): Problem {
  const study = options.naming === 'study';
  const instance: Record<string, number | undefined> = {
    R: sizes.R,
    S: sizes.S,
    [study ? 'L' : 'P']: sizes.P,
    Q: sizes.Q,
    [study ? 'E' : 'C']: sizes.C,
    [study ? 'D' : 'K']: sizes.K,
    N: sizes.N,
    Wstride: sizes.Wstride,
    Hstride: sizes.Hstride,
    Wdilation: sizes.Wdilation,
    Hdilation: sizes.Hdilation,
  };
  return buildProblem(study ? STUDY_CONV_SHAPE : CNN_LAYER_SHAPE, instance, { name, origin: options.origin });
}
