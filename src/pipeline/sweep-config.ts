/**
 * What a `sweep` (HW-DSE) and a `crossArch` experiment name, resolved to
 * data: the config list of a sweep (the study's named lists, a study-format
 * hw_configs JSON file, or inline objects, optionally mixed up) and the
 * workload ids of the cross-architecture study (groups expanded).
 *
 * Both config validation and the expander use these, so they only import
 * data modules: loading the config must not load the estimator or the
 * mapper (the warm path of `expt run` does not need them).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../util/errors.ts';
import {
  GEMMINI_HARDCODED_CONFIGS,
  GEMMINI_HWDSE_2024_05_08_CONFIGS,
  GEMMINI_JSON_CONFIGS,
  PIM_CONFIGS,
  mixup,
  parseGemminiConfigs,
  parsePimConfigs,
  type GemminiHwConfig,
  type PimHwConfig,
} from '../sweeps/hwdse-configs.ts';
import { CROSS_ARCH_CONV_IDS, GEMM_WORKLOADS } from '../workload/benchmarks.ts';

export type HwConfig = GemminiHwConfig | PimHwConfig;

/** Where a config list came from, for labels and the report. */
export interface ResolvedConfigs {
  configs: HwConfig[];
  /** `the study's 2024-05-08 list`, `hw_configs.json`, `inline`; `(mixup)` appended when mixed up. */
  source: string;
  /** The JSON file read, relative to the config file (for input labels). */
  file?: string;
}

/**
 * A sweep's configs. `value` is the `configs` field as written; errors
 * name `origin.file: origin.field` (a JSON file's errors then name that
 * file and the config's position in it).
 */
export function resolveSweepConfigs(
  architecture: 'gemmini' | 'pim',
  value: unknown,
  origin: { root: string; file: string; field: string },
  options: { mixup?: boolean } = {},
): ResolvedConfigs {
  const parse = (v: unknown, where: string) => (architecture === 'gemmini' ? parseGemminiConfigs(v, where) : parsePimConfigs(v, where));
  let out: ResolvedConfigs;
  if (value === 'hardcoded' || value === 'json' || value === '2024-05-08') {
    if (architecture === 'pim') {
      if (value === '2024-05-08') throw new UserError("the 2024-05-08 HW-DSE table is Gemmini's; the PIM configs are 'hardcoded' (= 'json', the same 6)", origin.file, origin.field);
      out = { configs: [...PIM_CONFIGS], source: "the study's PIM list (hwdse_run.py = hw_configs.json)" };
    } else {
      const lists = { hardcoded: GEMMINI_HARDCODED_CONFIGS, json: GEMMINI_JSON_CONFIGS, '2024-05-08': GEMMINI_HWDSE_2024_05_08_CONFIGS };
      const what = { hardcoded: 'hard-coded list (hwdse_run.py)', json: 'hw_configs.json (HEAD)', '2024-05-08': '2024-05-08 HW-DSE table' };
      out = { configs: [...lists[value]], source: `the study's ${what[value]}` };
    }
  } else if (typeof value === 'string') {
    const abs = resolve(origin.root, value);
    if (!existsSync(abs) || !statSync(abs).isFile()) {
      throw new UserError(`expected 'hardcoded', 'json', '2024-05-08' or a hw_configs JSON file, got the string ${JSON.stringify(value)} (no such file; paths are relative to the config file)`, origin.file, origin.field);
    }
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(abs, 'utf8'));
    } catch (error) {
      throw new UserError(`${value} is not JSON: ${(error as Error).message}`, origin.file, origin.field);
    }
    try {
      out = { configs: parse(json, value), source: value, file: value };
    } catch (error) {
      // Named from the config's field, the file's own position after it (one line, the config file first).
      if (error instanceof UserError) throw new UserError(`${value}${error.field !== undefined ? ` ${error.field}` : ''}: ${error.message}`, origin.file, origin.field);
      throw error;
    }
  } else if (Array.isArray(value)) {
    if (value.length === 0) throw new UserError('expected at least one config, got an empty list', origin.file, origin.field);
    try {
      out = { configs: parse(value, origin.file), source: 'inline' };
    } catch (error) {
      // The parser names positions as `[i].key`: put them under the field.
      if (error instanceof UserError && error.field !== undefined) throw new UserError(error.message, origin.file, `${origin.field}${error.field}`);
      throw error;
    }
  } else {
    throw new UserError(`expected 'hardcoded', 'json', '2024-05-08', a hw_configs JSON file or a list of configs, got ${value === null ? 'null' : typeof value === 'object' ? 'an object' : `the ${typeof value} ${String(value)}`}`, origin.file, origin.field);
  }
  if (options.mixup) out = { ...out, configs: mixup(out.configs), source: `${out.source} (mixup)` };
  return out;
}

/** `bert_layers` of run_experiments_across_archs.py (= CROSS_ARCH_BERT_LAYERS of src/sweeps/cross-arch.ts). */
export const CROSS_ARCH_BERT_IDS: readonly string[] = ['KQV', 'KTQ', 'VScores', 'FF1'];

/** Group names a `crossArch.workloads` list may use, in the script's order. */
export const CROSS_ARCH_WORKLOAD_GROUPS: Readonly<Record<string, readonly string[]>> = {
  gemms: GEMM_WORKLOADS.map((w) => w.id),
  bert: CROSS_ARCH_BERT_IDS,
  convs: CROSS_ARCH_CONV_IDS,
};

/** Every workload id the cross-architecture study can map (src/sweeps/cross-arch.ts `crossArchWorkload`). */
export function crossArchWorkloadIds(): string[] {
  return [...GEMM_WORKLOADS.map((w) => w.id), ...CROSS_ARCH_BERT_IDS, 'Out', 'FF2', ...CROSS_ARCH_CONV_IDS];
}

/** A workloads list with the groups expanded, each id once, in order. */
export function expandWorkloads(list: readonly string[]): string[] {
  const out: string[] = [];
  for (const w of list) for (const id of CROSS_ARCH_WORKLOAD_GROUPS[w] ?? [w]) if (!out.includes(id)) out.push(id);
  return out;
}
