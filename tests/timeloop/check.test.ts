/**
 * The fidelity comparison (src/timeloop/fidelity.ts) and `expt check`: with
 * a fake timeloop-model that plays back a golden stats.txt (runs in CI), and
 * with the real one on the study's paper cases and on the study's
 * architectures written as timeloopfe v0.4 (skipped visibly without it).
 */
import test from 'ava';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { evaluateMapping, prepareModel } from '../../src/model/evaluate.ts';
import type { Evaluation } from '../../src/model/result.ts';
import { compareEvaluations } from '../../src/timeloop/fidelity.ts';
import { renderFidelityRows, renderFidelitySummary, renderFidelityTotal } from '../../src/report/fidelity.ts';
import { statsToEvaluation } from '../../src/timeloop/external.ts';
import { parseTimeloopStats } from '../../src/timeloop/stats-parser.ts';
import { importTimeloopDocuments } from '../../src/timeloop/tree-import.ts';
import { readYamlFile } from '../../src/util/yaml.ts';
import { goldenCases } from '../helpers/golden.ts';
import { findTimeloopModel } from '../helpers/oracle-fuzz.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'tests', 'fixtures', 'timeloopfe');
const GOLDEN = join(ROOT, 'tests', 'fixtures', 'golden');

function both(id: string): { expt: Evaluation; timeloop: Evaluation } {
  const file = join(GOLDEN, id, 'input.yaml');
  const i = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
  const r = evaluateMapping(prepareModel(i.problem!, i.architecture!, i.ert!), i.mapping!);
  if (!r.ok) throw new Error(r.error.reason);
  return { expt: r.value, timeloop: statsToEvaluation(parseTimeloopStats(readFileSync(join(GOLDEN, id, 'stats.txt'), 'utf8')), i.architecture!) };
}

test('the same mapping in both engines: every row equal, ratios 1 to print precision', (t) => {
  for (const c of goldenCases()) {
    const { expt, timeloop } = both(c.id);
    const r = compareEvaluations(expt, timeloop);
    t.true(r.countsEqual, `${c.id}: ${r.rows.flatMap((x) => x.differences).join('; ')}`);
    t.true(r.rows.every((x) => x.energyWithinPrint), c.id);
    t.is(r.cyclesRatio, 1);
    // Timeloop prints each energy with 2 decimals.
    t.true(Math.abs(r.energyExpt - r.energyTimeloop) <= 0.005 * r.rows.length, `${c.id}: ${r.energyExpt} vs ${r.energyTimeloop}`);
  }
});

test('differences are named per level and dataspace', (t) => {
  const { expt, timeloop } = both('gemm-001');
  const changed: Evaluation = structuredClone(expt);
  changed.storage[1].dataspaces['Weights'].fills += 6;
  changed.storage[1].dataspaces['Weights'].energy_pJ *= 1.5;
  changed.storage[2].cycles += 10;
  changed.summary.cycles += 10;
  changed.summary.leakage_energy_pJ = 100;
  changed.summary.energy_pJ += 100;
  const r = compareEvaluations(changed, timeloop);
  t.false(r.countsEqual);
  t.is(r.differences, 3);
  const w = r.rows.find((x) => x.level === 'GLB' && x.dataspace === 'Weights')!;
  t.deepEqual(w.differences, ['fills: expt 48, Timeloop 42']);
  t.false(w.energyWithinPrint);
  t.true(Math.abs(w.energyRatio - 1.5) < 1e-4);
  const rf = r.rows.find((x) => x.level === 'RF' && x.dataspace === '-')!;
  t.deepEqual(rf.differences, ['cycles: expt 59, Timeloop 49']);
  t.is(rf.cyclesRatio, 59 / 49);
  t.regex(renderFidelityRows(r), /GLB\s+Weights\s+DIFFER\s+1\.5\d+\s+no\s+fills: expt 48, Timeloop 42/);
  t.regex(renderFidelityTotal(r), /^total: counts DIFFER \(3\); .*leakage: expt 100\.00 pJ, Timeloop 0\.00 pJ/);
  t.regex(renderFidelitySummary([{ name: 'gemm-001', report: r }, { name: 'x', report: null, error: 'Timeloop: ERROR' }]), /gemm-001\s+NO \(3\)[\s\S]*x\s+-\s+-\s+-\s+-\s+Timeloop: ERROR/);
});

function fakeTimeloop(statsFrom: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fake-timeloop-'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'stats.txt'), readFileSync(join(GOLDEN, statsFrom, 'stats.txt')));
  writeFileSync(join(dir, 'bin', 'timeloop-model'), '#!/bin/bash\ncp "$(dirname "$0")/../stats.txt" timeloop-model.stats.txt\n');
  chmodSync(join(dir, 'bin', 'timeloop-model'), 0o755);
  return join(dir, 'bin');
}

function expt(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'expt.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 600_000, env: { ...process.env, EXPT_TIMELOOP_MODEL: 'none' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('expt check with a fake timeloop-model: identical counts exit 0, differences exit 3, no Timeloop exit 2', (t) => {
  const same = fakeTimeloop('gemm-001');
  const other = fakeTimeloop('gemm-003');
  try {
    const a = expt('check', join(GOLDEN, 'gemm-001', 'input.yaml'), '--timeloop-bin', same);
    t.is(a.code, 0, a.stderr);
    t.regex(a.stdout, /^Fidelity of expt against timeloop-model@sha256:[0-9a-f]{12}/);
    t.regex(a.stdout, /GLB\s+Weights\s+equal\s+1\.0000\d\d\s+yes/);
    t.regex(a.stdout, /1 of 1 task with identical counts and cycles/);
    const b = expt('check', join(GOLDEN, 'gemm-001', 'input.yaml'), '--timeloop-bin', other, '--json');
    t.is(b.code, 3, b.stderr);
    const j = JSON.parse(b.stdout) as { format: string; tasks: { report: { countsEqual: boolean } | null; error: string | null }[] };
    t.is(j.format, 'expt-check-v1');
    t.is(j.tasks.length, 1);
    t.false(j.tasks[0].report?.countsEqual ?? true);
    const c = expt('check', join(GOLDEN, 'gemm-001', 'input.yaml'));
    t.is(c.code, 2);
    t.regex(c.stderr, /timeloop-model not found .*embedded engine/);
  } finally {
    rmSync(join(same, '..'), { recursive: true, force: true });
    rmSync(join(other, '..'), { recursive: true, force: true });
  }
});

const bin = findTimeloopModel();
if (!bin) {
  test.skip('timeloop-model not installed: expt check against the real Timeloop (paper cases, study architectures) skipped', () => {});
} else {
  test('expt check on the study\'s paper cases: identical counts for every task', (t) => {
    const files = goldenCases()
      .filter((c) => c.id.startsWith('paper-'))
      .map((c) => join(c.dir, 'input.yaml'));
    t.is(files.length, 8);
    const r = expt('check', '--brief', '--timeloop-bin', bin, ...files);
    t.is(r.code, 0, r.stdout + r.stderr);
    t.regex(r.stdout, /8 of 8 tasks with identical counts and cycles/);
  });

  test('expt check on the study\'s architectures as timeloopfe v0.4, mapped by expt (BERT-large KQV)', (t) => {
    const problem = join(mkdtempSync(join(tmpdir(), 'expt-check-')), 'kqv.yaml');
    writeFileSync(
      problem,
      [
        'problem:',
        '  shape:',
        '    name: gemm',
        '    dimensions: [D, E, L]',
        '    data_spaces:',
        '      - {name: Weights, projection: [[[D]], [[E]]]}',
        '      - {name: Inputs, projection: [[[E]], [[L]]]}',
        '      - {name: Outputs, projection: [[[D]], [[L]]], read_write: true}',
        '  instance: {D: 3072, E: 1024, L: 4096}',
        '',
      ].join('\n'),
    );
    try {
      for (const files of [['gemmini.yaml', 'gemmini-constraints.yaml'], ['eyeriss.yaml'], ['simba.yaml'], ['tpu.yaml']]) {
        const r = expt('check', '--merge', '--brief', '--budget', '2s', '--timeloop-bin', bin, join(FIX, 'variables.yaml'), ...files.map((f) => join(FIX, f)), problem);
        t.is(r.code, 0, `${files[0]}: ${r.stdout}${r.stderr}`);
        t.regex(r.stdout, /1 of 1 task with identical counts and cycles/, files[0]);
      }
      // timeloop-mapper maps it instead; TPU is the case whose stats.txt prints no DRAM loop nest (read from map.yaml).
      const mapperFile = join(problem, '..', 'mapper.yaml');
      writeFileSync(mapperFile, 'mapper: {version: 0.4, optimization_metrics: [edp], num_threads: 2, timeout: 1000, victory_condition: 100}\n');
      const r = expt('check', '--merge', '--brief', '--mapper', 'timeloop', '--budget', '60s', '--timeloop-bin', bin, join(FIX, 'variables.yaml'), join(FIX, 'tpu.yaml'), mapperFile, problem);
      t.is(r.code, 0, r.stdout + r.stderr);
      t.regex(r.stdout, /1 of 1 task with identical counts and cycles/);
    } finally {
      rmSync(join(problem, '..'), { recursive: true, force: true });
    }
  });
}
