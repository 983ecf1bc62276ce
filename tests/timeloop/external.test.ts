/**
 * The external engine (src/timeloop/external.ts). Without Timeloop: a fake
 * `timeloop-model` (a shell script that plays back a golden stats.txt)
 * exercises the zx runner (private folders, time limit, logs, errors, engine
 * id), and the golden stats.txt files (real Timeloop output) check the
 * stats → Evaluation and stats → Mapping readers against the embedded
 * engine. With Timeloop installed: the real programs, including a
 * timeloop-mapper run on the study's Gemmini written as timeloopfe v0.4.
 */
import test from 'ava';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { evaluateMapping, prepareModel } from '../../src/model/evaluate.ts';
import {
  engineId,
  evaluateWithTimeloop,
  findTimeloop,
  mappingFromStats,
  requireTimeloop,
  runTimeloopMapper,
  runTimeloopModel,
  statsToEvaluation,
} from '../../src/timeloop/external.ts';
import { parseTimeloopStats } from '../../src/timeloop/stats-parser.ts';
import { importTimeloopDocuments } from '../../src/timeloop/tree-import.ts';
import { readV4Files } from '../../src/timeloop/v4-import.ts';
import { readYamlFile } from '../../src/util/yaml.ts';
import { UserError } from '../../src/util/errors.ts';
import { goldenCases } from '../helpers/golden.ts';
import { findTimeloopModel } from '../helpers/oracle-fuzz.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'tests', 'fixtures', 'timeloopfe');
const GOLDEN = join(ROOT, 'tests', 'fixtures', 'golden');

function golden(id: string) {
  const file = join(GOLDEN, id, 'input.yaml');
  const i = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
  return { architecture: i.architecture!, problem: i.problem!, mapping: i.mapping!, ert: i.ert! };
}

/** A folder with a fake `timeloop-model` running `script` (bash), and a copy of it as `timeloop-mapper`. */
function fakeTimeloop(script: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fake-timeloop-'));
  mkdirSync(join(dir, 'bin'));
  for (const p of ['timeloop-model', 'timeloop-mapper']) {
    writeFileSync(join(dir, 'bin', p), `#!/bin/bash\n${script}\n`);
    chmodSync(join(dir, 'bin', p), 0o755);
  }
  return join(dir, 'bin');
}

test('a missing Timeloop is a UserError that says how to install it or to use the embedded engine', (t) => {
  const e = t.throws(() => requireTimeloop('/nonexistent/timeloop/bin'), { instanceOf: UserError });
  t.regex(e!.message, /timeloop-model not found at '\/nonexistent\/timeloop\/bin'/);
  t.regex(e!.message, /install Timeloop/);
  t.regex(e!.message, /embedded engine/);
  t.is(findTimeloop('/nonexistent'), null);
});

test('the fake Timeloop: a private folder per call, v3 input, logs, the stats read back as an Evaluation', async (t) => {
  const bin = fakeTimeloop('cp input.yaml "$(dirname "$0")/../seen-$$.yaml"; cp "$(dirname "$0")/../stats.txt" timeloop-model.stats.txt; echo "fake run in $PWD"; echo warning >&2');
  try {
    writeFileSync(join(bin, '..', 'stats.txt'), readFileSync(join(GOLDEN, 'gemm-001', 'stats.txt')));
    const task = golden('gemm-001');
    const [a, b] = await Promise.all([runTimeloopModel(task, { bin }), runTimeloopModel(task, { bin, keepDir: true })]);
    t.not(a.dir, b.dir);
    t.false(existsSync(a.dir));
    t.true(existsSync(join(b.dir, 'run.stdout')));
    t.regex(a.stdout, /fake run in .*expt-timeloop-model\./);
    t.is(a.stderr.trim(), 'warning');
    t.is(a.error, null);
    t.is(a.exitCode, 0);
    t.false(a.timedOut);
    t.deepEqual(a.evaluation, statsToEvaluation(parseTimeloopStats(readFileSync(join(GOLDEN, 'gemm-001', 'stats.txt'), 'utf8')), task.architecture));
    t.regex(a.engineId, /^timeloop-model@sha256:[0-9a-f]{12}$/);
    // The program sees the v3 flavour: hyphenated data-spaces / read-write.
    const seen = readFileSync(join(bin, '..', readdir(join(bin, '..')).find((f) => f.startsWith('seen-'))!), 'utf8');
    t.regex(seen, /data-spaces:/);
    t.regex(seen, /read-write: true/);
    rmSync(b.dir, { recursive: true, force: true });
  } finally {
    rmSync(join(bin, '..'), { recursive: true, force: true });
  }
});

function readdir(dir: string): string[] {
  return spawnSync('ls', [dir], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
}

test('the engine id changes with the program', (t) => {
  const a = fakeTimeloop('exit 0');
  const b = fakeTimeloop('exit 1');
  try {
    const ta = findTimeloop(a)!;
    t.is(engineId(ta), engineId(findTimeloop(join(a, 'timeloop-model'))!));
    t.not(engineId(ta), engineId(findTimeloop(b)!));
    t.regex(engineId(ta, 'timeloop-mapper'), /^timeloop-mapper@sha256:/);
  } finally {
    rmSync(join(a, '..'), { recursive: true, force: true });
    rmSync(join(b, '..'), { recursive: true, force: true });
  }
});

test('a time limit stops the program; its errors are reported', async (t) => {
  const slow = fakeTimeloop('sleep 90');
  const failing = fakeTimeloop('echo "ERROR: couldn\'t map level RF: mapped tile size 12 exceeds buffer capacity 4" >&2; exit 1');
  try {
    const task = golden('gemm-001');
    const started = Date.now();
    const a = await runTimeloopModel(task, { bin: slow, timeoutMs: 300 });
    t.true(Date.now() - started < 60_000, 'stopped long before the program would end');
    t.true(a.timedOut);
    t.is(a.evaluation, null);
    t.regex(a.error ?? '', /timed out after 300 ms/);
    const b = await runTimeloopModel(task, { bin: failing });
    t.is(b.exitCode, 1);
    t.regex(b.error ?? '', /couldn't map level RF/);
    await t.throwsAsync(() => evaluateWithTimeloop(task, { bin: failing }), { instanceOf: UserError, message: /timeloop-model failed: .*couldn't map level RF/ });
  } finally {
    rmSync(join(slow, '..'), { recursive: true, force: true });
    rmSync(join(failing, '..'), { recursive: true, force: true });
  }
});

for (const c of goldenCases()) {
  test(`stats.txt → Evaluation and → Mapping agree with the embedded engine: ${c.id}`, (t) => {
    const task = golden(c.id);
    const stats = parseTimeloopStats(readFileSync(join(c.dir, 'stats.txt'), 'utf8'));
    const theirs = statsToEvaluation(stats, task.architecture);
    const ctx = prepareModel(task.problem, task.architecture, task.ert);
    const ours = evaluateMapping(ctx, task.mapping);
    if (!ours.ok) return t.fail(ours.error.reason);
    const counts = (e: typeof theirs) =>
      e.storage.map((l) => [l.name, l.cycles, Object.entries(l.dataspaces).map(([n, d]) => [n, d.partition_size, d.utilized_capacity, d.utilized_instances, d.reads, d.fills, d.updates, d.temporal_reductions, d.address_generations])]);
    t.deepEqual(counts(theirs), counts(ours.value));
    t.deepEqual(
      [theirs.arithmetic.computes, theirs.arithmetic.cycles, theirs.arithmetic.utilized_instances, theirs.summary.cycles, theirs.summary.computes],
      [ours.value.arithmetic.computes, ours.value.arithmetic.cycles, ours.value.arithmetic.utilized_instances, ours.value.summary.cycles, ours.value.summary.computes],
    );
    t.is(theirs.summary.utilization, ours.value.summary.utilization);
    // Each printed energy has 2 decimals.
    const terms = 1 + theirs.storage.reduce((s, l) => s + Object.keys(l.dataspaces).length, 0) + theirs.networks.reduce((s, n) => s + Object.keys(n.dataspaces).length, 0);
    t.true(Math.abs(theirs.summary.energy_pJ - ours.value.summary.energy_pJ) <= 0.005 * terms + 1e-9 * ours.value.summary.energy_pJ);
    // The loop nests Timeloop printed give back a mapping with the same counts.
    const back = evaluateMapping(ctx, mappingFromStats(stats, task.problem, task.architecture));
    t.true(back.ok);
    if (back.ok) t.deepEqual(counts(back.value), counts(ours.value));
  });
}

test('expt eval --engine timeloop: the fake program\'s stats, and a missing program', (t) => {
  const bin = fakeTimeloop('cp "$(dirname "$0")/../stats.txt" timeloop-model.stats.txt');
  try {
    writeFileSync(join(bin, '..', 'stats.txt'), readFileSync(join(GOLDEN, 'gemm-001', 'stats.txt')));
    const run = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'expt.js'), 'eval', join(GOLDEN, 'gemm-001', 'input.yaml'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, EXPT_TIMELOOP_MODEL: 'none' } });
    const a = run('--engine', 'timeloop', '--timeloop-bin', bin, '--json');
    t.is(a.status, 0, a.stderr);
    const j = JSON.parse(a.stdout) as { summary: { cycles: number } };
    t.is(j.summary.cycles, 296);
    const b = run('--engine', 'timeloop');
    t.is(b.status, 2);
    t.regex(b.stderr, /timeloop-model not found at EXPT_TIMELOOP_MODEL='none'.*install Timeloop.*embedded engine/);
    const c = run('--engine', 'ngspice');
    t.is(c.status, 2);
    t.regex(c.stderr, /--engine is expt or timeloop/);
  } finally {
    rmSync(join(bin, '..'), { recursive: true, force: true });
  }
});

const real = findTimeloopModel();
if (!real) {
  test.skip('timeloop-model not installed: runs of the real timeloop-model and timeloop-mapper skipped', () => {});
} else {
  test('the real timeloop-model: a golden case, read back into an Evaluation', async (t) => {
    const task = golden('paper-KQV-eyeriss-TLD');
    const { evaluation, run } = await evaluateWithTimeloop(task, { bin: real });
    t.is(run.exitCode, 0);
    const expected = JSON.parse(readFileSync(join(GOLDEN, 'paper-KQV-eyeriss-TLD', 'expected.json'), 'utf8')) as { summary: { cycles: number }; storage: { name: string; dataspaces: Record<string, { reads: number }> }[] };
    t.is(evaluation.summary.cycles, expected.summary.cycles);
    for (const l of expected.storage) for (const [n, d] of Object.entries(l.dataspaces)) t.is(evaluation.storage.find((x) => x.name === l.name)!.dataspaces[n].reads, d.reads);
  });

  test('the real timeloop-mapper on the study\'s Gemmini as timeloopfe v0.4 finds the golden best mapping (BERT-large KQV)', async (t) => {
    const ref = golden('paper-KQV-gemmini-TLD');
    const input = readV4Files([join(FIX, 'variables.yaml'), join(FIX, 'gemmini.yaml'), join(FIX, 'gemmini-constraints.yaml')], { dimensions: ref.problem.dimensions });
    const mapperExpected = JSON.parse(readFileSync(join(GOLDEN, 'paper-KQV-gemmini-TLD', 'mapper-expected.json'), 'utf8')) as { best: { cycles: number; energy_pJ: number } };
    const run = await runTimeloopMapper(
      {
        architecture: input.architecture,
        problem: ref.problem,
        ert: ref.ert,
        constraints: input.constraints,
        mapper: { algorithm: 'hybrid', optimization_metrics: ['edp'], num_threads: 2, timeout: 1000, victory_condition: 500, sync_interval: 0 },
      },
      { bin: real, timeoutMs: 300_000 },
    );
    t.is(run.error, null, run.stderr);
    t.is(run.evaluation!.summary.cycles, mapperExpected.best.cycles);
    t.true(Math.abs(run.evaluation!.summary.energy_pJ - mapperExpected.best.energy_pJ) < 0.01 * 20);
    // Its best mapping, read from the stats, evaluates the same in expt.
    t.truthy(run.mapping);
    const ours = evaluateMapping(prepareModel(ref.problem, input.architecture, ref.ert), run.mapping!);
    t.true(ours.ok);
    if (ours.ok) t.is(ours.value.summary.cycles, run.evaluation!.summary.cycles);
    t.regex(run.engineId, /^timeloop-mapper@sha256:/);
  });
}
