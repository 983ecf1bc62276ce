/**
 * The shapes of cached results, checked whenever an entry is read. A cache
 * entry can be hash-consistent and still not be what its kind returns (an
 * entry written by another version, or edited along with its manifest);
 * such an entry is a miss that is recomputed, like a corrupt one, instead of
 * a crash halfway through writing the reports or in a dependent task.
 *
 * The shapes name what consumers dereference (arrays, objects, strings, the
 * format tag), not every number: JSON turns a non-finite number into null,
 * so a number field accepts null, and a shape never rejects a result its
 * kind actually returns (which would recompute it on every run).
 */
import { AGGREGATE_FORMAT } from '../pipeline/kinds/aggregate.ts';
import { CROSS_ARCH_FORMAT } from '../pipeline/kinds/cross-arch.ts';
import { FUSED_PAIR_FORMAT } from '../pipeline/kinds/fused-pair.ts';
import { HWDSE_FORMAT } from '../pipeline/kinds/hwdse.ts';
import { MAP_RESULT_FORMAT } from '../pipeline/kinds/map.ts';

export type Shape =
  | 'string'
  /** A number, or null (a non-finite number after JSON). */
  | 'number'
  | 'boolean'
  /** Any JSON value. */
  | 'any'
  | { literal: string }
  | { nullable: Shape }
  | { optional: Shape }
  | { array: Shape }
  | { record: Shape }
  | { object: Record<string, Shape> }
  /** The first alternative whose `when` field is present decides. */
  | { variants: { when: string; shape: Shape }[] };

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The first place where `value` does not have `shape`, as `path: expected ..., got ...`; undefined when it does. */
export function checkShape(value: unknown, shape: Shape, path = 'result'): string | undefined {
  // Hot (every entry read is checked): plain branches, and strings built only on failure.
  if (shape === 'any') return undefined;
  if (shape === 'string') return typeof value === 'string' ? undefined : mismatch(path, 'a string', value);
  if (shape === 'number') return typeof value === 'number' || value === null ? undefined : mismatch(path, 'a number', value);
  if (shape === 'boolean') return typeof value === 'boolean' ? undefined : mismatch(path, 'true or false', value);
  if ('literal' in shape) return value === shape.literal ? undefined : `${path}: expected '${shape.literal}', got ${typeof value === 'string' ? `'${value.slice(0, 40)}'` : describe(value)}`;
  if ('nullable' in shape) return value === null ? undefined : checkShape(value, shape.nullable, path);
  if ('optional' in shape) return value === undefined ? undefined : checkShape(value, shape.optional, path);
  if ('array' in shape) {
    if (!Array.isArray(value)) return mismatch(path, 'an array', value);
    for (let i = 0; i < value.length; i++) {
      const problem = checkShape(value[i], shape.array, `${path}[]`);
      if (problem !== undefined) return problem.replace(`${path}[]`, `${path}[${i}]`);
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return mismatch(path, 'an object', value);
  const o = value as Record<string, unknown>;
  if ('record' in shape) {
    for (const k in o) {
      const problem = checkShape(o[k], shape.record, `${path}.${k}`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if ('variants' in shape) {
    const v = shape.variants.find((x) => x.when in o) ?? shape.variants[shape.variants.length - 1];
    return checkShape(value, v.shape, path);
  }
  for (const k in shape.object) {
    const s = shape.object[k];
    const field = o[k];
    if (field === undefined && !(k in o)) {
      if (typeof s === 'object' && 'optional' in s) continue;
      return `${path}.${k}: missing`;
    }
    const problem = checkShape(field, s, `${path}.${k}`);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** Whether `value` has `shape` (the fast check; {@link checkShape} says where it does not). */
export function fits(value: unknown, shape: Shape): boolean {
  if (shape === 'any') return true;
  if (shape === 'string') return typeof value === 'string';
  if (shape === 'number') return typeof value === 'number' || value === null;
  if (shape === 'boolean') return typeof value === 'boolean';
  if ('literal' in shape) return value === shape.literal;
  if ('nullable' in shape) return value === null || fits(value, shape.nullable);
  if ('optional' in shape) return value === undefined || fits(value, shape.optional);
  if ('array' in shape) {
    if (!Array.isArray(value)) return false;
    for (let i = 0; i < value.length; i++) if (!fits(value[i], shape.array)) return false;
    return true;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const o = value as Record<string, unknown>;
  if ('record' in shape) {
    for (const k in o) if (!fits(o[k], shape.record)) return false;
    return true;
  }
  if ('variants' in shape) {
    const v = shape.variants.find((x) => x.when in o) ?? shape.variants[shape.variants.length - 1];
    return fits(value, v.shape);
  }
  for (const k in shape.object) {
    const s = shape.object[k];
    if (!(k in o)) {
      if (typeof s === 'object' && 'optional' in s) continue;
      return false;
    }
    if (!fits(o[k], s)) return false;
  }
  return true;
}

function mismatch(path: string, expected: string, value: unknown): string {
  return `${path}: expected ${expected}, got ${describe(value)}`;
}

const str = 'string' as const;
const num = 'number' as const;
const bool = 'boolean' as const;
const strings: Shape = { array: str };

const evaluation: Shape = {
  object: {
    arithmetic: { object: { name: str, energy_pJ: num } },
    storage: { array: { object: { name: str, energy_pJ: num, leakage_energy_pJ: num } } },
    networks: { array: { object: { name: str, energy_pJ: num } } },
    summary: { object: { cycles: num, utilization: num, energy_pJ: num, edp_J_cycle: num, pJ_per_compute: num, computes: num } },
  },
};

const mapOutcome: Shape = {
  variants: [
    { when: 'infeasible', shape: { object: { format: { literal: MAP_RESULT_FORMAT }, infeasible: str } } },
    {
      when: 'mapping',
      shape: {
        object: {
          format: { literal: MAP_RESULT_FORMAT },
          mapping: { object: {} },
          timeloop: { array: { record: 'any' } },
          evaluation,
          search: { object: { warnings: strings } },
        },
      },
    },
  ],
};

const totals: Shape = { object: { cells: num, tasks: num, infeasible: num, macs: num, energy_pJ: num, cycles: num, edp_sum_J_cycle: num } };

const layerRow: Shape = {
  object: {
    experiment: str, model: str, layer: str, arch: str, fusion: str, variant: str, hw: str, fusion_mode: str, fusion_flags: str,
    per_block: num, blocks: num, macs: num, status: str, reason: str,
    energy_pJ: num, pJ_per_mac: num, cycles: num, utilization: num, edp_J_cycle: num,
    energy_breakdown_pJ: { record: num }, mapping: str, task: str, key: str,
  },
};

const pairRow: Shape = {
  object: {
    experiment: str, model: str, arch: str, pair: str, matmul: str, normop: str, fusion: str, fusion_mode: str, fusion_flags: str,
    per_block: num, blocks: num, status: str, reason: str,
    unfused_energy_pJ: num, fused_energy_pJ: num, savings_pJ: num, savings_pct: num,
    unfused_matmul_energy_pJ: num, unfused_normop_energy_pJ: num, fused_matmul_energy_pJ: num, fused_normop_energy_pJ: num,
    fused_cycles_sequential: num, fused_cycles_overlapped: num, unfused_cycles_sequential: num,
    block_savings_pJ: num, model_savings_pJ: num, task: str,
  },
};

const modelRow: Shape = {
  object: {
    experiment: str, model: str, arch: str, fusion: str, fusion_mode: str, fusion_flags: str, status: str, reason: str,
    fused_layers: strings, layers: strings, blocks: num, block_macs: num, block_normops: num,
    block_energy_pJ: num, block_cycles: num, model_macs: num, model_normops: num,
    model_energy_pJ: num, model_cycles: num, model_edp_J_cycle: num, pJ_per_mac: num,
    energy_by_layer_pJ: { record: num },
  },
};

const aggregate: Shape = {
  object: { format: { literal: AGGREGATE_FORMAT }, experiment: str, rows: { array: layerRow }, pairs: { array: pairRow }, models: { array: modelRow }, totals },
};

const hwdseLayer: Shape = {
  object: { layer: str, weight: num, ok: bool, reason: str, variant: str, task: str, macs: num, energy_pJ: num, cycles: num, utilization: num, edp_J_cycle: num },
};

const hwdse: Shape = {
  object: {
    format: { literal: HWDSE_FORMAT },
    experiment: str,
    sweep: { object: { architecture: str, source: str, configs: { array: { record: 'any' } }, keys: strings, model: str, layers: { array: { object: { id: str, weight: num, macs: num } } } } },
    configs: {
      array: {
        object: {
          index: num,
          config: { record: 'any' },
          layers: { array: hwdseLayer },
          study: { object: { energy: num, cycles: num, utilization: num, edp: num } },
          correct: { object: { energy_pJ: num, cycles: num, utilization: num, edp_J_cycle: num } },
          notes: strings,
        },
      },
    },
    rows: { array: layerRow },
    totals,
  },
};

const crossArch: Shape = {
  object: {
    format: { literal: CROSS_ARCH_FORMAT },
    experiment: str,
    study: { object: { mapper: str, description: str } },
    cells: {
      array: {
        object: {
          comp: str, arch: str, mapper: str, kind: str, ok: bool, reason: str, macs: num,
          edp_J_cycle: num, cycles: num, energy_uJ: num, utilization: num, runtime_s: num, time_bound: bool, task: str,
        },
      },
    },
    rows: { array: layerRow },
    totals,
  },
};

const pairCost: Shape = { nullable: { object: { energy_pJ: num } } };

const fusedPair: Shape = {
  object: {
    format: { literal: FUSED_PAIR_FORMAT },
    matmul: str, normop: str, level: str, mode: str, flags: str, perBlock: num, blocks: num, status: str, reason: str,
    fused: pairCost, unfused: pairCost, savings_pJ: num, savings_pct: num,
    tasks: { object: { matmul: str, normop: str, unfusedMatmul: str, unfusedNormop: str } },
  },
};

/** Result shape of each task kind (a kind not listed is not checked). */
export const RESULT_SHAPES: Readonly<Record<string, Shape>> = {
  map: mapOutcome,
  aggregate,
  hwdse,
  'cross-arch': crossArch,
  'fused-pair': fusedPair,
};

/** Why a cached result is not what its kind returns, or undefined when it is. */
export function resultProblem(kind: string, result: unknown): string | undefined {
  const shape = RESULT_SHAPES[kind];
  return shape === undefined || fits(result, shape) ? undefined : checkShape(result, shape);
}
