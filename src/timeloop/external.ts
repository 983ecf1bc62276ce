/**
 * The real Timeloop as a second engine: `timeloop-model` / `timeloop-mapper`
 * run through zx on an exported task, and their `stats.txt` read back into
 * the embedded engine's result type ({@link Evaluation}), so reports and
 * comparisons work unchanged.
 *
 * - Programs: `timeloop-model` and `timeloop-mapper` from the path given
 *   (`bin`: a folder or the model program), else `EXPT_TIMELOOP_MODEL` (the
 *   model program; `none` acts as if Timeloop were not installed), else
 *   PATH. A `lib/` folder next to `bin/` goes on LD_LIBRARY_PATH.
 * - Each call runs in a fresh private folder (Timeloop overwrites its output
 *   files), with no `TIMELOOP_*` variables (Timeloop's default configuration)
 *   unless `keepEnv`, under a time limit (the model is killed; the mapper
 *   gets SIGINT, on which Timeloop reports its best mapping so far, then
 *   SIGKILL after a grace period). stdout/stderr are kept in the result.
 * - Engine id: Timeloop has no version flag and prints none, so the id is
 *   `timeloop-<program>@sha256:<12 hex>` of the program and its shared
 *   libraries; it changes whenever the installed Timeloop does.
 * - Input flavour: v3 (hyphenated keys) by default, which v3.0.3 needs;
 *   `flavour: 'v4'` writes underscore keys for Timeloop master.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineId, requireTimeloop } from './tools.ts';
import { $ } from 'zx';
import type { Architecture } from '../arch/architecture.ts';
import { foldedSize, type LevelMapping, type LoopBlock, type Mapping, type SpatialBlock } from '../mapping/mapping.ts';
import type { DataspaceStats, Evaluation, NetworkStats, StorageLevelStats } from '../model/result.ts';
import type { Problem } from '../workload/problem.ts';
import { UserError } from '../util/errors.ts';
import { exportYaml, type ExportTask, type Flavour } from './export.ts';
import { dynamicEnergyPJ, parseTimeloopStats, type TimeloopStats } from './stats-parser.ts';
import { parseMapping } from './tree-import.ts';
import { parseYamlText } from '../util/yaml.ts';

export { findTimeloop, requireTimeloop, engineId, INSTALL_HINT, CHECK_INSTALL_HINT, type TimeloopTools } from './tools.ts';

export interface ExternalOptions {
  /** Folder holding timeloop-model / timeloop-mapper, or the model program. */
  readonly bin?: string;
  /** Wall-time limit in ms (default 60 s for the model, 600 s for the mapper). */
  readonly timeoutMs?: number;
  /** Input flavour (default v3, which v3.0.3 needs). */
  readonly flavour?: Flavour;
  /** Keep the run folder (default: removed after reading the outputs). */
  readonly keepDir?: boolean;
  /** Parent of the private run folders (default: the OS temp folder). */
  readonly workDir?: string;
  /** Keep TIMELOOP_* environment variables (default: removed). */
  readonly keepEnv?: boolean;
  /** Return the run folder's text files (input, stdout/stderr, logs, stats, map) in `files`. */
  readonly collect?: boolean;
}

export interface ExternalRun {
  readonly program: 'timeloop-model' | 'timeloop-mapper';
  readonly engineId: string;
  /** The run folder (already removed unless keepDir). */
  readonly dir: string;
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly wallMs: number;
  /** Parsed stats.txt, when Timeloop wrote one. */
  readonly stats: TimeloopStats | null;
  /** The stats as the embedded engine's result. */
  readonly evaluation: Evaluation | null;
  /** `map.txt` as written (the loop nest). */
  readonly mapText: string | null;
  /** `map.yaml` (timeloop-mapper's best mapping in Timeloop's mapping format), when written. */
  readonly mapYaml: string | null;
  /** Why there is no result (Timeloop's error lines, a timeout...), else null. */
  readonly error: string | null;
  /** With `collect`: the run folder's files (name → text; each cut at 4 MB). */
  readonly files?: Record<string, string>;
}

const COLLECT_LIMIT = 4 * 1024 * 1024;

function collectFiles(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    let text: string;
    try {
      text = readFileSync(join(dir, name), 'utf8');
    } catch {
      continue; // a folder or unreadable
    }
    files[name] = text.length > COLLECT_LIMIT ? `${text.slice(0, COLLECT_LIMIT)}\n[cut at ${COLLECT_LIMIT} characters by expt]\n` : text;
  }
  return files;
}

async function run(program: 'timeloop-model' | 'timeloop-mapper', text: string, task: ExportTask, opts: ExternalOptions): Promise<ExternalRun> {
  const tools = requireTimeloop(opts.bin, program);
  const exe = program === 'timeloop-mapper' ? tools.mapper! : tools.model;
  const id = engineId(tools, program);
  const parent = opts.workDir ?? tmpdir();
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, `expt-${program}.`));
  writeFileSync(join(dir, 'input.yaml'), text);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (opts.keepEnv || !k.startsWith('TIMELOOP_')) env[k] = v;
  if (tools.libDir) env['LD_LIBRARY_PATH'] = tools.libDir + (env['LD_LIBRARY_PATH'] ? `:${env['LD_LIBRARY_PATH']}` : '');
  const timeoutMs = opts.timeoutMs ?? (program === 'timeloop-mapper' ? 600_000 : 60_000);
  const started = Date.now();
  const p = $({ cwd: dir, env, nothrow: true, quiet: true, verbose: false, stdio: ['ignore', 'pipe', 'pipe'] })`exec ${exe} input.yaml`;
  let timedOut = false;
  const soft = setTimeout(() => {
    timedOut = true;
    void p.kill(program === 'timeloop-mapper' ? 'SIGINT' : 'SIGKILL').catch(() => undefined);
  }, timeoutMs);
  const hard = setTimeout(() => void p.kill('SIGKILL').catch(() => undefined), timeoutMs + 30_000);
  const out = await p;
  clearTimeout(soft);
  clearTimeout(hard);
  const wallMs = Date.now() - started;
  writeFileSync(join(dir, 'run.stdout'), out.stdout);
  writeFileSync(join(dir, 'run.stderr'), out.stderr);
  const statsFile = join(dir, `${program}.stats.txt`);
  const mapFile = join(dir, `${program}.map.txt`);
  let stats: TimeloopStats | null = null;
  let evaluation: Evaluation | null = null;
  let error: string | null = null;
  if (existsSync(statsFile) && (out.exitCode === 0 || program === 'timeloop-mapper')) {
    try {
      stats = parseTimeloopStats(readFileSync(statsFile, 'utf8'), statsFile);
      evaluation = statsToEvaluation(stats, task.architecture);
    } catch (e) {
      error = `${program}.stats.txt unreadable: ${(e as Error).message}`;
    }
  }
  if (!stats && error === null) {
    const lines = `${out.stderr}\n${out.stdout}`.split('\n').filter((l) => /ERROR|Assertion|terminate|what\(\)|Aborted|couldn't map|No valid mappings/i.test(l));
    error = lines.length > 0 ? lines.join(' | ').trim() : timedOut ? `timed out after ${timeoutMs} ms` : `exited ${out.exitCode ?? `on ${out.signal}`} without a stats file`;
  }
  const mapText = existsSync(mapFile) ? readFileSync(mapFile, 'utf8') : null;
  const mapYamlFile = join(dir, `${program}.map.yaml`);
  const mapYaml = existsSync(mapYamlFile) ? readFileSync(mapYamlFile, 'utf8') : null;
  const files = opts.collect ? collectFiles(dir) : undefined;
  if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  return { program, engineId: id, dir, exitCode: out.exitCode, timedOut, stdout: out.stdout, stderr: out.stderr, wallMs, stats, evaluation, mapText, mapYaml, error, ...(files ? { files } : {}) };
}

/** Runs `timeloop-model` on a task with a mapping and an ERT. */
export async function runTimeloopModel(task: ExportTask, opts: ExternalOptions = {}): Promise<ExternalRun> {
  if (!task.problem || !task.mapping || !task.ert) throw new UserError('timeloop-model needs a problem, a mapping and an ERT');
  const { text } = exportYaml({ ...task, constraints: undefined, mapper: undefined }, opts.flavour ?? 'v3', 'written by expt for timeloop-model');
  return run('timeloop-model', text, task, opts);
}

/** Runs `timeloop-mapper` on a task with a problem, an ERT, and optionally constraints and mapper settings. */
export async function runTimeloopMapper(task: ExportTask, opts: ExternalOptions = {}): Promise<ExternalRun & { mapping: Mapping | null }> {
  if (!task.problem || !task.ert) throw new UserError('timeloop-mapper needs a problem and an ERT');
  const mapper = { optimization_metrics: ['edp'], ...(task.mapper ?? {}) };
  const { text } = exportYaml({ ...task, mapping: undefined, mapper }, opts.flavour ?? 'v3', 'written by expt for timeloop-mapper');
  const r = await run('timeloop-mapper', text, task, opts);
  // The best mapping: map.yaml (Timeloop's mapping format) when written, else
  // the loop nests of the stats (which can leave out the outermost level's).
  let mapping: Mapping | null = null;
  if (r.stats) {
    try {
      const doc = r.mapYaml !== null ? parseYamlText(r.mapYaml, `${r.dir}/timeloop-mapper.map.yaml`) : null;
      const list = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)['mapping'] : undefined;
      mapping = list !== undefined
        ? parseMapping(list, task.problem, task.architecture, { file: 'timeloop-mapper.map.yaml', path: 'mapping' })
        : mappingFromStats(r.stats, task.problem, task.architecture);
    } catch {
      mapping = null;
    }
  }
  return { ...r, mapping };
}

/**
 * Evaluates a task's mapping with `timeloop-model`; Timeloop's rejection of
 * the mapping or a missing stats file is a {@link UserError} with its message.
 */
export async function evaluateWithTimeloop(task: ExportTask, opts: ExternalOptions = {}): Promise<{ evaluation: Evaluation; run: ExternalRun }> {
  const r = await runTimeloopModel(task, opts);
  if (!r.evaluation) throw new UserError(`timeloop-model failed: ${r.error ?? 'no result'}`);
  return { evaluation: r.evaluation, run: r };
}

// ---------------------------------------------------------------------------
// stats.txt → Evaluation

/**
 * The embedded engine's result from a parsed stats.txt. Counts are exact;
 * energies have the 2 decimals Timeloop prints. Levels the stats leave out
 * (newer Timeloop omits levels that keep nothing) are added from the
 * architecture, empty, when it is given. Network fields are the inferred
 * networks' as printed; user networks give their energy.
 */
export function statsToEvaluation(stats: TimeloopStats, arch?: Architecture): Evaluation {
  const mac = stats.arithmetic;
  const printed = [...stats.storage].reverse();
  const order = arch ? arch.storage.map((s) => s.name) : printed.map((s) => s.name);
  const storage: StorageLevelStats[] = order.map((name, i) => {
    const l = printed.find((s) => s.name === name);
    if (!l) {
      const s = arch!.storage[i];
      return {
        name,
        timeloop_level: arch!.storage.length - i,
        instances: s.instances,
        mesh_x: s.meshX,
        mesh_y: s.meshY,
        size_words: s.sizeWords,
        word_bits: s.wordBits,
        block_size: s.blockSize,
        cycles: mac.cycles,
        slowdown: 1,
        dataspaces: {},
        utilized_instances: 0,
        energy_pJ: 0,
        leakage_energy_pJ: 0,
      };
    }
    const dataspaces: Record<string, DataspaceStats> = {};
    let energy = 0;
    let utilized = 0;
    for (const [dsName, d] of Object.entries(l.dataspaces)) {
      const tr = d.temporalReductionEnergyTotalPJ ?? 0;
      const ag = d.addressGenerationEnergyTotalPJ ?? 0;
      dataspaces[dsName] = {
        partition_size: d.partitionSize,
        utilized_capacity: d.utilizedCapacity,
        utilized_instances: d.utilizedInstances,
        utilized_clusters: d.utilizedClusters,
        reads: d.scalarReads,
        fills: d.scalarFills,
        updates: d.scalarUpdates,
        temporal_reductions: d.temporalReductions,
        address_generations: d.addressGenerations,
        energy_per_instance_pJ: d.energyPerInstancePJ,
        energy_pJ: d.energyTotalPJ,
        temporal_reduction_energy_pJ: tr,
        addr_gen_energy_pJ: ag,
        read_bandwidth_per_instance: d.readBandwidthPerInstance ?? d.fields['Read Bandwidth (per-instance)'] ?? 0,
        write_bandwidth_per_instance: d.writeBandwidthPerInstance ?? d.fields['Write Bandwidth (per-instance)'] ?? 0,
      };
      energy += d.energyTotalPJ + tr + ag;
      utilized = Math.max(utilized, d.utilizedInstances);
    }
    return {
      name: l.name,
      timeloop_level: l.level,
      instances: l.instances,
      mesh_x: l.meshX ?? l.instances,
      mesh_y: l.meshY ?? 1,
      size_words: l.size,
      word_bits: l.wordBits,
      block_size: l.blockSize,
      cycles: l.cycles,
      slowdown: l.bandwidthThrottling,
      dataspaces,
      utilized_instances: utilized,
      energy_pJ: energy,
      leakage_energy_pJ: l.leakageEnergyTotalPJ ?? 0,
    };
  });
  const networks: NetworkStats[] = stats.networks.map((n) => {
    let energy = 0;
    const dataspaces: NetworkStats['dataspaces'] = {};
    for (const [name, d] of Object.entries(n.dataspaces)) {
      const e = d.energyTotalPJ ?? 0;
      energy += e;
      dataspaces[name] = {
        fanout: d.fanout,
        multicast_factor: d.multicastFactor,
        ingresses: d.ingresses,
        link_transfers: d.linkTransfers ?? 0,
        spatial_reductions: d.spatialReductions ?? 0,
        average_hops: d.averageHops ?? 0,
        energy_pJ: e,
      };
    }
    return { name: n.name, dataspaces, energy_pJ: energy };
  });
  const leakage = storage.reduce((s, l) => s + l.leakage_energy_pJ, 0);
  const networkEnergy = networks.reduce((s, n) => s + n.energy_pJ, 0);
  const energy = dynamicEnergyPJ(stats) + leakage;
  const cycles = stats.summary.cycles;
  const busiest = Math.max(mac.cycles, ...storage.map((l) => l.cycles));
  const computes = stats.summary.computes || mac.computes;
  return {
    arithmetic: {
      name: mac.name,
      instances: mac.instances,
      utilized_instances: mac.utilizedInstances,
      computes: mac.computes,
      cycles: mac.cycles,
      energy_pJ: mac.energyTotalPJ,
    },
    storage,
    networks,
    summary: {
      cycles,
      network_latency_cycles: cycles - busiest,
      // Timeloop prints it with 2 decimals; this is its definition.
      utilization: mac.instances > 0 && cycles > 0 ? computes / mac.instances / cycles : stats.summary.utilization,
      energy_pJ: energy,
      leakage_energy_pJ: leakage,
      network_energy_pJ: networkEnergy,
      edp_J_cycle: energy * 1e-12 * cycles,
      pJ_per_compute: computes > 0 ? energy / computes : 0,
      computes,
      link_transfers_total: networks.reduce((s, n) => s + Object.values(n.dataspaces).reduce((t, d) => t + d.link_transfers, 0), 0),
    },
  };
}

/**
 * The mapping a stats.txt describes: each level's printed loop nest
 * (temporal loops outermost first, then the fanout's Spatial-Y and
 * Spatial-X loops) and the dataspaces it keeps. Throws when the stats do not
 * fit the architecture (a loop names an unknown dimension) or leave loops
 * out (Timeloop sometimes prints no loop nest for the outermost level; the
 * mapper's map.yaml has the whole mapping).
 */
export function mappingFromStats(stats: TimeloopStats, problem: Problem, arch: Architecture): Mapping {
  const nd = problem.dimensions.length;
  const levels: LevelMapping[] = arch.storage.map((s, i) => {
    const l = stats.storage.find((x) => x.name === s.name);
    const temporal: LoopBlock & { factors: number[]; residuals: number[]; permutation: number[] } = { factors: Array(nd).fill(1), residuals: Array(nd).fill(1), permutation: [] };
    const sx: number[] = [];
    const sy: number[] = [];
    const sf = Array(nd).fill(1);
    const sr = Array(nd).fill(1);
    for (const loop of l?.loopNest ?? []) {
      const d = problem.dimensions.indexOf(loop.dimension);
      if (d < 0) throw new Error(`loop over unknown dimension ${loop.dimension}`);
      const bound = loop.end - loop.start;
      const residual = loop.residualEnd !== undefined ? loop.residualEnd - loop.start : bound;
      if (loop.spatial === null) {
        temporal.factors[d] = bound;
        temporal.residuals[d] = residual;
        temporal.permutation.unshift(d);
      } else {
        sf[d] = bound;
        sr[d] = residual;
        (loop.spatial === 'X' ? sx : sy).unshift(d);
      }
    }
    for (let d = 0; d < nd; d++) if (!temporal.permutation.includes(d)) temporal.permutation.push(d);
    const inner = i + 1 < arch.storage.length ? arch.storage[i + 1] : arch.arithmetic;
    const fanout = inner.meshX * inner.meshY > s.meshX * s.meshY;
    let spatial: SpatialBlock | null = null;
    if (fanout) {
      const perm = [...sx, ...sy];
      for (let d = 0; d < nd; d++) if (!perm.includes(d)) perm.push(d);
      spatial = { factors: sf, residuals: sr, permutation: perm, split: sx.length };
    }
    const keep = problem.dataspaces.map((d) => (l ? d.name in l.dataspaces : false));
    return { temporal, spatial, keep };
  });
  for (let d = 0; d < nd; d++) {
    const pairs: [number, number][] = [];
    for (const l of levels) {
      pairs.push([l.temporal.factors[d], l.temporal.residuals[d]]);
      if (l.spatial) pairs.push([l.spatial.factors[d], l.spatial.residuals[d]]);
    }
    const size = foldedSize(pairs);
    if (size !== problem.bounds[d]) throw new Error(`the printed loops of ${problem.dimensions[d]} span ${size}, not ${problem.bounds[d]} (a level's loop nest is missing from the stats)`);
  }
  return { levels };
}
