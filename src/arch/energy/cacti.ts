/**
 * Accelergy's CACTI plug-in (SRAM logic of commits e0bc7b6…291018b, which
 * reproduces the study) on top of the 2,124 CACTI 7 runs of
 * `data/energy/sram_cacti_raw.csv`, and its DRAM table.
 *
 * SRAM(technology, width, depth, n_rw_ports = 1, n_banks = 1), as the plug-in does it:
 *  1. scaled_width = max(ceil(width/8)·8, 32), widthscale = width/scaled_width;
 *  2. scaled_depth = max(depth, 64·n_banks), depthscale = depth/scaled_depth;
 *  3. scaled_n_banks = 2^ceil(log2 n_banks);
 *  4. CACTI run with size scaled_width·scaled_depth/8 bytes, block scaled_width/8
 *     bytes, n_rw_ports ports, scaled_n_banks UCA banks;
 *  5. read/write = CACTI energy · (0.7·widthscale + 0.3) · depthscale^0.78
 *     (update = write), leakage power = per-bank leakage · n_banks (unrounded) ·
 *     widthscale · depthscale, area = CACTI area · widthscale · depthscale;
 *  6. leak (pJ per cycle) = leakage power · global_cycle_seconds;
 *  7. nodes between CACTI's native 22/32/45/65 nm: every output linearly
 *     interpolated in nm between the two neighbouring native nodes.
 *
 * When the run of step 4 is not among the stored runs (a scaled width that is
 * not a power of two, e.g. 48; a depth that is neither a power of two nor 192,
 * e.g. 3000), the run's outputs are interpolated from the stored runs around
 * it: log-log linear in depth between the two nearest stored depths (at each
 * of the two nearest stored widths), then log-log linear in width. This is
 * piecewise power-law interpolation, exact at every stored run and monotone
 * wherever the neighbouring runs are. Its error, measured against CACTI runs
 * it did not use, is printed by `npx tsx src/arch/energy/interpolation-error.ts`
 * (README of data/energy and the tests quote the numbers).
 */
import { readEnergyCsv, cellNumber } from './data.ts';
import { attributeError, type Where } from './attributes.ts';

const RAW_FILE = 'sram_cacti_raw.csv';

/** CACTI's outputs for one run, in CACTI's units. */
export interface CactiRun {
  readonly readNJ: number;
  readonly writeNJ: number;
  readonly leakMWPerBank: number;
  readonly areaMM2: number;
  readonly randomCycleNs: number;
}

/** The inputs that identify a CACTI run, widths and depths in bits and words. */
export interface CactiRunKey {
  readonly technologyNm: number;
  readonly width: number;
  readonly depth: number;
  readonly nRwPorts: number;
  readonly nBanks: number;
}

export const CACTI_NATIVE_NODES = [22, 32, 45, 65] as const;
export const CACTI_PORTS = [1, 2] as const;
export const CACTI_MAX_BANKS = 32;
/** Largest depth used to bracket an off-grid depth (the grid's 64…65536). */
export const CACTI_MAX_GRID_DEPTH = 65536;
export const CACTI_WIDTHS = [32, 64, 128, 256, 512] as const;

const FIELDS = ['readNJ', 'writeNJ', 'leakMWPerBank', 'areaMM2', 'randomCycleNs'] as const;

interface RawIndex {
  readonly runs: Map<string, CactiRun>;
  /** (technology, ports, banks, width) → stored depths, ascending. */
  readonly depths: Map<string, number[]>;
}

let rawIndex: RawIndex | undefined;

function runKey(k: CactiRunKey): string {
  return `${k.technologyNm}/${k.width}/${k.depth}/${k.nRwPorts}/${k.nBanks}`;
}

function depthsKey(technologyNm: number, width: number, nRwPorts: number, nBanks: number): string {
  return `${technologyNm}/${width}/${nRwPorts}/${nBanks}`;
}

function index(): RawIndex {
  if (rawIndex) return rawIndex;
  const runs = new Map<string, CactiRun>();
  const depths = new Map<string, number[]>();
  for (const row of readEnergyCsv(RAW_FILE)) {
    const blockBytes = cellNumber(row, 'block_bytes', RAW_FILE);
    const key: CactiRunKey = {
      technologyNm: cellNumber(row, 'technology_nm', RAW_FILE),
      width: blockBytes * 8,
      depth: cellNumber(row, 'size_bytes', RAW_FILE) / blockBytes,
      nRwPorts: cellNumber(row, 'n_rw_ports', RAW_FILE),
      nBanks: cellNumber(row, 'n_banks', RAW_FILE),
    };
    runs.set(runKey(key), {
      readNJ: cellNumber(row, 'read_nJ', RAW_FILE),
      writeNJ: cellNumber(row, 'write_nJ', RAW_FILE),
      leakMWPerBank: cellNumber(row, 'leak_mW_per_bank', RAW_FILE),
      areaMM2: cellNumber(row, 'area_mm2', RAW_FILE),
      randomCycleNs: cellNumber(row, 'random_cycle_ns', RAW_FILE),
    });
    const dk = depthsKey(key.technologyNm, key.width, key.nRwPorts, key.nBanks);
    const list = depths.get(dk) ?? [];
    list.push(key.depth);
    depths.set(dk, list);
  }
  for (const list of depths.values()) list.sort((a, b) => a - b);
  rawIndex = { runs, depths };
  return rawIndex;
}

/** Every stored run, for the interpolation-error measurement. */
export function storedCactiRuns(): { key: CactiRunKey; run: CactiRun }[] {
  const out: { key: CactiRunKey; run: CactiRun }[] = [];
  for (const [k, run] of index().runs) {
    const [technologyNm, width, depth, nRwPorts, nBanks] = k.split('/').map(Number);
    out.push({ key: { technologyNm, width, depth, nRwPorts, nBanks }, run });
  }
  return out;
}

/** Piecewise power law: linear in log(value) over log(x); linear if a value is not positive. */
function logLog(x: number, x0: number, x1: number, a: CactiRun, b: CactiRun): CactiRun {
  const p = (Math.log(x) - Math.log(x0)) / (Math.log(x1) - Math.log(x0));
  const out: Record<string, number> = {};
  for (const f of FIELDS) {
    const va = a[f];
    const vb = b[f];
    out[f] = va > 0 && vb > 0 ? Math.exp((1 - p) * Math.log(va) + p * Math.log(vb)) : (1 - p) * va + p * vb;
  }
  return out as unknown as CactiRun;
}

/** Stored values that bracket x: [x, x] if stored, else the nearest below and above, or null. */
function bracket(values: readonly number[], x: number): [number, number] | null {
  if (values.includes(x)) return [x, x];
  let lo: number | undefined;
  let hi: number | undefined;
  for (const v of values) {
    if (v < x) lo = v;
    else if (v > x && hi === undefined) hi = v;
  }
  return lo !== undefined && hi !== undefined ? [lo, hi] : null;
}

/** Why a run is outside the data, and which attribute is at fault. */
export interface OutOfData {
  readonly attribute: 'width' | 'depth';
  readonly reason: string;
}

export interface RunLookup {
  readonly run: CactiRun;
  /** Whether the run is stored (false: interpolated from stored runs). */
  readonly exact: boolean;
}

/**
 * CACTI's outputs for a run at a native node: the stored run, or the log-log
 * interpolation between stored runs. `skip` hides stored runs (used to
 * measure the interpolation error against runs it did not see).
 * Returns which attribute is at fault when the run is outside the data.
 */
export function cactiRun(key: CactiRunKey, skip?: (k: CactiRunKey) => boolean): RunLookup | OutOfData {
  const { runs, depths } = index();
  const visible = (k: CactiRunKey) => runs.get(runKey(k)) !== undefined && !(skip?.(k) ?? false);
  if (visible(key)) return { run: runs.get(runKey(key))!, exact: true };
  const widths = bracket(CACTI_WIDTHS, key.width);
  if (!widths) {
    return { attribute: 'width', reason: `scaled width ${key.width} bits is outside the CACTI runs (${CACTI_WIDTHS[0]}…${CACTI_WIDTHS[CACTI_WIDTHS.length - 1]} bits)` };
  }
  const atWidth = (width: number): CactiRun | OutOfData => {
    const k = { ...key, width };
    if (visible(k)) return runs.get(runKey(k))!;
    const stored = (depths.get(depthsKey(key.technologyNm, width, key.nRwPorts, key.nBanks)) ?? []).filter(
      (d) => d <= CACTI_MAX_GRID_DEPTH && visible({ ...k, depth: d }),
    );
    const ds = bracket(stored, key.depth);
    if (!ds) {
      const range = stored.length ? `${stored[0]}…${stored[stored.length - 1]}` : 'none';
      return {
        attribute: 'depth',
        reason: `scaled depth ${key.depth} words is outside the CACTI runs for width ${width}, ${key.nBanks} bank(s), ${key.nRwPorts} port(s) (depths ${range})`,
      };
    }
    const lo = runs.get(runKey({ ...k, depth: ds[0] }))!;
    const hi = runs.get(runKey({ ...k, depth: ds[1] }))!;
    return ds[0] === ds[1] ? lo : logLog(key.depth, ds[0], ds[1], lo, hi);
  };
  let [w0, w1] = widths;
  if (w0 === w1) {
    const r = atWidth(w0);
    if (!('reason' in r)) return { run: r, exact: false };
    // Nothing visible at this width, which happens only when runs are hidden: bracket with the widths around it.
    const around = skip ? bracket(CACTI_WIDTHS.filter((w) => w !== w0), key.width) : null;
    if (!around) return r;
    [w0, w1] = around;
  }
  const r0 = atWidth(w0);
  if ('reason' in r0) return r0;
  const r1 = atWidth(w1);
  if ('reason' in r1) return r1;
  return { run: logLog(key.width, w0, w1, r0, r1), exact: false };
}

export interface SramParams {
  readonly technologyNm: number;
  readonly width: number;
  readonly depth: number;
  readonly nRwPorts: number;
  readonly nBanks: number;
}

/** The plug-in's outputs for one SRAM instance. */
export interface SramEstimate {
  readonly readPJ: number;
  readonly writePJ: number;
  readonly updatePJ: number;
  /** Standby leakage power of the instance, all banks. */
  readonly leakMW: number;
  readonly areaUm2: number;
  readonly randomCycleNs: number;
  /** Whether every CACTI run behind the value is stored (false: some were interpolated). */
  readonly exact: boolean;
}

/** Steps 1–4: the CACTI run behind an SRAM, before technology interpolation. */
export function sramRunKey(p: SramParams, technologyNm: number): CactiRunKey & { widthscale: number; depthscale: number } {
  const scaledWidth = Math.max(Math.ceil(p.width / 8) * 8, 32);
  const scaledDepth = Math.max(p.depth, 64 * p.nBanks);
  const scaledBanks = 2 ** Math.ceil(Math.log2(p.nBanks));
  return {
    technologyNm,
    width: scaledWidth,
    depth: scaledDepth,
    nRwPorts: p.nRwPorts,
    nBanks: scaledBanks,
    widthscale: p.width / scaledWidth,
    depthscale: p.depth / scaledDepth,
  };
}

function atNativeNode(p: SramParams, node: number, where: Where, skip?: (k: CactiRunKey) => boolean): SramEstimate {
  const key = sramRunKey(p, node);
  const found = cactiRun(key, skip);
  if ('reason' in found) {
    throw attributeError(
      where,
      found.attribute,
      `no CACTI data for width ${p.width}, depth ${p.depth}, ${p.nBanks} bank(s), ${p.nRwPorts} port(s) at ${node} nm: ${found.reason}`,
    );
  }
  const { run } = found;
  const dyn = (key.widthscale * 0.7 + 0.3) * key.depthscale ** (1.56 / 2);
  return {
    readPJ: run.readNJ * 1000 * dyn,
    writePJ: run.writeNJ * 1000 * dyn,
    updatePJ: run.writeNJ * 1000 * dyn,
    leakMW: run.leakMWPerBank * p.nBanks * key.widthscale * key.depthscale,
    areaUm2: run.areaMM2 * 1e6 * key.widthscale * key.depthscale,
    randomCycleNs: run.randomCycleNs,
    exact: found.exact,
  };
}

/**
 * The CACTI plug-in's SRAM. Throws a UserError naming the component and the
 * attribute when the request is outside the data (ports other than 1 or 2,
 * more than 32 banks, a node outside 22…65 nm, a width above 512 bits, a depth
 * above 65,536 words per the grid).
 */
export function cactiSram(p: SramParams, where: Where, skip?: (k: CactiRunKey) => boolean): SramEstimate {
  if (p.width * p.depth === 0) {
    return { readPJ: 0, writePJ: 0, updatePJ: 0, leakMW: 0, areaUm2: 0, randomCycleNs: 0, exact: true };
  }
  if (!(CACTI_PORTS as readonly number[]).includes(p.nRwPorts)) {
    throw attributeError(where, 'n_rw_ports', `${p.nRwPorts} is outside the CACTI data (1 or 2 read-write ports)`);
  }
  if (2 ** Math.ceil(Math.log2(p.nBanks)) > CACTI_MAX_BANKS) {
    throw attributeError(where, 'n_banks', `${p.nBanks} is outside the CACTI data (1…${CACTI_MAX_BANKS} banks)`);
  }
  const t = p.technologyNm;
  const lo = Math.max(...CACTI_NATIVE_NODES.filter((n) => n <= t));
  const hi = Math.min(...CACTI_NATIVE_NODES.filter((n) => n >= t));
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw attributeError(where, 'technology', `${t} nm is outside the CACTI data (${CACTI_NATIVE_NODES[0]}…${CACTI_NATIVE_NODES[CACTI_NATIVE_NODES.length - 1]} nm)`);
  }
  if (Math.max(Math.ceil(p.width / 8) * 8, 32) > CACTI_WIDTHS[CACTI_WIDTHS.length - 1]) {
    throw attributeError(where, 'width', `${p.width} bits is outside the CACTI data (at most ${CACTI_WIDTHS[CACTI_WIDTHS.length - 1]} bits)`);
  }
  const a = atNativeNode(p, lo, where, skip);
  if (lo === hi) return a;
  const b = atNativeNode(p, hi, where, skip);
  const q = (t - lo) / (hi - lo);
  const mix = (x: number, y: number) => (1 - q) * x + q * y;
  return {
    readPJ: mix(a.readPJ, b.readPJ),
    writePJ: mix(a.writePJ, b.writePJ),
    updatePJ: mix(a.updatePJ, b.updatePJ),
    leakMW: mix(a.leakMW, b.leakMW),
    areaUm2: mix(a.areaUm2, b.areaUm2),
    randomCycleNs: mix(a.randomCycleNs, b.randomCycleNs),
    exact: a.exact && b.exact,
  };
}

/** pJ per bit of the plug-in's CactiDRAM, by `type`. */
export const DRAM_PJ_PER_BIT: Readonly<Record<string, number>> = {
  LPDDR4: 8,
  LPDDR: 40,
  DDR3: 70,
  GDDR5: 14,
  HBM2: 3.9,
};

/** CactiDRAM: read = write = update = k·width pJ; no leakage, no area. */
export function cactiDramAccessPJ(type: string, width: number, where: Where): number {
  const k = DRAM_PJ_PER_BIT[type];
  if (k === undefined) {
    throw attributeError(where, 'type', `DRAM type ${JSON.stringify(type)} is not supported (one of ${Object.keys(DRAM_PJ_PER_BIT).join(', ')})`);
  }
  return k * width;
}
