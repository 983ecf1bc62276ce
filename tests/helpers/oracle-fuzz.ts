/**
 * Differential fuzzing against the real Timeloop v3.0.3 (`timeloop-model`).
 * A dev tool, not an ava test (tests/timeloop/oracle.test.ts reuses its
 * generators and comparison on a fixed set of seeds).
 *
 *   npx tsx tests/helpers/oracle-fuzz.ts [--cases N] [--seed S] [--category a,b]
 *        [--jobs J] [--out DIR] [--quiet]
 *   npx tsx tests/helpers/oracle-fuzz.ts --input case.yaml [--save DIR]
 *        (one file through both engines and the comparison; --save keeps the
 *        oracle run as DIR/oracle with DIR/ours.json and DIR/diffs.txt)
 *   npx tsx tests/helpers/oracle-fuzz.ts --list                (categories)
 *
 * Each case is one tree-format, underscore-key YAML text (as golden
 * input.yaml). Both engines read the same text: expt through
 * importTimeloopDocuments + evaluateMapping, Timeloop after the renames of
 * the keys v3.0.3 reads only hyphenated (data_spaces, read_write,
 * multiple_buffering, cluster_size, min_utilization, word_bits...; see
 * src/timeloop/v3-keys.ts), in a fresh directory with no TIMELOOP_* variables. Compared: validity; per
 * storage level and kept dataspace partition size, utilized capacity,
 * utilized instances and clusters, scalar reads/fills/updates, temporal
 * reductions, address generations (exact), energies (2 decimals, as
 * printed); level specs, cycles and throttling; MAC utilized instances,
 * computes, cycles and energy; total cycles; inferred-network fanout,
 * multicast, ingresses, link transfers, spatial reductions, hops; and
 * user-network energy.
 *
 * Failing cases are saved as DIR/fail-<category>-<seed>/ with input.yaml,
 * oracle/ (Timeloop's run directory), ours.json and diffs.txt.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Architecture } from '../../src/arch/architecture.ts';
import type { EnergyReferenceTable } from '../../src/arch/energy-table.ts';
import type { Mapping } from '../../src/mapping/mapping.ts';
import { perturbMapping, randomMapping } from '../../src/mapping/random-mapping.ts';
import { evaluateMapping, prepareModel } from '../../src/model/evaluate.ts';
import type { Evaluation, EvaluationOutcome } from '../../src/model/result.ts';
import { dynamicEnergyPJ, parseTimeloopStats, type TimeloopStats } from '../../src/timeloop/stats-parser.ts';
import { importTimeloopDocuments } from '../../src/timeloop/tree-import.ts';
import { mappingToTimeloop, toTimeloopYaml } from '../../src/timeloop/tree-export.ts';
import { hyphenated, V3_HYPHENATED_ATTRIBUTES, V3_HYPHENATED_PROBLEM_KEYS } from '../../src/timeloop/v3-keys.ts';
import { Random } from '../../src/util/random.ts';
import { parseYamlText, readYamlFile } from '../../src/util/yaml.ts';
import type { Problem } from '../../src/workload/problem.ts';
import { stringify } from 'yaml';
import { goldenDir } from './golden.ts';

type Obj = Record<string, unknown>;


// ---------------------------------------------------------------------------
// The oracle

/**
 * `timeloop-model` on PATH or in /opt/timeloop/bin, or null. The variable
 * EXPT_TIMELOOP_MODEL overrides the search: a path to the program, or
 * `none` to act as if it were not installed.
 */
export function findTimeloopModel(): string | null {
  const forced = process.env['EXPT_TIMELOOP_MODEL'];
  if (forced !== undefined && forced !== '') return forced === 'none' || !existsSync(forced) ? null : forced;
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), '/opt/timeloop/bin'];
  for (const d of dirs) {
    const p = join(d, 'timeloop-model');
    if (existsSync(p)) return p;
  }
  return null;
}

const HYPHEN_KEYS = new RegExp(`(^|[\\s{,])(${[...V3_HYPHENATED_PROBLEM_KEYS, ...V3_HYPHENATED_ATTRIBUTES].join('|')})(\\s*:)`, 'gm');

/**
 * The renames v3.0.3 needs: the keys it reads only hyphenated (as the golden
 * README's oracle runs and the v3 export do), nothing else.
 */
export function toOracleText(text: string): string {
  return text.replace(HYPHEN_KEYS, (_m, pre: string, key: string, colon: string) => pre + hyphenated(key) + colon);
}

export interface OracleRun {
  dir: string;
  /** Exit status (null when killed). */
  rc: number | null;
  stdout: string;
  stderr: string;
  stats: TimeloopStats | null;
  /** `ERROR: couldn't map level X: reason` and similar, when Timeloop rejected the input. */
  error: string | null;
  timedOut: boolean;
}

function oracleEnv(bin: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TIMELOOP_')) env[k] = v;
  const lib = resolve(dirname(bin), '..', 'lib');
  if (existsSync(lib)) env['LD_LIBRARY_PATH'] = lib + (env['LD_LIBRARY_PATH'] ? `:${env['LD_LIBRARY_PATH']}` : '');
  return env;
}

function finishRun(dir: string, rc: number | null, timedOut: boolean): OracleRun {
  const stdout = existsSync(join(dir, 'run.stdout')) ? readFileSync(join(dir, 'run.stdout'), 'utf8') : '';
  const stderr = existsSync(join(dir, 'run.stderr')) ? readFileSync(join(dir, 'run.stderr'), 'utf8') : '';
  const statsFile = join(dir, 'timeloop-model.stats.txt');
  let stats: TimeloopStats | null = null;
  let error: string | null = null;
  if (rc === 0 && existsSync(statsFile)) {
    try {
      stats = parseTimeloopStats(readFileSync(statsFile, 'utf8'), statsFile);
    } catch (e) {
      error = `stats.txt unreadable: ${(e as Error).message}`;
    }
  } else {
    const lines = (stderr + '\n' + stdout).split('\n').filter((l) => /ERROR|Assertion|terminate|what\(\)|Aborted/.test(l));
    error = lines.length > 0 ? lines.join(' | ').trim() : timedOut ? 'timed out' : `exit ${rc} without a message`;
  }
  return { dir, rc, stdout, stderr, stats, error, timedOut };
}

function prepareRunDir(text: string, dir?: string): string {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'oracle-run.'));
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'input.yaml'), toOracleText(text));
  return d;
}

/** Runs timeloop-model on one YAML text (synchronously). */
export function runOracle(text: string, opts: { bin?: string; dir?: string; timeoutMs?: number } = {}): OracleRun {
  const bin = opts.bin ?? findTimeloopModel();
  if (!bin) throw new Error('timeloop-model not found');
  const d = prepareRunDir(text, opts.dir);
  const r = spawnSync(bin, ['input.yaml'], { cwd: d, env: oracleEnv(bin), encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  writeFileSync(join(d, 'run.stdout'), r.stdout ?? '');
  writeFileSync(join(d, 'run.stderr'), r.stderr ?? '');
  return finishRun(d, r.status, r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT');
}

/** Runs timeloop-model on one YAML text in a child process. */
export function runOracleAsync(text: string, opts: { bin?: string; dir?: string; timeoutMs?: number } = {}): Promise<OracleRun> {
  const bin = opts.bin ?? findTimeloopModel();
  if (!bin) throw new Error('timeloop-model not found');
  const d = prepareRunDir(text, opts.dir);
  return new Promise((resolveRun) => {
    const child = spawn(bin, ['input.yaml'], { cwd: d, env: oracleEnv(bin), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      writeFileSync(join(d, 'run.stdout'), out);
      writeFileSync(join(d, 'run.stderr'), err);
      resolveRun(finishRun(d, code, timedOut));
    });
  });
}

// ---------------------------------------------------------------------------
// Our side

export interface CaseInput {
  architecture: Architecture;
  problem: Problem;
  mapping: Mapping;
  ert: EnergyReferenceTable;
}

export interface OurRun {
  outcome: EvaluationOutcome | null;
  /** Import or evaluation threw. */
  error: string | null;
}

export function runOurs(text: string): OurRun {
  try {
    const input = importTimeloopDocuments([{ file: 'input.yaml', doc: parseYamlText(text, 'input.yaml') }]);
    if (!input.architecture || !input.problem || !input.mapping || !input.ert) return { outcome: null, error: 'incomplete input' };
    const outcome = evaluateMapping(prepareModel(input.problem, input.architecture, input.ert), input.mapping);
    return { outcome, error: null };
  } catch (e) {
    return { outcome: null, error: (e as Error).message };
  }
}

// ---------------------------------------------------------------------------
// Comparison

export interface Difference {
  /** Where, with level and dataspace names (`GLB.Inputs.fills`). */
  where: string;
  /** The same without names, for grouping (`storage.ds.fills`). */
  kind: string;
  ours: unknown;
  oracle: unknown;
}

/** Printed with 2 decimals: ours must round to the printed value. */
function printedClose(ours: number, printed: number): boolean {
  return Math.abs(ours - printed) <= 0.005 + 1e-9 * Math.abs(ours);
}

/** Every difference between our outcome and the oracle's run. */
export function compareRuns(ours: OurRun, oracle: OracleRun, arch?: Architecture): Difference[] {
  const diffs: Difference[] = [];
  const push = (where: string, kind: string, a: unknown, b: unknown) => diffs.push({ where, kind, ours: a, oracle: b });
  if (ours.error !== null) {
    push('import/evaluate', 'ours-threw', ours.error, oracle.stats ? 'valid' : oracle.error);
    return diffs;
  }
  const out = ours.outcome!;
  if (!oracle.stats) {
    if (out.ok) {
      const kind = /couldn't map level/.test(oracle.error ?? '')
        ? 'validity:oracle-rejects-mapping'
        : /Assertion|Aborted|terminate/.test(oracle.error ?? '') || (oracle.rc ?? 0) > 128 || oracle.rc === null
          ? 'validity:oracle-crash'
          : 'validity:oracle-fails';
      push('validity', kind, 'valid', oracle.error);
    } else {
      // Both reject: the same level, for the same kind of reason.
      const m = /couldn't map level (\S+): (.*)/.exec(oracle.error ?? '');
      if (m) {
        const ourLevel = out.error.level ?? '(none)';
        const a = `${ourLevel}: ${reasonClass(out.error.reason)}`;
        const b = `${m[1]}: ${reasonClass(m[2])}`;
        if (a !== b) push('validity.reason', 'validity:different-reason', `${ourLevel}: ${out.error.reason}`, m[0]);
      }
    }
    return diffs;
  }
  if (!out.ok) {
    push('validity', 'validity:ours-rejects', `${out.error.level ?? ''}: ${out.error.reason}`, 'valid');
    return diffs;
  }
  compareEvaluation(out.value, oracle.stats, push, arch);
  return diffs;
}

function reasonClass(reason: string): string {
  if (/minimum utilization/.test(reason)) return 'min-utilization';
  if (/tile size/.test(reason)) return 'capacity';
  if (/X expansion/.test(reason)) return 'mesh-x';
  if (/Y expansion/.test(reason)) return 'mesh-y';
  if (/instances/.test(reason)) return 'instances';
  if (/bypassed/.test(reason)) return 'bypassed-everywhere';
  return reason;
}

type Push = (where: string, kind: string, a: unknown, b: unknown) => void;

function compareEvaluation(ev: Evaluation, st: TimeloopStats, push: Push, arch?: Architecture): void {
  const exact = (where: string, kind: string, a: unknown, b: unknown) => {
    if (a !== b) push(where, kind, a, b);
  };
  const printed = (where: string, kind: string, a: number, b: number | null | undefined) => {
    if (b === null || b === undefined || !printedClose(a, b)) push(where, kind, a, b);
  };
  const mac = st.arithmetic;
  exact('MAC.utilized_instances', 'mac.utilized_instances', ev.arithmetic.utilized_instances, mac.utilizedInstances);
  exact('MAC.computes', 'mac.computes', ev.arithmetic.computes, mac.computes);
  exact('MAC.cycles', 'mac.cycles', ev.arithmetic.cycles, mac.cycles);
  exact('MAC.instances', 'mac.instances', ev.arithmetic.instances, mac.instances);
  printed('MAC.energy', 'mac.energy', ev.arithmetic.energy_pJ, mac.energyTotalPJ);
  exact('storage.count', 'storage.count', ev.storage.length, st.storage.length);
  for (const [i, ls] of ev.storage.entries()) {
    const ol = st.storage.find((l) => l.name === ls.name);
    if (!ol) {
      push(`${ls.name}`, 'storage.missing', 'present', 'missing');
      continue;
    }
    const w = ls.name;
    exact(`${w}.level`, 'storage.level', ls.timeloop_level, ol.level);
    exact(`${w}.instances`, 'spec.instances', ls.instances, ol.instances);
    if (ol.meshX !== null) exact(`${w}.meshX`, 'spec.mesh', ls.mesh_x, ol.meshX);
    if (ol.meshY !== null) exact(`${w}.meshY`, 'spec.mesh', ls.mesh_y, ol.meshY);
    exact(`${w}.size`, 'spec.size', ls.size_words, ol.size);
    exact(`${w}.block_size`, 'spec.block_size', ls.block_size, ol.blockSize);
    if (arch) {
      const spec = arch.storage[i];
      exact(`${w}.cluster_size`, 'spec.cluster_size', spec.clusterSize, ol.clusterSize);
      const eff = spec.sizeWords === null ? null : Math.floor(spec.sizeWords / spec.multipleBuffering);
      exact(`${w}.effective_size`, 'spec.effective_size', eff, ol.effectiveSize);
      exact(`${w}.read_bandwidth`, 'spec.bandwidth', spec.readBandwidth === null ? null : Number(spec.readBandwidth.toFixed(2)), ol.readBandwidth);
      exact(`${w}.write_bandwidth`, 'spec.bandwidth', spec.writeBandwidth === null ? null : Number(spec.writeBandwidth.toFixed(2)), ol.writeBandwidth);
    }
    exact(`${w}.cycles`, 'storage.cycles', ls.cycles, ol.cycles);
    if (!printedClose(ls.slowdown, ol.bandwidthThrottling)) push(`${w}.throttling`, 'storage.throttling', ls.slowdown, ol.bandwidthThrottling);
    const ourNames = Object.keys(ls.dataspaces);
    const theirNames = Object.keys(ol.dataspaces);
    if (ourNames.join(',') !== theirNames.join(',')) push(`${w}.kept`, 'storage.kept', ourNames.join(','), theirNames.join(','));
    for (const [name, ds] of Object.entries(ls.dataspaces)) {
      const od = ol.dataspaces[name];
      if (!od) continue;
      const d = `${w}.${name}`;
      exact(`${d}.partition_size`, 'ds.partition_size', ds.partition_size, od.partitionSize);
      exact(`${d}.utilized_capacity`, 'ds.utilized_capacity', ds.utilized_capacity, od.utilizedCapacity);
      exact(`${d}.utilized_instances`, 'ds.utilized_instances', ds.utilized_instances, od.utilizedInstances);
      exact(`${d}.utilized_clusters`, 'ds.utilized_clusters', ds.utilized_clusters, od.utilizedClusters);
      exact(`${d}.reads`, 'ds.reads', ds.reads, od.scalarReads);
      exact(`${d}.fills`, 'ds.fills', ds.fills, od.scalarFills);
      exact(`${d}.updates`, 'ds.updates', ds.updates, od.scalarUpdates);
      exact(`${d}.temporal_reductions`, 'ds.temporal_reductions', ds.temporal_reductions, od.temporalReductions);
      exact(`${d}.address_generations`, 'ds.address_generations', ds.address_generations, od.addressGenerations);
      printed(`${d}.energy_per_instance`, 'ds.energy', ds.energy_per_instance_pJ, od.energyPerInstancePJ);
      printed(`${d}.energy_total`, 'ds.energy', ds.energy_pJ, od.energyTotalPJ);
      printed(`${d}.addr_gen_energy_total`, 'ds.addr_gen_energy', ds.addr_gen_energy_pJ, od.addressGenerationEnergyTotalPJ ?? 0);
    }
  }
  for (const on of st.networks) {
    const n = ev.networks.find((x) => x.name === on.name);
    if (!n) {
      push(`network ${on.name}`, 'network.missing', 'missing', 'present');
      continue;
    }
    for (const [name, od] of Object.entries(on.dataspaces)) {
      const ds = n.dataspaces[name];
      const w = `network ${on.name}.${name}`;
      if (!ds) {
        push(w, 'network.ds-missing', 'missing', 'present');
        continue;
      }
      if (on.type === 'Legacy') {
        exact(`${w}.fanout`, 'network.fanout', ds.fanout, od.fanout);
        exact(`${w}.multicast`, 'network.multicast', ds.multicast_factor, od.multicastFactor);
        printed(`${w}.ingresses`, 'network.ingresses', ds.ingresses, od.ingresses);
        exact(`${w}.link_transfers`, 'network.link_transfers', ds.link_transfers, od.linkTransfers);
        exact(`${w}.spatial_reductions`, 'network.spatial_reductions', ds.spatial_reductions, od.spatialReductions);
        printed(`${w}.average_hops`, 'network.hops', ds.average_hops, od.averageHops);
      }
      printed(`${w}.energy`, 'network.energy', ds.energy_pJ, od.energyTotalPJ ?? 0);
    }
  }
  // Total energy: the sum of everything printed (each term to 2 decimals).
  let terms = 1;
  // Per dataspace: the storage energy and the address-generation energy.
  for (const l of st.storage) terms += 2 * Object.keys(l.dataspaces).length;
  for (const n of st.networks) terms += Object.keys(n.dataspaces).length;
  const printedTotal = dynamicEnergyPJ(st);
  if (Math.abs(ev.summary.energy_pJ - printedTotal) > 0.005 * terms + 1e-9 * Math.abs(printedTotal)) {
    push('summary.energy', 'summary.energy', ev.summary.energy_pJ, printedTotal);
  }
  exact('summary.cycles', 'summary.cycles', ev.summary.cycles, st.summary.cycles);
  exact('summary.computes', 'summary.computes', ev.summary.computes, st.summary.computes);
}

// ---------------------------------------------------------------------------
// Case generation

export interface FuzzCase {
  category: string;
  seed: number;
  /** One-line description of what was generated. */
  note: string;
  text: string;
  /** Our domain objects for the text (for the comparison's spec checks). */
  architecture: Architecture;
}

interface GoldenInput extends CaseInput {
  id: string;
  category: string;
}

let goldenCache: GoldenInput[] | null = null;

export function goldenInputs(): GoldenInput[] {
  if (goldenCache) return goldenCache;
  const index = JSON.parse(readFileSync(join(goldenDir, 'index.json'), 'utf8')) as { cases: { case_id: string; category: string }[] };
  goldenCache = index.cases.map((c) => {
    const file = join(goldenDir, c.case_id, 'input.yaml');
    const input = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
    return { id: c.case_id, category: c.category, architecture: input.architecture!, problem: input.problem!, mapping: input.mapping!, ert: input.ert! };
  });
  return goldenCache;
}

const ops = (p: Problem) => p.bounds.reduce((a, b) => a * b, 1);

function evaluates(input: CaseInput, mapping: Mapping): EvaluationOutcome | null {
  try {
    return evaluateMapping(prepareModel(input.problem, input.architecture, input.ert), mapping);
  } catch {
    return null;
  }
}

function textFor(input: CaseInput, mapping: Mapping, header: string): string {
  return toTimeloopYaml({ architecture: input.architecture, problem: input.problem, mapping, ert: input.ert }, header);
}

/** A mapping that our model accepts, from up to `tries` samples (null if none). */
function sampleValid(input: CaseInput, tries: number, sample: () => Mapping): Mapping | null {
  for (let i = 0; i < tries; i++) {
    const m = sample();
    const r = evaluates(input, m);
    if (r && r.ok) return m;
  }
  return null;
}

/** Small problems only: Timeloop's nest walk and ours must stay fast. */
const MAX_OPS = 2_000_000;

function goldenPool(rng: Random, filter: (g: GoldenInput) => boolean): GoldenInput | null {
  const pool = goldenInputs().filter((g) => filter(g) && ops(g.problem) <= MAX_OPS);
  return pool.length ? rng.pick(pool) : null;
}

/** Random (or perturbed) mapping on a golden architecture and problem. */
function genGoldenMapping(rng: Random, seed: number, perturb: boolean, filter: (g: GoldenInput) => boolean, category: string): FuzzCase | null {
  const g = goldenPool(rng, filter);
  if (!g) return null;
  const perfect = g.mapping.levels.every((l) => l.temporal.factors.every((f, d) => f === l.temporal.residuals[d]));
  let mapping: Mapping | null;
  let note: string;
  const filtered = rng.next() < 0.75;
  if (perturb && perfect) {
    const steps = 1 + rng.int(6);
    let m = g.mapping;
    for (let i = 0; i < steps; i++) m = perturbMapping(m, rng);
    // Bypass flips too, sometimes (not at the outermost level).
    if (rng.next() < 0.3 && m.levels.length > 1) m = flipKeep(m, rng);
    mapping = m;
    note = `${g.id}: ${steps} perturbation steps`;
    if (filtered) {
      const v = sampleValid(g, 20, () => {
        let x = g.mapping;
        for (let i = 0; i < steps; i++) x = perturbMapping(x, rng);
        return x;
      });
      if (v) mapping = v;
    }
  } else {
    const opts = { bypassProbability: rng.pick([0, 0.2, 0.4]), spatialBias: rng.pick([0.1, 0.3, 0.6]) };
    mapping = filtered ? sampleValid(g, 60, () => randomMapping(g.problem, g.architecture, rng, opts)) : null;
    mapping ??= randomMapping(g.problem, g.architecture, rng, opts);
    note = `${g.id}: random mapping${filtered ? ' (valid for expt)' : ''}`;
  }
  return { category, seed, note, text: textFor(g, mapping, `oracle-fuzz ${category} seed ${seed}: ${note}`), architecture: g.architecture };
}

function flipKeep(m: Mapping, rng: Random): Mapping {
  const levels = m.levels.map((l) => ({ ...l, keep: l.keep.slice() }));
  const l = 1 + rng.int(levels.length - 1);
  const pv = rng.int(levels[l].keep.length);
  levels[l].keep[pv] = !levels[l].keep[pv];
  return { levels };
}

// --- Random architectures --------------------------------------------------

interface ArchOptions {
  levels: number;
  /** `ranges`: one node, replicated components named `Name[0..n-1]`. */
  style: 'tree' | 'flat' | 'ranges';
  /** Probability of a fanout below each storage level. */
  fanout: number;
  bandwidth: number;
  latency: number;
  buffering: number;
  cluster: boolean;
  dummy: boolean;
  /** Spelling variant for cluster sizes (see genCluster). */
  clusterSpelling?: 'all' | 'underscore-only' | 'hyphen-only' | 'block-derived' | 'no-width';
  /** Max MAC count. */
  maxInstances: number;
}

interface LevelPlan {
  name: string;
  cls: string;
  attrs: Obj;
  /** Fanout below this level (X, Y). */
  fx: number;
  fy: number;
  dummy: boolean;
  block: number;
  cluster: number;
}

function genArchPlan(rng: Random, o: ArchOptions): { plans: LevelPlan[]; mac: Obj } {
  const names = ['DRAM', 'L2', 'GLB', 'Buf', 'RF', 'Reg'];
  const plans: LevelPlan[] = [];
  let total = 1;
  const n = o.levels;
  for (let i = 0; i < n; i++) {
    const isDram = i === 0;
    const dummy = o.dummy && !isDram && i === 1 + rng.int(n - 1);
    const name = isDram ? 'DRAM' : dummy ? 'dummy_buffer' : names[Math.min(i, names.length - 1)] + (i >= names.length ? String(i) : '');
    const dw = rng.pick([8, 16, 32]);
    const block = isDram ? rng.pick([1, 2, 4, 8]) : rng.pick([1, 1, 2, 3, 4, 8, 16]);
    const attrs: Obj = { datawidth: dw };
    let fx = 1;
    let fy = 1;
    if (rng.next() < o.fanout) {
      const room = Math.floor(o.maxInstances / total);
      if (room >= 2) {
        fx = rng.pick([1, 2, 2, 3, 4, 4, 8, 16].filter((x) => x <= room));
        const roomY = Math.floor(room / fx);
        fy = rng.next() < 0.4 ? rng.pick([1, 2, 3, 4, 8].filter((y) => y <= roomY)) : 1;
        if (fx * fy === 1) fx = 2;
        total *= fx * fy;
      }
    }
    plans.push({ name, cls: isDram ? 'DRAM' : rng.pick(['SRAM', 'SRAM', 'regfile', 'smartbuffer_SRAM']), attrs, fx, fy, dummy, block, cluster: 1 });
    if (!dummy) {
      attrs['width'] = dw * block;
      if (rng.next() < 0.2) attrs['block_size'] = block;
      if (rng.next() < o.bandwidth) {
        const bw = () => rng.pick([0.25, 0.5, 1, 2, 3, 4, 8, 16]);
        const kind = rng.int(4);
        if (kind === 0 || kind === 1) attrs['read_bandwidth'] = bw();
        if (kind === 0 || kind === 2) attrs['write_bandwidth'] = bw();
        if (kind === 3) attrs['shared_bandwidth'] = bw();
        if (kind === 1 && rng.next() < 0.5) attrs['shared_bandwidth'] = bw();
      }
      if (!isDram && rng.next() < o.buffering) attrs['multiple_buffering'] = rng.pick([2, 2, 3, 1.5]);
    } else {
      attrs['width'] = dw;
      attrs['depth'] = 0;
    }
    if (rng.next() < o.latency) {
      attrs['network_fill_latency'] = rng.int(4);
      attrs['network_drain_latency'] = rng.int(4);
    }
  }
  return { plans, mac: { datawidth: rng.pick([8, 16]) } };
}

/** Builds the architecture block from a plan (instances from the fanouts). */
function archBlock(plans: LevelPlan[], mac: Obj, style: 'tree' | 'flat' | 'ranges', rng: Random, extra: Obj[] = []): Obj {
  const block = archBlockOnly(plans, mac, style, rng);
  // User-defined networks sit next to DRAM in the top node (placement does not matter).
  if (extra.length > 0) ((block['subtree'] as Obj[])[0]['local'] as Obj[]).splice(1, 0, ...extra);
  return block;
}

function archBlockOnly(plans: LevelPlan[], mac: Obj, style: 'tree' | 'flat' | 'ranges', rng: Random): Obj {
  // Cumulative instances / mesh per level and for the MACs.
  const inst: { n: number; x: number; y: number }[] = [];
  let x = 1;
  let y = 1;
  for (const p of plans) {
    inst.push({ n: x * y, x, y });
    x *= p.fx;
    y *= p.fy;
  }
  const macMesh = { n: x * y, x, y };
  const meshAttrs = (m: { n: number; x: number; y: number }, a: Obj) => {
    if (m.y > 1 || rng.next() < 0.3) {
      const pickKind = rng.int(3);
      if (pickKind === 0) a['meshX'] = m.x;
      else if (pickKind === 1) a['meshY'] = m.y;
      else {
        a['meshX'] = m.x;
        a['meshY'] = m.y;
      }
    }
  };
  const comp = (name: string, cls: string, attrs: Obj) => ({ name, class: cls, attributes: attrs });
  if (style === 'ranges') {
    const named = (name: string, n: number) => (n > 1 ? `${name}[0..${n - 1}]` : name);
    const local = plans.map((p, i) => {
      const a: Obj = { ...p.attrs };
      if (inst[i].n > 1) meshAttrs(inst[i], a);
      return comp(named(p.name, inst[i].n), p.cls, a);
    });
    const ma: Obj = { ...mac };
    if (macMesh.n > 1) meshAttrs(macMesh, ma);
    local.push(comp(named('MAC', macMesh.n), 'intmac', ma));
    return { version: 0.4, subtree: [{ name: 'system', local }] };
  }
  if (style === 'flat') {
    const local = plans.map((p, i) => {
      const a: Obj = { ...p.attrs };
      if (inst[i].n > 1) a['instances'] = inst[i].n;
      if (inst[i].n > 1) meshAttrs(inst[i], a);
      return comp(p.name, p.cls, a);
    });
    const ma: Obj = { ...mac };
    if (macMesh.n > 1) {
      ma['instances'] = macMesh.n;
      meshAttrs(macMesh, ma);
    }
    local.push(comp('MAC', 'intmac', ma));
    return { version: 0.4, subtree: [{ name: 'system', local }] };
  }
  // Tree: a node per change of instance count.
  const root: Obj = { name: 'system', local: [] as Obj[] };
  let node = root;
  let current = 1;
  let k = 0;
  const place = (name: string, cls: string, attrs: Obj, m: { n: number; x: number; y: number }) => {
    if (m.n !== current) {
      const child: Obj = { name: `N${k++}[0..${m.n / current - 1}]`, local: [] as Obj[] };
      node['subtree'] = [child];
      node = child;
      current = m.n;
    }
    const a = { ...attrs };
    if (m.n > 1) meshAttrs(m, a);
    (node['local'] as Obj[]).push(comp(name, cls, a));
  };
  plans.forEach((p, i) => place(p.name, p.cls, p.attrs, inst[i]));
  place('MAC', 'intmac', { ...mac }, macMesh);
  return { version: 0.4, subtree: [root] };
}

type ErtVariant = 'plain' | 'names' | 'missing' | 'leak';

/** ERT table names for the components: a dotted path ending in the name, sometimes with its range. */
function ertNames(plans: LevelPlan[], style: ArchOptions['style'], rng: Random, rangeNames: boolean): { storage: string[]; mac: string } {
  let n = 1;
  const counts = plans.map((p) => {
    const here = n;
    n *= p.fx * p.fy;
    return here;
  });
  const name = (base: string, count: number) => {
    if (rangeNames && style === 'ranges' && count > 1 && rng.next() < 0.5) return `system.${base}[0..${count - 1}]`;
    return rng.next() < 0.2 ? base : rng.next() < 0.5 ? `system.${base}` : `system.chip.PE[0..3].${base}`;
  };
  return { storage: plans.map((p, i) => name(p.name, counts[i])), mac: name('MAC', n) };
}

function randomErt(rng: Random, names: string[], mac: string, variant: ErtVariant): Obj {
  const e = () => Math.round(rng.next() * 100_000) / 1000 + 0.001;
  const tables = names.map((n) => {
    const w = e();
    let actions: Obj[] = [
      { name: 'read', energy: e() },
      { name: 'write', energy: w },
      { name: 'update', energy: w },
      { name: 'leak', energy: 0 },
    ];
    if (variant === 'names') {
      // read and write, plus a random subset of the other names (distinct energies).
      const pool = ['update', 'random_read', 'random_fill', 'random_update', 'fill', 'random_write'];
      actions = [{ name: 'read', energy: e() }, { name: 'write', energy: e() }, ...pool.filter(() => rng.next() < 0.4).map((a) => ({ name: a, energy: e() })), { name: 'leak', energy: 0 }];
    } else if (variant === 'missing') {
      // A random subset of all the names: some of read / write may be missing.
      const pool = ['read', 'write', 'update', 'random_read', 'random_fill', 'random_update', 'fill', 'random_write', 'leak'];
      actions = pool.filter(() => rng.next() < 0.5).map((a) => ({ name: a, energy: a === 'leak' ? 0 : e() }));
      if (actions.length === 0) actions = [{ name: 'read', energy: e() }];
    } else if (variant === 'leak') {
      actions[3] = { name: 'leak', energy: e() / 100 };
    }
    return { name: n, actions };
  });
  tables.push({ name: mac, actions: [{ name: 'compute', energy: e() }] });
  return { version: 0.4, tables };
}

function gemmProblem(rng: Random, max = 64): Obj {
  const size = () => (rng.next() < 0.2 ? rng.pick([7, 11, 13, 17, 23, 29, 31, 37]) : 1 + rng.int(max));
  return {
    shape: {
      name: 'gemm',
      dimensions: ['D', 'E', 'L'],
      data_spaces: [
        { name: 'Weights', projection: [[['D']], [['E']]] },
        { name: 'Inputs', projection: [[['E']], [['L']]] },
        { name: 'Outputs', projection: [[['D']], [['L']]], read_write: true },
      ],
    },
    instance: { D: size(), E: size(), L: size() },
  };
}

function convProblem(rng: Random): Obj {
  const s = (m: number) => 1 + rng.int(m);
  return {
    shape: {
      name: 'conv',
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
    },
    instance: { R: s(3), S: s(3), P: s(8), Q: s(8), C: s(6), K: s(6), N: s(2), Wstride: s(2), Hstride: s(2), Wdilation: s(2), Hdilation: s(2) },
  };
}

function normopProblem(rng: Random): Obj {
  return {
    shape: {
      name: 'normop',
      dimensions: ['L', 'E', 'D'],
      data_spaces: [
        { name: 'Weights', projection: [[['D']]] },
        { name: 'Inputs', projection: [[['E']], [['L']]] },
        { name: 'Outputs', projection: [[['E']], [['L']]], read_write: true },
      ],
    },
    instance: { L: 1 + rng.int(48), E: 1 + rng.int(48), D: 1 + rng.int(16) },
  };
}

/** A random affine problem: 2-4 dimensions, 3 tensors, ranks of 1-2 terms with coefficients 1-2. */
function affineProblem(rng: Random): Obj {
  const nd = 2 + rng.int(3);
  const dims = ['A', 'B', 'C', 'F'].slice(0, nd);
  const coefs = [
    { name: 'c1', default: 1 },
    { name: 'c2', default: 1 },
  ];
  const rankOf = (): unknown[] => {
    const a = rng.pick(dims);
    if (rng.next() < 0.6) return [[a]];
    const b = rng.pick(dims.filter((d) => d !== a));
    return [[a, rng.pick(['c1', 'c2'])], [b]];
  };
  const tensor = (name: string, rw: boolean): Obj => {
    const ranks = 1 + rng.int(2);
    // The output must be a dense box (distinct dimensions, coefficient 1):
    // v3.0.3 asserts (tiling.cpp:637) when an output's bounding box has holes.
    const o: Obj = { name, projection: rw ? rng.shuffle(dims.slice()).slice(0, ranks).map((d) => [[d]]) : Array.from({ length: ranks }, rankOf) };
    if (rw) o['read_write'] = true;
    return o;
  };
  const instance: Obj = { c1: 1 + rng.int(2), c2: 1 + rng.int(2) };
  for (const d of dims) instance[d] = 1 + rng.int(12);
  return { shape: { name: 'affine', dimensions: dims, coefficients: coefs, data_spaces: [tensor('Weights', false), tensor('Inputs', false), tensor('Outputs', true)] }, instance };
}

/**
 * Imperfect factors: for each chosen dimension N, radices a_i for a few
 * loop slots and the mixed-radix digits of N-1 as residuals (fold rule
 * n ← n·a + (b−1), outer to inner).
 */
function imperfectMapping(problem: Problem, arch: Architecture, rng: Random, base: Mapping, opts: { spatial: boolean; dims: number }): Mapping {
  const nL = arch.storage.length;
  const levels = base.levels.map((l) => ({
    temporal: { ...l.temporal, factors: l.temporal.factors.slice(), residuals: l.temporal.residuals.slice() },
    spatial: l.spatial ? { ...l.spatial, factors: l.spatial.factors.slice(), residuals: l.spatial.residuals.slice() } : null,
    keep: l.keep.slice(),
  }));
  const slots: { f: number[]; r: number[]; spatial: boolean }[] = [];
  for (let l = 0; l < nL; l++) {
    slots.push({ f: levels[l].temporal.factors, r: levels[l].temporal.residuals, spatial: false });
    const sp = levels[l].spatial;
    if (sp) slots.push({ f: sp.factors, r: sp.residuals, spatial: true });
  }
  const nd = problem.dimensions.length;
  const chosenDims = rng.shuffle([...Array(nd).keys()]).slice(0, opts.dims);
  for (const d of chosenDims) {
    const N = problem.bounds[d];
    for (const s of slots) {
      s.f[d] = 1;
      s.r[d] = 1;
    }
    const usable = slots.map((s, i) => ({ s, i })).filter(({ s }) => opts.spatial || !s.spatial);
    const k = Math.min(usable.length, 2 + rng.int(2));
    const chosen = rng.shuffle(usable.slice()).slice(0, k).sort((a, b) => a.i - b.i);
    // Innermost chosen slots get radices, the outermost takes the quotient.
    let rem = N - 1;
    for (let j = chosen.length - 1; j >= 1; j--) {
      const a = 2 + rng.int(Math.max(1, Math.min(8, N) - 1));
      const digit = rem % a;
      rem = Math.floor(rem / a);
      chosen[j].s.f[d] = a;
      chosen[j].s.r[d] = digit + 1;
    }
    const b0 = rem + 1;
    chosen[0].s.f[d] = b0 + (rng.next() < 0.1 ? 1 : 0);
    chosen[0].s.r[d] = b0;
  }
  return { levels };
}

/**
 * Convolution mappings biased towards halo reuse (as the golden generator
 * did): every R/S iteration in the innermost level, and P or Q as the
 * innermost temporal loop of the other levels.
 */
function haloBias(problem: Problem, mapping: Mapping, rng: Random): Mapping {
  const R = problem.dimensions.indexOf('R');
  const S = problem.dimensions.indexOf('S');
  const P = problem.dimensions.indexOf('P');
  const Q = problem.dimensions.indexOf('Q');
  if (R < 0 || S < 0 || P < 0 || Q < 0) return mapping;
  const n = mapping.levels.length;
  const levels = mapping.levels.map((l) => ({
    temporal: { ...l.temporal, factors: l.temporal.factors.slice(), residuals: l.temporal.residuals.slice(), permutation: l.temporal.permutation.slice() },
    spatial: l.spatial ? { ...l.spatial, factors: l.spatial.factors.slice(), residuals: l.spatial.residuals.slice() } : null,
    keep: l.keep.slice(),
  }));
  for (const d of [R, S]) {
    for (const l of levels) {
      l.temporal.factors[d] = 1;
      l.temporal.residuals[d] = 1;
      if (l.spatial) {
        l.spatial.factors[d] = 1;
        l.spatial.residuals[d] = 1;
      }
    }
    levels[n - 1].temporal.factors[d] = problem.bounds[d];
    levels[n - 1].temporal.residuals[d] = problem.bounds[d];
  }
  for (let i = 0; i < n - 1; i++) {
    const first = rng.next() < 0.5 ? P : Q;
    const perm = levels[i].temporal.permutation.filter((d) => d !== first);
    levels[i].temporal.permutation = [first, ...perm];
  }
  return { levels };
}

/** Sizes every bounded level so that `mapping` fits (exactly, with slack, or one word short). */
function sizeLevels(plans: LevelPlan[], input: CaseInput, mapping: Mapping, rng: Random, tight: number): boolean {
  const out = evaluates(input, mapping);
  if (!out || !out.ok) {
    if (process.env['FUZZ_DEBUG']) console.error(`generator: sizing pass: ${out ? JSON.stringify(out.ok ? '' : out.error) : 'threw'}`);
    return false;
  }
  plans.forEach((p, i) => {
    if (i === 0 || p.dummy) return;
    const ls = out.value.storage[i];
    let need = 0;
    for (const ds of Object.values(ls.dataspaces)) need += ds.utilized_capacity;
    const mb = typeof p.attrs['multiple_buffering'] === 'number' ? (p.attrs['multiple_buffering'] as number) : 1;
    let words = Math.ceil(need * mb);
    const r = rng.next();
    const short = r < tight;
    if (!short && r < 0.5) words += rng.int(2 * p.block + 1);
    else if (!short) words = Math.ceil(words * (1 + rng.next()));
    const blockWords = p.block;
    if (rng.next() < 0.3 || short) {
      p.attrs['entries'] = short ? Math.max(0, words - 1) : words;
    } else {
      p.attrs['depth'] = Math.ceil(words / blockWords);
    }
  });
  return true;
}

function importDoc(doc: Obj): CaseInput | null {
  try {
    const i = importTimeloopDocuments([{ file: 'gen', doc }]);
    return { architecture: i.architecture!, problem: i.problem!, mapping: i.mapping!, ert: i.ert! };
  } catch (e) {
    if (process.env['FUZZ_DEBUG']) console.error(`generator: import failed: ${(e as Error).message}`);
    return null;
  }
}

function input0Of(c: CaseInput): CaseInput {
  return { ...c, mapping: { levels: [] } };
}

/** A random architecture/problem/mapping, buffers sized to the mapping. */
function genRandomCase(
  rng: Random,
  seed: number,
  category: string,
  o: Partial<ArchOptions> & {
    problem?: string;
    imperfect?: boolean;
    outerBypass?: boolean;
    ert?: ErtVariant;
    attrVariants?: boolean;
    mappingSyntax?: boolean;
    ertRangeNames?: boolean;
    networks?: boolean;
    halo?: boolean;
    clusterRelation?: ClusterRelation;
    userEnergy?: boolean;
  },
): FuzzCase | null {
  const opts: ArchOptions = {
    levels: o.levels ?? 2 + rng.int(4),
    style: o.style ?? rng.pick(['tree', 'tree', 'flat', 'flat', 'ranges'] as const),
    fanout: o.fanout ?? 0.5,
    bandwidth: o.bandwidth ?? 0.3,
    latency: o.latency ?? 0.2,
    buffering: o.buffering ?? 0.2,
    cluster: o.cluster ?? false,
    dummy: o.dummy ?? false,
    clusterSpelling: o.clusterSpelling,
    maxInstances: o.maxInstances ?? 64,
  };
  const { plans, mac } = genArchPlan(rng, opts);
  if (opts.cluster) genCluster(plans, rng, opts.clusterSpelling);
  const kind = o.problem ?? rng.pick(['gemm', 'gemm', 'conv', 'normop', 'affine']);
  const problemDoc = kind === 'gemm-large' ? gemmProblem(rng, 100) : kind === 'gemm' ? gemmProblem(rng) : kind === 'conv' ? convProblem(rng) : kind === 'normop' ? normopProblem(rng) : affineProblem(rng);
  const en = ertNames(plans, opts.style, rng, o.ertRangeNames ?? false);
  const ertDoc = randomErt(rng, en.storage, en.mac, o.ert ?? 'plain');
  const netComponents = o.networks ? userNetworks(plans, rng, ertDoc) : [];
  if (o.networks && netComponents.length === 0) return null;
  // First pass: every buffer unbounded, to find the tiles of a random mapping.
  const archDoc = archBlock(plans, mac, opts.style, rng, netComponents);
  // Our importer may reject the ERT's table names; the sizing pass uses plain names.
  const plainErt = {
    ...ertDoc,
    tables: (ertDoc['tables'] as Obj[]).map((t, i) => ({ ...t, name: i < plans.length ? plans[i].name : i === plans.length ? 'MAC' : t['name'] })),
  };
  const first = importDoc({ architecture: archDoc, problem: problemDoc, ERT: plainErt });
  if (!first) return null;
  const { problem, architecture } = first;
  const input0: CaseInput = input0Of(first);
  const bypassProbability = rng.pick([0, 0.2, 0.4]);
  const spatialBias = rng.pick([0.2, 0.4, 0.7]);
  // Spatially valid (for expt, all buffers unbounded) if one is found in a few tries.
  let mapping = randomMapping(problem, architecture, rng, { bypassProbability, spatialBias });
  for (let t = 0; t < 30 && !evaluates(input0Of(first), mapping)?.ok; t++) {
    mapping = randomMapping(problem, architecture, rng, { bypassProbability, spatialBias });
  }
  if (o.halo) mapping = haloBias(problem, mapping, rng);
  if (opts.dummy) {
    mapping = {
      levels: mapping.levels.map((l, i) => (plans[i].dummy ? { ...l, keep: l.keep.map(() => false) } : l)),
    };
  }
  if (o.imperfect) mapping = imperfectMapping(problem, architecture, rng, mapping, { spatial: rng.next() < 0.3, dims: 1 + rng.int(2) });
  if (o.outerBypass) {
    // DRAM bypasses one or two tensors; a random inner level keeps each.
    const levels = mapping.levels.map((l) => ({ ...l, keep: l.keep.slice() }));
    const nds = problem.dataspaces.length;
    const which = rng.shuffle([...Array(nds).keys()]).slice(0, 1 + rng.int(2));
    for (const pv of which) {
      levels[0].keep[pv] = false;
      const holders = levels.map((_, i) => i).filter((i) => i > 0 && !plans[i].dummy);
      if (holders.length === 0) return null;
      levels[rng.pick(holders)].keep[pv] = true;
    }
    mapping = { levels };
  }
  let clusterNote = '';
  if (o.clusterRelation) {
    const placed = placeCluster(plans, input0, mapping, rng, o.clusterRelation);
    if (!placed) return null;
    clusterNote = `, ${placed}`;
  }
  // Mostly valid cluster cases, so that their energies get compared.
  const tight = o.clusterRelation ? 0.02 : o.imperfect || o.outerBypass ? 0.05 : 0.1;
  if (!sizeLevels(plans, input0, mapping, rng, tight)) {
    // Invalid whatever the sizes (spatially): random sizes, for the validity check.
    for (const [i, p] of plans.entries()) if (i > 0 && !p.dummy) p.attrs['depth'] = 1 + rng.int(64);
  }
  if (o.attrVariants) attributeVariants(plans, rng);
  if (o.userEnergy) userEnergies(plans, rng);
  // Rebuild with sizes (the plan attrs were updated in place; mesh choices re-drawn).
  const archSized = archBlock(plans, mac, opts.style, new Random(seed ^ 0x5bd1e995), netComponents);
  const sized = importDoc({ architecture: archSized, problem: problemDoc, ERT: plainErt });
  if (!sized) return null;
  const doc = {
    architecture: archSized,
    problem: problemDoc,
    mapping: mappingToTimeloop(mapping, sized.problem, sized.architecture) as Obj[],
    ERT: ertDoc,
  };
  if (o.mappingSyntax) doc.mapping = mappingSyntaxVariants(doc.mapping, sized, rng);
  const note = `${kind}, ${opts.levels} levels, ${opts.style}, fanouts ${plans.map((p) => `${p.fx}x${p.fy}`).join('/')}${o.imperfect ? ', imperfect' : ''}${o.outerBypass ? ', outer bypass' : ''}${opts.cluster ? `, cluster ${opts.clusterSpelling}` : ''}${clusterNote}`;
  const text = `# oracle-fuzz ${category} seed ${seed}: ${note}\n` + stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
  return { category, seed, note, text, architecture: sized.architecture };
}

/**
 * SimpleMulticast networks on one or two storage-to-storage connections:
 * read/fill, update/drain or both (sometimes one network for both), with
 * latencies and per-tensor, per-destination-count ERT entries. Adds the
 * network tables to `ertDoc`; returns the network components.
 */
function userNetworks(plans: LevelPlan[], rng: Random, ertDoc: Obj): Obj[] {
  const candidates = plans.map((_, i) => i).filter((i) => i + 1 < plans.length);
  if (candidates.length === 0) return [];
  const connections = rng.shuffle(candidates.slice()).slice(0, 1 + rng.int(Math.min(2, candidates.length)));
  const comps: Obj[] = [];
  const tables = ertDoc['tables'] as Obj[];
  const tensors = ['Weights', 'Inputs', 'Outputs'];
  let k = 0;
  const make = (): string => {
    const name = `NoC${k++}`;
    const perDs = rng.next() < 0.6;
    const attrs: Obj = { datawidth: 16, action_name: 'transfer' };
    if (perDs) attrs['per_datatype_ERT'] = rng.next() < 0.8 ? true : false;
    const multi = rng.next() < 0.6;
    if (multi || rng.next() < 0.3) attrs['multicast_factor_argument'] = 'num_destinations';
    if (rng.next() < 0.5) attrs['fill_latency'] = rng.int(4);
    if (rng.next() < 0.5) attrs['drain_latency'] = rng.int(6);
    comps.push({ name, class: 'SimpleMulticast', attributes: attrs });
    const e = () => Math.round(rng.next() * 20_000) / 1000;
    const actions: Obj[] = [];
    const names = perDs ? tensors.filter(() => rng.next() < 0.7).map((t) => `transfer_${t}`) : ['transfer'];
    for (const a of names) {
      if (multi) for (const n of [1, 2, 3, 4, 8, 16].filter(() => rng.next() < 0.6)) actions.push({ name: a, arguments: { num_destinations: n }, energy: e() });
      else actions.push(rng.next() < 0.5 ? { name: a, energy: e() } : { name: a, arguments: { num_destinations: 1 }, energy: e() });
    }
    // (An empty action list makes v3.0.3 assert in getMapKeys.)
    if (actions.length === 0) actions.push({ name: perDs ? 'transfer_Inputs' : 'transfer', energy: e() });
    tables.push({ name: `system.${name}`, actions });
    return name;
  };
  for (const i of connections) {
    const outer = plans[i].attrs;
    const inner = plans[i + 1].attrs;
    const kind = rng.int(4);
    if (kind === 0 || kind === 2 || kind === 3) {
      const n = make();
      outer['network_read'] = n;
      inner['network_fill'] = n;
      if (kind === 3) {
        outer['network_update'] = n;
        inner['network_drain'] = n;
      }
    }
    if (kind === 1 || kind === 2) {
      const n = make();
      outer['network_update'] = n;
      inner['network_drain'] = n;
    }
  }
  return comps;
}

/** Other spellings and rarer attributes (applied after sizing). */
function attributeVariants(plans: LevelPlan[], rng: Random): void {
  for (const [i, p] of plans.entries()) {
    const a = p.attrs;
    const rename = (from: string, to: string) => {
      if (a[from] !== undefined) {
        a[to] = a[from];
        delete a[from];
      }
    };
    if (rng.next() < 0.2) rename('width', 'memory_width');
    if (rng.next() < 0.2) rename('block_size', 'n_words');
    if (i > 0 && !p.dummy && typeof a['depth'] === 'number' && rng.next() < 0.2) {
      if (rng.next() < 0.5) rename('depth', 'memory_depth');
      else {
        const words = (a['depth'] as number) * p.block;
        delete a['depth'];
        a['sizeKB'] = Math.max(1, Math.ceil((words * (a['datawidth'] as number)) / 8192));
      }
    }
    if (rng.next() < 0.1 && a['read_bandwidth'] === undefined && a['write_bandwidth'] === undefined) a['bandwidth'] = rng.pick([1, 2, 3, 8]);
    if (i > 0 && !p.dummy && rng.next() < 0.15 && (a['depth'] !== undefined || a['entries'] !== undefined)) a['min-utilization'] = rng.pick([0.1, 0.5, 0.9, 1]);
    if (i > 0 && p.cluster === 1 && rng.next() < 0.1) a['technology'] = 'DRAM';
    if (rng.next() < 0.1) a['reduction_supported'] = rng.next() < 0.5;
  }
}

/**
 * `vector_access_energy` (replaces the level's ERT entries) and
 * `addr_gen_energy` (per utilized cluster) on some levels, with underscores;
 * the oracle run hyphenates them, the only spelling v3.0.3 reads.
 */
function userEnergies(plans: LevelPlan[], rng: Random): void {
  for (const p of plans) {
    if (p.dummy) continue;
    if (rng.next() < 0.5) p.attrs['vector_access_energy'] = rng.next() < 0.2 ? 0 : Math.round(rng.next() * 50_000) / 1000;
    if (rng.next() < 0.5) p.attrs['addr_gen_energy'] = rng.next() < 0.2 ? 0 : Math.round(rng.next() * 2_000) / 1000;
  }
}

/** Other ways to write the same mapping: partial factors and permutations, level indices, no bypass directive. */
function mappingSyntaxVariants(directives: Obj[], input: CaseInput, rng: Random): Obj[] {
  const n = input.architecture.storage.length;
  const out: Obj[] = [];
  for (const d0 of directives) {
    const d: Obj = { ...d0 };
    // (An integer `target` is not tried: v3.0.3's YAML front end reads it as a
    // name and fails with "target storage level not found: 0".)
    void n;
    if (d['type'] === 'temporal' || d['type'] === 'spatial') {
      if (rng.next() < 0.4) {
        const kept = String(d['factors'])
          .split(' ')
          .filter((f) => !/=1$/.test(f) || rng.next() < 0.3);
        if (kept.length > 0 || rng.next() < 0.5) d['factors'] = kept.join(' ');
        else delete d['factors'];
      }
      if (rng.next() < 0.3) {
        const perm = String(d['permutation']);
        d['permutation'] = perm.slice(0, rng.int(perm.length + 1));
      }
      if (rng.next() < 0.1) d['permutation'] = String(d['permutation']).split('').join(' ');
    } else if (d['type'] === 'bypass') {
      const bypass = d['bypass'] as string[];
      if (bypass.length === 0 && rng.next() < 0.4) continue;
      if (rng.next() < 0.2) d['type'] = 'datatype';
      if (rng.next() < 0.3 && bypass.length > 0) delete d['keep'];
      if (rng.next() < 0.3 && bypass.length === 0) delete d['bypass'];
    }
    out.push(d);
  }
  return rng.shuffle(out);
}

/** Cluster sizes on some buffers, spelled one of several ways. */
function genCluster(plans: LevelPlan[], rng: Random, spelling: ArchOptions['clusterSpelling'] = 'all'): void {
  // Instances of level i = product of the fanouts above it.
  let inst = 1;
  for (const p of plans) {
    const here = inst;
    inst *= p.fx * p.fy;
    if (p.dummy || p.cls === 'DRAM' || here < 2) continue;
    const options = [2, 3, 4, 8].filter((c) => here % c === 0);
    if (options.length === 0 || rng.next() < 0.3) continue;
    const c = rng.pick(options);
    const dw = p.attrs['datawidth'] as number;
    p.cluster = c;
    const width = dw * p.block * c;
    delete p.attrs['block_size'];
    switch (spelling) {
      case 'all':
        p.attrs['width'] = width;
        p.attrs['block_size'] = p.block;
        p.attrs['cluster_size'] = c;
        break;
      case 'underscore-only':
        p.attrs['width'] = width;
        p.attrs['cluster_size'] = c;
        break;
      case 'hyphen-only':
        p.attrs['width'] = width;
        p.attrs['cluster-size'] = c;
        break;
      case 'block-derived':
        p.attrs['width'] = width;
        p.attrs['block_size'] = p.block;
        break;
      case 'no-width':
        delete p.attrs['width'];
        p.attrs['block_size'] = p.block;
        p.attrs['cluster-size'] = c;
        break;
    }
  }
}

/** How a level's utilized instances U compare with its cluster count (instances / cluster size). */
type ClusterRelation = 'below' | 'equal' | 'above';

/**
 * Gives one buffer a cluster size chosen from the mapping so that its
 * utilized instances are below, equal to or above its number of clusters,
 * spelled `cluster_size` as in the golden vectors (the oracle run renames
 * it). Half of the time the level must keep one tensor and bypass another.
 * Returns a note, or null when no level allows the relation.
 */
function placeCluster(plans: LevelPlan[], input: CaseInput, mapping: Mapping, rng: Random, relation: ClusterRelation): string | null {
  const out = evaluates(input, mapping);
  if (!out || !out.ok) return null;
  const candidates: { level: number; c: number; mixed: boolean; u: number; n: number }[] = [];
  let n = 1;
  plans.forEach((p, i) => {
    const instances = n;
    n *= p.fx * p.fy;
    if (i === 0 || p.dummy || instances < 2) return;
    const keep = mapping.levels[i].keep;
    if (!keep.some((k) => k)) return;
    const u = out.value.storage[i].utilized_instances;
    for (let c = 2; c <= instances; c++) {
      if (instances % c !== 0) continue;
      const clusters = instances / c;
      const ok = relation === 'below' ? u < clusters : relation === 'equal' ? u === clusters : u > clusters;
      if (ok) candidates.push({ level: i, c, mixed: keep.some((k) => !k), u, n: instances });
    }
  });
  const mixed = candidates.filter((x) => x.mixed);
  const pool = mixed.length > 0 && rng.next() < 0.5 ? mixed : candidates;
  if (pool.length === 0) return null;
  const pick = rng.pick(pool);
  const p = plans[pick.level];
  p.cluster = pick.c;
  p.attrs['width'] = (p.attrs['datawidth'] as number) * p.block * pick.c;
  p.attrs['cluster_size'] = pick.c;
  // Sometimes the block size too (Timeloop checks the three against the width).
  if (rng.next() < 0.3) p.attrs['block_size'] = p.block;
  else delete p.attrs['block_size'];
  return `${p.name} cluster_size ${pick.c}: ${pick.u} utilized ${relation === 'below' ? '<' : relation === 'equal' ? '=' : '>'} ${pick.n / pick.c} clusters${pick.mixed ? ' (keeps and bypasses)' : ''}`;
}

/** A golden architecture (any, gemmini and the study's included) with new, small bounds for its problem. */
function genGoldenArchSmallProblem(rng: Random, seed: number): FuzzCase | null {
  const g = rng.pick(goldenInputs().filter((x) => x.category !== 'pim'));
  const bounds = g.problem.bounds.map((b) => 1 + rng.int(Math.min(b, rng.next() < 0.5 ? 8 : 48)));
  const problem: Problem = { ...g.problem, bounds };
  if (ops(problem) > MAX_OPS) return null;
  const input: CaseInput = { ...g, problem };
  const opts = { bypassProbability: rng.pick([0, 0.2, 0.4]), spatialBias: rng.pick([0.2, 0.5, 0.8]) };
  const sample = () => {
    const m = randomMapping(problem, g.architecture, rng, opts);
    // Keep the golden mapping's storage-less levels storage-less.
    return { levels: m.levels.map((l, i) => (g.mapping.levels[i].keep.every((k) => !k) ? { ...l, keep: l.keep.map(() => false) } : l)) };
  };
  const m = (rng.next() < 0.8 ? sampleValid(input, 60, sample) : null) ?? sample();
  const note = `${g.id} arch, bounds ${bounds.join('/')}`;
  return { category: 'golden-arch', seed, note, text: textFor(input, m, `oracle-fuzz golden-arch seed ${seed}: ${note}`), architecture: g.architecture };
}

/** Imperfect factors on golden architectures (valid for expt when possible). */
function genGoldenImperfect(rng: Random, seed: number): FuzzCase | null {
  const g = goldenPool(rng, (x) => x.category !== 'pim' && x.category !== 'paper');
  if (!g) return null;
  const input: CaseInput = g;
  const sample = () =>
    imperfectMapping(g.problem, g.architecture, rng, rng.next() < 0.5 ? g.mapping : randomMapping(g.problem, g.architecture, rng, { bypassProbability: 0.2 }), {
      spatial: rng.next() < 0.3,
      dims: 1 + rng.int(2),
    });
  const m = (rng.next() < 0.8 ? sampleValid(input, 60, sample) : null) ?? sample();
  const note = `${g.id}: imperfect mapping`;
  return { category: 'golden-imperfect', seed, note, text: textFor(input, m, `oracle-fuzz golden-imperfect seed ${seed}: ${note}`), architecture: g.architecture };
}

/** PIM-style: golden pim architectures with small random problems and mappings. */
function genPim(rng: Random, seed: number): FuzzCase | null {
  const g = rng.pick(goldenInputs().filter((x) => x.category === 'pim' && x.id.includes('32x32')));
  const dims = [1 + rng.int(64), 1 + rng.int(64), 1 + rng.int(40)];
  const problem: Problem = { ...g.problem, bounds: dims };
  const input: CaseInput = { ...g, problem };
  const m = sampleValid(input, 80, () => {
    const r = randomMapping(problem, g.architecture, rng, { bypassProbability: 0.3, spatialBias: 0.6 });
    // The storage-less level keeps nothing; the cells keep only Weights, as in the study.
    return { levels: r.levels.map((l, i) => (g.architecture.storage[i].name === 'dummy_buffer' ? { ...l, keep: l.keep.map(() => false) } : l)) };
  });
  if (!m) return null;
  const note = `${g.id} arch, D/E/L ${dims.join('/')}`;
  return { category: 'pim', seed, note, text: textFor(input, m, `oracle-fuzz pim seed ${seed}: ${note}`), architecture: g.architecture };
}

export const CATEGORIES: Record<string, (rng: Random, seed: number) => FuzzCase | null> = {
  'golden-random': (rng, seed) => genGoldenMapping(rng, seed, false, (g) => g.category !== 'pim', 'golden-random'),
  'golden-perturb': (rng, seed) => genGoldenMapping(rng, seed, true, (g) => g.category !== 'pim', 'golden-perturb'),
  'golden-conv': (rng, seed) => genGoldenMapping(rng, seed, rng.next() < 0.5, (g) => g.category === 'conv', 'golden-conv'),
  'golden-normop': (rng, seed) => genGoldenMapping(rng, seed, rng.next() < 0.5, (g) => g.category === 'normop', 'golden-normop'),
  'golden-gemm-bw': (rng, seed) => genGoldenMapping(rng, seed, rng.next() < 0.5, (g) => g.category === 'gemm-bw', 'golden-gemm-bw'),
  'random-arch': (rng, seed) => genRandomCase(rng, seed, 'random-arch', {}),
  conv: (rng, seed) => genRandomCase(rng, seed, 'conv', { problem: 'conv' }),
  affine: (rng, seed) => genRandomCase(rng, seed, 'affine', { problem: 'affine' }),
  imperfect: (rng, seed) => genRandomCase(rng, seed, 'imperfect', { problem: rng.pick(['gemm', 'gemm', 'conv', 'normop']), imperfect: true }),
  'cluster-all': (rng, seed) => genRandomCase(rng, seed, 'cluster-all', { cluster: true, clusterSpelling: 'all', fanout: 0.8 }),
  'cluster-block-derived': (rng, seed) => genRandomCase(rng, seed, 'cluster-block-derived', { cluster: true, clusterSpelling: 'block-derived', fanout: 0.8 }),
  'cluster-hyphen': (rng, seed) => genRandomCase(rng, seed, 'cluster-hyphen', { cluster: true, clusterSpelling: 'hyphen-only', fanout: 0.8 }),
  'cluster-underscore-only': (rng, seed) => genRandomCase(rng, seed, 'cluster-underscore-only', { cluster: true, clusterSpelling: 'underscore-only', fanout: 0.8 }),
  'cluster-no-width': (rng, seed) => genRandomCase(rng, seed, 'cluster-no-width', { cluster: true, clusterSpelling: 'no-width', fanout: 0.8 }),
  // Seeds cycle through utilized instances below, equal to and above the cluster count.
  'cluster-size': (rng, seed) =>
    genRandomCase(rng, seed, 'cluster-size', { clusterRelation: (['below', 'equal', 'above'] as const)[seed % 3], fanout: 0.9, maxInstances: 128, bandwidth: 0.2 }),
  'user-energy': (rng, seed) => genRandomCase(rng, seed, 'user-energy', { userEnergy: true, cluster: rng.next() < 0.5, clusterSpelling: 'underscore-only', fanout: 0.7 }),
  'outer-bypass': (rng, seed) => genRandomCase(rng, seed, 'outer-bypass', { outerBypass: true, levels: 2 + rng.int(3) }),
  dummy: (rng, seed) => genRandomCase(rng, seed, 'dummy', { dummy: true, levels: 3 + rng.int(3) }),
  'bw-latency': (rng, seed) => genRandomCase(rng, seed, 'bw-latency', { bandwidth: 0.9, latency: 0.7, buffering: 0.5 }),
  mesh2d: (rng, seed) => genRandomCase(rng, seed, 'mesh2d', { fanout: 0.9, maxInstances: 256 }),
  'ert-names': (rng, seed) => genRandomCase(rng, seed, 'ert-names', { ert: 'names' }),
  'ert-missing': (rng, seed) => genRandomCase(rng, seed, 'ert-missing', { ert: 'missing' }),
  'ert-leak': (rng, seed) => genRandomCase(rng, seed, 'ert-leak', { ert: 'leak' }),
  pim: (rng, seed) => genPim(rng, seed),
  'golden-arch': (rng, seed) => genGoldenArchSmallProblem(rng, seed),
  'attr-variants': (rng, seed) => genRandomCase(rng, seed, 'attr-variants', { attrVariants: true, bandwidth: 0.5 }),
  'mapping-syntax': (rng, seed) => genRandomCase(rng, seed, 'mapping-syntax', { mappingSyntax: true }),
  ranges: (rng, seed) => genRandomCase(rng, seed, 'ranges', { style: 'ranges', fanout: 0.7 }),
  combo: (rng, seed) =>
    genRandomCase(rng, seed, 'combo', {
      imperfect: rng.next() < 0.4,
      outerBypass: rng.next() < 0.3,
      dummy: rng.next() < 0.2,
      cluster: rng.next() < 0.3,
      clusterSpelling: 'all',
      attrVariants: rng.next() < 0.3,
      mappingSyntax: rng.next() < 0.3,
      bandwidth: 0.5,
      latency: 0.4,
      buffering: 0.4,
      fanout: 0.7,
      maxInstances: 128,
      levels: 2 + rng.int(5),
    }),
  'golden-imperfect': (rng, seed) => genGoldenImperfect(rng, seed),
  'conv-halo': (rng, seed) => genRandomCase(rng, seed, 'conv-halo', { problem: 'conv', halo: true, fanout: 0.6 }),
  'conv-halo-imperfect': (rng, seed) => genRandomCase(rng, seed, 'conv-halo-imperfect', { problem: 'conv', halo: true, imperfect: true, fanout: 0.4 }),
  networks: (rng, seed) => genRandomCase(rng, seed, 'networks', { networks: true, levels: 3 + rng.int(3), fanout: 0.7, problem: rng.pick(['gemm', 'gemm', 'conv', 'normop']) }),
  'ert-range-names': (rng, seed) => genRandomCase(rng, seed, 'ert-range-names', { style: 'ranges', fanout: 0.9, ertRangeNames: true }),
  large: (rng, seed) => genRandomCase(rng, seed, 'large', { levels: 4 + rng.int(3), fanout: 0.6, maxInstances: 256, problem: 'gemm-large' }),
};

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function generateCase(category: string, seed: number): FuzzCase | null {
  const gen = CATEGORIES[category];
  if (!gen) throw new Error(`unknown category '${category}' (known: ${Object.keys(CATEGORIES).join(', ')})`);
  // A few attempts: some draws give no case (nothing valid, import rejects).
  for (let attempt = 0; attempt < 8; attempt++) {
    const rng = new Random(hashString(category) ^ (seed * 2_654_435_761) ^ (attempt * 1_000_003));
    const c = gen(rng, seed);
    if (c) return c;
  }
  return null;
}

/** Our result as plain JSON (for saving). */
export function ourJson(ours: OurRun): unknown {
  return ours.error !== null ? { error: ours.error } : ours.outcome;
}

export function describeDiffs(diffs: Difference[], max = 12): string {
  return diffs
    .slice(0, max)
    .map((d) => `${d.where}: ours ${JSON.stringify(d.ours)}, oracle ${JSON.stringify(d.oracle)}`)
    .join('\n');
}

/** A grouping key for a failing case: its sorted distinct difference kinds. */
export function signature(diffs: Difference[]): string {
  return [...new Set(diffs.map((d) => d.kind))].sort().join(' ');
}

// ---------------------------------------------------------------------------
// CLI

interface CliOptions {
  cases: number;
  seed: number;
  categories: string[];
  jobs: number;
  out: string;
  quiet: boolean;
  input?: string;
  /** With --input: keep the oracle run, ours.json and diffs.txt in this directory. */
  save?: string;
}

function parseCli(argv: string[]): CliOptions | 'list' {
  const o: CliOptions = { cases: 200, seed: 1, categories: Object.keys(CATEGORIES), jobs: 2, out: '/tmp/oracle-fuzz', quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--cases') o.cases = Number(v());
    else if (a === '--seed') o.seed = Number(v());
    else if (a === '--category') o.categories = v().split(',');
    else if (a === '--jobs') o.jobs = Number(v());
    else if (a === '--out') o.out = v();
    else if (a === '--quiet') o.quiet = true;
    else if (a === '--input') o.input = v();
    else if (a === '--save') o.save = v();
    else if (a === '--list') return 'list';
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

async function main(): Promise<void> {
  const cli = parseCli(process.argv.slice(2));
  if (cli === 'list') {
    console.log(Object.keys(CATEGORIES).join('\n'));
    return;
  }
  const bin = findTimeloopModel();
  if (!bin) {
    console.error('timeloop-model not found on PATH or in /opt/timeloop/bin');
    process.exit(2);
  }
  if (cli.input) {
    const text = readFileSync(cli.input, 'utf8');
    const ours = runOurs(text);
    if (cli.save) rmSync(join(cli.save, 'oracle'), { recursive: true, force: true });
    const oracle = runOracle(text, { bin, dir: cli.save ? join(cli.save, 'oracle') : undefined });
    let arch: Architecture | undefined;
    try {
      arch = importTimeloopDocuments([{ file: cli.input, doc: parseYamlText(text, cli.input) }]).architecture;
    } catch {
      arch = undefined;
    }
    const diffs = compareRuns(ours, oracle, arch);
    console.log(`oracle dir: ${oracle.dir} (exit ${oracle.rc}${oracle.error ? `: ${oracle.error}` : ''})`);
    console.log(`ours: ${ours.error ?? (ours.outcome?.ok ? 'valid' : JSON.stringify(ours.outcome?.error))}`);
    console.log(diffs.length === 0 ? 'MATCH' : `${diffs.length} differences\n${describeDiffs(diffs, 100)}`);
    if (cli.save) {
      writeFileSync(join(cli.save, 'ours.json'), JSON.stringify(ourJson(ours), null, 1));
      writeFileSync(join(cli.save, 'diffs.txt'), diffs.length === 0 ? 'MATCH\n' : `${describeDiffs(diffs, 1000)}\n`);
    }
    process.exit(diffs.length === 0 ? 0 : 1);
  }
  mkdirSync(cli.out, { recursive: true });
  const runsDir = join(cli.out, 'runs');
  mkdirSync(runsDir, { recursive: true });
  const perCat: Record<string, { run: number; match: number; bothInvalid: number; skipped: number; fail: number }> = {};
  const classes = new Map<string, { count: number; examples: string[] }>();
  const jobs: (() => Promise<void>)[] = [];
  for (const category of cli.categories) {
    perCat[category] = { run: 0, match: 0, bothInvalid: 0, skipped: 0, fail: 0 };
    for (let k = 0; k < cli.cases; k++) {
      const seed = cli.seed + k;
      jobs.push(async () => {
        const stat = perCat[category];
        const c = generateCase(category, seed);
        if (!c) {
          stat.skipped++;
          return;
        }
        const ours = runOurs(c.text);
        const runDir = join(runsDir, `${category}-${seed}`);
        rmSync(runDir, { recursive: true, force: true });
        const oracle = await runOracleAsync(c.text, { bin, dir: runDir, timeoutMs: 120_000 });
        const diffs = compareRuns(ours, oracle, c.architecture);
        stat.run++;
        if (diffs.length === 0) {
          stat.match++;
          if (!oracle.stats) stat.bothInvalid++;
          rmSync(runDir, { recursive: true, force: true });
          return;
        }
        stat.fail++;
        const failDir = join(cli.out, `fail-${category}-${seed}`);
        rmSync(failDir, { recursive: true, force: true });
        mkdirSync(failDir, { recursive: true });
        writeFileSync(join(failDir, 'input.yaml'), c.text);
        cpSync(runDir, join(failDir, 'oracle'), { recursive: true });
        rmSync(runDir, { recursive: true, force: true });
        writeFileSync(join(failDir, 'ours.json'), JSON.stringify(ourJson(ours), null, 1));
        writeFileSync(join(failDir, 'diffs.txt'), `${c.note}\n${describeDiffs(diffs, 1000)}\n`);
        const sig = `${category} :: ${signature(diffs)}`;
        const cls = classes.get(sig) ?? { count: 0, examples: [] };
        cls.count++;
        if (cls.examples.length < 5) cls.examples.push(failDir);
        classes.set(sig, cls);
        if (!cli.quiet) console.log(`FAIL ${category} seed ${seed} (${c.note}): ${signature(diffs)}\n  ${describeDiffs(diffs, 4).replace(/\n/g, '\n  ')}`);
      });
    }
  }
  // Interleave categories so a partial run covers all of them.
  const order = jobs.map((j, i) => ({ j, key: (i % cli.cases) * 1000 + Math.floor(i / cli.cases) })).sort((a, b) => a.key - b.key);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < order.length) {
      const job = order[next++].j;
      await job();
      done++;
      if (!cli.quiet && done % 200 === 0) console.error(`... ${done}/${order.length}`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, cli.jobs) }, worker));
  console.log('\ncategory                     run  match (both invalid)  fail  skipped');
  let tr = 0;
  let tm = 0;
  for (const [cat, s] of Object.entries(perCat)) {
    tr += s.run;
    tm += s.match;
    console.log(`${cat.padEnd(26)} ${String(s.run).padStart(5)} ${String(s.match).padStart(6)} ${`(${s.bothInvalid})`.padStart(8)} ${String(s.fail).padStart(11)} ${String(s.skipped).padStart(8)}`);
  }
  console.log(`total                      ${String(tr).padStart(5)} ${String(tm).padStart(6)}`);
  if (classes.size > 0) {
    console.log('\ndisagreement classes:');
    for (const [sig, c] of [...classes.entries()].sort((a, b) => b[1].count - a[1].count)) {
      console.log(`  ${c.count} × ${sig}\n      e.g. ${c.examples.join('\n           ')}`);
    }
  }
  writeFileSync(join(cli.out, 'summary.json'), JSON.stringify({ perCategory: perCat, classes: Object.fromEntries(classes) }, null, 1));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
