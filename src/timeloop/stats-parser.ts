/**
 * Parser for Timeloop's text statistics, `timeloop-model.stats.txt` and
 * `timeloop-mapper.stats.txt`.
 *
 * Two flavours are known and handled:
 * - Timeloop v3.0.3: `Utilization: 0.94` (a fraction), `fJ/Compute` table,
 *   no leakage lines.
 * - Newer Timeloop (accelergy-timeloop-infrastructure, 2023+): leakage lines
 *   in the storage SPECS, `Bandwidth Consumption Scale` per dataspace,
 *   `Utilization: 94.12%` and a `pJ/Compute` table. It also leaves out levels
 *   that keep nothing, so the printed level numbers can skip.
 *
 * ## Naming and units
 * Every level, network and dataspace gives its lines twice:
 * - as typed camelCase properties for the fields that the known versions
 *   print (`scalarReads`, `energyTotalPJ`, `blockSize`, ...). A property whose
 *   name ends in a unit (`PJ`, `FJ`, `UJ`, `UM2`, `MM2`) holds the number in
 *   that unit, as printed; bandwidths are words/cycle, sizes and capacities
 *   are words, the rest are counts or plain factors;
 * - as a map by the **exact printed label** (`specs`, `stats`, `fields`), for
 *   every line, including ones this parser does not know. The unit after the
 *   number is dropped.
 *
 * Values: numbers are parsed as JavaScript numbers; `-` (unbounded size,
 * unlimited bandwidth, no energy) becomes `null`; a number printed with `%`
 * is divided by 100, so `Utilization` is a fraction 0..1 in both flavours; a
 * non-numeric value (`SRAM`, `ERT`) stays a string. Counts are "per
 * instance" where Timeloop says so (the average over the utilized instances);
 * energies are printed with 2 decimals, so they are only that precise.
 *
 * Errors: text that is not a stats file, a line that fits no known shape and a
 * missing required field all throw a {@link UserError} naming the file and
 * the line or field.
 */
import { UserError } from '../util/errors.ts';

/** A value as printed: number, `null` for `-`, or a string for non-numeric text. */
export type SpecValue = number | string | null;

/** One `for D in [0:3)` line of a level's MAPPING section. */
export interface LoopNestEntry {
  dimension: string;
  start: number;
  /** Exclusive end (the loop bound when `start` is 0). */
  end: number;
  /** Residual end of an imperfect factor: `for D in [0:3,2)` gives 2. */
  residualEnd?: number;
  /** `Spatial-X` / `Spatial-Y`, or `null` for a temporal loop. */
  spatial: 'X' | 'Y' | null;
}

export interface ArithmeticLevel {
  kind: 'arithmetic';
  /** Timeloop level number as printed (always 0). */
  level: number;
  name: string;
  /** SPECS by exact label. */
  specs: Record<string, SpecValue>;
  wordBits: number | null;
  instances: number;
  /** From `Instances : 64 (8*8)`: meshX * meshY. */
  meshX: number | null;
  meshY: number | null;
  computeEnergyPJ: number | null;
  /** STATS by exact label. */
  stats: Record<string, SpecValue>;
  utilizedInstances: number;
  /** `Computes (total)`. */
  computes: number;
  cycles: number;
  /** `Energy (total)`. */
  energyTotalPJ: number;
  areaTotalUM2?: number;
}

/** One dataspace block in a storage level's STATS. Counts are per instance unless named otherwise. */
export interface StorageDataspaceStats {
  name: string;
  /** Every line of the block by exact label, unit dropped. */
  fields: Record<string, number>;
  /** `Partition size`. */
  partitionSize: number;
  /** `Utilized capacity`. */
  utilizedCapacity: number;
  /** `Utilized instances (max)`. */
  utilizedInstances: number;
  /** `Utilized clusters (max)`. */
  utilizedClusters: number;
  /** `Scalar reads (per-instance)`. */
  scalarReads: number;
  /** `Scalar fills (per-instance)`. */
  scalarFills: number;
  /** `Scalar updates (per-instance)`. */
  scalarUpdates: number;
  /** `Temporal reductions (per-instance)`. */
  temporalReductions: number;
  /** `Address generations (per-cluster)`. */
  addressGenerations: number;
  /** `Energy (per-scalar-access)`. */
  energyPerScalarAccessPJ: number;
  /** `Energy (per-instance)`. */
  energyPerInstancePJ: number;
  /** `Energy (total)` = per instance × utilized instances. */
  energyTotalPJ: number;
  temporalReductionEnergyPerInstancePJ?: number;
  temporalReductionEnergyTotalPJ?: number;
  addressGenerationEnergyPerClusterPJ?: number;
  addressGenerationEnergyTotalPJ?: number;
  /** Newer Timeloop only. */
  bandwidthConsumptionScale?: number;
  sharedBandwidthPerInstance?: number;
  sharedBandwidthTotal?: number;
  readBandwidthPerInstance?: number;
  readBandwidthTotal?: number;
  writeBandwidthPerInstance?: number;
  writeBandwidthTotal?: number;
}

export interface StorageLevel {
  kind: 'storage';
  /** Timeloop level number as printed: 1 = innermost storage. */
  level: number;
  name: string;
  /** SPECS by exact label. */
  specs: Record<string, SpecValue>;
  technology: string | null;
  /** Capacity in words; `null` = unbounded (`-`). */
  size: number | null;
  wordBits: number;
  blockSize: number;
  clusterSize: number;
  instances: number;
  /** From `Instances : 4 (2*2)`: meshX * meshY. */
  meshX: number | null;
  meshY: number | null;
  /** Words/cycle per instance; `null` = unlimited (`-`). */
  sharedBandwidth: number | null;
  readBandwidth: number | null;
  writeBandwidth: number | null;
  multipleBuffering: number | null;
  /** `null` = unbounded. */
  effectiveSize: number | null;
  minUtilization: number | null;
  vectorAccessEnergyPJ: number | null;
  vectorAccessEnergySource: string | null;
  /** Newer Timeloop only. */
  perInstanceCycleLeakagePJ?: number;
  /** Newer Timeloop only: `Leakage energy (total)`. */
  leakageEnergyTotalPJ?: number;
  areaUM2?: number;
  /** MAPPING section, outermost loop first as printed. */
  loopNest: LoopNestEntry[];
  /** Level-wide STATS lines (before the first dataspace) by exact label. */
  stats: Record<string, SpecValue>;
  cycles: number;
  /** `Bandwidth throttling`: 1 = not throttled. */
  bandwidthThrottling: number;
  /** Kept dataspaces, in printed order (bypassed ones are not printed). */
  dataspaces: Record<string, StorageDataspaceStats>;
}

export type Level = ArithmeticLevel | StorageLevel;

/** One `@multicast m @scatter s: n` line. */
export interface IngressHistogramEntry {
  multicast: number;
  scatter: number;
  count: number;
}

export interface NetworkDataspaceStats {
  name: string;
  /** Every line of the block by exact label, unit dropped (histogram lines excluded). */
  fields: Record<string, number>;
  fanout: number;
  multicastFactor: number;
  ingresses: number;
  /** Legacy networks only. */
  ingressHistogram: IngressHistogramEntry[];
  linkTransfers?: number;
  spatialReductions?: number;
  averageHops?: number;
  /** Printed in fJ. */
  energyPerHopFJ?: number;
  energyPerInstancePJ?: number;
  energyTotalPJ?: number;
  linkTransferEnergyPerInstancePJ?: number;
  linkTransferEnergyTotalPJ?: number;
  spatialReductionEnergyPerInstancePJ?: number;
  spatialReductionEnergyTotalPJ?: number;
}

export interface NetworkStats {
  /** `Network N` as printed. */
  index: number;
  /** `DRAM <==> GLB` for an inferred network, or the component name (`D2A_NoC`). */
  name: string;
  specs: Record<string, SpecValue>;
  /** `Legacy`, `SimpleMulticast`, ... */
  type: string | null;
  fillLatency?: number;
  drainLatency?: number;
  dataspaces: Record<string, NetworkDataspaceStats>;
}

export interface OperationalIntensityStats {
  /** Lines before the per-level blocks (`Total ops`, `Optimal Op per Byte`, ...). */
  totals: Record<string, number>;
  /** Per level name: `Total scalar accesses`, `Op per Byte`. Empty for levels printed without lines. */
  levels: Record<string, Record<string, number>>;
}

export interface SummaryStats {
  /** `Key: value` lines by exact label (`GFLOPs (@1GHz)`, `Utilization`, `Energy`, ...). */
  fields: Record<string, SpecValue>;
  /** `GFLOPs (@1GHz)`. */
  gflops: number;
  /** The clock of the GFLOPs line, in GHz. */
  gflopsClockGHz: number;
  /** Fraction 0..1, whichever way it was printed. */
  utilization: number;
  /** As printed: `0.94` (v3.0.3) or `94.12%` (newer). */
  utilizationText: string;
  cycles: number;
  energyUJ: number;
  /** `EDP(J*cycle)`. */
  edpJCycle: number;
  edpText: string;
  areaMM2?: number;
  /** `Computes = N`. */
  computes: number;
  /** Unit of the printed per-compute table: `fJ` (v3.0.3) or `pJ` (newer). */
  energyPerComputeUnit: 'fJ' | 'pJ';
  /** The per-compute table as printed (in `energyPerComputeUnit`), including `Total`. */
  energyPerCompute: Record<string, number>;
  /** The same table in fJ per compute. */
  fJPerCompute: Record<string, number>;
}

export interface TimeloopStats {
  file?: string;
  /** Arithmetic level first, then storage levels in printed order (innermost first). */
  levels: Level[];
  arithmetic: ArithmeticLevel;
  /** Storage levels in printed order: innermost (Level 1) first. */
  storage: StorageLevel[];
  networks: NetworkStats[];
  operationalIntensity: OperationalIntensityStats | null;
  summary: SummaryStats;
}

/** The storage level called `name`, or `undefined`. */
export function findStorageLevel(stats: TimeloopStats, name: string): StorageLevel | undefined {
  return stats.storage.find((level) => level.name === name);
}

/** The network called `name` (`DRAM <==> GLB`, `D2A_NoC`), or `undefined`. */
export function findNetwork(stats: TimeloopStats, name: string): NetworkStats | undefined {
  return stats.networks.find((network) => network.name === name);
}

/** Sum of `Leakage energy (total)` over the storage levels (0 for a v3.0.3 file). */
export function totalLeakageEnergyPJ(stats: TimeloopStats): number {
  return stats.storage.reduce((sum, level) => sum + (level.leakageEnergyTotalPJ ?? 0), 0);
}

/**
 * MAC energy plus every printed per-dataspace storage and network `Energy
 * (total)`, with the storage's temporal-reduction and address-generation
 * totals (0 unless the architecture gives `addr_gen_energy`), in pJ.
 */
export function dynamicEnergyPJ(stats: TimeloopStats): number {
  let sum = stats.arithmetic.energyTotalPJ;
  for (const level of stats.storage) {
    for (const ds of Object.values(level.dataspaces)) sum += ds.energyTotalPJ + (ds.temporalReductionEnergyTotalPJ ?? 0) + (ds.addressGenerationEnergyTotalPJ ?? 0);
  }
  for (const network of stats.networks) {
    for (const ds of Object.values(network.dataspaces)) sum += ds.energyTotalPJ ?? 0;
  }
  return sum;
}

// ---------------------------------------------------------------------------
// Lines

interface Line {
  /** 1-based line number in the file. */
  no: number;
  indent: number;
  /** Trimmed text. */
  text: string;
}

interface KeyValue {
  key: string;
  /** Trimmed raw value; '' when nothing follows the colon. */
  raw: string;
}

const SECTION_LEVELS = 'Buffer and Arithmetic Levels';
const SECTION_NETWORKS = 'Networks';
const SECTION_INTENSITY = 'Operational Intensity Stats';
const SECTION_SUMMARY = 'Summary Stats';
const SECTIONS = [SECTION_LEVELS, SECTION_NETWORKS, SECTION_INTENSITY, SECTION_SUMMARY] as const;
type SectionName = (typeof SECTIONS)[number];

const NUMBER_RE = /^(-|[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf(?:inity)?|nan)(%?)(?:\s+(.*))?$/i;
const LOOP_RE = /^for\s+(\S+)\s+in\s+\[\s*(-?\d+)\s*:\s*(-?\d+)\s*(?:,\s*(-?\d+)\s*)?\)\s*(?:\(Spatial-([XY])\))?$/;
const MESH_RE = /\(\s*(\d+)\s*\*\s*(\d+)\s*\)/;
const UNDERLINE_RE = /^-+$/;
const LEVEL_RE = /^Level\s+(\d+)$/;
const NETWORK_RE = /^Network\s+(\d+)$/;
const NAME_RE = /^===\s*(.*?)\s*===$/;
const HISTOGRAM_RE = /^@multicast\s+(\d+)\s+@scatter\s+(\d+)$/;
const GFLOPS_RE = /^GFLOPs \(@([\d.]+)GHz\)$/;
const PER_COMPUTE_RE = /^([fp])J\/Compute$/;

/** `key : value` (the colon followed by whitespace or the end of the line). */
function splitKeyValue(text: string): KeyValue | null {
  const m = /^(.*?)\s*:(?:\s+(.*))?$/.exec(text);
  if (m === null || m[1] === '') return null;
  return { key: m[1], raw: (m[2] ?? '').trim() };
}

/** `key = value` (summary per-compute table and `Computes = N`). */
function splitEquals(text: string): KeyValue | null {
  const m = /^(.*?)\s+=\s+(\S.*)$/.exec(text);
  if (m === null || m[1] === '') return null;
  return { key: m[1], raw: m[2].trim() };
}

/** Parses a printed value; see the module comment. */
export function parseStatsValue(raw: string): SpecValue {
  const text = raw.trim();
  const m = NUMBER_RE.exec(text);
  if (m === null) return text;
  const token = m[1].toLowerCase();
  if (token === '-') return null;
  let value: number;
  if (token.endsWith('inf') || token.endsWith('infinity')) value = token.startsWith('-') ? -Infinity : Infinity;
  else if (token === 'nan') value = NaN;
  else value = Number(m[1]);
  return m[2] === '%' ? value / 100 : value;
}

class Parser {
  private readonly lines: Line[];

  constructor(
    text: string,
    private readonly file: string | undefined,
  ) {
    this.lines = text.split(/\r?\n/).map((raw, i) => {
      const expanded = raw.replace(/\t/g, '    ');
      const text = expanded.trim();
      return { no: i + 1, indent: expanded.length - expanded.trimStart().length, text };
    });
  }

  fail(message: string, where?: string | Line): never {
    const field = where === undefined ? undefined : typeof where === 'string' ? where : `line ${where.no}`;
    throw new UserError(message, this.file, field);
  }

  parse(): TimeloopStats {
    const sections = this.splitSections();
    const levelLines = sections.get(SECTION_LEVELS);
    const summaryLines = sections.get(SECTION_SUMMARY);
    if (levelLines === undefined || summaryLines === undefined) {
      const missing = levelLines === undefined ? SECTION_LEVELS : SECTION_SUMMARY;
      this.fail(`not a Timeloop stats file: no '${missing}' section`);
    }
    const levels = this.parseLevels(levelLines);
    const arithmetic = levels.find((level): level is ArithmeticLevel => level.kind === 'arithmetic');
    if (arithmetic === undefined) this.fail(`no arithmetic level ('Level 0') in '${SECTION_LEVELS}'`);
    const storage = levels.filter((level): level is StorageLevel => level.kind === 'storage');
    const networkLines = sections.get(SECTION_NETWORKS);
    const intensityLines = sections.get(SECTION_INTENSITY);
    const stats: TimeloopStats = {
      levels,
      arithmetic,
      storage,
      networks: networkLines === undefined ? [] : this.parseNetworks(networkLines),
      operationalIntensity: intensityLines === undefined ? null : this.parseIntensity(intensityLines),
      summary: this.parseSummary(summaryLines),
    };
    if (this.file !== undefined) stats.file = this.file;
    return stats;
  }

  /** Cuts the file at its section titles (a known title followed by an underline). */
  private splitSections(): Map<SectionName, Line[]> {
    const sections = new Map<SectionName, Line[]>();
    let current: Line[] | null = null;
    for (let i = 0; i < this.lines.length; i++) {
      const line = this.lines[i];
      const title = SECTIONS.find((name) => name === line.text && line.indent === 0);
      if (title !== undefined && UNDERLINE_RE.test(this.lines[i + 1]?.text ?? '')) {
        if (sections.has(title)) this.fail(`section '${title}' appears twice`, line);
        current = [];
        sections.set(title, current);
        i++; // skip the underline
        continue;
      }
      if (line.text === '') continue;
      if (current === null) this.fail(`not a Timeloop stats file: unexpected text before '${SECTION_LEVELS}'`, line);
      current.push(line);
    }
    return sections;
  }

  // -------------------------------------------------------------------------
  // Levels

  private parseLevels(lines: Line[]): Level[] {
    const blocks = this.splitBlocks(lines, LEVEL_RE, 'Level N');
    return blocks.map(({ number, header, body }) => this.parseLevel(number, header, body));
  }

  /** Splits a section at `Level N` / `Network N` lines (each followed by an underline). */
  private splitBlocks(lines: Line[], re: RegExp, what: string): { number: number; header: Line; body: Line[] }[] {
    const blocks: { number: number; header: Line; body: Line[] }[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      const m = line.indent === 0 ? re.exec(line.text) : null;
      if (m !== null) {
        blocks.push({ number: Number(m[1]), header: line, body: [] });
        if (UNDERLINE_RE.test(lines[i + 1]?.text ?? '')) i++;
        continue;
      }
      const block = blocks[blocks.length - 1];
      if (block === undefined) this.fail(`expected '${what}', found '${line.text}'`, line);
      block.body.push(line);
    }
    return blocks;
  }

  private parseLevel(number: number, header: Line, body: Line[]): Level {
    const nameLine = body[0];
    const nameMatch = nameLine === undefined ? null : NAME_RE.exec(nameLine.text);
    if (nameMatch === null) this.fail(`expected '=== <name> ===' after 'Level ${number}'`, nameLine ?? header);
    const name = nameMatch[1];
    const where = `Level ${number} (${name})`;

    const specs: Record<string, SpecValue> = {};
    const specsRaw: Record<string, string> = {};
    const stats: Record<string, SpecValue> = {};
    const loopNest: LoopNestEntry[] = [];
    const dataspaces: { name: string; line: Line; fields: Record<string, number> }[] = [];
    let part: 'SPECS' | 'MAPPING' | 'STATS' | null = null;

    for (const line of body.slice(1)) {
      if (UNDERLINE_RE.test(line.text)) continue;
      if (line.text === 'SPECS' || line.text === 'MAPPING' || line.text === 'STATS') {
        part = line.text;
        continue;
      }
      if (part === null) this.fail(`${where}: expected SPECS, MAPPING or STATS, found '${line.text}'`, line);
      if (part === 'MAPPING') {
        if (line.text === 'Loop nest:') continue;
        loopNest.push(this.parseLoop(line, where));
        continue;
      }
      const kv = splitKeyValue(line.text);
      if (kv === null) this.fail(`${where} ${part}: expected 'label : value', found '${line.text}'`, line);
      if (part === 'SPECS') {
        specs[kv.key] = parseStatsValue(kv.raw);
        specsRaw[kv.key] = kv.raw;
        continue;
      }
      // STATS: a label with nothing after the colon opens a dataspace block.
      if (kv.raw === '') {
        dataspaces.push({ name: kv.key, line, fields: {} });
        continue;
      }
      const value = parseStatsValue(kv.raw);
      const current = dataspaces[dataspaces.length - 1];
      if (current === undefined) {
        stats[kv.key] = value;
      } else {
        if (typeof value !== 'number') this.fail(`${where} ${current.name}: '${kv.key}' is not a number: '${kv.raw}'`, line);
        current.fields[kv.key] = value;
      }
    }

    if (number === 0) return this.makeArithmetic(number, name, where, specs, specsRaw, stats, header);
    const fields = new Fields(this, where, header);
    const mesh = parseMesh(specsRaw['Instances']);
    const level: StorageLevel = {
      kind: 'storage',
      level: number,
      name,
      specs,
      technology: fields.optString(specs, 'Technology') ?? null,
      size: fields.nullableNumber(specs, 'Size'),
      wordBits: fields.number(specs, 'Word bits'),
      blockSize: fields.number(specs, 'Block size'),
      clusterSize: fields.optNumber(specs, 'Cluster size') ?? 1,
      instances: fields.number(specs, 'Instances'),
      meshX: mesh?.x ?? null,
      meshY: mesh?.y ?? null,
      sharedBandwidth: fields.optNullableNumber(specs, 'Shared bandwidth') ?? null,
      readBandwidth: fields.optNullableNumber(specs, 'Read bandwidth') ?? null,
      writeBandwidth: fields.optNullableNumber(specs, 'Write bandwidth') ?? null,
      multipleBuffering: fields.optNullableNumber(specs, 'Multiple buffering') ?? null,
      effectiveSize: fields.optNullableNumber(specs, 'Effective size') ?? null,
      minUtilization: fields.optNullableNumber(specs, 'Min utilization') ?? null,
      vectorAccessEnergyPJ: fields.optNullableNumber(specs, 'Vector access energy') ?? null,
      vectorAccessEnergySource: fields.optString(specs, 'Vector access energy source') ?? null,
      loopNest,
      stats,
      cycles: fields.number(stats, 'Cycles'),
      bandwidthThrottling: fields.number(stats, 'Bandwidth throttling'),
      dataspaces: {},
    };
    setIfDefined(level, 'perInstanceCycleLeakagePJ', fields.optNumber(specs, 'Per-instance-cycle leakage'));
    setIfDefined(level, 'leakageEnergyTotalPJ', fields.optNumber(specs, 'Leakage energy (total)'));
    setIfDefined(level, 'areaUM2', fields.optNumber(specs, 'Area'));
    for (const ds of dataspaces) {
      if (ds.name in level.dataspaces) this.fail(`${where}: dataspace '${ds.name}' appears twice`, ds.line);
      level.dataspaces[ds.name] = this.makeStorageDataspace(ds.name, ds.fields, `${where} ${ds.name}`, ds.line);
    }
    return level;
  }

  private makeArithmetic(
    number: number,
    name: string,
    where: string,
    specs: Record<string, SpecValue>,
    specsRaw: Record<string, string>,
    stats: Record<string, SpecValue>,
    header: Line,
  ): ArithmeticLevel {
    const fields = new Fields(this, where, header);
    const mesh = parseMesh(specsRaw['Instances']);
    const level: ArithmeticLevel = {
      kind: 'arithmetic',
      level: number,
      name,
      specs,
      wordBits: fields.optNumber(specs, 'Word bits') ?? null,
      instances: fields.number(specs, 'Instances'),
      meshX: mesh?.x ?? null,
      meshY: mesh?.y ?? null,
      computeEnergyPJ: fields.optNullableNumber(specs, 'Compute energy') ?? null,
      stats,
      utilizedInstances: fields.number(stats, 'Utilized instances'),
      computes: fields.number(stats, 'Computes (total)'),
      cycles: fields.number(stats, 'Cycles'),
      energyTotalPJ: fields.number(stats, 'Energy (total)'),
    };
    setIfDefined(level, 'areaTotalUM2', fields.optNumber(stats, 'Area (total)'));
    return level;
  }

  private makeStorageDataspace(name: string, map: Record<string, number>, where: string, line: Line): StorageDataspaceStats {
    const f = new Fields(this, where, line);
    const ds: StorageDataspaceStats = {
      name,
      fields: map,
      partitionSize: f.number(map, 'Partition size'),
      utilizedCapacity: f.number(map, 'Utilized capacity'),
      utilizedInstances: f.number(map, 'Utilized instances (max)'),
      utilizedClusters: f.number(map, 'Utilized clusters (max)'),
      scalarReads: f.number(map, 'Scalar reads (per-instance)'),
      scalarFills: f.number(map, 'Scalar fills (per-instance)'),
      scalarUpdates: f.number(map, 'Scalar updates (per-instance)'),
      temporalReductions: f.number(map, 'Temporal reductions (per-instance)'),
      addressGenerations: f.number(map, 'Address generations (per-cluster)'),
      energyPerScalarAccessPJ: f.number(map, 'Energy (per-scalar-access)'),
      energyPerInstancePJ: f.number(map, 'Energy (per-instance)'),
      energyTotalPJ: f.number(map, 'Energy (total)'),
    };
    const optional: [NumericKey<StorageDataspaceStats>, string][] = [
      ['temporalReductionEnergyPerInstancePJ', 'Temporal Reduction Energy (per-instance)'],
      ['temporalReductionEnergyTotalPJ', 'Temporal Reduction Energy (total)'],
      ['addressGenerationEnergyPerClusterPJ', 'Address Generation Energy (per-cluster)'],
      ['addressGenerationEnergyTotalPJ', 'Address Generation Energy (total)'],
      ['bandwidthConsumptionScale', 'Bandwidth Consumption Scale'],
      ['sharedBandwidthPerInstance', 'Shared Bandwidth (per-instance)'],
      ['sharedBandwidthTotal', 'Shared Bandwidth (total)'],
      ['readBandwidthPerInstance', 'Read Bandwidth (per-instance)'],
      ['readBandwidthTotal', 'Read Bandwidth (total)'],
      ['writeBandwidthPerInstance', 'Write Bandwidth (per-instance)'],
      ['writeBandwidthTotal', 'Write Bandwidth (total)'],
    ];
    for (const [prop, label] of optional) setIfDefined(ds, prop, map[label]);
    return ds;
  }

  private parseLoop(line: Line, where: string): LoopNestEntry {
    const m = LOOP_RE.exec(line.text);
    if (m === null) this.fail(`${where} MAPPING: expected 'for <dim> in [a:b)', found '${line.text}'`, line);
    const entry: LoopNestEntry = {
      dimension: m[1],
      start: Number(m[2]),
      end: Number(m[3]),
      spatial: m[5] === 'X' || m[5] === 'Y' ? m[5] : null,
    };
    if (m[4] !== undefined) entry.residualEnd = Number(m[4]);
    return entry;
  }

  // -------------------------------------------------------------------------
  // Networks

  private parseNetworks(lines: Line[]): NetworkStats[] {
    const blocks = this.splitBlocks(lines, NETWORK_RE, 'Network N');
    return blocks.map(({ number, header, body }) => this.parseNetwork(number, header, body));
  }

  private parseNetwork(number: number, header: Line, body: Line[]): NetworkStats {
    const nameLine = body[0];
    if (nameLine === undefined || nameLine.text === 'SPECS' || nameLine.text === 'STATS') {
      this.fail(`expected the network's name after 'Network ${number}'`, nameLine ?? header);
    }
    const name = nameLine.text;
    const where = `Network ${number} (${name})`;
    const specs: Record<string, SpecValue> = {};
    const dataspaces: { name: string; line: Line; fields: Record<string, number>; histogram: IngressHistogramEntry[] }[] = [];
    let part: 'SPECS' | 'STATS' | null = null;
    for (const line of body.slice(1)) {
      if (UNDERLINE_RE.test(line.text)) continue;
      if (line.text === 'SPECS' || line.text === 'STATS') {
        part = line.text;
        continue;
      }
      if (part === null) this.fail(`${where}: expected SPECS or STATS, found '${line.text}'`, line);
      const kv = splitKeyValue(line.text);
      if (kv === null) this.fail(`${where} ${part}: expected 'label : value', found '${line.text}'`, line);
      if (part === 'SPECS') {
        specs[kv.key] = parseStatsValue(kv.raw);
        continue;
      }
      if (kv.raw === '') {
        dataspaces.push({ name: kv.key, line, fields: {}, histogram: [] });
        continue;
      }
      const current = dataspaces[dataspaces.length - 1];
      if (current === undefined) this.fail(`${where} STATS: '${kv.key}' outside a dataspace block`, line);
      const value = parseStatsValue(kv.raw);
      if (typeof value !== 'number') this.fail(`${where} ${current.name}: '${kv.key}' is not a number: '${kv.raw}'`, line);
      const hist = HISTOGRAM_RE.exec(kv.key);
      if (hist !== null) current.histogram.push({ multicast: Number(hist[1]), scatter: Number(hist[2]), count: value });
      else current.fields[kv.key] = value;
    }
    const fields = new Fields(this, where, header);
    const type = fields.optString(specs, 'Type');
    const network: NetworkStats = { index: number, name, specs, type: type ?? null, dataspaces: {} };
    setIfDefined(network, 'fillLatency', fields.optNumber(specs, 'Fill latency'));
    setIfDefined(network, 'drainLatency', fields.optNumber(specs, 'Drain latency'));
    for (const ds of dataspaces) {
      if (ds.name in network.dataspaces) this.fail(`${where}: dataspace '${ds.name}' appears twice`, ds.line);
      const f = new Fields(this, `${where} ${ds.name}`, ds.line);
      const map = ds.fields;
      const stats: NetworkDataspaceStats = {
        name: ds.name,
        fields: map,
        fanout: f.number(map, 'Fanout'),
        multicastFactor: f.number(map, 'Multicast factor'),
        ingresses: f.number(map, 'Ingresses'),
        ingressHistogram: ds.histogram,
      };
      const optional: [NumericKey<NetworkDataspaceStats>, string][] = [
        ['linkTransfers', 'Link transfers'],
        ['spatialReductions', 'Spatial reductions'],
        ['averageHops', 'Average number of hops'],
        ['energyPerHopFJ', 'Energy (per-hop)'],
        ['energyPerInstancePJ', 'Energy (per-instance)'],
        ['energyTotalPJ', 'Energy (total)'],
        ['linkTransferEnergyPerInstancePJ', 'Link transfer energy (per-instance)'],
        ['linkTransferEnergyTotalPJ', 'Link transfer energy (total)'],
        ['spatialReductionEnergyPerInstancePJ', 'Spatial Reduction Energy (per-instance)'],
        ['spatialReductionEnergyTotalPJ', 'Spatial Reduction Energy (total)'],
      ];
      for (const [prop, label] of optional) setIfDefined(stats, prop, map[label]);
      network.dataspaces[ds.name] = stats;
    }
    return network;
  }

  // -------------------------------------------------------------------------
  // Operational intensity

  private parseIntensity(lines: Line[]): OperationalIntensityStats {
    const result: OperationalIntensityStats = { totals: {}, levels: {} };
    let current: Record<string, number> = result.totals;
    for (const line of lines) {
      const name = NAME_RE.exec(line.text);
      if (name !== null) {
        current = {};
        result.levels[name[1]] = current;
        continue;
      }
      const kv = splitKeyValue(line.text);
      if (kv === null) this.fail(`${SECTION_INTENSITY}: expected 'label : value', found '${line.text}'`, line);
      const value = parseStatsValue(kv.raw);
      if (typeof value !== 'number') this.fail(`${SECTION_INTENSITY}: '${kv.key}' is not a number: '${kv.raw}'`, line);
      current[kv.key] = value;
    }
    return result;
  }

  // -------------------------------------------------------------------------
  // Summary

  private parseSummary(lines: Line[]): SummaryStats {
    const fields: Record<string, SpecValue> = {};
    const rawFields: Record<string, string> = {};
    const perCompute: Record<string, number> = {};
    let unit: 'fJ' | 'pJ' | null = null;
    let computes: number | undefined;
    const first = lines[0];
    for (const line of lines) {
      const table = PER_COMPUTE_RE.exec(line.text);
      if (table !== null) {
        if (unit !== null) this.fail(`${SECTION_SUMMARY}: a second per-compute table`, line);
        unit = table[1] === 'f' ? 'fJ' : 'pJ';
        continue;
      }
      if (unit !== null) {
        const eq = splitEquals(line.text);
        if (eq === null) this.fail(`${SECTION_SUMMARY} ${unit}/Compute: expected '<name> = <value>', found '${line.text}'`, line);
        const value = parseStatsValue(eq.raw);
        if (typeof value !== 'number') this.fail(`${SECTION_SUMMARY} ${unit}/Compute: '${eq.key}' is not a number: '${eq.raw}'`, line);
        perCompute[eq.key] = value;
        continue;
      }
      const eq = /^Computes\s*=/.test(line.text) ? splitEquals(line.text) : null;
      if (eq !== null) {
        const value = parseStatsValue(eq.raw);
        if (typeof value !== 'number') this.fail(`${SECTION_SUMMARY}: 'Computes' is not a number: '${eq.raw}'`, line);
        computes = value;
        continue;
      }
      const kv = splitKeyValue(line.text);
      if (kv === null) this.fail(`${SECTION_SUMMARY}: expected 'label: value', found '${line.text}'`, line);
      fields[kv.key] = parseStatsValue(kv.raw);
      rawFields[kv.key] = kv.raw;
    }
    const where = SECTION_SUMMARY;
    const f = new Fields(this, where, first);
    if (unit === null) this.fail(`${where}: no 'fJ/Compute' or 'pJ/Compute' table`, first);
    if (computes === undefined) this.fail(`${where}: no 'Computes = N' line`, first);
    const gflopsKey = Object.keys(fields).find((key) => GFLOPS_RE.test(key));
    if (gflopsKey === undefined) this.fail(`${where}: missing field 'GFLOPs (@1GHz)'`, first);
    const scale = unit === 'pJ' ? 1000 : 1;
    const fJPerCompute: Record<string, number> = {};
    for (const [key, value] of Object.entries(perCompute)) fJPerCompute[key] = value * scale;
    const summary: SummaryStats = {
      fields,
      gflops: f.number(fields, gflopsKey),
      gflopsClockGHz: Number(GFLOPS_RE.exec(gflopsKey)?.[1]),
      utilization: f.number(fields, 'Utilization'),
      utilizationText: rawFields['Utilization'],
      cycles: f.number(fields, 'Cycles'),
      energyUJ: f.number(fields, 'Energy'),
      edpJCycle: f.number(fields, 'EDP(J*cycle)'),
      edpText: rawFields['EDP(J*cycle)'],
      computes,
      energyPerComputeUnit: unit,
      energyPerCompute: perCompute,
      fJPerCompute,
    };
    setIfDefined(summary, 'areaMM2', f.optNumber(fields, 'Area'));
    return summary;
  }
}

/** Typed access to a label map, failing with a UserError that names the place. */
class Fields {
  constructor(
    private readonly parser: Parser,
    private readonly where: string,
    private readonly line: Line,
  ) {}

  private missing(label: string): never {
    this.parser.fail(`${this.where}: missing field '${label}'`, this.line);
  }

  private wrongType(label: string, value: SpecValue, expected: string): never {
    this.parser.fail(`${this.where}: '${label}' should be ${expected}, found '${String(value)}'`, this.line);
  }

  number(map: Record<string, SpecValue>, label: string): number {
    const value = map[label];
    if (value === undefined) this.missing(label);
    if (typeof value !== 'number') this.wrongType(label, value, 'a number');
    return value;
  }

  nullableNumber(map: Record<string, SpecValue>, label: string): number | null {
    const value = map[label];
    if (value === undefined) this.missing(label);
    if (value !== null && typeof value !== 'number') this.wrongType(label, value, "a number or '-'");
    return value;
  }

  optNumber(map: Record<string, SpecValue>, label: string): number | undefined {
    return label in map ? this.number(map, label) : undefined;
  }

  optNullableNumber(map: Record<string, SpecValue>, label: string): number | null | undefined {
    return label in map ? this.nullableNumber(map, label) : undefined;
  }

  optString(map: Record<string, SpecValue>, label: string): string | undefined {
    const value = map[label];
    if (value === undefined) return undefined;
    return value === null ? '-' : String(value);
  }
}

function parseMesh(raw: string | undefined): { x: number; y: number } | null {
  const m = raw === undefined ? null : MESH_RE.exec(raw);
  return m === null ? null : { x: Number(m[1]), y: Number(m[2]) };
}

/** The optional number-valued properties of T. */
type NumericKey<T> = { [K in keyof T]-?: undefined extends T[K] ? (T[K] extends number | undefined ? K : never) : never }[keyof T];

function setIfDefined<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

/**
 * Parses the text of a Timeloop `*.stats.txt` file. `file` is only used in
 * error messages (and copied to the result).
 */
export function parseTimeloopStats(text: string, file?: string): TimeloopStats {
  return new Parser(text, file).parse();
}
