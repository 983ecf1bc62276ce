/**
 * The energy/area estimator (src/arch/energy) against the ground truth in
 * tests/fixtures/reference/energy: every component of the study
 * (study_validation.csv), every row of the CACTI grid (sram_cacti.csv), the
 * NeuroSim intadder table, the library plug-in's technology factors; SRAM
 * points off the grid against values derived from the raw CACTI runs; the
 * study's PIM components; whole-architecture ERTs against the ERTs of the
 * study's golden cases; and clear errors.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import {
  actionEnergy,
  estimateArchitecture,
  estimateArchitectureEnergy,
  estimateComponent,
  technologyAreaScale,
  technologyEnergyScale,
  type ComponentEstimate,
} from '../../src/arch/energy/index.ts';
import { measureInterpolationError } from '../../src/arch/energy/interpolation-error.ts';
import type { EnergyAction } from '../../src/arch/energy-table.ts';
import { importTimeloopDocuments } from '../../src/timeloop/tree-import.ts';
import { findStorageLevel, parseTimeloopStats } from '../../src/timeloop/stats-parser.ts';
import { UserError } from '../../src/util/errors.ts';
import { readYamlFile } from '../../src/util/yaml.ts';
import { goldenDir, referenceDir as studyReferenceDir } from '../helpers/golden.ts';

const referenceDir = join(studyReferenceDir, 'energy');

type Row = Record<string, string>;

function readCsv(file: string): Row[] {
  return parse(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, trim: true }) as Row[];
}

/** Decimals printed in `text` (`57.04` → 2, `4480` → 0). */
function decimals(text: string): number {
  const i = text.indexOf('.');
  return i < 0 ? 0 : text.length - i - 1;
}

/** Whether `got` rounds to the printed `text`: within half a unit of its last digit (plus float noise). */
function roundsTo(got: number, text: string): boolean {
  const printed = Number(text);
  return Math.abs(got - printed) <= 0.5 * 10 ** -decimals(text) + 1e-9 * Math.max(1, Math.abs(printed));
}

function relClose(a: number, b: number, tol: number): boolean {
  return a === b || Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b));
}

function energy(e: ComponentEstimate, action: string): number {
  const v = actionEnergy(e, action);
  if (v === undefined) throw new Error(`${e.className} has no action ${action}`);
  return v;
}

// ---------------------------------------------------------------------------
// The study's components, with the attributes their architecture files give
// (study-facts §4.1, §4.4–§4.6; technology from the enclosing container,
// global_cycle_seconds from the variables file). Ignored attributes are kept
// on purpose: the estimator must ignore them as the study's Accelergy did.

interface StudyComponent {
  readonly className: string;
  readonly attributes: Record<string, unknown>;
  readonly clusterSize?: number;
  /** MACs: instances, and the total area the study printed (um²). */
  readonly macs?: { instances: number; studyTotalAreaUm2: string };
}

const GCS = { global_cycle_seconds: 1.2e-9 };

const STUDY: Readonly<Record<string, StudyComponent>> = {
  'Gemmini Scratchpad': {
    className: 'SRAM',
    attributes: { technology: '32nm', ...GCS, entries: 262144 * 2, depth: 16384 * 2, width: 128, datawidth: 8, n_rdwr_ports: 2, n_banks: 4 },
  },
  'Gemmini Accumulator': {
    className: 'SRAM',
    attributes: { technology: '32nm', ...GCS, entries: 2048 * 2, depth: 2048 * 2, width: 32, datawidth: 32, network_word_bits: 16, n_rdwr_ports: 2, n_banks: 2 },
  },
  'Gemmini Registers': {
    className: 'SRAM',
    attributes: { technology: '32nm', ...GCS, depth: 1, width: 8, entries: 1, datawidth: 8, n_rdwr_ports: 2, n_banks: 1 },
  },
  'Eyeriss shared_glb': {
    className: 'smartbuffer_SRAM',
    attributes: { technology: '32nm', ...GCS, depth: 16384, width: 64, datawidth: 8, n_banks: 32 },
  },
  'Eyeriss ifmap_spad': { className: 'smartbuffer_RF', attributes: { technology: '32nm', ...GCS, depth: 12, width: 16, datawidth: 8 } },
  'Eyeriss weights_spad': { className: 'smartbuffer_RF', attributes: { technology: '32nm', ...GCS, depth: 192, width: 16, datawidth: 8 } },
  'Eyeriss psum_spad': {
    className: 'smartbuffer_RF',
    attributes: { technology: '32nm', ...GCS, depth: 16, width: 16, update_fifo_depth: 2, datawidth: 16 },
  },
  'Simba GlobalBuffer': {
    className: 'smartbuffer_SRAM',
    attributes: { technology: '45nm', ...GCS, depth: 2048, width: 256, datawidth: 8, n_banks: 4, nports: 2 },
  },
  'Simba PEInputBuffer': { className: 'smartbuffer_RF', attributes: { technology: '45nm', ...GCS, depth: 8192, width: 64, datawidth: 8 } },
  'Simba PEWeightBuffer': {
    className: 'smartbuffer_RF',
    attributes: { technology: '45nm', ...GCS, depth: 4096, width: 64, datawidth: 8, n_banks: 8 },
  },
  'Simba PEAccuBuffer': { className: 'smartbuffer_RF', attributes: { technology: '45nm', ...GCS, depth: 128, width: 24, datawidth: 24 } },
  'Simba PEWeightRegs': {
    className: 'smartbuffer_RF',
    attributes: { technology: '45nm', ...GCS, depth: 1, width: 512, cluster_size: 64, num_ports: 2, datawidth: 8 },
    clusterSize: 64,
  },
  'TPU UnifiedBuffer': {
    className: 'SRAM',
    attributes: { technology: '28nm', ...GCS, entries: 512 * 2 ** 10, depth: 32 * 2 ** 10, width: 128, datawidth: 8, n_rdwr_ports: 2, n_banks: 4 },
  },
  'TPU WeightsFIFO': {
    className: 'SRAM',
    attributes: { technology: '28nm', ...GCS, entries: 4 * 2 ** 16, depth: 2 ** 14, width: 128, datawidth: 8, n_rdwr_ports: 2, n_banks: 4 },
  },
  'TPU Accumulator': {
    className: 'SRAM',
    attributes: { technology: '28nm', ...GCS, entries: 2048 * 2, depth: 2048 * 2, width: 32, datawidth: 32, network_word_bits: 16, n_rdwr_ports: 2, n_banks: 2 },
  },
  'TPU Registers': {
    className: 'SRAM',
    attributes: { technology: '28nm', ...GCS, depth: 2, width: 8, entries: 2, datawidth: 8, n_rdwr_ports: 2, n_banks: 1 },
  },
  'Gemmini MAC': {
    className: 'intmac',
    attributes: { technology: '32nm', ...GCS, multiplier_width: 8, adder_width: 32 },
    macs: { instances: 256, studyTotalAreaUm2: '65474.56' },
  },
  'Eyeriss mac': {
    className: 'intmac',
    attributes: { technology: '32nm', ...GCS, multiplier_width: 8, adder_width: 16 },
    macs: { instances: 168, studyTotalAreaUm2: '32225.76' },
  },
  'Simba mac': {
    className: 'intmac',
    attributes: { technology: '45nm', ...GCS, multiplier_width: 8, adder_width: 16 },
    macs: { instances: 256, studyTotalAreaUm2: '106752.00' },
  },
  'TPU MAC': {
    className: 'intmac',
    attributes: { technology: '28nm', ...GCS, multiplier_width: 8, adder_width: 32 },
    macs: { instances: 65536, studyTotalAreaUm2: '10688485.00' },
  },
  'TPU DRAM / WeightsDRAM': { className: 'DRAM', attributes: { technology: '28nm', ...GCS, type: 'DDR3', width: 64, datawidth: 8 } },
  'Gemmini/Eyeriss/Simba DRAM': { className: 'DRAM', attributes: { technology: '32nm', ...GCS, type: 'LPDDR4', width: 64, datawidth: 8 } },
};

const validation = readCsv(join(referenceDir, 'study_validation.csv'));

test('every study component of study_validation.csv has attributes here, and nothing else', (t) => {
  t.deepEqual(validation.map((r) => r['component']).sort(), Object.keys(STUDY).sort());
  t.is(validation.length, 22);
});

let reproduced = 0;
for (const row of validation) {
  const name = row['component'];
  test(`study_validation.csv: ${name} (${row['class']}, ${row['technology_nm'] || '-'} nm)`, (t) => {
    const c = STUDY[name];
    if (!c) return t.fail(`no attributes for ${name}`);
    t.is(row['class'].split(' ')[0], c.className);
    const e = estimateComponent(c.className, c.attributes, { componentName: name });
    const check = (what: string, got: number, text: string | undefined) => {
      if (text === undefined || text === '') return;
      t.true(roundsTo(got, text), `${name}: ${what} ${got} does not round to the printed ${text}`);
    };
    const vae = Math.max(...e.actions.filter((a) => a.name !== 'leak').map((a) => a.energy)) / (c.clusterSize ?? 1);
    t.is(Number(row['cluster_size']), c.clusterSize ?? 1);
    if (c.className === 'intmac') {
      check('compute (recomputed)', energy(e, 'compute'), row['recomputed_vae_pJ']);
      check('compute (study)', energy(e, 'compute'), row['study_vae_pJ']);
      check('area per MAC (recomputed)', e.areaUm2, row['recomputed_area_um2']);
      // The study's totals are Timeloop's float32 products: 163.093333 × 65536 prints as 10,688,485.00.
      check('total area (study, float32)', Math.fround(e.areaUm2 * c.macs!.instances), c.macs!.studyTotalAreaUm2);
    } else {
      check('read (recomputed)', energy(e, 'read'), row['recomputed_read_pJ']);
      check('write (recomputed)', energy(e, 'write'), row['recomputed_write_pJ']);
      t.is(energy(e, 'update'), energy(e, 'write'));
      check('vector access energy (recomputed)', vae, row['recomputed_vae_pJ']);
      check('vector access energy (study)', vae, row['study_vae_pJ']);
      check('leak per cycle (recomputed)', e.leakPJPerCycle, row['recomputed_leak_pJ_per_cycle']);
      check('leak per cycle (study)', e.leakPJPerCycle, row['study_leak_pJ_per_cycle']);
      check('area (recomputed)', e.areaUm2, row['recomputed_area_um2']);
      // Timeloop keeps areas as float32: 217,363.3689 um² prints as 217,363.38.
      check('area (study, float32)', Math.fround(e.areaUm2), row['study_area_um2']);
    }
    reproduced++;
  });
}

test.after('report', () => {
  if (reproduced > 0) console.log(`study_validation.csv: ${reproduced}/${validation.length} rows reproduced`);
});

test('the study ERT quirks: 6-decimal rounding, n_rdwr_ports ignored, smartbuffer n_banks not passed', (t) => {
  const regs = estimateComponent('SRAM', STUDY['Gemmini Registers'].attributes);
  t.is(energy(regs, 'read'), 0.006491);
  t.is(energy(regs, 'write'), 0.010904);
  const exact = estimateComponent('SRAM', STUDY['Gemmini Registers'].attributes, { round: false });
  t.not(energy(exact, 'read'), 0.006491);
  t.true(Math.abs(energy(exact, 'read') - 0.006491) < 5e-7);
  t.true(regs.notes.some((n) => n.includes('n_rdwr_ports ignored')));
  // With n_rw_ports (the plug-in's own name) the second port counts: row 32,128,32768,2,4.
  const twoPorts = estimateComponent('SRAM', { ...STUDY['Gemmini Scratchpad'].attributes, n_rw_ports: 2 });
  t.true(roundsTo(energy(twoPorts, 'read'), '130.37'));
  t.true(roundsTo(twoPorts.areaUm2, '1958720'));
  // Eyeriss shared_glb: n_banks 32 makes no difference.
  const glb = STUDY['Eyeriss shared_glb'].attributes;
  t.deepEqual(estimateComponent('smartbuffer_SRAM', glb).actions, estimateComponent('smartbuffer_SRAM', { ...glb, n_banks: 1 }).actions);
});

test('worked checks of the reference README §4 (Aladdin scaling)', (t) => {
  const spad = estimateComponent('smartbuffer_RF', STUDY['Eyeriss ifmap_spad'].attributes, { round: false });
  // As the smartbuffer queries it (with datawidth: a query without datawidth would match the PIM table's 32 nm intadder row).
  const adder4 = estimateComponent('intadder', { technology: '32nm', n_bits: 4, precision: 4, datawidth: 4 }, { round: false });
  t.true(relClose(energy(spad, 'read'), 32 * 0.009 * 0.65934028 + 64 * 0.02947 * 0.65934028 + energy(adder4, 'add'), 1e-7));
  t.true(relClose(spad.areaUm2, 32 * 64 * 5.98 * 0.46 + 64 * 71 * 0.46 + 2 * adder4.areaUm2, 1e-12));
  t.true(relClose(adder4.areaUm2, 11.76699, 1e-6));
  t.is(energy(estimateComponent('intmac', STUDY['Simba mac'].attributes), 'compute'), 0.315);
  // The library plug-in ignores attributes that name no column of the entry: any multiplier width costs a 32-bit adder.
  const m4 = estimateComponent('intmac', { ...STUDY['Gemmini MAC'].attributes, multiplier_width: 4 });
  t.is(energy(m4, 'compute'), 0.276923);
  // aladdin_multiplier has width_a/width_b columns: both scale.
  const mult = estimateComponent('aladdin_multiplier', { technology: '45nm', width_a: 8, width_b: 16 }, { round: false });
  t.true(relClose(energy(mult, 'multiply'), 12.68 * (8 / 32) * (16 / 32), 1e-12));
  t.true(relClose(energy(mult, 'leak'), 0.08 * 1.2 * (8 / 32) * (16 / 32), 1e-12));
});

test('library plug-in technology factors equal library_tech_scaling_from_45nm.csv', (t) => {
  const rows = readCsv(join(referenceDir, 'aladdin', 'library_tech_scaling_from_45nm.csv'));
  t.true(rows.length >= 13);
  for (const r of rows) {
    const nm = Number(r['technology_nm']);
    t.true(relClose(technologyEnergyScale(45, nm), Number(r['energy_factor_from_45nm']), 1e-8), `energy ${nm} nm`);
    t.true(relClose(technologyAreaScale(45, nm), Number(r['area_factor_from_45nm']), 1e-8), `area ${nm} nm`);
  }
});

// ---------------------------------------------------------------------------
// CACTI grid, off-grid points, monotonicity

test('every row of sram_cacti.csv (9,078) is reproduced from the raw CACTI runs', (t) => {
  const rows = readCsv(join(referenceDir, 'sram_cacti.csv'));
  t.is(rows.length, 9078);
  let worst = 0;
  for (const r of rows) {
    const attrs = {
      technology: `${r['technology_nm']}nm`,
      width: Number(r['width_bits']),
      depth: Number(r['depth']),
      n_rw_ports: Number(r['n_rw_ports']),
      n_banks: Number(r['n_banks']),
      global_cycle_seconds: Number(r['cycle_time_ns']) * 1e-9,
    };
    // The PIM tables off: the grid is CACTI's (their 32 nm SRAM rows would answer for 16 x 128 at 1.2 ns).
    const e = estimateComponent('SRAM', attrs, { round: false, tables: [] });
    const pairs: [number, string][] = [
      [energy(e, 'read'), r['read_pJ']],
      [energy(e, 'write'), r['write_pJ']],
      [energy(e, 'update'), r['update_pJ']],
      [e.leakPJPerCycle, r['leak_pJ_per_cycle']],
      [e.areaUm2, r['area_um2']],
    ];
    for (const [got, text] of pairs) {
      const want = Number(text);
      const err = Math.abs(got - want) / Math.max(Math.abs(want), 1e-30);
      worst = Math.max(worst, err);
      if (err > 1e-7) return t.fail(`${JSON.stringify(attrs)}: ${got} vs ${text}`);
    }
  }
  t.log(`largest relative difference ${worst.toExponential(2)} (the grid prints 9 significant digits)`);
  t.pass();
});

interface RawRun {
  read: number;
  write: number;
  leak: number;
  area: number;
}

const rawRuns = new Map<string, RawRun>();
for (const r of readCsv(join(referenceDir, 'sram_cacti_raw.csv'))) {
  rawRuns.set([r['technology_nm'], r['size_bytes'], r['block_bytes'], r['n_rw_ports'], r['n_banks']].join('/'), {
    read: Number(r['read_nJ']) * 1000,
    write: Number(r['write_nJ']) * 1000,
    leak: Number(r['leak_mW_per_bank']),
    area: Number(r['area_mm2']) * 1e6,
  });
}

/** A raw CACTI run by (node, width bits, depth words, ports, banks). */
function raw(t: number, width: number, depth: number, ports: number, banks: number): RawRun {
  const run = rawRuns.get([t, (width * depth) / 8, width / 8, ports, banks].join('/'));
  if (!run) throw new Error(`no raw run ${t}/${width}/${depth}/${ports}/${banks}`);
  return run;
}

test('off-grid SRAMs that map to a stored CACTI run equal the plug-in rules applied to it', (t) => {
  // 28 nm, width 20 (→ 32, widthscale 0.625), depth 40 (→ 64, depthscale 0.625): 0.4·22 nm + 0.6·32 nm.
  const e = estimateComponent('SRAM', { technology: '28nm', width: 20, depth: 40 }, { round: false });
  const dyn = (0.7 * 0.625 + 0.3) * 0.625 ** 0.78;
  const mix = (f: (r: RawRun) => number) => 0.4 * f(raw(22, 32, 64, 1, 1)) + 0.6 * f(raw(32, 32, 64, 1, 1));
  t.true(relClose(energy(e, 'read'), mix((r) => r.read) * dyn, 1e-12));
  t.true(relClose(energy(e, 'write'), mix((r) => r.write) * dyn, 1e-12));
  t.true(relClose(e.leakPJPerCycle, mix((r) => r.leak) * 0.625 * 0.625 * 1.2, 1e-12));
  t.true(relClose(e.areaUm2, mix((r) => r.area) * 0.625 * 0.625, 1e-12));
  t.true(e.sources.includes('CACTI 7 (stored runs)'));
  // 3 banks run as 4 banks (CACTI needs a power of two); leakage still × 3 banks.
  const b3 = estimateComponent('SRAM', { technology: '45nm', width: 24, depth: 1024, n_banks: 3, global_cycle_seconds: 1e-9 }, { round: false });
  const r45 = raw(45, 32, 1024, 1, 4);
  t.true(relClose(energy(b3, 'read'), r45.read * (0.7 * 0.75 + 0.3), 1e-12));
  t.true(relClose(b3.leakPJPerCycle, r45.leak * 3 * 0.75 * 1.0, 1e-12));
  t.true(relClose(b3.areaUm2, r45.area * 0.75, 1e-12));
  // With 3 banks the plug-in raises a small depth to 64 x 3 = 192 words, a 4-bank run the data does not have.
  t.throws(() => estimateComponent('SRAM', { technology: '45nm', width: 24, depth: 3, n_banks: 3 }), {
    instanceOf: UserError,
    message: /attribute 'depth': .*scaled depth 192 words is outside the CACTI runs for width 32, 4 bank\(s\)/,
  });
  // The 24 MiB TPU UnifiedBuffer of HEAD (README §7): 315.87 pJ read, 298.63 write.
  const ub = estimateComponent('SRAM', { technology: '28nm', width: 128, depth: 24 * 2 ** 16, n_banks: 4 });
  t.true(roundsTo(energy(ub, 'read'), '315.87'));
  t.true(roundsTo(energy(ub, 'write'), '298.63'));
});

/** Log-log interpolation between two raw runs, written out independently of the implementation. */
function geo(x: number, x0: number, x1: number, a: RawRun, b: RawRun): RawRun {
  const p = Math.log(x / x0) / Math.log(x1 / x0);
  const g = (u: number, v: number) => u ** (1 - p) * v ** p;
  return { read: g(a.read, b.read), write: g(a.write, b.write), leak: g(a.leak, b.leak), area: g(a.area, b.area) };
}

test('SRAMs between stored runs are the log-log interpolation of the runs around them', (t) => {
  // Depth 3000 at width 128, 32 nm: between the 2048 and 4096 runs.
  const d = estimateComponent('SRAM', { technology: '32nm', width: 128, depth: 3000 }, { round: false });
  const wantD = geo(3000, 2048, 4096, raw(32, 128, 2048, 1, 1), raw(32, 128, 4096, 1, 1));
  t.true(relClose(energy(d, 'read'), wantD.read, 1e-12));
  t.true(relClose(energy(d, 'write'), wantD.write, 1e-12));
  t.true(relClose(d.leakPJPerCycle, wantD.leak * 1.2, 1e-12));
  t.true(relClose(d.areaUm2, wantD.area, 1e-12));
  t.true(d.sources.includes('CACTI 7 (interpolated between stored runs)'));
  t.true(d.notes.some((n) => n.includes('interpolated')));
  // Width 48 at depth 1024, 45 nm: between the 32- and 64-bit runs.
  const w = estimateComponent('SRAM', { technology: '45nm', width: 48, depth: 1024, n_banks: 2 }, { round: false });
  const wantW = geo(48, 32, 64, raw(45, 32, 1024, 1, 2), raw(45, 64, 1024, 1, 2));
  t.true(relClose(energy(w, 'read'), wantW.read, 1e-12));
  t.true(relClose(w.areaUm2, wantW.area, 1e-12));
  t.true(relClose(w.leakPJPerCycle, wantW.leak * 2 * 1.2, 1e-12));
  // Both off-grid at 40 nm: width 40, depth 100, interpolated at 32 and 45 nm, then 5:8 in nm.
  const both = estimateComponent('SRAM', { technology: '40nm', width: 40, depth: 100 }, { round: false });
  const at = (n: number) => {
    const lo = geo(100, 64, 128, raw(n, 32, 64, 1, 1), raw(n, 32, 128, 1, 1));
    const hi = geo(100, 64, 128, raw(n, 64, 64, 1, 1), raw(n, 64, 128, 1, 1));
    return geo(40, 32, 64, lo, hi);
  };
  const a32 = at(32);
  const a45 = at(45);
  t.true(relClose(energy(both, 'read'), (5 * a32.read + 8 * a45.read) / 13, 1e-12));
  t.true(relClose(both.areaUm2, (5 * a32.area + 8 * a45.area) / 13, 1e-12));
});

test('interpolation error on the real off-grid CACTI runs (depth 192) and leave-one-out', (t) => {
  const r = measureInterpolationError();
  t.is(r.depth192.read.count, 80);
  // Measured (npx tsx src/arch/energy/interpolation-error.ts): medians 1.3/1.4/2.3/1.7 %, max 28.5/18.2/21.8/34.9 %.
  for (const q of ['read', 'write', 'leakage', 'area'] as const) {
    t.true(r.depth192[q].median < 0.03, `${q} median ${r.depth192[q].median}`);
    t.true(r.depth192[q].max < 0.36, `${q} max ${r.depth192[q].max}`);
    t.true(r.depthLeaveOneOut[q].median < 0.08, `${q} depth leave-one-out median ${r.depthLeaveOneOut[q].median}`);
    t.true(r.widthLeaveOneOut[q].median < 0.08, `${q} width leave-one-out median ${r.widthLeaveOneOut[q].median}`);
  }
  t.log(
    `depth 192: read median ${(100 * r.depth192.read.median).toFixed(1)} %, max ${(100 * r.depth192.read.max).toFixed(1)} %; ` +
      `area median ${(100 * r.depth192.area.median).toFixed(1)} %, max ${(100 * r.depth192.area.max).toFixed(1)} %`,
  );
});

test('bigger SRAMs cost more: energy, leakage and area grow with depth and width (on and off the grid)', (t) => {
  // (Not 192: the stored 192-word runs are a different CACTI organisation, whose write energy can exceed the 256-word run's.)
  const depths = [64, 100, 128, 256, 400, 512, 1000, 1024, 2048, 3000, 4096, 8192, 10000, 16384, 32768, 50000, 65536];
  for (const technology of ['22nm', '28nm', '32nm', '40nm', '45nm', '65nm']) {
    for (const [width, banks] of [
      [64, 1],
      [128, 4],
    ] as const) {
      let prev: ComponentEstimate | undefined;
      for (const depth of depths.filter((d) => d >= 64 * banks)) {
        const e = estimateComponent('SRAM', { technology, width, depth, n_banks: banks }, { round: false });
        if (prev) {
          const where = `${technology} ${width}x${depth} (${banks} banks)`;
          t.true(energy(e, 'write') >= energy(prev, 'write'), `write ${where}`);
          t.true(energy(e, 'read') >= energy(prev, 'read') * 0.97, `read ${where}`);
          t.true(e.leakPJPerCycle >= prev.leakPJPerCycle, `leak ${where}`);
          t.true(e.areaUm2 >= prev.areaUm2, `area ${where}`);
        }
        prev = e;
      }
    }
    let prev: ComponentEstimate | undefined;
    for (const width of [8, 16, 32, 40, 48, 64, 96, 128, 200, 256, 384, 512]) {
      const e = estimateComponent('SRAM', { technology, width, depth: 4096 }, { round: false });
      if (prev) {
        t.true(energy(e, 'read') > energy(prev, 'read'), `read ${technology} width ${width}`);
        t.true(energy(e, 'write') > energy(prev, 'write'), `write ${technology} width ${width}`);
        t.true(e.areaUm2 > prev.areaUm2, `area ${technology} width ${width}`);
      }
      prev = e;
    }
  }
  // And over the whole grid, step by step in depth: write, leakage and area never fall.
  const rows = readCsv(join(referenceDir, 'sram_cacti.csv'));
  const series = new Map<string, Row[]>();
  for (const r of rows) {
    if (Number(r['depth']) < 64 * Number(r['n_banks']) || r['depth'] === '192' || Number(r['depth']) > 65536) continue;
    const k = [r['technology_nm'], r['width_bits'], r['n_rw_ports'], r['n_banks']].join('/');
    series.set(k, [...(series.get(k) ?? []), r]);
  }
  let steps = 0;
  for (const [k, list] of series) {
    list.sort((a, b) => Number(a['depth']) - Number(b['depth']));
    for (let i = 1; i < list.length; i++) {
      const attrs = (r: Row) => ({ technology: `${r['technology_nm']}nm`, width: Number(r['width_bits']), depth: Number(r['depth']), n_rw_ports: Number(r['n_rw_ports']), n_banks: Number(r['n_banks']) });
      const a = estimateComponent('SRAM', attrs(list[i - 1]), { round: false, tables: [] });
      const b = estimateComponent('SRAM', attrs(list[i]), { round: false, tables: [] });
      t.true(energy(b, 'write') >= energy(a, 'write') && b.leakPJPerCycle >= a.leakPJPerCycle && b.areaUm2 >= a.areaUm2, `${k} depth ${list[i]['depth']}`);
      steps++;
    }
  }
  t.true(steps > 2000);
});

// ---------------------------------------------------------------------------
// intadder (NeuroSim)

test('every row of intadder_neurosim.csv; other nodes interpolate between native NeuroSim nodes', (t) => {
  const rows = readCsv(join(referenceDir, 'intadder_neurosim.csv'));
  t.is(rows.length, 192);
  for (const r of rows) {
    const e = estimateComponent('intadder', { technology: Number(r['technology_nm']), n_bits: Number(r['n_bits']) }, { round: false });
    t.true(relClose(energy(e, 'add'), Number(r['add_pJ']), 1e-9), `add ${r['technology_nm']} nm ${r['n_bits']} bits`);
    t.is(energy(e, 'write'), 0);
    t.true(relClose(e.leakPJPerCycle, Number(r['leak_pJ_per_cycle']), 1e-9));
    t.true(relClose(e.areaUm2, Number(r['area_um2']), 1e-9));
  }
  const at = (nm: number, bits: number) => rows.find((r) => Number(r['technology_nm']) === nm && Number(r['n_bits']) === bits)!;
  const e30 = estimateComponent('intadder', { technology: '30nm', n_bits: 14, global_cycle_seconds: 1e-9 }, { round: false, tables: [] });
  t.true(relClose(energy(e30, 'add'), 0.2 * Number(at(22, 14)['add_pJ']) + 0.8 * Number(at(32, 14)['add_pJ']), 1e-9));
  t.true(relClose(e30.leakPJPerCycle, ((0.2 * Number(at(22, 14)['leak_pJ_per_cycle']) + 0.8 * Number(at(32, 14)['leak_pJ_per_cycle'])) * 1) / 1.2, 1e-9));
  // 14 bits at 32 nm, 1 ns: the 2024-05 Accelergy logs print 0.02842901 pJ, 41.18446 um², leak 3.124068e-6 pJ.
  const e32 = estimateComponent('intadder', { technology: '32nm', n_bits: 14, global_cycle_seconds: 1e-9 }, { round: false, tables: [] });
  t.true(relClose(energy(e32, 'add'), 0.02842901, 1e-6));
  t.true(relClose(e32.areaUm2, 41.18446, 1e-6));
  t.true(relClose(e32.leakPJPerCycle, 3.124068e-6, 1e-6));
});

// ---------------------------------------------------------------------------
// PIM (study-facts §5.1)

const PIM = { technology: '32nm', latency: '1ns', global_cycle_seconds: 1.2e-9 };

test('PIM: D2A and A2D conversion energy per transfer, cell compute and storage, from the study tables', (t) => {
  const d2a = estimateComponent('DAC_SimpleMulticast', { ...PIM, datawidth: 16, DAC_datawidth: 1, n_DAC_cycles: 16, n_PE_cols: 16, n_PE_rows: 16 });
  const transfers = d2a.actions.filter((a) => a.name === 'transfer_Inputs');
  t.deepEqual(
    transfers.map((a) => a.arguments?.['num_destinations']),
    Array.from({ length: 16 }, (_, i) => i + 1),
  );
  for (const a of transfers) t.is(a.energy, 6.7584); // 16 columns × 8 DACs × 16 cycles × 0.0033 pJ
  t.is(d2a.areaUm2, 169.984); // 1024 DACs (8 arrays × meshY 128) × 0.166 um²

  const a2d = estimateComponent('ADC_SimpleMulticast', { ...PIM, datawidth: 16, ADC_datawidth: 8, cell_datawidth: 2, n_DAC_cycles: 16, n_PE_cols: 128 });
  t.deepEqual(a2d.actions, [{ name: 'transfer_Outputs', arguments: { num_destinations: 1 }, energy: 223.207441 }]);
  const exact = estimateComponent('ADC_SimpleMulticast', { ...PIM, n_PE_cols: 128 }, { round: false });
  // 8 S&H × 16 × 8.13e-6 + 128 × 1.66 (ADC) + 128 × 0.0418 (shift-add) + 14 × (0.192 + 0.192) (output buffer)
  t.true(relClose(energy(exact, 'transfer_Outputs'), 8 * 16 * 8.13e-6 + 128 * 1.66 + 128 * 0.0418 + 14 * 0.384, 1e-12));
  t.is(a2d.areaUm2, 64 * 0.0390625 + 1200 + 60 + 770);
  t.true(a2d.sources.includes('PIM table 32nm_tables'));

  const mac = estimateComponent('memcell_compute', { ...PIM, datawidth: 16 });
  t.deepEqual(mac.actions, [{ name: 'compute', energy: 0.23424 }]);
  t.is(mac.areaUm2, 0.012207); // 8 cells × 0.001525879
  const cell = estimateComponent('memcell_storage', { ...PIM, width: 16, depth: 1, datawidth: 16 });
  t.deepEqual(
    cell.actions.map((a) => [a.name, a.energy]),
    [
      ['read', 0.0066],
      ['write', 0.0033],
      ['update', 0.0033],
      ['leak', 0],
    ],
  );
  const dummy = estimateComponent('dummy_storage', { ...PIM, depth: 0, width: 16, datawidth: 8 });
  t.true(dummy.actions.every((a) => a.energy === 0));
  t.is(dummy.areaUm2, 0);
});

test('PIM tables take precedence only where a row matches', (t) => {
  // The digital accumulator's output buffer (16 × 128, 32 nm, 1 ns) comes from the table…
  const buffer = { technology: '32nm', latency: '1ns', width: 16, depth: 128, datawidth: 16 };
  t.is(energy(estimateComponent('SRAM', buffer), 'read'), 0.192);
  t.is(estimateComponent('SRAM', buffer).areaUm2, 770);
  // …and from CACTI with the tables off, or when the cycle time differs from the table's 1.2e-09.
  const cacti = estimateComponent('SRAM', buffer, { tables: [] });
  t.not(energy(cacti, 'read'), 0.192);
  t.deepEqual(estimateComponent('SRAM', { ...buffer, global_cycle_seconds: 1e-9 }).actions.slice(0, 3), estimateComponent('SRAM', { ...buffer, global_cycle_seconds: 1e-9 }, { tables: [] }).actions.slice(0, 3));
  // The PIM DRAM table has width 256 only: the PIM architecture's width-64 DRAM gets CACTI's 512 pJ.
  t.is(energy(estimateComponent('DRAM', { technology: '32nm', type: 'LPDDR4', width: 64 }), 'read'), 512);
  t.is(energy(estimateComponent('DRAM', { technology: '32nm', width: 256 }), 'read'), 58.1);
  // A 16-bit address generator at 32 nm matches the table's intadder row (0.5 pJ) while the tables are on.
  t.is(energy(estimateComponent('intadder', { technology: '32nm', n_bits: 16, datawidth: 16 }), 'add'), 0.5);
  t.not(energy(estimateComponent('intadder', { technology: '32nm', n_bits: 16, datawidth: 16 }, { tables: [] }), 'add'), 0.5);
});

// ---------------------------------------------------------------------------
// Whole architectures: the ERTs of the study's golden cases

function goldenInput(id: string) {
  const file = join(goldenDir, id, 'input.yaml');
  const input = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
  if (!input.architecture || !input.ert) throw new Error(`${id}: no architecture or ERT`);
  return { architecture: input.architecture, ert: input.ert };
}

/** Every non-leak action of `want` is in `got` with the same energy (the golden ERTs zero their leak). */
function sameErt(t: import('ava').ExecutionContext, got: Readonly<Record<string, readonly EnergyAction[]>>, want: Readonly<Record<string, readonly EnergyAction[]>>) {
  t.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
  for (const [name, actions] of Object.entries(want)) {
    for (const a of actions) {
      if (a.name === 'leak') continue;
      const match = got[name].find((g) => g.name === a.name && JSON.stringify(g.arguments ?? {}) === JSON.stringify(a.arguments ?? {}));
      t.truthy(match, `${name}.${a.name} ${JSON.stringify(a.arguments ?? {})} missing`);
      if (match) t.true(Math.abs(match.energy - a.energy) < 1e-6, `${name}.${a.name}: ${match.energy} vs ${a.energy}`);
    }
  }
}

test('architecture: Gemmini (paper-KQV-gemmini-TLD) ERT equals the study ERT', (t) => {
  const { architecture, ert } = goldenInput('paper-KQV-gemmini-TLD');
  // The tree format keeps neither the container technology nor the MAC widths nor n_banks.
  const got = estimateArchitecture(architecture, {
    technology: '32nm',
    attributes: { MAC: { multiplier_width: 8, adder_width: 32 }, Scratchpad: { n_banks: 4 }, Accumulator: { n_banks: 2 } },
  });
  sameErt(t, got.ert.components, ert.components);
  t.is(got.components['Scratchpad'].estimate?.leakPJPerCycle, 0.027407);
  t.is(got.components['MAC'].instances, 256);
  t.is(got.components['Registers'].estimate?.areaUm2, 2.095375);
});

test('architecture: Eyeriss (paper-KQV-eyeriss-TLD) ERT equals the study ERT, with Accelergy classes and overrides', (t) => {
  const { architecture, ert } = goldenInput('paper-KQV-eyeriss-TLD');
  const got = estimateArchitectureEnergy(architecture, {
    technology: '32nm',
    classes: { shared_glb: 'smartbuffer_SRAM', ifmap_spad: 'smartbuffer_RF', weights_spad: 'smartbuffer_RF', psum_spad: 'smartbuffer_RF' },
    attributes: { mac: { multiplier_width: 8, adder_width: 16 } },
    // A zero-cost level the golden case adds for Timeloop's spatial fanout: hand-typed.
    overrides: {
      inter_PE_spatial: ['read', 'write', 'update', 'leak'].map((name) => ({ name, energy: 0 })),
    },
  });
  sameErt(t, got.components, ert.components);
  t.deepEqual(got.components['inter_PE_spatial'].map((a) => a.energy), [0, 0, 0, 0]);
});

test('architecture: the estimated leak equals the leak recovered from the study stats (Gemmini, Eyeriss)', (t) => {
  for (const [id, options] of [
    ['paper-KQV-gemmini-TLD', { technology: '32nm', attributes: { MAC: { multiplier_width: 8, adder_width: 32 }, Scratchpad: { n_banks: 4 }, Accumulator: { n_banks: 2 } } }],
    [
      'paper-KQV-eyeriss-TLD',
      {
        technology: '32nm',
        classes: { shared_glb: 'smartbuffer_SRAM', ifmap_spad: 'smartbuffer_RF', weights_spad: 'smartbuffer_RF', psum_spad: 'smartbuffer_RF' },
        attributes: { mac: { multiplier_width: 8, adder_width: 16 } },
      },
    ],
  ] as const) {
    const { architecture } = goldenInput(id);
    const est = estimateArchitecture(architecture, options);
    const file = join(goldenDir, id, 'study-stats.txt');
    const stats = parseTimeloopStats(readFileSync(file, 'utf8'), file);
    let checked = 0;
    for (const level of stats.storage) {
      const total = findStorageLevel(stats, level.name)?.leakageEnergyTotalPJ ?? 0;
      if (total === 0) continue;
      const utilized = Math.max(...Object.values(level.dataspaces).map((d) => d.utilizedInstances));
      const recovered = total / (stats.summary.cycles * utilized);
      const ours = est.components[level.name].estimate!.leakPJPerCycle;
      t.true(relClose(ours, recovered, 1e-3), `${id} ${level.name}: ${ours} vs recovered ${recovered}`);
      checked++;
    }
    t.true(checked >= 2, `${id}: ${checked} levels with leakage`);
  }
});

test('architecture: PIM (pim-128x128-001) ERT, networks included, equals the study-derived ERT', (t) => {
  const { architecture, ert } = goldenInput('pim-128x128-001');
  const got = estimateArchitecture(architecture, {
    technology: '32nm',
    classes: {
      D2A_NoC: 'DAC_SimpleMulticast',
      A2D_NoC: 'ADC_SimpleMulticast',
      dummy_buffer: 'dummy_storage',
      scratchpad: 'memcell_storage',
      mac: 'memcell_compute',
    },
    attributes: {
      DRAM: { type: 'LPDDR4' },
      shared_glb: { n_rdwr_ports: 2, n_banks: 4 },
      D2A_NoC: { latency: '1ns', DAC_datawidth: 1, n_DAC_cycles: 16, n_PE_cols: 16, n_PE_rows: 16 },
      A2D_NoC: { latency: '1ns', ADC_datawidth: 8, cell_datawidth: 2, n_DAC_cycles: 16, n_PE_cols: 128, n_PE_rows: 128 },
    },
  });
  // The golden case *assumes* the Gemmini Scratchpad's energies for shared_glb (its README says so);
  // the study's shared_glb is 128 x 16384 with 4 banks, i.e. the grid row (32, 128, 16384, 1, 4).
  const { shared_glb: glbWant, ...restWant } = ert.components;
  const { shared_glb: glbGot, ...restGot } = got.ert.components;
  sameErt(t, restGot, restWant);
  t.is(glbWant.find((a) => a.name === 'read')?.energy, 57.039);
  const gridRow = readCsv(join(referenceDir, 'sram_cacti.csv')).find(
    (r) => r['technology_nm'] === '32' && r['width_bits'] === '128' && r['depth'] === '16384' && r['n_rw_ports'] === '1' && r['n_banks'] === '4',
  )!;
  t.true(roundsTo(glbGot.find((a) => a.name === 'read')!.energy, Number(gridRow['read_pJ']).toFixed(6)));
  t.deepEqual(got.skipped, []);
  t.is(got.components['mac'].instances, 128 * 128);
});

test('architecture: overrides replace estimated actions, stand in for unsupported classes, and unknown names are errors', (t) => {
  const { architecture } = goldenInput('paper-KQV-gemmini-TLD');
  const base = { technology: '32nm', attributes: { MAC: { multiplier_width: 8, adder_width: 32 } } };
  const got = estimateArchitectureEnergy(architecture, { ...base, overrides: { Registers: [{ name: 'read', energy: 0 }, { name: 'custom', energy: 1 }] } });
  t.deepEqual(
    got.components['Registers'].map((a) => [a.name, a.energy]),
    [
      ['read', 0],
      ['write', 0.010904],
      ['update', 0.010904],
      ['leak', 0],
      ['custom', 1],
    ],
  );
  const mystery = { ...architecture, arithmetic: { ...architecture.arithmetic, className: 'my_mac' } };
  t.throws(() => estimateArchitectureEnergy(mystery, base), { instanceOf: UserError, message: /component 'MAC': class 'my_mac' has no estimator; name its Accelergy class in options.classes/ });
  const withOverride = estimateArchitectureEnergy(mystery, { ...base, overrides: { MAC: [{ name: 'compute', energy: 0.5 }] } });
  t.deepEqual(withOverride.components['MAC'], [{ name: 'compute', energy: 0.5 }]);
  t.throws(() => estimateArchitectureEnergy(architecture, { ...base, overrides: { Nope: [] } }), { instanceOf: UserError, message: /no component named 'Nope'/ });
  t.throws(() => estimateArchitectureEnergy(architecture, { attributes: base.attributes }), {
    instanceOf: UserError,
    message: /component 'DRAM'|component 'Scratchpad' \(class SRAM\): attribute 'technology': is required/,
  });
});

// ---------------------------------------------------------------------------
// Errors

test('errors name the component, the class and the attribute', (t) => {
  const err = (cls: string, attrs: Record<string, unknown>, pattern: RegExp, options = {}) =>
    t.throws(() => estimateComponent(cls, attrs, { componentName: 'buf', ...options }), { instanceOf: UserError, message: pattern });
  err('SRAM', { technology: '32nm', width: 128, depth: 200000 }, /component 'buf' \(class SRAM\): attribute 'depth': .*200000.*outside the CACTI runs/);
  err('SRAM', { technology: '32nm', width: 1024, depth: 1024 }, /attribute 'width': 1024 bits is outside the CACTI data/);
  err('SRAM', { technology: '16nm', width: 64, depth: 1024 }, /attribute 'technology': 16 nm is outside the CACTI data \(22…65 nm\)/);
  err('SRAM', { technology: '32nm', width: 64, depth: 1024, n_rw_ports: 4 }, /attribute 'n_rw_ports': 4 is outside/);
  err('SRAM', { technology: '32nm', width: 64, depth: 1024, n_banks: 64 }, /attribute 'n_banks': 64 is outside/);
  err('SRAM', { technology: '32nm', depth: 1024 }, /attribute 'width': is required/);
  err('SRAM', { width: 64, depth: 1024 }, /attribute 'technology': is required/);
  err('SRAM', { technology: 'fast', width: 64, depth: 1024 }, /attribute 'technology': expected a CMOS node/);
  err('SRAM', { technology: '32nm', width: 64.5, depth: 1024 }, /attribute 'width': must be a whole number/);
  err('DRAM', { width: 64, type: 'DDR5' }, /attribute 'type': DRAM type "DDR5" is not supported/);
  err('intadder', { technology: '32nm', n_bits: 40 }, /attribute 'n_bits': 40 is outside the NeuroSim intadder data/);
  err('aladdin_adder', { technology: '5nm' }, /attribute 'technology': 5 nm is outside the library plug-in's scaling tables/);
  err('intmac', { technology: '32nm', adder_width: 16 }, /class intmac\): attribute 'multiplier_width': is required/);
  err('smartbuffer_RF', { technology: '16nm', width: 16, depth: 12 }, /class smartbuffer_RF > regfile > aladdin_register\)|attribute 'technology'/);
  err('smartbuffer_SRAM', { technology: '32nm', width: 64, depth: 100000 }, /\(class smartbuffer_SRAM > SRAM\): attribute 'depth'/);
  err('fancy_buffer', { technology: '32nm' }, /class 'fancy_buffer' is not supported \(supported: .*smartbuffer_RF/);
  err('ADC', { technology: '45nm', datawidth: 8, type: 'SAR' }, /no row of the PIM table ADC\.csv matches/);
  err('DAC_SimpleMulticast', { technology: '32nm', datawidth: 16 }, /attribute 'n_PE_cols': is required/);
  err('memcell_compute', { technology: '32nm' }, /estimated only from the PIM tables, which are disabled/, { tables: [] });
  t.throws(() => estimateComponent('SRAM', { technology: '32nm', width: 64, depth: 64 }, { globalCycleSeconds: 0 }), { instanceOf: UserError });
});

test('leakage follows global_cycle_seconds; energy and area do not', (t) => {
  const at = (gcs: number) => estimateComponent('smartbuffer_SRAM', { technology: '45nm', width: 256, depth: 2048, global_cycle_seconds: gcs }, { round: false });
  const a = at(1.2e-9);
  const b = at(2.4e-9);
  t.true(relClose(b.leakPJPerCycle, 2 * a.leakPJPerCycle, 1e-12));
  t.is(energy(b, 'read'), energy(a, 'read'));
  t.is(b.areaUm2, a.areaUm2);
  const viaOption = estimateComponent('smartbuffer_SRAM', { technology: '45nm', width: 256, depth: 2048 }, { round: false, globalCycleSeconds: 2.4e-9 });
  t.is(viaOption.leakPJPerCycle, b.leakPJPerCycle);
});
