/**
 * The domain of every number expt reads from an input file, in one place:
 * the attributes of architecture components (tree format and timeloopfe
 * v0.4, read by tree-import.ts and v4-import.ts), ERT energies, the energies
 * of `<preset>.energy.csv` override files, and the sizes and coefficients of
 * problems. A value outside its domain would not fail later: a negative
 * bandwidth gives negative cycles, a zero one Infinity and NaN, a size above
 * 2^53 silently rounds. So the readers check each value here and report the
 * file, the field and {@link Domain.expected}.
 *
 * Where Timeloop accepts a zero, so does the table: a storage-less level has
 * `depth: 0`, energies of 0 are common (the study's free register files), a
 * network may have no fill latency.
 */

export interface Domain {
  /** The allowed values, as an error message says them ("a positive whole number"). */
  readonly expected: string;
  readonly contains: (value: number) => boolean;
}

/**
 * Whole numbers stop being exact above 2^53 − 1: 2^53 + 1 already reads as
 * 2^53. Every whole-number domain ends there, so that a count or a size is
 * never silently rounded.
 */
export const MAX_EXACT_INTEGER = Number.MAX_SAFE_INTEGER;

export const POSITIVE_INTEGER: Domain = { expected: 'a positive whole number', contains: (v) => Number.isSafeInteger(v) && v >= 1 };
export const WHOLE_NUMBER: Domain = { expected: 'a whole number >= 0', contains: (v) => Number.isSafeInteger(v) && v >= 0 };
export const POSITIVE: Domain = { expected: 'a number > 0', contains: (v) => Number.isFinite(v) && v > 0 };
export const NON_NEGATIVE: Domain = { expected: 'a number >= 0', contains: (v) => Number.isFinite(v) && v >= 0 };
export const FRACTION: Domain = { expected: 'a number from 0 to 1', contains: (v) => Number.isFinite(v) && v >= 0 && v <= 1 };

/**
 * Component attributes by name, underscore spelling (`word-bits` and
 * `word_bits` are one attribute). Timeloop v3.0.3's buffer and arithmetic
 * specs first, then the attributes expt's energy estimator reads. An
 * attribute that is not listed (`technology`, `type`, a class's own) is
 * passed on unchecked here; the estimator checks those it uses.
 */
export const ATTRIBUTE_DOMAINS: Readonly<Record<string, Domain>> = {
  instances: POSITIVE_INTEGER,
  meshX: POSITIVE_INTEGER,
  meshY: POSITIVE_INTEGER,
  // Capacity: a storage-less level (timeloopfe's dummy, a bypassed register) has none.
  entries: WHOLE_NUMBER,
  depth: WHOLE_NUMBER,
  memory_depth: WHOLE_NUMBER,
  data_storage_depth: WHOLE_NUMBER,
  sizeKB: NON_NEGATIVE,
  width: POSITIVE_INTEGER,
  memory_width: POSITIVE_INTEGER,
  data_storage_width: POSITIVE_INTEGER,
  datawidth: POSITIVE_INTEGER,
  word_bits: POSITIVE_INTEGER,
  word_width: POSITIVE_INTEGER,
  block_size: POSITIVE_INTEGER,
  n_words: POSITIVE_INTEGER,
  cluster_size: POSITIVE_INTEGER,
  // Words per cycle; absent means unlimited. Zero is not "unlimited": it would divide by zero.
  bandwidth: POSITIVE,
  read_bandwidth: POSITIVE,
  write_bandwidth: POSITIVE,
  shared_bandwidth: POSITIVE,
  multiple_buffering: POSITIVE,
  min_utilization: FRACTION,
  network_fill_latency: NON_NEGATIVE,
  network_drain_latency: NON_NEGATIVE,
  fill_latency: NON_NEGATIVE,
  drain_latency: NON_NEGATIVE,
  num_ports: POSITIVE_INTEGER,
  num_banks: POSITIVE_INTEGER,
  network_word_bits: POSITIVE_INTEGER,
  update_fifo_depth: WHOLE_NUMBER,
  // The energy estimator's.
  global_cycle_seconds: POSITIVE,
  n_banks: POSITIVE_INTEGER,
  n_rdwr_ports: WHOLE_NUMBER,
  n_rw_ports: WHOLE_NUMBER,
  n_rd_ports: WHOLE_NUMBER,
  n_wr_ports: WHOLE_NUMBER,
  n_bits: POSITIVE_INTEGER,
  multiplier_width: POSITIVE_INTEGER,
  adder_width: POSITIVE_INTEGER,
  cell_datawidth: POSITIVE_INTEGER,
  DAC_datawidth: POSITIVE_INTEGER,
  ADC_datawidth: POSITIVE_INTEGER,
  SH_datawidth: POSITIVE_INTEGER,
  S_A_datawidth: POSITIVE_INTEGER,
  n_DAC_cycles: POSITIVE_INTEGER,
  n_PE_rows: POSITIVE_INTEGER,
  n_PE_cols: POSITIVE_INTEGER,
  vector_access_energy: NON_NEGATIVE,
  addr_gen_energy: NON_NEGATIVE,
  cluster_area: NON_NEGATIVE,
};

/** The numbers of input files that are not component attributes. */
export const FIELD_DOMAINS = {
  /** An ERT action's `energy` (pJ). */
  ertEnergy: NON_NEGATIVE,
  /** The `energy_pJ` column of an energy-override CSV. */
  overrideEnergy: NON_NEGATIVE,
  /** The size of a problem dimension. */
  dimension: POSITIVE_INTEGER,
  /** A problem coefficient (stride, dilation). */
  coefficient: POSITIVE_INTEGER,
  /** A spatial mapping directive's `split`. */
  split: WHOLE_NUMBER,
} as const satisfies Record<string, Domain>;

/** The domain of a component attribute under any of its spellings, if it has one. */
export function attributeDomain(name: string): Domain | undefined {
  const key = name.replace(/-/g, '_');
  return Object.hasOwn(ATTRIBUTE_DOMAINS, key) ? ATTRIBUTE_DOMAINS[key] : undefined;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`;
  return String(value);
}

/** A number as written in YAML or CSV: a number, or a string holding one. */
export function numericValue(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim());
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

/**
 * `undefined` when `value` (a number, or a string holding one) is in
 * `domain`; else the reason, `expected …, got …`, for a one-line error.
 */
export function outsideDomain(domain: Domain, value: unknown): string | undefined {
  const n = numericValue(value);
  if (n !== undefined && domain.contains(n)) return undefined;
  const beyond = n !== undefined && Number.isInteger(n) && Math.abs(n) > MAX_EXACT_INTEGER && domain.contains(Math.sign(n));
  const note = beyond ? ` (at most 2^53 - 1 = ${MAX_EXACT_INTEGER}: larger whole numbers are not exact)` : '';
  return `expected ${domain.expected}${note}, got ${n !== undefined ? n : describe(value)}`;
}

/**
 * `undefined` when the operation count of a problem (the product of its
 * dimension sizes, each already in {@link FIELD_DOMAINS.dimension}) is exact;
 * else the reason. Every access count and cycle count derives from it.
 */
export function operationCountError(dimensions: readonly string[], bounds: readonly number[]): string | undefined {
  let n = 1;
  for (const b of bounds) n *= b;
  if (n <= MAX_EXACT_INTEGER) return undefined;
  return (
    `the operation count ${dimensions.join(' × ')} = ${bounds.join(' × ')} ≈ ${n.toPrecision(4)} exceeds 2^53 - 1 = ${MAX_EXACT_INTEGER}, ` +
    'beyond which counts and cycles are not exact; expected smaller dimensions'
  );
}
