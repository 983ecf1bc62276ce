/**
 * HW-DSE sweeps and the cross-architecture study through the pipeline:
 * the repository's `hwdse` experiment expands to the library's distinct
 * (variant, layer) pairs; a small sweep run by the CLI gives exactly
 * `runHwdse`'s numbers (both aggregations), carries the study's
 * normalization-op cycle identity and reports an unmappable config as ∞;
 * a small cross-architecture study gives `crossArchCell`'s numbers and N/A
 * where the TPU cannot map; the report files have the study's columns and
 * are sorted by EDP; `expt report` rewrites them from the cache alone.
 */
import test from 'ava';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/pipeline/config.ts';
import { expandConfig } from '../../src/pipeline/expand.ts';
import type { HwdseCell } from '../../src/pipeline/kinds/hwdse.ts';
import { buildGraph } from '../../src/build/graph.ts';
import { KINDS } from '../../src/pipeline/kinds/index.ts';
import type { HwdseAggregateResult } from '../../src/pipeline/kinds/hwdse.ts';
import type { CrossArchAggregateResult } from '../../src/pipeline/kinds/cross-arch.ts';
import { CROSS_ARCH_BERT_IDS, resolveSweepConfigs } from '../../src/pipeline/sweep-config.ts';
import { CROSS_ARCH_BERT_LAYERS, crossArchCell } from '../../src/sweeps/cross-arch.ts';
import { GEMMINI_HWDSE_2024_05_08_CONFIGS, GEMMINI_HWDSE_TABLE_2024_05_08, GEMMINI_JSON_CONFIGS, gemminiVariant, hwdseLayers, runHwdse } from '../../src/sweeps/hwdse.ts';
import { CROSS_ARCH_COLUMNS, hwdseColumns } from '../../src/report/studies.ts';
import { UserError } from '../../src/util/errors.ts';
import { referenceDir, repoRoot } from '../helpers/golden.ts';
import { expt, runJson } from './fixture.ts';

const temps: string[] = [];
test.after.always(() => {
  if (process.env['EXPT_TEST_KEEP_TMP']) return;
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** A project with the repository's architecture presets and the given experiments. */
function project(experiments: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'expt-sweeps-'));
  temps.push(dir);
  cpSync(path.join(repoRoot, 'experiments', 'archs'), path.join(dir, 'experiments', 'archs'), { recursive: true });
  writeFileSync(path.join(dir, 'experiments.config.json'), JSON.stringify({ experiments }, null, 2));
  return dir;
}

async function expand(cwd: string, names: string[]) {
  const loaded = await loadConfig({ cwd });
  const expansion = expandConfig(loaded, names);
  const kinds = await KINDS.loadAll(expansion.specs.map((s) => s.kind));
  return { loaded, expansion, graph: buildGraph(expansion.specs, (k) => kinds.get(k)!.engine()) };
}

/** CSV text → rows of named fields (no quoted commas in the numeric columns read here). */
function csvRows(text: string): { header: string[]; rows: Record<string, string>[] } {
  const [head, ...lines] = text.trimEnd().split('\n');
  const header = head.split(',');
  return { header, rows: lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v]))) };
}

const NO_IDENTITY = 16 * (2 * 4_194_304 + 33_554_432 + 8);

test("the repository's hwdse experiment: 15 configs × KTQ, VScores, softmax = 45 cells on the library's 38 distinct (variant, layer) pairs", async (t) => {
  const { expansion, graph } = await expand(repoRoot, ['hwdse']);
  const [exp] = expansion.experiments;
  t.is(exp.study, 'hwdse');
  t.is(exp.cells.length, 45);
  // Ground truth from the library alone: the distinct variant ids per layer.
  const distinct = new Set<string>();
  for (const c of GEMMINI_HWDSE_2024_05_08_CONFIGS) {
    for (const l of hwdseLayers()) distinct.add(`${gemminiVariant(c, l.kind, { mode: 'study', version: '2024-05-08' }).id}/${l.id}`);
  }
  t.is(distinct.size, 38);
  const closure = graph.closure([exp.aggregate]);
  t.deepEqual(
    Object.fromEntries(['map', 'hwdse'].map((k) => [k, closure.order.filter((x) => x.kind === k).length])),
    { map: 38, hwdse: 1 },
  );
  // Each task stands for the cells of one (variant, layer) pair.
  const agg = graph.get(exp.aggregate)!;
  const cells = agg.inputs['cells'].value as HwdseCell[];
  for (const task of closure.order.filter((x) => x.kind === 'map')) {
    const mine = cells.filter((c) => c.task !== undefined && graph.get(c.task)!.id === task.id);
    t.true(mine.length >= 1);
    t.is(new Set(mine.map((c) => `${c.variant}/${c.layer}`)).size, 1, task.id);
    t.is(task.cells.length, mine.length);
  }
  // The study's softmax runs on the NO variant, which 16×16 WS and OS with the same buffers share.
  const c9 = GEMMINI_HWDSE_2024_05_08_CONFIGS.findIndex((c) => JSON.stringify(c) === JSON.stringify(GEMMINI_HWDSE_TABLE_2024_05_08[8].config));
  const c5 = GEMMINI_HWDSE_2024_05_08_CONFIGS.findIndex((c) => JSON.stringify(c) === JSON.stringify(GEMMINI_HWDSE_TABLE_2024_05_08[4].config));
  t.is(graph.get(`map:hwdse/config${c9}/softmax`)!.id, graph.get(`map:hwdse/config${c5}/softmax`)!.id);
  t.not(graph.get(`map:hwdse/config${c9}/KTQ`)!.id, graph.get(`map:hwdse/config${c5}/KTQ`)!.id);
});

test('sweep configs: a study-format JSON file, mixup, and errors naming the field and the file', async (t) => {
  const origin = { root: referenceDir, file: 'experiments.config.json', field: 'experiments.dse.sweep.configs' };
  t.deepEqual(resolveSweepConfigs('gemmini', 'gemmini_hw_configs.json', origin).configs, GEMMINI_JSON_CONFIGS);
  const two = [GEMMINI_JSON_CONFIGS[0], GEMMINI_JSON_CONFIGS[10]]; // 16×16 WS, 32×8 OS
  const mixed = resolveSweepConfigs('gemmini', two, origin, { mixup: true });
  // accumulator_size, pe_rows, pe_cols and dataflow differ: 2^4 configs.
  t.is(mixed.configs.length, 16);
  t.is(mixed.source, 'inline (mixup)');
  const dir = project({ dse: { sweep: { architecture: 'gemmini', configs: 'bad.json' } } });
  writeFileSync(path.join(dir, 'bad.json'), JSON.stringify([{ ...GEMMINI_JSON_CONFIGS[0], dataflow: 'RS' }]));
  const r = await expt(dir, 'plan');
  t.is(r.code, 2);
  t.is(r.stderr.trim(), 'expt: experiments.config.json: experiments.dse.sweep.configs: bad.json [0].dataflow: dataflow must be one of WS, OS, IS, got "RS"');
  t.throws(() => resolveSweepConfigs('pim', '2024-05-08', origin), { instanceOf: UserError, message: /PIM configs are 'hardcoded'/ });
  // The group names of crossArch.workloads follow the library's list.
  t.deepEqual([...CROSS_ARCH_BERT_IDS], [...CROSS_ARCH_BERT_LAYERS]);
});

// #9 and #5 of the 2024-05-08 table (16×16, 1 MiB / 32, WS and OS: their NO variant is the same),
// and #1 (32×16 WS, accumulator 32768: the study's NO capacity exceeds the Scratchpad, no softmax mapping).
const ranked = (rank: number) => GEMMINI_HWDSE_TABLE_2024_05_08.find((r) => r.rank === rank)!.config;
const CONFIGS = [ranked(9), ranked(5), ranked(1)];
const EFFORT = 3000;

test('a sweep and a cross-architecture study through expt run: the library\'s numbers, the NO cycle identity, ∞ and N/A as results, the study\'s report formats sorted by EDP, and expt report from the cache alone', async (t) => {
  const dir = project({
    dse: { description: 'three configs of the 2024-05-08 table', sweep: { architecture: 'gemmini', configs: CONFIGS, mode: 'study', version: '2024-05-08', mapper: { effort: EFFORT } } },
    xa: { crossArch: { architectures: ['eyeriss', 'tpu'], workloads: ['MB6', 'MB3'], mapper: 'TLD' } },
  });
  const { run, summary } = await runJson(dir, '-j', '2');
  t.is(run.code, 0, run.stderr);
  // 9 sweep cells on 8 tasks (#9 and #5 share the softmax), 4 cross-arch cells, two aggregates.
  t.is(summary.ran, 8 + 4 + 2);
  t.is(summary.failed, 0);
  t.regex(run.stderr, /2 HW-DSE \/ cross-architecture tasks have no valid mapping/);

  // The aggregate, from the cache, against the library run in process.
  const cached = (kind: string) => {
    const keys = readdirSync(path.join(dir, 'cache', kind));
    t.is(keys.length, 1);
    return JSON.parse(readFileSync(path.join(dir, 'cache', kind, keys[0], 'result.json'), 'utf8')) as unknown;
  };
  const agg = cached('hwdse') as HwdseAggregateResult;
  const lib = runHwdse(CONFIGS, { mode: 'study', version: '2024-05-08', mapper: { effort: EFFORT } });
  const orNull = (x: number) => (Number.isFinite(x) ? x : null);
  t.is(agg.configs.length, 3);
  agg.configs.forEach((row, i) => {
    t.deepEqual(row.config, lib[i].config);
    t.deepEqual(row.study, { energy: orNull(lib[i].study.energy), cycles: orNull(lib[i].study.cycles), utilization: lib[i].study.utilization, edp: orNull(lib[i].study.edp) }, `config ${i}, study aggregation`);
    t.deepEqual(row.correct, { energy_pJ: orNull(lib[i].correct.energy_pJ), cycles: orNull(lib[i].correct.cycles), utilization: lib[i].correct.utilization, edp_J_cycle: orNull(lib[i].correct.edp_J_cycle) }, `config ${i}, correct aggregation`);
    t.deepEqual(
      row.layers.map((l) => [l.layer, l.weight, l.ok, l.cycles, l.energy_pJ]),
      lib[i].layers.map((l) => [l.layer, l.weight, l.ok, l.ok ? l.cycles : null, l.ok ? l.energy_pJ : null]),
    );
    t.deepEqual(row.notes, lib[i].notes);
  });
  // The study's NO cycle identity on the 16×16 configs (both aggregations), and #1 is ∞ with its reason.
  for (const i of [0, 1]) {
    t.is(agg.configs[i].study.cycles, NO_IDENTITY);
    t.is(agg.configs[i].correct.cycles, NO_IDENTITY);
    t.deepEqual(agg.configs[i].layers.map((l) => l.cycles), [4_194_308, 4_194_308, 33_554_432]);
  }
  t.is(agg.configs[2].study.edp, null);
  t.false(agg.configs[2].layers.find((l) => l.layer === 'softmax')!.ok);

  const xa = cached('cross-arch') as CrossArchAggregateResult;
  t.deepEqual(
    xa.cells.map((c) => `${c.arch}/${c.comp}`),
    ['eyeriss/MB6', 'eyeriss/MB3', 'tpu/MB6', 'tpu/MB3'],
  );
  for (const c of xa.cells) {
    const ref = crossArchCell(c.arch, c.comp, 'TLD');
    t.is(c.ok, ref.ok, `${c.arch}/${c.comp}`);
    t.deepEqual([c.edp_J_cycle, c.cycles, c.energy_uJ], ref.ok ? [ref.edp_J_cycle, ref.cycles, ref.energy_uJ] : [null, null, null], `${c.arch}/${c.comp}`);
  }
  t.false(xa.cells[3].ok, "the TPU's D>=128 leaves MB3 (D=8) unmappable");

  // Reports: the study's columns, sorted by EDP (∞ last), both aggregations.
  const reports = path.join(dir, 'reports');
  const hwCsv = csvRows(readFileSync(path.join(reports, 'hwdse-dse.csv'), 'utf8'));
  t.deepEqual(hwCsv.header, hwdseColumns(['scratchpad_size', 'accumulator_size', 'scratchpad_bandwidth', 'accumulator_bandwidth', 'pe_rows', 'pe_cols', 'dataflow', 'rf_size']));
  const edps = hwCsv.rows.map((r) => (r['edp_J_cycle'] === 'inf' ? Infinity : Number(r['edp_J_cycle'])));
  t.deepEqual(edps, [...edps].sort((a, b) => a - b));
  t.is(edps.at(-1), Infinity);
  t.deepEqual(hwCsv.rows.map((r) => r['rank']), ['1', '2', '3']);
  t.is(hwCsv.rows.at(-1)!['status'], 'infeasible');
  t.regex(hwCsv.rows.at(-1)!['reason'], /^softmax: /);
  for (const r of hwCsv.rows.slice(0, 2)) {
    t.is(Number(r['study_cycles']), NO_IDENTITY);
    t.is(Number(r['cycles']), NO_IDENTITY);
    const i = Number(r['config']);
    t.is(Number(r['edp_J_cycle']), lib[i].correct.edp_J_cycle);
    t.is(Number(r['study_edp_sum_J_cycle']), lib[i].study.edp);
  }
  const hwMd = readFileSync(path.join(reports, 'hwdse-dse.md'), 'utf8');
  t.regex(hwMd, /## Ranking by EDP/);
  t.regex(hwMd, /\| +energy +\| +cycles +\| utilization \| +edp +\|/, "the study's PrettyTable");
  t.regex(hwMd, /## Comparison with the study's 2024-05-08 table/);
  t.regex(hwMd, /Spearman's ρ of the EDP-sum ranking against the study's: -?\d\.\d{4} \(Kendall's τ -?\d\.\d{4}\)/);
  t.regex(hwMd, /- c2: softmax: /);
  t.regex(readFileSync(path.join(reports, 'charts', 'hwdse-dse-pareto.svg'), 'utf8'), /^<svg[\s\S]*Pareto/);
  const xaCsv = csvRows(readFileSync(path.join(reports, 'cross-arch-xa.csv'), 'utf8'));
  t.deepEqual(xaCsv.header, [...CROSS_ARCH_COLUMNS]);
  t.deepEqual(xaCsv.rows.map((r) => r['status']), ['ok', 'ok', 'ok', 'infeasible']);
  const xaMd = readFileSync(path.join(reports, 'cross-arch-xa.md'), 'utf8');
  t.true(xaMd.includes('| Comp | Arch | Mapper | EDP (J*cycle) | Cycles | Energy (uJ) | MSE Evaluations |'));
  // The effort column is each map task's own count of evaluated mappings, not a wall time.
  const evaluated = readdirSync(path.join(dir, 'cache', 'map')).map((k) => (JSON.parse(readFileSync(path.join(dir, 'cache', 'map', k, 'result.json'), 'utf8')) as { search?: { evaluated: number } }).search?.evaluated);
  for (const r of xaCsv.rows.filter((row) => row['status'] === 'ok')) {
    t.true(Number(r['evaluations']) > 0 && evaluated.includes(Number(r['evaluations'])), `${r['arch']}/${r['comp']}: ${r['evaluations']}`);
    t.true(xaMd.includes(`| ${r['evaluations']} |`));
  }
  t.regex(xaMd, /\| MB3 \| tpu \| TLD \| N\/A \| N\/A \| N\/A \|/);
  const index = readFileSync(path.join(reports, 'index.md'), 'utf8');
  t.true(index.includes('[hwdse-dse.md](hwdse-dse.md)'));
  t.true(index.includes('[cross-arch-xa.md](cross-arch-xa.md)'));
  t.true(index.includes('charts/hwdse-dse-pareto.svg'));
  t.regex(readFileSync(path.join(reports, 'layers.csv'), 'utf8'), /\ndse,bert-large,softmax,gemmini,none,config2,/);

  // Warm: nothing runs; `expt report` writes the same bytes from the cache alone.
  const files = ['index.md', 'hwdse-dse.md', 'hwdse-dse.csv', 'charts/hwdse-dse-pareto.svg', 'cross-arch-xa.md', 'cross-arch-xa.csv', 'layers.csv'];
  const before = files.map((f) => readFileSync(path.join(reports, f), 'utf8'));
  const again = await runJson(dir, '-j', '2');
  t.is(again.summary.ran, 0);
  rmSync(reports, { recursive: true });
  const report = await expt(dir, 'report');
  t.is(report.code, 0, report.stderr);
  t.deepEqual(
    files.map((f) => readFileSync(path.join(reports, f), 'utf8')),
    before,
  );
  const plan = await expt(dir, 'plan');
  t.regex(plan.stdout, /14 cached, 0 will run/);

  // Cold again from an empty cache: the same bytes (no wall time in a report).
  rmSync(path.join(dir, 'cache'), { recursive: true });
  rmSync(reports, { recursive: true });
  const cold = await runJson(dir, '-j', '2');
  t.is(cold.summary.ran, 14);
  t.deepEqual(
    files.map((f) => readFileSync(path.join(reports, f), 'utf8')),
    before,
  );
});
