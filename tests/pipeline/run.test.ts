/**
 * `expt run` / `plan` / `report` / `show` / `gc` through the real CLI on a
 * temp project made of the golden paper-* inputs (archs/<arch>.yaml with the
 * architecture, ERT and constraints; problems/<layer>.yaml).
 */
import test from 'ava';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { goldenDir, repoRoot } from '../helpers/golden.ts';
import { blockLayers } from '../../src/workload/layers.ts';
import { cacheEntries, cleanupTempDirs, expt, gridExperiment, makeProject, planJson, readText, runJson, writeConfig } from './fixture.ts';

test.after.always(cleanupTempDirs);

/** Changes one energy value of one component in an arch file (text edit, so nothing else moves). */
function bumpEnergy(dir: string, arch: string, from: string, to: string): void {
  const file = path.join(dir, 'archs', `${arch}.yaml`);
  const text = readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`${from} not in ${file}`);
  writeFileSync(file, text.replace(from, to));
}

test('one energy value changed in one architecture: plan names the ERT as the reason for exactly its tasks; run reruns only those', async (t) => {
  const dir = makeProject();
  writeConfig(dir);
  const cold = await runJson(dir);
  t.is(cold.run.code, 0, cold.run.stderr);
  t.deepEqual({ ran: cold.summary.ran, cached: cold.summary.cached, failed: cold.summary.failed, skipped: cold.summary.skipped }, { ran: 5, cached: 0, failed: 0, skipped: 0 });

  bumpEnergy(dir, 'gemmini', 'energy: 57.0390000001', 'energy: 58.5');
  const plan = await planJson(dir);
  const stale = plan.filter((p) => p.state === 'will run');
  t.deepEqual(stale.filter((p) => p.kind === 'map').map((p) => p.id).sort(), ['map:grid/bert-large/KQV/gemmini/none', 'map:grid/bert-large/VScores/gemmini/none']);
  for (const p of stale.filter((p) => p.kind === 'map')) {
    t.is(p.arch, 'gemmini');
    t.is(p.reason, 'input `ERT` (archs/gemmini.yaml) changed since the cached result');
  }
  const agg = plan.find((p) => p.kind === 'aggregate')!;
  t.is(agg.state, 'will run');
  t.regex(agg.reason, /^dependency map:grid\/bert-large\/KQV\/gemmini\/none will run; dependency map:grid\/bert-large\/VScores\/gemmini\/none will run$/);
  t.true(plan.filter((p) => p.arch === 'eyeriss').every((p) => p.state === 'cached' && p.reason === 'up to date'));

  const text = await expt(dir, 'plan');
  t.regex(text.stdout, /5 tasks — 2 cached, 3 will run/);
  t.regex(text.stdout, /will run {2}map:grid\/bert-large\/KQV\/gemmini\/none +input `ERT` \(archs\/gemmini\.yaml\) changed since the cached result/);
  t.deepEqual(JSON.parse((await expt(dir, 'run', '--dry-run', '--json')).stdout), JSON.parse(JSON.stringify(plan)));

  const warm = await runJson(dir);
  t.is(warm.run.code, 0);
  t.is(warm.summary.ran, 3);
  t.is(warm.summary.cached, 2);
  t.regex(warm.run.stderr, /done {4}map:grid\/bert-large\/KQV\/gemmini\/none/);
  t.notRegex(warm.run.stderr, /done {4}map:grid\/bert-large\/\w+\/eyeriss/);
  const noop = await runJson(dir);
  t.deepEqual([noop.summary.ran, noop.summary.cached], [0, 5]);

  // Back to the old value: the old results are still in the cache.
  bumpEnergy(dir, 'gemmini', 'energy: 58.5', 'energy: 57.0390000001');
  t.true((await planJson(dir)).every((p) => p.state === 'cached'));
});

test('plan --json lists every task with the cell fields; identical cells are one task; --only narrows with dependencies', async (t) => {
  const dir = makeProject();
  const dup = gridExperiment(300, ['KQV'], ['gemmini']);
  writeConfig(dir, { grid: gridExperiment(), again: { ...dup, jobs: [{ ...dup.jobs[0], variant: 'copy' }] } });
  const plan = await planJson(dir);
  // The `again` experiment's only cell has the same inputs as a grid cell: one task, two cells.
  t.is(plan.length, 6);
  const shared = plan.find((p) => p.id === 'map:grid/bert-large/KQV/gemmini/none')!;
  t.deepEqual(shared.aliases, ['map:again/bert-large/KQV/gemmini/none/copy']);
  for (const p of plan) {
    t.deepEqual(Object.keys(p).slice(0, 10), ['id', 'kind', 'experiment', 'model', 'layer', 'arch', 'fusion', 'macs', 'state', 'reason']);
    t.is(p.state, 'will run');
    t.is(p.reason, 'no cached result for this key (never run)');
  }
  // macs = the MACs of the task's own problem (the golden instance sizes).
  const instance = (layer: string) => (parseYaml(readFileSync(path.join(goldenDir, `paper-${layer}-gemmini-TLD`, 'mapper-input.yaml'), 'utf8')) as { problem: { instance: Record<string, number> } }).problem.instance;
  for (const p of plan.filter((x) => x.kind === 'map')) t.is(p.macs, Object.values(instance(p.layer!)).reduce((a, b) => a * b, 1));
  t.deepEqual(plan.filter((p) => p.kind === 'aggregate').map((p) => [p.id, p.experiment, p.model, p.macs]), [['aggregate:grid', 'grid', null, null], ['aggregate:again', 'again', null, null]]);

  const only = await planJson(dir, '--only', 'layer=VScores,arch=gemmini');
  t.deepEqual(only.map((p) => p.id), ['map:grid/bert-large/VScores/gemmini/none']);
  const withAgg = await planJson(dir, 'again');
  t.deepEqual(withAgg.map((p) => p.id), ['map:grid/bert-large/KQV/gemmini/none', 'aggregate:again']);
  const union = await planJson(dir, '--only', 'arch=eyeriss,layer=KQV', '--only', 'kind=aggregate,experiment=again');
  t.deepEqual(union.map((p) => p.id), ['map:grid/bert-large/KQV/gemmini/none', 'map:grid/bert-large/KQV/eyeriss/none', 'aggregate:again']);

  const run = await runJson(dir, '--only', 'experiment=again', '-j', '1');
  t.deepEqual([run.summary.ran, run.summary.cached], [2, 0]);
  const rest = await runJson(dir);
  t.deepEqual([rest.summary.ran, rest.summary.cached], [4, 2]);

  const bad = await expt(dir, 'plan', '--only', 'arch=gemini');
  t.is(bad.code, 2);
  t.is(bad.stderr.trim(), 'expt: --only arch=gemini matches no task (arch values: eyeriss, gemmini)');
  const badField = await expt(dir, 'run', '--only', 'archh=gemmini');
  t.is(badField.code, 2);
  t.regex(badField.stderr, /^expt: --only: unknown field 'archh'/);
});

test('a failed task: reported with its reason, its dependents skipped, the others complete, exit 1; fixing it resumes', async (t) => {
  const dir = makeProject();
  // An eyeriss variant whose ERT lacks the MAC: its tasks fail when they run.
  const eyeriss = readText(dir, 'archs/eyeriss.yaml');
  const broken = eyeriss.replace(/\n( *)- name: [^\n]*\.mac\n\1 {2}actions:[^\n]*(\n\1 {4}[^\n]*)*/, '');
  t.not(broken, eyeriss);
  writeFileSync(path.join(dir, 'archs', 'broken.yaml'), broken);
  writeConfig(dir, { good: gridExperiment(300, ['KQV', 'VScores'], ['gemmini']), bad: gridExperiment(300, ['KQV', 'VScores'], ['eyeriss', 'broken']) });
  const { run, summary } = await runJson(dir);
  t.is(run.code, 1);
  t.is(summary.failed, 2);
  t.is(summary.skipped, 1);
  t.is(summary.ran, 5);
  t.deepEqual(summary.failures.map((f) => f.id).sort(), ['map:bad/bert-large/KQV/broken/none', 'map:bad/bert-large/VScores/broken/none']);
  for (const f of summary.failures) t.is(f.reason, "no energy table for component 'mac' (ERT)");
  t.regex(run.stderr, /FAILED  map:bad\/bert-large\/KQV\/broken\/none \([\d.]+s\): no energy table for component 'mac' \(ERT\)/);
  t.regex(run.stderr, /skipped aggregate:bad: dependency map:bad\/bert-large\/(KQV|VScores)\/broken\/none failed/);
  t.notRegex(run.stderr, /\n\s+at /);
  // The report has the good experiment and says the bad one is incomplete.
  const csv = readText(dir, 'reports/layers.csv').trim().split('\n');
  t.is(csv.length, 3);
  t.true(csv.slice(1).every((l) => l.startsWith('good,')));
  t.regex(readText(dir, 'reports/index.md'), /\| bad \| incomplete: 2\/4 tasks cached \|/);

  const plan = await planJson(dir);
  t.deepEqual(plan.filter((p) => p.state === 'will run').map((p) => p.id).sort(), ['aggregate:bad', 'map:bad/bert-large/KQV/broken/none', 'map:bad/bert-large/VScores/broken/none']);

  // Fix the table (a copy of eyeriss's): the fixed cells are now identical to
  // the eyeriss cells, so they share their cached results; only the skipped
  // aggregate runs.
  writeFileSync(path.join(dir, 'archs', 'broken.yaml'), eyeriss);
  const fixedPlan = await planJson(dir);
  t.is(fixedPlan.length, 6);
  t.deepEqual(fixedPlan.filter((p) => p.state === 'will run').map((p) => p.id), ['aggregate:bad']);
  const fixed = await runJson(dir);
  t.is(fixed.run.code, 0);
  t.deepEqual([fixed.summary.ran, fixed.summary.cached, fixed.summary.failed], [1, 5, 0]);
});

test('report works from the cache only; show prints the loop nest; gc drops what the config no longer uses; clean removes all', async (t) => {
  const dir = makeProject();
  writeConfig(dir);
  t.is((await expt(dir, 'run', '-j', '2')).code, 0);
  const csv = readText(dir, 'reports/layers.csv');
  const header = csv.split('\n')[0].split(',');
  t.deepEqual(header.slice(0, 12), ['experiment', 'model', 'layer', 'arch', 'fusion', 'variant', 'macs', 'energy_pJ', 'pJ_per_mac', 'cycles', 'utilization', 'edp_J_cycle']);
  rmSync(path.join(dir, 'reports'), { recursive: true });
  const report = await expt(dir, 'report');
  t.is(report.code, 0);
  t.is(readText(dir, 'reports/layers.csv'), csv);
  t.regex(readText(dir, 'reports/index.md'), /\| grid \| complete \| 4 \| 4 \|/);

  const show = await expt(dir, 'show', 'KQV/gemmini');
  t.is(show.code, 0, show.stderr);
  t.regex(show.stdout, /^Task {5}map:grid\/bert-large\/KQV\/gemmini\/none$/m);
  t.regex(show.stdout, /ERT +[0-9a-f]{12} {2}archs\/gemmini\.yaml/);
  t.regex(show.stdout, /<< Compute >>/);
  t.regex(show.stdout, /^Accumulator +Outputs/m);
  const ambiguous = await expt(dir, 'show', 'gemmini');
  t.is(ambiguous.code, 2);
  t.regex(ambiguous.stderr, /matches 2 tasks/);
  const json = JSON.parse((await expt(dir, 'show', 'map:grid/bert-large/VScores/eyeriss/none', '--json')).stdout) as { state: string; result: { evaluation: { summary: { edp_J_cycle: number } } } };
  t.is(json.state, 'cached');
  t.true(json.result.evaluation.summary.edp_J_cycle > 0);

  // Drop eyeriss from the config: gc removes its two map entries and the old aggregate.
  const before = cacheEntries(dir);
  t.is(before.length, 5);
  writeConfig(dir, { grid: gridExperiment(300, ['KQV', 'VScores'], ['gemmini']) });
  const gc = JSON.parse((await expt(dir, 'gc', '--json')).stdout) as { removed: string[]; kept: number };
  t.is(gc.removed.length, 3);
  t.is(gc.kept, 2);
  t.deepEqual(cacheEntries(dir), before.filter((e) => !gc.removed.includes(e)));
  // The remaining map results are still valid for the new config.
  const plan = await planJson(dir);
  t.deepEqual(plan.map((p) => p.state), ['cached', 'cached', 'will run']);
  t.is((await expt(dir, 'clean')).code, 0);
  t.deepEqual(cacheEntries(dir), []);
  t.true((await planJson(dir)).every((p) => p.state === 'will run'));
});

test('a corrupt cache entry is detected by plan and recomputed by run', async (t) => {
  const dir = makeProject();
  writeConfig(dir, { grid: gridExperiment(300, ['KQV'], ['gemmini', 'eyeriss']) });
  t.is((await expt(dir, 'run')).code, 0);
  const plan = await planJson(dir);
  const victim = plan.find((p) => p.arch === 'eyeriss')!;
  writeFileSync(path.join(dir, 'cache', 'map', victim.key, 'result.json'), '{"truncated": ');
  const after = await planJson(dir);
  t.is(after.find((p) => p.id === victim.id)!.reason, 'the cached result is corrupt (result.json does not match the hash in manifest.json); recomputing it');
  t.true(after.filter((p) => p.id !== victim.id && p.kind === 'map').every((p) => p.state === 'cached'));
  const run = await runJson(dir);
  t.deepEqual([run.summary.ran, run.summary.cached], [1, 2]);
  t.true((await planJson(dir)).every((p) => p.state === 'cached'));
});

test('two expt run processes on one cache: both succeed, every entry is complete, reports agree', async (t) => {
  const dir = makeProject();
  writeConfig(dir);
  const [a, b] = await Promise.all([runJson(dir, '-j', '1'), runJson(dir, '-j', '1')]);
  t.is(a.run.code, 0, a.run.stderr);
  t.is(b.run.code, 0, b.run.stderr);
  t.is(a.summary.ran + a.summary.cached, 5);
  t.is(b.summary.ran + b.summary.cached, 5);
  const plan = await planJson(dir);
  t.true(plan.every((p) => p.state === 'cached'));
  t.is(cacheEntries(dir).length, 5);
  const csv = readText(dir, 'reports/layers.csv');
  t.is((await expt(dir, 'report')).code, 0);
  t.is(readText(dir, 'reports/layers.csv'), csv);
});

test('matrix experiments (models × layers × architecture presets): one task per cell, an energy override in one preset reruns exactly its tasks', async (t) => {
  const dir = makeProject();
  mkdirSync(path.join(dir, 'experiments', 'archs'), { recursive: true });
  for (const arch of ['gemmini', 'eyeriss']) copyFileSync(path.join(repoRoot, 'experiments', 'archs', `${arch}.yaml`), path.join(dir, 'experiments', 'archs', `${arch}.yaml`));
  writeConfig(dir, { paper: { models: ['bert-base'], layers: ['KQV', 'VScores'], architectures: ['gemmini', 'eyeriss'], mapper: { effort: 300 } } });
  const plan = await planJson(dir);
  t.deepEqual(plan.map((p) => p.id), [
    'map:paper/bert-base/KQV/gemmini/none',
    'map:paper/bert-base/KQV/eyeriss/none',
    'map:paper/bert-base/VScores/gemmini/none',
    'map:paper/bert-base/VScores/eyeriss/none',
    'aggregate:paper',
  ]);
  const layers = blockLayers('bert-base', { layers: ['KQV', 'VScores'] });
  for (const p of plan.filter((x) => x.kind === 'map')) t.is(p.macs, layers.find((l) => l.id === p.layer)!.macs);
  const cold = await runJson(dir);
  t.is(cold.run.code, 0, cold.run.stderr);
  t.is(cold.summary.ran, 5);

  writeFileSync(path.join(dir, 'experiments', 'archs', 'eyeriss.energy.csv'), 'component,action,energy_pJ\nshared_glb,read,9.5\n');
  const stale = (await planJson(dir)).filter((p) => p.state === 'will run');
  t.deepEqual(stale.map((p) => p.id), ['map:paper/bert-base/KQV/eyeriss/none', 'map:paper/bert-base/VScores/eyeriss/none', 'aggregate:paper']);
  for (const p of stale.slice(0, 2)) t.is(p.reason, 'input `ERT` (experiments/archs/eyeriss.energy.csv + energies estimated from experiments/archs/eyeriss.yaml) changed since the cached result');
  const warm = await runJson(dir);
  t.deepEqual([warm.summary.ran, warm.summary.cached], [3, 2]);
});
