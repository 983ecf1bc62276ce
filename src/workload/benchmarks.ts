/**
 * The study's other workloads (study-facts §1.5, §2.4): the MAESTRO-BLAS
 * GEMMs MB1–MB6 and Harsh1–2 of the cross-architecture comparison, the 20
 * convolution benchmarks I–XX, and the VGG16 / ResNet layer files of
 * `run.py -c`. Shapes are the committed instance values, with one fix:
 * vggL13 (VGG16 FC6) has C = 25088, not the committed 250088.
 *
 * User workloads can be written in YAML (`{id, kind: gemm, D, E, L}` or
 * `{id, kind: conv, C, K, P, Q, R, S, N, Wstride, …}`) and read with
 * {@link loadWorkloadFile}.
 */
import type { Problem } from './problem.ts';
import { operationCount } from './problem.ts';
import { isPlainObject, readYamlFile } from '../util/yaml.ts';
import { convProblem, fieldOf, gemmProblem, userError, type ConvNaming, type ConvSizes, type GemmSizes, type Origin } from './shapes.ts';

export type WorkloadGroup = 'maestro-blas' | 'harsh' | 'conv' | 'resnet' | 'vgg' | 'user';

export interface GemmWorkloadSpec {
  readonly id: string;
  readonly kind: 'gemm';
  readonly group: WorkloadGroup;
  readonly sizes: GemmSizes;
  readonly note?: string;
}

export interface ConvWorkloadSpec {
  readonly id: string;
  readonly kind: 'conv';
  readonly group: WorkloadGroup;
  readonly sizes: ConvSizes;
  readonly note?: string;
}

export type WorkloadSpec = GemmWorkloadSpec | ConvWorkloadSpec;

export interface Workload {
  readonly id: string;
  readonly kind: 'gemm' | 'conv';
  readonly group: WorkloadGroup;
  /** The problem, named by the id. */
  readonly problem: Problem;
  /** MACs (the product of the bounds). */
  readonly macs: number;
  readonly note?: string;
}

const gemm = (id: string, group: WorkloadGroup, D: number, E: number, L: number, note?: string): GemmWorkloadSpec => ({
  id,
  kind: 'gemm',
  group,
  sizes: { D, E, L },
  ...(note !== undefined ? { note } : {}),
});

/**
 * A convolution row, in the column order of study-facts §2.4's table:
 * C (the study's E), K (D, "M"), P (L), Q, R, S, Hstride, Wstride,
 * Hdilation, Wdilation, N. P pairs with R, Wstride and Wdilation; Q with S,
 * Hstride and Hdilation.
 */
type ConvRow = readonly [C: number, K: number, P: number, Q: number, R: number, S: number, Hstride: number, Wstride: number, Hdilation: number, Wdilation: number, N: number];

const conv = (id: string, group: WorkloadGroup, row: ConvRow, note?: string): ConvWorkloadSpec => {
  const [C, K, P, Q, R, S, Hstride, Wstride, Hdilation, Wdilation, N] = row;
  return { id, kind: 'conv', group, sizes: { R, S, P, Q, C, K, N, Wstride, Hstride, Wdilation, Hdilation }, ...(note !== undefined ? { note } : {}) };
};

/** MAESTRO-BLAS and Harsh GEMMs (`layer_dims` of `run_experiments_across_archs.py`). */
export const GEMM_WORKLOADS: readonly GemmWorkloadSpec[] = [
  gemm('MB1', 'maestro-blas', 8192, 8192, 8192),
  gemm('MB2', 'maestro-blas', 1024, 8192, 1024),
  gemm('MB3', 'maestro-blas', 8, 8192, 8),
  gemm('MB4', 'maestro-blas', 8, 1024, 8192),
  gemm('MB5', 'maestro-blas', 8192, 1024, 8),
  gemm('MB6', 'maestro-blas', 512, 256, 256),
  gemm('Harsh1', 'harsh', 4000, 6032, 12000),
  gemm('Harsh2', 'harsh', 7000, 1440, 4224),
];

/** Convolutions: `conv_benchmarks/I`–`XX`, `layers/resnet/*`, `layers/vgg/*`. */
export const CONV_WORKLOADS: readonly ConvWorkloadSpec[] = [
  //                 C    K    P    Q  R  S Hs Ws Hd Wd  N
  conv('I', 'conv', [128, 256, 56, 56, 3, 3, 1, 1, 1, 1, 1], 'VGG16'),
  conv('II', 'conv', [512, 512, 28, 28, 3, 3, 1, 1, 1, 1, 1], 'VGG16'),
  conv('III', 'conv', [3, 64, 112, 112, 7, 7, 2, 2, 1, 1, 1], 'ResNet18/50'),
  conv('IV', 'conv', [64, 64, 56, 56, 3, 3, 1, 1, 1, 1, 1], 'ResNet18/50'),
  conv('V', 'conv', [128, 128, 28, 28, 3, 3, 1, 1, 1, 1, 1], 'ResNet18/50'),
  conv('VI', 'conv', [256, 256, 14, 14, 3, 3, 1, 1, 1, 1, 1], 'ResNet18/50'),
  conv('VII', 'conv', [256, 512, 7, 7, 3, 3, 2, 2, 1, 1, 1], 'ResNet18/50'),
  conv('VIII', 'conv', [64, 256, 56, 56, 1, 1, 1, 1, 1, 1, 1], 'ResNet18/50; labelled "depth-wise" by the study, but a plain 1x1 convolution (no groups)'),
  conv('IX', 'conv', [3, 64, 112, 112, 3, 3, 2, 2, 1, 1, 1], 'MobileNetV3'),
  conv('X', 'conv', [72, 72, 28, 28, 3, 3, 2, 2, 1, 1, 1], 'MobileNetV3'),
  conv('XI', 'conv', [576, 576, 7, 7, 5, 5, 1, 1, 1, 1, 1], 'MobileNetV3'),
  conv('XII', 'conv', [24, 88, 28, 28, 1, 1, 1, 1, 1, 1, 1], 'MobileNetV3; labelled "depth-wise" by the study, but a plain 1x1 convolution (no groups)'),
  conv('XIII', 'conv', [16, 16, 224, 224, 3, 3, 3, 3, 4, 4, 1], 'strides and dilation'),
  conv('XIV', 'conv', [128, 128, 112, 112, 9, 9, 4, 4, 3, 3, 1], 'strides and dilation'),
  conv('XV', 'conv', [256, 256, 56, 56, 3, 3, 2, 2, 3, 3, 1], 'strides and dilation'),
  conv('XVI', 'conv', [128, 256, 32, 32, 4, 4, 1, 1, 1, 1, 1], 'made by hand'),
  conv('XVII', 'conv', [576, 576, 7, 7, 5, 5, 1, 1, 1, 1, 1], 'made by hand; same values as XI'),
  conv('XVIII', 'conv', [256, 256, 14, 14, 3, 3, 1, 1, 1, 1, 64], 'made by hand; batch 64'),
  conv('XIX', 'conv', [72, 72, 28, 28, 3, 3, 2, 2, 1, 1, 128], 'made by hand; batch 128'),
  conv('XX', 'conv', [256, 256, 56, 56, 5, 5, 2, 2, 3, 3, 32], 'made by hand; batch 32'),

  conv('resnetL0', 'resnet', [3, 64, 112, 112, 7, 7, 2, 2, 1, 1, 1]),
  conv('resnetL1', 'resnet', [64, 64, 56, 56, 3, 3, 1, 1, 1, 1, 1], 'same values as IV'),
  conv('resnetL1+', 'resnet', [256, 256, 56, 56, 3, 3, 2, 2, 3, 3, 1], "same values as XV (the study's file is identical to resnetL5)"),
  conv('resnetL3+', 'resnet', [128, 128, 112, 112, 9, 9, 4, 1, 3, 1, 1], 'Hstride 4 / Hdilation 3 with Wstride 1 / Wdilation 1, as committed'),
  conv('resnetL5', 'resnet', [256, 256, 56, 56, 3, 3, 2, 2, 3, 3, 1], 'identical to resnetL1+ (XV values), as committed'),
  conv('resnetL6', 'resnet', [128, 128, 28, 28, 3, 3, 1, 1, 1, 1, 1], 'same values as V'),
  conv('resnetL7', 'resnet', [64, 128, 28, 28, 1, 1, 2, 2, 1, 1, 1]),
  conv('resnetL10', 'resnet', [128, 128, 14, 14, 3, 3, 2, 2, 1, 1, 1]),
  conv('resnetL11', 'resnet', [256, 256, 14, 14, 3, 3, 1, 1, 1, 1, 1], 'same values as VI'),
  conv('resnetL12', 'resnet', [128, 256, 14, 14, 1, 1, 2, 2, 1, 1, 1]),
  conv('resnetL15', 'resnet', [256, 512, 7, 7, 3, 3, 2, 2, 1, 1, 1]),
  conv('resnetL16', 'resnet', [512, 512, 7, 7, 3, 3, 1, 1, 1, 1, 1]),
  conv('resnetL17', 'resnet', [256, 512, 7, 7, 1, 1, 2, 2, 1, 1, 1]),
  conv('resnetL20', 'resnet', [512, 1000, 1, 1, 1, 1, 1, 1, 1, 1, 1], 'fully connected'),

  conv('vggL0', 'vgg', [3, 64, 224, 224, 3, 3, 1, 1, 1, 1, 1]),
  conv('vggL1', 'vgg', [64, 64, 224, 224, 3, 3, 1, 1, 1, 1, 1]),
  conv('vggL2', 'vgg', [64, 128, 112, 112, 3, 3, 1, 1, 1, 1, 1]),
  conv('vggL3', 'vgg', [128, 128, 112, 112, 3, 3, 1, 1, 1, 1, 1]),
  conv('vggL3+', 'vgg', [128, 128, 112, 112, 9, 9, 1, 1, 1, 1, 1], 'a 9x9 variant of vggL3, as committed'),
  conv('vggL4', 'vgg', [128, 256, 56, 56, 3, 3, 1, 1, 1, 1, 1], 'same values as I'),
  conv('vggL5', 'vgg', [256, 256, 56, 56, 3, 3, 1, 1, 1, 1, 1]),
  conv('vggL7', 'vgg', [256, 512, 28, 28, 3, 3, 1, 1, 1, 1, 1]),
  conv('vggL8', 'vgg', [512, 512, 28, 28, 3, 3, 1, 1, 1, 1, 1], 'same values as II'),
  conv('vggL10', 'vgg', [512, 512, 14, 14, 3, 3, 1, 1, 1, 1, 1]),
  conv('vggL13', 'vgg', [25088, 4096, 1, 1, 1, 1, 1, 1, 1, 1, 1], 'FC6; C fixed to 25088 (the study committed 250088, a typo: 10x the MACs)'),
  conv('vggL14', 'vgg', [4096, 4096, 1, 1, 1, 1, 1, 1, 1, 1, 1], 'FC7'),
  conv('vggL15', 'vgg', [4096, 1000, 1, 1, 1, 1, 1, 1, 1, 1, 1], 'FC8'),
];

/** Every built-in workload spec. */
export const WORKLOAD_SPECS: readonly WorkloadSpec[] = [...GEMM_WORKLOADS, ...CONV_WORKLOADS];

/** What `run_experiments_across_archs.py -c` runs: I–XVII. */
export const CROSS_ARCH_CONV_IDS: readonly string[] = CONV_WORKLOADS.filter((w) => w.group === 'conv').map((w) => w.id).slice(0, 17);

export interface WorkloadOptions {
  /** Dimension letters of convolutions: Timeloop's `cnn_layer` (default) or the study's (E, D, L for C, K, P). */
  readonly naming?: ConvNaming;
}

/** Builds the problem of a spec. */
export function buildWorkload(spec: WorkloadSpec, options: WorkloadOptions = {}, origin?: Origin): Workload {
  const problem = spec.kind === 'gemm' ? gemmProblem(spec.id, spec.sizes, origin) : convProblem(spec.id, spec.sizes, { naming: options.naming, origin });
  return {
    id: spec.id,
    kind: spec.kind,
    group: spec.group,
    problem,
    macs: operationCount(problem),
    ...(spec.note !== undefined ? { note: spec.note } : {}),
  };
}

/** A built-in (or `catalog`) workload by id; an unknown id is a {@link UserError} listing the known ones. */
export function workload(id: string, options: WorkloadOptions = {}, catalog: readonly WorkloadSpec[] = WORKLOAD_SPECS, origin?: Origin): Workload {
  const spec = catalog.find((w) => w.id === id);
  if (!spec) throw userError(origin, `unknown workload '${id}' (known: ${catalog.map((w) => w.id).join(', ')})`);
  return buildWorkload(spec, options);
}

/** The workloads of one group, in table order. */
export function workloadGroup(group: WorkloadGroup, options: WorkloadOptions = {}, catalog: readonly WorkloadSpec[] = WORKLOAD_SPECS): Workload[] {
  return catalog.filter((w) => w.group === group).map((w) => buildWorkload(w, options));
}

const GEMM_KEYS = ['D', 'E', 'L'] as const;
const CONV_KEYS = ['R', 'S', 'P', 'Q', 'C', 'K', 'N'] as const;
const CONV_COEFFICIENTS = ['Wstride', 'Hstride', 'Wdilation', 'Hdilation'] as const;

function positive(o: Record<string, unknown>, key: string, origin: Origin, required: boolean): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) throw userError(fieldOf(origin, key), `missing required field '${key}'`);
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw userError(fieldOf(origin, key), `expected a positive whole number, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Validates one user workload: `{id, kind: gemm, D, E, L}` or
 * `{id, kind: conv, C, K, P, Q, R, S, N?, Wstride?, Hstride?, Wdilation?,
 * Hdilation?}` (N and the coefficients default to 1), plus an optional
 * `note`. Errors name the file and field.
 */
export function parseWorkload(value: unknown, origin: Origin = {}): WorkloadSpec {
  if (!isPlainObject(value)) throw userError(origin, `expected a workload definition (a map with id, kind and sizes), got ${JSON.stringify(value)}`);
  const id = value['id'];
  if (id === undefined || id === null) throw userError(fieldOf(origin, 'id'), "missing required field 'id'");
  if (typeof id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(id)) throw userError(fieldOf(origin, 'id'), `'${String(id)}' is not a valid id`);
  const kind = value['kind'];
  if (kind === undefined || kind === null) throw userError(fieldOf(origin, 'kind'), "missing required field 'kind' (gemm or conv)");
  if (kind !== 'gemm' && kind !== 'conv') throw userError(fieldOf(origin, 'kind'), `unknown kind ${JSON.stringify(kind)} (gemm or conv)`);
  const note = value['note'];
  if (note !== undefined && typeof note !== 'string') throw userError(fieldOf(origin, 'note'), 'expected a string');
  const allowed = new Set<string>(['id', 'kind', 'note', ...(kind === 'gemm' ? GEMM_KEYS : [...CONV_KEYS, ...CONV_COEFFICIENTS])]);
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) throw userError(fieldOf(origin, key), `unknown field '${key}' for a ${kind} workload (known: ${[...allowed].join(', ')})`);
  }
  const base = { id, group: 'user' as const, ...(note !== undefined ? { note } : {}) };
  if (kind === 'gemm') {
    const [D, E, L] = GEMM_KEYS.map((k) => positive(value, k, origin, true)!);
    return { ...base, kind, sizes: { D, E, L } };
  }
  const [R, S, P, Q, C, K] = (['R', 'S', 'P', 'Q', 'C', 'K'] as const).map((k) => positive(value, k, origin, true)!);
  const N = positive(value, 'N', origin, false) ?? 1;
  const [Wstride, Hstride, Wdilation, Hdilation] = CONV_COEFFICIENTS.map((k) => positive(value, k, origin, false) ?? 1);
  return { ...base, kind, sizes: { R, S, P, Q, C, K, N, Wstride, Hstride, Wdilation, Hdilation } };
}

/** Reads a workload file: one workload, or `workloads:` with a list. Ids must be unique. */
export function loadWorkloadFile(path: string): WorkloadSpec[] {
  const doc = readYamlFile(path);
  const origin: Origin = { file: path };
  let specs: WorkloadSpec[];
  if (isPlainObject(doc) && 'workloads' in doc) {
    const list = doc['workloads'];
    if (!Array.isArray(list)) throw userError(fieldOf(origin, 'workloads'), 'expected a list of workloads');
    specs = list.map((w, i) => parseWorkload(w, fieldOf(fieldOf(origin, 'workloads'), i)));
  } else {
    if (doc === null) throw userError(origin, 'the file is empty; expected a workload definition');
    specs = [parseWorkload(doc, origin)];
  }
  const seen = new Set<string>();
  specs.forEach((s, i) => {
    if (seen.has(s.id)) throw userError(fieldOf(fieldOf(fieldOf(origin, 'workloads'), i), 'id'), `workload id '${s.id}' is defined twice`);
    seen.add(s.id);
  });
  return specs;
}
