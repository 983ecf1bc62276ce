/**
 * The stats.txt parser against the golden vectors in tests/fixtures/golden: every
 * `stats.txt` (Timeloop v3.0.3) is checked against its sibling
 * `expected.json` (numbers from the oracle's XML, full precision), and every
 * `study-stats.txt` (a newer Timeloop) against the `study` block there.
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  dynamicEnergyPJ,
  findNetwork,
  findStorageLevel,
  parseStatsValue,
  parseTimeloopStats,
  totalLeakageEnergyPJ,
  type TimeloopStats,
} from '../../src/timeloop/stats-parser.ts';
import { UserError } from '../../src/util/errors.ts';
import { goldenDir, referenceDir } from '../helpers/golden.ts';

const referenceStatsDir = path.join(referenceDir, 'timeloop-stats');

// ---------------------------------------------------------------------------
// The shape of expected.json (only the fields these tests read).

interface ExpectedStorageDataspace {
  partition_size: number;
  utilized_capacity: number;
  utilized_instances: number;
  utilized_clusters: number;
  reads: number;
  fills: number;
  updates: number;
  temporal_reductions: number;
  address_generations: number;
  energy_per_instance_pJ: number;
  energy_pJ: number;
  temporal_reduction_energy_pJ: number;
  addr_gen_energy_pJ: number;
  read_bandwidth_per_instance: number;
  write_bandwidth_per_instance: number;
}

interface ExpectedStorage {
  name: string;
  timeloop_level: number;
  instances: number;
  mesh_x: number;
  mesh_y: number;
  size_words: number | null;
  word_bits: number;
  block_size: number;
  cycles: number;
  slowdown: number;
  dataspaces: Record<string, ExpectedStorageDataspace>;
  energy_pJ: number;
  leakage_energy_pJ: number;
}

interface ExpectedNetworkDataspace {
  fanout: number;
  multicast_factor: number;
  ingresses: number;
  link_transfers: number | null;
  spatial_reductions: number | null;
  average_hops: number | null;
  energy_pJ?: number;
}

interface ExpectedStudyMatchDataspace {
  reads: boolean;
  fills: boolean;
  updates: boolean;
  partition_size: boolean;
  utilized_capacity: boolean;
  utilized_instances: boolean;
  utilized_clusters: boolean;
  temporal_reductions: boolean;
  address_generations: boolean;
  energy: boolean;
}

interface ExpectedStudy {
  file: string;
  summary: {
    energy_uJ: number;
    cycles: number;
    utilization_percent: number;
    edp_J_cycle: number;
    gflops_at_1GHz: number;
    computes: number;
    pJ_per_compute: Record<string, number>;
  };
  dynamic_energy_pJ: number;
  leakage_energy_pJ: number;
  leakage_energy_pJ_per_level: Record<string, number>;
  leakage_pJ_per_instance_cycle_printed: Record<string, number>;
  oracle_energy_plus_study_leakage_uJ: number;
  match: {
    cycles: boolean;
    arithmetic: { cycles: boolean; utilized_instances: boolean; instances: boolean; computes: boolean; energy: boolean };
    levels: Record<
      string,
      { cycles: boolean; specs: boolean; bandwidth_throttling: boolean; dataspaces: Record<string, ExpectedStudyMatchDataspace> }
    >;
  };
}

interface Expected {
  case_id: string;
  arithmetic: { name: string; instances: number; utilized_instances: number; computes: number; cycles: number; energy_pJ: number };
  storage: ExpectedStorage[];
  networks: { name: string; dataspaces: Record<string, ExpectedNetworkDataspace> }[];
  summary: {
    cycles: number;
    utilization: number;
    energy_pJ: number;
    edp_J_cycle: number;
    pJ_per_compute: number;
    computes: number;
    text: {
      Utilization: string;
      Cycles: number;
      Energy_uJ: number;
      'EDP(J*cycle)': string;
      fJ_per_compute: Record<string, number>;
    };
  };
  study?: ExpectedStudy;
}

// ---------------------------------------------------------------------------
// Helpers

/** Half a unit of the last printed decimal (stats.txt prints 2), plus float slack. */
const PRINT_HALF_UNIT = 0.005;

function withinPrint(t: ExecutionContext, actual: number | undefined, exact: number, what: string, halfUnit = PRINT_HALF_UNIT): void {
  if (actual === undefined) {
    t.fail(`${what}: missing (expected ${exact})`);
    return;
  }
  const tolerance = halfUnit + Math.abs(exact) * 1e-12;
  t.true(Math.abs(actual - exact) <= tolerance, `${what}: printed ${actual}, exact ${exact} (tolerance ${tolerance})`);
}

/** Relative closeness for numbers that were computed from printed values. */
function close(t: ExecutionContext, actual: number | undefined, expected: number, what: string, relative = 1e-9): void {
  if (actual === undefined) {
    t.fail(`${what}: missing (expected ${expected})`);
    return;
  }
  const tolerance = Math.max(Math.abs(expected) * relative, 1e-9);
  t.true(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected}`);
}

function caseDirs(): string[] {
  if (!existsSync(goldenDir)) return [];
  return readdirSync(goldenDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(goldenDir, entry.name, 'expected.json')))
    .map((entry) => entry.name)
    .sort();
}

function loadCase(caseId: string, statsFile: string): { stats: TimeloopStats; expected: Expected } {
  const dir = path.join(goldenDir, caseId);
  const file = path.join(dir, statsFile);
  const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Expected;
  return { stats: parseTimeloopStats(readFileSync(file, 'utf8'), file), expected };
}

const cases = caseDirs();
const studyCases = cases.filter((id) => existsSync(path.join(goldenDir, id, 'study-stats.txt')));

test('the golden vectors are present in tests/fixtures/golden', (t) => {
  t.true(existsSync(goldenDir), `golden folder not found at ${goldenDir}`);
  t.true(cases.length >= 90, `expected the ~96 golden cases, found ${cases.length}`);
  t.true(studyCases.length >= 8, `expected the 8 paper-* cases, found ${studyCases.length}`);
});

// ---------------------------------------------------------------------------
// v3.0.3 stats.txt against expected.json

for (const caseId of cases) {
  test(`stats.txt of ${caseId} matches expected.json`, (t) => {
    const { stats, expected } = loadCase(caseId, 'stats.txt');

    // Arithmetic level.
    const mac = stats.arithmetic;
    t.is(stats.levels[0], mac);
    t.is(mac.level, 0);
    t.is(mac.name, expected.arithmetic.name);
    t.is(mac.instances, expected.arithmetic.instances);
    t.is(mac.utilizedInstances, expected.arithmetic.utilized_instances);
    t.is(mac.computes, expected.arithmetic.computes);
    t.is(mac.cycles, expected.arithmetic.cycles);
    withinPrint(t, mac.energyTotalPJ, expected.arithmetic.energy_pJ, 'MAC energy');

    // Storage levels: same set, same Timeloop numbering (innermost = 1, printed first).
    t.deepEqual(
      stats.storage.map((level) => [level.level, level.name]),
      [...expected.storage].sort((a, b) => a.timeloop_level - b.timeloop_level).map((s) => [s.timeloop_level, s.name]),
    );
    for (const exp of expected.storage) {
      const level = findStorageLevel(stats, exp.name);
      if (level === undefined) {
        t.fail(`level ${exp.name} not parsed`);
        continue;
      }
      const at = `${exp.name}`;
      t.is(level.instances, exp.instances, `${at} instances`);
      t.is(level.meshX, exp.mesh_x, `${at} meshX`);
      t.is(level.meshY, exp.mesh_y, `${at} meshY`);
      t.is(level.size, exp.size_words, `${at} size`);
      t.is(level.wordBits, exp.word_bits, `${at} word bits`);
      t.is(level.blockSize, exp.block_size, `${at} block size`);
      t.is(level.cycles, exp.cycles, `${at} cycles`);
      withinPrint(t, level.bandwidthThrottling, exp.slowdown, `${at} bandwidth throttling`);
      t.is(level.leakageEnergyTotalPJ ?? 0, exp.leakage_energy_pJ, `${at} leakage`);
      t.deepEqual(Object.keys(level.dataspaces), Object.keys(exp.dataspaces), `${at} kept dataspaces`);
      let levelEnergy = 0;
      for (const [dsName, e] of Object.entries(exp.dataspaces)) {
        const ds = level.dataspaces[dsName];
        if (ds === undefined) continue; // reported by the deepEqual above
        const where = `${at}.${dsName}`;
        t.is(ds.name, dsName);
        t.is(ds.partitionSize, e.partition_size, `${where} partition size`);
        t.is(ds.utilizedCapacity, e.utilized_capacity, `${where} utilized capacity`);
        t.is(ds.utilizedInstances, e.utilized_instances, `${where} utilized instances`);
        t.is(ds.utilizedClusters, e.utilized_clusters, `${where} utilized clusters`);
        t.is(ds.scalarReads, e.reads, `${where} reads`);
        t.is(ds.scalarFills, e.fills, `${where} fills`);
        t.is(ds.scalarUpdates, e.updates, `${where} updates`);
        t.is(ds.temporalReductions, e.temporal_reductions, `${where} temporal reductions`);
        t.is(ds.addressGenerations, e.address_generations, `${where} address generations`);
        withinPrint(t, ds.energyPerInstancePJ, e.energy_per_instance_pJ, `${where} energy per instance`);
        withinPrint(t, ds.energyTotalPJ, e.energy_pJ, `${where} energy total`);
        withinPrint(t, ds.temporalReductionEnergyTotalPJ, e.temporal_reduction_energy_pJ, `${where} temporal reduction energy`);
        withinPrint(t, ds.addressGenerationEnergyTotalPJ, e.addr_gen_energy_pJ, `${where} address generation energy`);
        withinPrint(t, ds.readBandwidthPerInstance, e.read_bandwidth_per_instance, `${where} read bandwidth`);
        withinPrint(t, ds.writeBandwidthPerInstance, e.write_bandwidth_per_instance, `${where} write bandwidth`);
        // The exact-label map holds the same numbers.
        t.is(ds.fields['Scalar reads (per-instance)'], ds.scalarReads);
        t.is(ds.fields['Energy (total)'], ds.energyTotalPJ);
        levelEnergy += ds.energyTotalPJ;
      }
      const n = Object.keys(exp.dataspaces).length;
      withinPrint(t, levelEnergy, exp.energy_pJ, `${at} level energy`, PRINT_HALF_UNIT * Math.max(n, 1));
    }

    // Networks.
    t.deepEqual(
      stats.networks.map((network) => network.name).sort(),
      expected.networks.map((network) => network.name).sort(),
      'network names',
    );
    for (const exp of expected.networks) {
      const network = findNetwork(stats, exp.name);
      if (network === undefined) continue; // reported above
      t.deepEqual(Object.keys(network.dataspaces), Object.keys(exp.dataspaces), `${exp.name} dataspaces`);
      for (const [dsName, e] of Object.entries(exp.dataspaces)) {
        const ds = network.dataspaces[dsName];
        if (ds === undefined) continue;
        const where = `${exp.name}.${dsName}`;
        t.is(ds.fanout, e.fanout, `${where} fanout`);
        t.is(ds.multicastFactor, e.multicast_factor, `${where} multicast factor`);
        withinPrint(t, ds.ingresses, e.ingresses, `${where} ingresses`);
        t.is(ds.linkTransfers ?? null, e.link_transfers, `${where} link transfers`);
        t.is(ds.spatialReductions ?? null, e.spatial_reductions, `${where} spatial reductions`);
        if (e.average_hops === null) t.is(ds.averageHops, undefined, `${where} average hops`);
        else withinPrint(t, ds.averageHops, e.average_hops, `${where} average hops`);
        if (e.energy_pJ !== undefined) withinPrint(t, ds.energyTotalPJ, e.energy_pJ, `${where} energy`);
        if (ds.ingressHistogram.length > 0) {
          const histogramTotal = ds.ingressHistogram.reduce((sum, entry) => sum + entry.count, 0);
          withinPrint(t, histogramTotal, e.ingresses, `${where} ingress histogram`, PRINT_HALF_UNIT * ds.ingressHistogram.length);
        }
      }
    }

    // Summary.
    const summary = stats.summary;
    const text = expected.summary.text;
    t.is(summary.cycles, expected.summary.cycles);
    t.is(summary.cycles, text.Cycles);
    t.is(summary.computes, expected.summary.computes);
    t.is(summary.computes, mac.computes);
    t.is(summary.utilizationText, text.Utilization);
    withinPrint(t, summary.utilization, expected.summary.utilization, 'utilization');
    t.is(summary.energyUJ, text.Energy_uJ);
    withinPrint(t, summary.energyUJ, expected.summary.energy_pJ / 1e6, 'energy (uJ)');
    t.is(summary.edpText, text['EDP(J*cycle)']);
    const edpHalfUnit = 0.005 * 10 ** Math.floor(Math.log10(Math.abs(summary.edpJCycle)));
    withinPrint(t, summary.edpJCycle, expected.summary.edp_J_cycle, 'EDP', edpHalfUnit);
    t.is(summary.energyPerComputeUnit, 'fJ');
    t.deepEqual(summary.energyPerCompute, text.fJ_per_compute);
    t.deepEqual(summary.fJPerCompute, text.fJ_per_compute);
    withinPrint(t, summary.fJPerCompute['Total'], expected.summary.pJ_per_compute * 1000, 'fJ/Compute Total');
    withinPrint(t, dynamicEnergyPJ(stats), expected.summary.energy_pJ, 'sum of printed energies', PRINT_HALF_UNIT * 64);
  });
}

// ---------------------------------------------------------------------------
// The study's stats files (newer Timeloop) against expected.json's `study` block

for (const caseId of studyCases) {
  test(`study-stats.txt of ${caseId} matches expected.json study block`, (t) => {
    const { stats, expected } = loadCase(caseId, 'study-stats.txt');
    const study = expected.study;
    if (study === undefined) {
      t.fail('expected.json has no study block');
      return;
    }
    const summary = stats.summary;
    t.is(summary.energyUJ, study.summary.energy_uJ);
    t.is(summary.cycles, study.summary.cycles);
    t.is(summary.utilizationText, `${study.summary.utilization_percent.toFixed(2)}%`);
    close(t, summary.utilization, study.summary.utilization_percent / 100, 'utilization as a fraction');
    t.true(summary.utilization > 0 && summary.utilization <= 1);
    t.is(summary.edpJCycle, study.summary.edp_J_cycle);
    t.is(summary.gflops, study.summary.gflops_at_1GHz);
    t.is(summary.gflopsClockGHz, 1);
    t.is(summary.computes, study.summary.computes);
    t.is(summary.energyPerComputeUnit, 'pJ');
    t.deepEqual(summary.energyPerCompute, study.summary.pJ_per_compute);
    for (const [name, pJ] of Object.entries(study.summary.pJ_per_compute)) {
      close(t, summary.fJPerCompute[name], pJ * 1000, `fJ/Compute ${name}`);
    }

    // Leakage, printed per level.
    t.deepEqual(
      stats.storage.map((level) => level.name).sort(),
      Object.keys(study.leakage_energy_pJ_per_level).sort(),
      'storage levels of the study file',
    );
    for (const [name, leakage] of Object.entries(study.leakage_energy_pJ_per_level)) {
      const level = findStorageLevel(stats, name);
      close(t, level?.leakageEnergyTotalPJ, leakage, `${name} leakage energy`);
      close(t, level?.perInstanceCycleLeakagePJ, study.leakage_pJ_per_instance_cycle_printed[name], `${name} per-instance-cycle leakage`);
    }
    close(t, totalLeakageEnergyPJ(stats), study.leakage_energy_pJ, 'total leakage');
    close(t, dynamicEnergyPJ(stats), study.dynamic_energy_pJ, 'dynamic energy');
    withinPrint(t, summary.energyUJ, (study.dynamic_energy_pJ + study.leakage_energy_pJ) / 1e6, 'printed energy = dynamic + leakage');
    withinPrint(t, summary.energyUJ, study.oracle_energy_plus_study_leakage_uJ, 'oracle energy + study leakage', 0.01);

    // The counts the README says v3.0.3 reproduces exactly, wherever `match` says so.
    const match = study.match;
    const mac = stats.arithmetic;
    if (match.arithmetic.cycles) t.is(mac.cycles, expected.arithmetic.cycles);
    if (match.arithmetic.utilized_instances) t.is(mac.utilizedInstances, expected.arithmetic.utilized_instances);
    if (match.arithmetic.instances) t.is(mac.instances, expected.arithmetic.instances);
    if (match.arithmetic.computes) t.is(mac.computes, expected.arithmetic.computes);
    if (match.arithmetic.energy) withinPrint(t, mac.energyTotalPJ, expected.arithmetic.energy_pJ, 'MAC energy vs oracle');
    if (match.cycles) t.is(summary.cycles, expected.summary.cycles);
    for (const [name, levelMatch] of Object.entries(match.levels)) {
      const level = findStorageLevel(stats, name);
      const oracle = expected.storage.find((s) => s.name === name);
      if (level === undefined || oracle === undefined) {
        t.fail(`level ${name} missing from the study file or the oracle`);
        continue;
      }
      if (levelMatch.cycles) t.is(level.cycles, oracle.cycles, `${name} cycles`);
      if (levelMatch.bandwidth_throttling) withinPrint(t, level.bandwidthThrottling, oracle.slowdown, `${name} throttling`);
      if (levelMatch.specs) {
        t.is(level.size, oracle.size_words, `${name} size`);
        t.is(level.blockSize, oracle.block_size, `${name} block size`);
        t.is(level.instances, oracle.instances, `${name} instances`);
      }
      for (const [dsName, m] of Object.entries(levelMatch.dataspaces)) {
        const ds = level.dataspaces[dsName];
        const e = oracle.dataspaces[dsName];
        if (ds === undefined || e === undefined) {
          t.fail(`${name}.${dsName} missing`);
          continue;
        }
        const where = `${name}.${dsName}`;
        if (m.reads) t.is(ds.scalarReads, e.reads, `${where} reads`);
        if (m.fills) t.is(ds.scalarFills, e.fills, `${where} fills`);
        if (m.updates) t.is(ds.scalarUpdates, e.updates, `${where} updates`);
        if (m.partition_size) t.is(ds.partitionSize, e.partition_size, `${where} partition size`);
        if (m.utilized_capacity) t.is(ds.utilizedCapacity, e.utilized_capacity, `${where} utilized capacity`);
        if (m.utilized_instances) t.is(ds.utilizedInstances, e.utilized_instances, `${where} utilized instances`);
        if (m.utilized_clusters) t.is(ds.utilizedClusters, e.utilized_clusters, `${where} utilized clusters`);
        if (m.temporal_reductions) t.is(ds.temporalReductions, e.temporal_reductions, `${where} temporal reductions`);
        if (m.address_generations) t.is(ds.addressGenerations, e.address_generations, `${where} address generations`);
        if (m.energy) withinPrint(t, ds.energyTotalPJ, e.energy_pJ, `${where} energy vs oracle`);
        t.is(ds.bandwidthConsumptionScale, 1, `${where} bandwidth consumption scale`);
      }
    }
  });
}

test('every reference stats file (newer Timeloop) parses, with utilization as a fraction', (t) => {
  const files = existsSync(referenceStatsDir) ? readdirSync(referenceStatsDir).filter((f) => f.endsWith('.txt')) : [];
  t.true(files.length >= 8, `reference stats files not found in ${referenceStatsDir}`);
  for (const name of files) {
    const file = path.join(referenceStatsDir, name);
    const stats = parseTimeloopStats(readFileSync(file, 'utf8'), file);
    t.true(stats.summary.utilizationText.endsWith('%'), name);
    t.true(stats.summary.utilization > 0 && stats.summary.utilization <= 1, name);
    t.true(stats.storage.length >= 3, name);
    t.true(stats.storage.every((level) => level.leakageEnergyTotalPJ !== undefined), `${name} leakage`);
    close(t, stats.summary.utilization * 100, Number(stats.summary.utilizationText.slice(0, -1)), `${name} utilization`);
  }
});

// ---------------------------------------------------------------------------
// Details

test('specs: unbounded size, unlimited bandwidth, mesh, loop nest', (t) => {
  const { stats } = loadCase('gemm-001', 'stats.txt');
  const dram = findStorageLevel(stats, 'DRAM');
  const glb = findStorageLevel(stats, 'GLB');
  const rf = findStorageLevel(stats, 'RF');
  if (dram === undefined || glb === undefined || rf === undefined) return t.fail('levels missing');
  t.is(dram.size, null);
  t.is(dram.effectiveSize, null);
  t.is(dram.specs['Size'], null);
  t.is(dram.readBandwidth, 4);
  t.is(dram.writeBandwidth, 0.5);
  t.is(dram.sharedBandwidth, null);
  t.is(dram.technology, 'DRAM');
  t.is(dram.vectorAccessEnergyPJ, 286.92);
  t.is(dram.vectorAccessEnergySource, 'ERT');
  t.is(rf.instances, 4);
  t.deepEqual([rf.meshX, rf.meshY], [2, 2]);
  t.is(rf.specs['Instances'], 4);
  t.deepEqual(glb.loopNest, [
    { dimension: 'L', start: 0, end: 7, spatial: null },
    { dimension: 'D', start: 0, end: 2, spatial: 'X' },
  ]);
  t.deepEqual(stats.arithmetic.specs, { 'Word bits': 8, Instances: 64, 'Compute energy': 2.87 });
  t.deepEqual([stats.arithmetic.meshX, stats.arithmetic.meshY], [8, 8]);
  const legacy = findNetwork(stats, 'GLB <==> RF');
  t.is(legacy?.type, 'Legacy');
  t.is(legacy?.fillLatency, 2);
  t.deepEqual(legacy?.dataspaces['Inputs']?.ingressHistogram, [{ multicast: 2, scatter: 1, count: 49 }]);
  t.is(legacy?.dataspaces['Inputs']?.energyPerHopFJ, 0);
  t.deepEqual(stats.operationalIntensity?.levels['GLB'], { 'Total scalar accesses': 630, 'Op per Byte': 0.87 });
  t.is(stats.operationalIntensity?.totals['Total ops'], 546);
  t.is(stats.file, path.join(goldenDir, 'gemm-001', 'stats.txt'));
});

test('imperfect factors keep their residual', (t) => {
  const { stats } = loadCase('imperfect-001', 'stats.txt');
  const loops = stats.storage.flatMap((level) => level.loopNest);
  t.true(loops.some((loop) => loop.residualEnd !== undefined && loop.residualEnd < loop.end));
});

test('a level that keeps nothing has no dataspaces; skipped level numbers are kept', (t) => {
  const v3 = loadCase('paper-KQV-eyeriss-TLD', 'stats.txt').stats;
  const spatial = findStorageLevel(v3, 'inter_PE_spatial');
  t.deepEqual(spatial?.dataspaces, {});
  t.deepEqual(spatial?.loopNest, [{ dimension: 'E', start: 0, end: 8, spatial: 'Y' }]);
  const study = loadCase('paper-KQV-eyeriss-TLD', 'study-stats.txt').stats;
  t.deepEqual(
    study.storage.map((level) => level.level),
    [1, 2, 3, 6, 7],
  );
  t.deepEqual(study.operationalIntensity?.levels['inter_PE_spatial'], {});
});

test('parseStatsValue', (t) => {
  t.is(parseStatsValue('-'), null);
  t.is(parseStatsValue('- pJ'), null);
  t.is(parseStatsValue('1.97 pJ'), 1.97);
  t.is(parseStatsValue('64 (8*8)'), 64);
  t.is(parseStatsValue('57.14%'), 0.5714);
  t.is(parseStatsValue('100.00%'), 1);
  t.is(parseStatsValue('4.06e-06'), 4.06e-6);
  t.is(parseStatsValue('1.16e+07'), 1.16e7);
  t.is(parseStatsValue('3.43 words/cycle'), 3.43);
  t.is(parseStatsValue('inf'), Infinity);
  t.is(parseStatsValue('SRAM'), 'SRAM');
  t.is(parseStatsValue(''), '');
});

// ---------------------------------------------------------------------------
// Malformed input

function throwsUserError(t: ExecutionContext, text: string, file: string, pattern: RegExp): UserError | undefined {
  const error = t.throws(() => parseTimeloopStats(text, file), { instanceOf: UserError });
  if (error === undefined) return undefined;
  t.is(error.file, file);
  t.true(error.format().startsWith(`${file}: `), error.format());
  t.regex(error.format(), pattern);
  t.false(error.format().includes('\n'));
  return error;
}

const sampleText = (): string => readFileSync(path.join(goldenDir, 'gemm-001', 'stats.txt'), 'utf8');

test('text that is not a stats file is a UserError naming the file', (t) => {
  throwsUserError(t, 'hello world\n', 'notes.txt', /not a Timeloop stats file/);
  throwsUserError(t, '', 'empty.txt', /not a Timeloop stats file/);
  throwsUserError(t, 'architecture:\n  version: 0.4\n', 'input.yaml', /not a Timeloop stats file/);
});

test('a truncated stats file is a UserError', (t) => {
  const text = sampleText();
  throwsUserError(t, text.slice(0, text.indexOf('Summary Stats')), 'cut.txt', /no 'Summary Stats' section/);
});

test('a bad number is a UserError naming the line', (t) => {
  const text = sampleText().replace('Scalar reads (per-instance)              : 147', 'Scalar reads (per-instance)              : lots');
  const error = throwsUserError(t, text, 'bad.txt', /Level 1 \(RF\) Weights: 'Scalar reads \(per-instance\)' is not a number/);
  t.regex(error?.field ?? '', /^line \d+$/);
});

test('a missing required field is a UserError naming the field', (t) => {
  const text = sampleText().replace(/^\s*Partition size\s*: 21\n/m, '');
  throwsUserError(t, text, 'missing.txt', /Level 1 \(RF\) Weights: missing field 'Partition size'/);
});

test('an unrecognised line is a UserError', (t) => {
  const text = sampleText().replace('    Loop nest:\n      for D in [0:3) (Spatial-X)', '    Loop nest:\n      while (true)');
  throwsUserError(t, text, 'odd.txt', /expected 'for <dim> in \[a:b\)'/);
});
