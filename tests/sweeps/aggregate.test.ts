/**
 * The study's HW-DSE aggregation (sums × heads, EDP-sum, head-weighted
 * utilization, Timeloop-printed rounding; §8 B8) next to the correct one,
 * on hand-computed numbers; rank statistics; the summary table in the
 * study's PrettyTable format, checked against the 2024-05-08 file.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { correctAggregate, kendallTau, paretoFront, ranks, spearman, studyAggregate, timeloopPrinted, type LayerMetrics } from '../../src/sweeps/aggregate.ts';
import { GEMMINI_CONFIG_KEYS, GEMMINI_HWDSE_TABLE_2024_05_08 } from '../../src/sweeps/hwdse.ts';
import { hwdseSummaryTable, markdownTable, prettyTable, pyCenter } from '../../src/sweeps/table.ts';
import { scatterSvg } from '../../src/report/svg.ts';
import { compareWithStudy, comparisonMarkdown, hwdseParetoSvg } from '../../src/report/hwdse-comparison.ts';
import { referenceDir } from '../helpers/golden.ts';

// Two layers: A once (2 uJ, 100 cycles, 50%), B per head × 4 (1 uJ, 300 cycles, 100%).
const layers: LayerMetrics[] = [
  { layer: 'A', weight: 1, ok: true, energy_pJ: 2e6, cycles: 100, utilization: 0.5, edp_J_cycle: 2e-6 * 100 },
  { layer: 'B', weight: 4, ok: true, energy_pJ: 1e6, cycles: 300, utilization: 1, edp_J_cycle: 1e-6 * 300 },
];

test("study aggregate: every metric × weight and summed; utilization / Σ weights; 'EDP' = Σ per-layer EDP", (t) => {
  const s = studyAggregate(layers, { printed: false });
  t.is(s.energy, 2e6 + 4 * 1e6);
  t.is(s.cycles, 100 + 4 * 300);
  t.is(s.utilization, (50 + 4 * 100) / 5);
  t.true(Math.abs(s.edp - (2e-4 + 4 * 3e-4)) < 1e-18);
});

test('correct aggregate: energy and cycles summed, then EDP; cycle-weighted utilization', (t) => {
  const c = correctAggregate(layers);
  t.is(c.energy_pJ, 6e6);
  t.is(c.cycles, 1300);
  t.true(Math.abs(c.edp_J_cycle - 6e-6 * 1300) < 1e-15);
  t.is(c.utilization, (0.5 * 100 + 1 * 1200) / 1300);
  // EDP-sum understates the EDP of the block.
  t.true(studyAggregate(layers, { printed: false }).edp < c.edp_J_cycle);
});

test("the two aggregates can rank design points in opposite orders", (t) => {
  // X: one fast expensive layer and one slow cheap one; Y: balanced.
  const X: LayerMetrics[] = [
    { layer: 'a', weight: 1, ok: true, energy_pJ: 10e6, cycles: 10, utilization: 1, edp_J_cycle: 10e-6 * 10 },
    { layer: 'b', weight: 1, ok: true, energy_pJ: 1e6, cycles: 100, utilization: 1, edp_J_cycle: 1e-6 * 100 },
  ];
  const Y: LayerMetrics[] = [
    { layer: 'a', weight: 1, ok: true, energy_pJ: 5e6, cycles: 50, utilization: 1, edp_J_cycle: 5e-6 * 50 },
    { layer: 'b', weight: 1, ok: true, energy_pJ: 5e6, cycles: 50, utilization: 1, edp_J_cycle: 5e-6 * 50 },
  ];
  t.true(studyAggregate(X, { printed: false }).edp < studyAggregate(Y, { printed: false }).edp); // 2e-4 < 5e-4
  t.true(correctAggregate(X).edp_J_cycle > correctAggregate(Y).edp_J_cycle); // 11e-6·110 > 10e-6·100
});

test('the study reads Timeloop-printed values: uJ to 2 decimals, % to 2 decimals, EDP to 3 significant digits', (t) => {
  const p = timeloopPrinted({ energy_pJ: 2303_234_567.8, cycles: 4456452, utilization: 0.941176, edp_J_cycle: 10264.9 });
  t.is(p.energy_pJ, 2303.23e6);
  t.is(p.cycles, 4456452);
  t.is(p.utilization_pct, 94.12);
  t.is(p.edp_J_cycle, 10300);
  const s = studyAggregate([{ layer: 'VScores', weight: 16, ok: true, energy_pJ: 2303_234_567.8, cycles: 4456452, utilization: 0.941176, edp_J_cycle: 10264.9 }]);
  t.is(s.energy, 16 * 2303.23e6);
  t.is(s.edp, 16 * 10300);
  t.is(s.utilization, 94.12);
});

test('a layer with no mapping: the study counts ∞ (and utilization 0 in the mean), the correct aggregate is ∞', (t) => {
  const failed: LayerMetrics[] = [layers[0], { layer: 'B', weight: 4, ok: false, energy_pJ: Infinity, cycles: Infinity, utilization: 0, edp_J_cycle: Infinity }];
  const s = studyAggregate(failed, { printed: false });
  t.deepEqual([s.energy, s.cycles, s.edp], [Infinity, Infinity, Infinity]);
  t.is(s.utilization, 50 / 5);
  t.is(correctAggregate(failed).edp_J_cycle, Infinity);
});

test('ranks and rank correlations', (t) => {
  t.deepEqual(ranks([30, 10, 20, 10]), [4, 1.5, 3, 1.5]);
  t.deepEqual(ranks([1, Infinity, 2]), [1, 3, 2]);
  t.is(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  t.is(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // d = (0, 0, 1, -1): 1 - 6·2 / (4·15) = 0.8
  t.true(Math.abs(spearman([1, 2, 3, 4], [1, 2, 4, 3]) - 0.8) < 1e-12);
  t.true(Math.abs(kendallTau([1, 2, 3, 4], [1, 2, 4, 3]) - 4 / 6) < 1e-12);
  t.deepEqual(paretoFront([{ x: 1, y: 5 }, { x: 2, y: 2 }, { x: 3, y: 3 }, { x: 5, y: 1 }, { x: Infinity, y: 0 }]), [0, 1, 3]);
});

test('PrettyTable centring: the odd space goes left for even-length text', (t) => {
  t.is(pyCenter('524288', 15), '     524288    ');
  t.is(pyCenter('32768', 16), '     32768      ');
  t.is(prettyTable(['a', 'bb'], [['1', '22']]), '+---+----+\n| a | bb |\n+---+----+\n| 1 | 22 |\n+---+----+');
  t.is(markdownTable(['A', 'B'], [['1', '2']]), '| A | B |\n| --- | --- |\n| 1 | 2 |');
});

test("summary table: the study's 2024-05-08 SUMMARY TABLE, byte for byte, from the 15 results in the file's order", (t) => {
  const text = readFileSync(join(referenceDir, 'hwdse_table_08-05-2024.txt'), 'utf8');
  const expected = text.slice(text.indexOf('SUMMARY TABLE:') + 'SUMMARY TABLE:\n'.length).trimEnd();
  const results = [...GEMMINI_HWDSE_TABLE_2024_05_08].sort((a, b) => a.listIndex - b.listIndex).map((r) => ({ config: r.config, metrics: r.study }));
  t.is(hwdseSummaryTable(results, GEMMINI_CONFIG_KEYS), expected);
  // Only the keys that differ from the first result are shown.
  const two = results.slice(1, 3).map((r) => ({ ...r, config: { ...r.config, scratchpad_size: 1, scratchpad_bandwidth: 1 } }));
  t.regex(hwdseSummaryTable(two, GEMMINI_CONFIG_KEYS).split('\n')[1], /^\| accumulator_bandwidth \| pe_rows \| pe_cols \| dataflow \| +energy +\|/);
});

test('Pareto SVG: one marker per finite point, the front filled, ∞ counted', (t) => {
  const svg = scatterSvg(
    [
      { name: 'expt', points: [{ x: 1, y: 5, label: '#1' }, { x: 2, y: 2, label: '#2' }, { x: 3, y: 3, label: '#3' }, { x: Infinity, y: 1, label: '#4' }] },
      { name: 'study', marker: 'square', points: [{ x: 1.5, y: 4, label: '#1' }] },
    ],
    { title: 'a < b', xLabel: 'cycles', yLabel: 'energy' },
  );
  t.true(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  t.true(svg.trimEnd().endsWith('</svg>'));
  t.is((svg.match(/<circle /g) ?? []).length, 3 + 1); // 3 points + legend
  t.is((svg.match(/\(Pareto\)/g) ?? []).length, 2);
  t.regex(svg, /a &lt; b/);
  t.regex(svg, /1 point\(s\) with no valid mapping not shown/);
});

test('comparison with the study: ranks, ratios and ρ (a run that equals the study has ρ = 1)', (t) => {
  const results = GEMMINI_HWDSE_TABLE_2024_05_08.map((r, index) => ({
    index,
    config: { ...r.config },
    layers: [],
    study: { ...r.study },
    correct: { energy_pJ: r.study.energy, cycles: r.study.cycles, utilization: r.study.utilization / 100, edp_J_cycle: r.study.energy * 1e-12 * r.study.cycles },
    notes: [],
    wallMs: 0,
  }));
  const c = compareWithStudy(results);
  t.is(c.rows.length, 15);
  t.is(c.rho, 1);
  t.is(c.rhoEnergy, 1);
  t.true(c.rows.every((r) => r.energyRatio === 1 && r.cyclesRatio === 1));
  // #2 and #3 tie in the study (EDP-sum 2,176,000): they share rank 2.5.
  t.deepEqual(
    c.rows.slice(0, 4).map((r) => r.studyRank),
    [1, 2.5, 2.5, 4],
  );
  // One config that failed on our side ranks last.
  results[0] = { ...results[0], study: { ...results[0].study, edp: Infinity } };
  const d = compareWithStudy(results);
  t.is(d.rows[0].oursRank, 15);
  t.is(d.mappedCount, 14);
  t.true(d.rho < 1);
  t.regex(comparisonMarkdown(d).split('\n')[2], /^\| 1 \| 32×16 WS, SP 512 KiB\/16, acc 32768\/4 \| 2\.0608e\+6 \| ∞ \| 15 \|/);
  t.true(hwdseParetoSvg(d).includes('study (2024-05-08)'));
});
