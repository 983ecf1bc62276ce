/**
 * The study's hardware design-space configurations as typed data
 * (study-facts §1.4, §1.7, §7.2, §7.3): the Gemmini configs of
 * `transformer_gemmini/hwdse_run.py` (its hard-coded list, the 20 of
 * `hw_configs.json`, and the 15 behind `results/hwdse_table_08-05-2024.txt`
 * with the metrics that table reports), and the PIM configs of
 * `transformer_pim/hwdse_run.py` / `hw_configs.json`. Keys keep the study's
 * names, so a config reads, validates and prints as the study's JSON does.
 */
import { UserError } from '../util/errors.ts';

export type Dataflow = 'WS' | 'OS' | 'IS';
export const DATAFLOWS: readonly Dataflow[] = ['WS', 'OS', 'IS'];

/** One Gemmini HW-DSE config (`hwdse_run.py`; every key required). */
export interface GemminiHwConfig {
  /** Scratchpad entries (8-bit words). */
  readonly scratchpad_size: number;
  /** Accumulator entries per PE row (32-bit words); the NO architecture gets `× pe_rows` in one array. */
  readonly accumulator_size: number;
  /** Scratchpad read and write bandwidth, words/cycle. */
  readonly scratchpad_bandwidth: number;
  /** Accumulator read and write bandwidth per row, words/cycle (`× pe_rows` for the NO architecture). */
  readonly accumulator_bandwidth: number;
  readonly pe_rows: number;
  readonly pe_cols: number;
  readonly dataflow: Dataflow;
  /** Entries of the NO's input and output register files (one column chunk). */
  readonly rf_size: number;
}

/** One PIM HW-DSE config (`transformer_pim/hwdse_run.py`). */
export interface PimHwConfig {
  readonly shared_glb_size: number;
  readonly shared_glb_bandwidth: number;
  readonly pe_rows: number;
  readonly pe_cols: number;
  /** WS or IS (the PIM script has no OS). */
  readonly dataflow: Exclude<Dataflow, 'OS'>;
  /** "has not yet been implemented!" in the study; accepted, and an error if true. */
  readonly use_IMC_as_buffer: boolean;
  /** Bandwidth of the NO architecture's IMC_as_buffer. */
  readonly IMC_buffer_bandwidth: number;
  readonly rf_size: number;
}

export const GEMMINI_CONFIG_KEYS = [
  'scratchpad_size',
  'accumulator_size',
  'scratchpad_bandwidth',
  'accumulator_bandwidth',
  'pe_rows',
  'pe_cols',
  'dataflow',
  'rf_size',
] as const satisfies readonly (keyof GemminiHwConfig)[];

export const PIM_CONFIG_KEYS = [
  'shared_glb_size',
  'shared_glb_bandwidth',
  'pe_rows',
  'pe_cols',
  'dataflow',
  'use_IMC_as_buffer',
  'IMC_buffer_bandwidth',
  'rf_size',
] as const satisfies readonly (keyof PimHwConfig)[];

const g = (
  scratchpad_size: number,
  accumulator_size: number,
  scratchpad_bandwidth: number,
  accumulator_bandwidth: number,
  pe_rows: number,
  pe_cols: number,
  dataflow: Dataflow,
  rf_size = 1024,
): GemminiHwConfig => ({ scratchpad_size, accumulator_size, scratchpad_bandwidth, accumulator_bandwidth, pe_rows, pe_cols, dataflow, rf_size });

/**
 * `hw_configs` hard-coded in `hwdse_run.py` (6): 512 KiB scratchpad with
 * bandwidths 16 / 4, then "double on-chip memory and bandwidth" (1 MiB,
 * 32 / 8); 16×16, 8×32 and 32×8, accumulator × rows = 262144 resp. 524288
 * entries; all WS.
 */
export const GEMMINI_HARDCODED_CONFIGS: readonly GemminiHwConfig[] = [
  g(524288, 16384, 16, 4, 16, 16, 'WS'),
  g(524288, 32768, 16, 4, 8, 32, 'WS'),
  g(524288, 8192, 16, 4, 32, 8, 'WS'),
  g(1048576, 32768, 32, 8, 16, 16, 'WS'),
  g(1048576, 65536, 32, 8, 8, 32, 'WS'),
  g(1048576, 16384, 32, 8, 32, 8, 'WS'),
];

/**
 * `transformer_gemmini/hw_configs.json` at HEAD (study-facts §7.3;
 * tests/fixtures/reference/gemmini_hw_configs.json), in file order: 8 shapes WS,
 * the same 8 OS, then 4 tall/wide WS shapes. Scratchpad 512 KiB, bandwidths
 * 16 / 4, accumulator × rows = 262144 entries throughout.
 */
export const GEMMINI_JSON_CONFIGS: readonly GemminiHwConfig[] = [
  g(524288, 16384, 16, 4, 16, 16, 'WS'),
  g(524288, 32768, 16, 4, 8, 32, 'WS'),
  g(524288, 8192, 16, 4, 32, 8, 'WS'),
  g(524288, 8192, 16, 4, 32, 32, 'WS'),
  g(524288, 16384, 16, 4, 16, 32, 'WS'),
  g(524288, 8192, 16, 4, 32, 16, 'WS'),
  g(524288, 16384, 16, 4, 16, 64, 'WS'),
  g(524288, 4096, 16, 4, 64, 16, 'WS'),
  g(524288, 16384, 16, 4, 16, 16, 'OS'),
  g(524288, 32768, 16, 4, 8, 32, 'OS'),
  g(524288, 8192, 16, 4, 32, 8, 'OS'),
  g(524288, 8192, 16, 4, 32, 32, 'OS'),
  g(524288, 16384, 16, 4, 16, 32, 'OS'),
  g(524288, 8192, 16, 4, 32, 16, 'OS'),
  g(524288, 16384, 16, 4, 16, 64, 'OS'),
  g(524288, 4096, 16, 4, 64, 16, 'OS'),
  g(524288, 16384, 16, 4, 16, 128, 'WS'),
  g(524288, 2048, 16, 4, 128, 16, 'WS'),
  g(524288, 16384, 16, 4, 16, 256, 'WS'),
  g(524288, 1024, 16, 4, 256, 16, 'WS'),
];

/** What one row of the study's HW-DSE summary reports (units of its `recover_metrics`). */
export interface StudyHwdseMetrics {
  /** pJ, summed over the layers, per-head layers × 16. */
  readonly energy: number;
  readonly cycles: number;
  /** Percent, head-weighted mean over the layers. */
  readonly utilization: number;
  /** J·cycle: Σ per-layer EDP (× 16 for per-head layers), the "EDP-sum". */
  readonly edp: number;
}

export interface StudyHwdseRow {
  /** Position in the study's summary table (sorted by EDP-sum), 1-based, as study-facts §7.2 numbers it. */
  readonly rank: number;
  /** Position in the file's "Tested configurations" list (the order `-so` read the results back), 0-based; the summary table is a stable sort of this list. */
  readonly listIndex: number;
  readonly config: GemminiHwConfig;
  readonly study: StudyHwdseMetrics;
}

const row = (rank: number, listIndex: number, config: GemminiHwConfig, energy: number, cycles: number, utilization: number, edp: number): StudyHwdseRow => ({
  rank,
  listIndex,
  config,
  study: { energy, cycles, utilization, edp },
});

/**
 * `results/hwdse_table_08-05-2024.txt` (study-facts §7.2;
 * tests/fixtures/reference/hwdse_table_08-05-2024.txt): 15 configs — the 6
 * hard-coded ones × {WS, OS}, plus 16×32 WS, 32×16 WS (accumulator 32768)
 * and a manual 22×22 WS (accumulator 11915) — on BERT-large's KTQ, VScores
 * and softmax (× 16 heads), no fusion, with the constraints of 2024-05-08
 * (see `studyMatmulTargets`). Ordered as the summary table (by EDP-sum);
 * utilization as the file prints it in the "Tested configurations" block.
 */
export const GEMMINI_HWDSE_TABLE_2024_05_08: readonly StudyHwdseRow[] = [
  row(1, 12, g(524288, 32768, 16, 4, 32, 16, 'WS'), 155061760000, 623902848, 86.72333333333334, 2060800),
  row(2, 2, g(524288, 16384, 16, 4, 16, 16, 'WS'), 144836000000, 676331648, 97.52666666666666, 2176000),
  row(3, 8, g(524288, 16384, 16, 4, 16, 32, 'WS'), 144836000000, 676331648, 65.42999999999999, 2176000),
  row(4, 9, g(524288, 8192, 16, 4, 32, 8, 'WS'), 163281120000, 671088768, 100, 2240000),
  row(5, 4, g(1048576, 32768, 32, 8, 16, 16, 'OS'), 129884160000, 671088768, 100, 2266880),
  row(6, 10, g(524288, 16384, 16, 4, 16, 16, 'OS'), 116650720000, 805306496, 66.66666666666667, 2310400),
  row(7, 1, g(1048576, 16384, 32, 8, 32, 8, 'OS'), 134585440000, 704643200, 86.66666666666667, 2366400),
  row(8, 14, g(1048576, 65536, 32, 8, 8, 32, 'OS'), 137208960000, 704643200, 86.66666666666667, 2379200),
  row(9, 13, g(1048576, 32768, 32, 8, 16, 16, 'WS'), 164028640000, 671088768, 100, 2409600),
  row(10, 5, g(1048576, 65536, 32, 8, 8, 32, 'WS'), 162729280000, 673448064, 98.86, 2412800),
  row(11, 3, g(524288, 8192, 16, 4, 32, 8, 'OS'), 119765120000, 872415360, 60, 2476800),
  row(12, 11, g(524288, 32768, 16, 4, 8, 32, 'OS'), 122395680000, 872415360, 60, 2504000),
  row(13, 7, g(524288, 32768, 16, 4, 8, 32, 'WS'), 138666560000, 810025088, 66.09666666666666, 2508800),
  row(14, 6, g(1048576, 16384, 32, 8, 32, 8, 'WS'), 194769120000, 671088768, 100, 2539200),
  row(15, 0, g(524288, 11915, 16, 4, 22, 22, 'WS'), 199923200000, 1014759552, 45.18, 4027200),
];

/** The 15 configs of the 2024-05-08 table in the order the file lists them (config 0 first: the one the table compares keys against). */
export const GEMMINI_HWDSE_2024_05_08_CONFIGS: readonly GemminiHwConfig[] = [...GEMMINI_HWDSE_TABLE_2024_05_08]
  .sort((a, b) => a.listIndex - b.listIndex)
  .map((r) => r.config);

const p = (shared_glb_size: number, shared_glb_bandwidth: number, pe_rows: number, pe_cols: number): PimHwConfig => ({
  shared_glb_size,
  shared_glb_bandwidth,
  pe_rows,
  pe_cols,
  dataflow: 'WS',
  use_IMC_as_buffer: false,
  IMC_buffer_bandwidth: 16,
  rf_size: 1024,
});

/**
 * The PIM configs, hard-coded in `transformer_pim/hwdse_run.py` and
 * identical in its `hw_configs.json` (tests/fixtures/reference/pim_hw_configs.json):
 * 256 KiB / 16 and 512 KiB / 32 global buffer × {128×128, 64×256, 256×64}, WS.
 */
export const PIM_CONFIGS: readonly PimHwConfig[] = [
  p(262144, 16, 128, 128),
  p(262144, 16, 64, 256),
  p(262144, 16, 256, 64),
  p(524288, 32, 128, 128),
  p(524288, 32, 64, 256),
  p(524288, 32, 256, 64),
];

type Obj = Record<string, unknown>;

function positiveInt(o: Obj, key: string, origin: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new UserError(`${key} must be a positive whole number, got ${JSON.stringify(v)}`, origin, `${where}.${key}`);
  return v;
}

function configList(value: unknown, origin: string): Obj[] {
  if (!Array.isArray(value)) throw new UserError('expected a JSON list of configs', origin);
  return value.map((c, i) => {
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new UserError('expected an object', origin, `[${i}]`);
    return c as Obj;
  });
}

function checkKeys(c: Obj, keys: readonly string[], origin: string, i: number): void {
  for (const k of keys) {
    // The study's message: "Error in config i: missing key".
    if (!(k in c)) throw new UserError(`error in config ${i}: missing key '${k}'`, origin, `[${i}]`);
  }
  const extra = Object.keys(c).filter((k) => !keys.includes(k) && k !== 'metrics');
  if (extra.length > 0) throw new UserError(`error in config ${i}: unknown key '${extra[0]}' (keys: ${keys.join(', ')})`, origin, `[${i}].${extra[0]}`);
}

/** Reads a Gemmini config list as `hwdse_run.py -c <file>` does (every key required; a `metrics` key is ignored). */
export function parseGemminiConfigs(value: unknown, origin = 'hw_configs.json'): GemminiHwConfig[] {
  return configList(value, origin).map((c, i) => {
    checkKeys(c, GEMMINI_CONFIG_KEYS, origin, i);
    const where = `[${i}]`;
    const dataflow = c['dataflow'];
    if (!DATAFLOWS.includes(dataflow as Dataflow)) throw new UserError(`dataflow must be one of ${DATAFLOWS.join(', ')}, got ${JSON.stringify(dataflow)}`, origin, `${where}.dataflow`);
    return {
      scratchpad_size: positiveInt(c, 'scratchpad_size', origin, where),
      accumulator_size: positiveInt(c, 'accumulator_size', origin, where),
      scratchpad_bandwidth: positiveInt(c, 'scratchpad_bandwidth', origin, where),
      accumulator_bandwidth: positiveInt(c, 'accumulator_bandwidth', origin, where),
      pe_rows: positiveInt(c, 'pe_rows', origin, where),
      pe_cols: positiveInt(c, 'pe_cols', origin, where),
      dataflow: dataflow as Dataflow,
      rf_size: positiveInt(c, 'rf_size', origin, where),
    };
  });
}

/** Reads a PIM config list as `transformer_pim/hwdse_run.py -c <file>` does. */
export function parsePimConfigs(value: unknown, origin = 'hw_configs.json'): PimHwConfig[] {
  return configList(value, origin).map((c, i) => {
    checkKeys(c, PIM_CONFIG_KEYS, origin, i);
    const where = `[${i}]`;
    const dataflow = c['dataflow'];
    if (dataflow !== 'WS' && dataflow !== 'IS') throw new UserError(`dataflow must be WS or IS, got ${JSON.stringify(dataflow)}`, origin, `${where}.dataflow`);
    if (typeof c['use_IMC_as_buffer'] !== 'boolean') throw new UserError('use_IMC_as_buffer must be true or false', origin, `${where}.use_IMC_as_buffer`);
    return {
      shared_glb_size: positiveInt(c, 'shared_glb_size', origin, where),
      shared_glb_bandwidth: positiveInt(c, 'shared_glb_bandwidth', origin, where),
      pe_rows: positiveInt(c, 'pe_rows', origin, where),
      pe_cols: positiveInt(c, 'pe_cols', origin, where),
      dataflow,
      use_IMC_as_buffer: c['use_IMC_as_buffer'] as boolean,
      IMC_buffer_bandwidth: positiveInt(c, 'IMC_buffer_bandwidth', origin, where),
      rf_size: positiveInt(c, 'rf_size', origin, where),
    };
  });
}

/**
 * `-mx/--mixup`: the Cartesian product of every value seen per key,
 * deduplicated, in first-seen order per key (the first key varies slowest).
 */
export function mixup<C extends object>(configs: readonly C[]): C[] {
  if (configs.length === 0) return [];
  const keys = Object.keys(configs[0]) as (keyof C)[];
  const values = keys.map((k) => {
    const seen: unknown[] = [];
    for (const c of configs) if (!seen.some((v) => v === c[k])) seen.push(c[k]);
    return seen;
  });
  let out: Record<string, unknown>[] = [{}];
  keys.forEach((k, i) => {
    out = out.flatMap((partial) => values[i].map((v) => ({ ...partial, [k]: v })));
  });
  return out as C[];
}
