/**
 * Comparing a HW-DSE run with the study's 2024-05-08 table: per config the
 * two rankings (by the study's EDP-sum and by the correct EDP), the ratios
 * of energy and cycles to the study's, and the rank correlations; plus the
 * Pareto plot of a run (energy against cycles) with the study's points.
 */
import { kendallTau, ranks, spearman } from '../sweeps/aggregate.ts';
import type { CorrectAggregate, StudyAggregate } from '../sweeps/aggregate.ts';
import { GEMMINI_HWDSE_TABLE_2024_05_08, type GemminiHwConfig, type StudyHwdseMetrics, type StudyHwdseRow } from '../sweeps/hwdse-configs.ts';
import type { HwdseConfigResult } from '../sweeps/hwdse.ts';
import { markdownTable } from '../sweeps/table.ts';
import { exponential, fixedOrInfinite, NO_MAPPING } from './format.ts';
import { scatterSvg, type ScatterSeries } from './svg.ts';

export interface ComparisonRow {
  readonly study: StudyHwdseRow;
  /** Our result for the same config (the study's aggregation). */
  readonly ours: StudyAggregate;
  readonly correct: CorrectAggregate;
  /** Ranks among the compared configs (1 = best EDP; ties share a mean rank; ∞ last). */
  readonly studyRank: number;
  readonly oursRank: number;
  readonly correctRank: number;
  readonly energyRatio: number;
  readonly cyclesRatio: number;
  /** Layers that found no mapping, with why. */
  readonly failures: readonly string[];
  /** Per layer: cycles of one instance. */
  readonly layerCycles: Readonly<Record<string, number>>;
}

export interface StudyComparison {
  readonly rows: readonly ComparisonRow[];
  /** Spearman's ρ of our EDP-sum ranking against the study's, over every compared config (∞ ranks last). */
  readonly rho: number;
  readonly tau: number;
  /** The same with the correct EDP (Σ energy × Σ cycles) on our side. */
  readonly rhoCorrect: number;
  /** ρ over the configs where every layer mapped on our side. */
  readonly rhoMapped: number;
  readonly mappedCount: number;
  /** ρ of the energy rankings (the study's summed energy against ours), every config. */
  readonly rhoEnergy: number;
}

const key = (c: object) => JSON.stringify(Object.entries(c).sort(([a], [b]) => a.localeCompare(b)));

/** Pairs each result with the study's row of the same config (results without one are left out). */
export function compareWithStudy(results: readonly HwdseConfigResult<GemminiHwConfig>[], table: readonly StudyHwdseRow[] = GEMMINI_HWDSE_TABLE_2024_05_08): StudyComparison {
  const pairs = table
    .map((s) => ({ s, r: results.find((r) => key(r.config) === key(s.config)) }))
    .filter((p): p is { s: StudyHwdseRow; r: HwdseConfigResult<GemminiHwConfig> } => p.r !== undefined);
  const studyEdp = pairs.map((p) => p.s.study.edp);
  const oursEdp = pairs.map((p) => p.r.study.edp);
  const correctEdp = pairs.map((p) => p.r.correct.edp_J_cycle);
  const sr = ranks(studyEdp);
  const or = ranks(oursEdp);
  const cr = ranks(correctEdp);
  const rows: ComparisonRow[] = pairs.map((p, i) => ({
    study: p.s,
    ours: p.r.study,
    correct: p.r.correct,
    studyRank: sr[i],
    oursRank: or[i],
    correctRank: cr[i],
    energyRatio: p.r.study.energy / p.s.study.energy,
    cyclesRatio: p.r.study.cycles / p.s.study.cycles,
    failures: p.r.layers.filter((l) => !l.ok).map((l) => `${l.layer}: ${l.reason ?? 'no mapping'}`),
    layerCycles: Object.fromEntries(p.r.layers.map((l) => [l.layer, l.cycles])),
  }));
  const mapped = pairs.map((p, i) => i).filter((i) => Number.isFinite(oursEdp[i]));
  return {
    rows,
    rho: spearman(oursEdp, studyEdp),
    tau: kendallTau(oursEdp, studyEdp),
    rhoCorrect: spearman(correctEdp, studyEdp),
    rhoMapped: spearman(
      mapped.map((i) => oursEdp[i]),
      mapped.map((i) => studyEdp[i]),
    ),
    mappedCount: mapped.length,
    rhoEnergy: spearman(
      pairs.map((p) => p.r.study.energy),
      pairs.map((p) => p.s.study.energy),
    ),
  };
}

const num = (x: number, digits = 3) => fixedOrInfinite(x, digits);
const exp = (x: number) => exponential(Number.isFinite(x) ? x : null, NO_MAPPING);

/** The comparison as a Markdown table, in the study's order. */
export function comparisonMarkdown(c: StudyComparison): string {
  return markdownTable(
    ['study #', 'config', 'study EDP-sum', 'expt EDP-sum', 'expt rank', 'expt EDP (correct)', 'correct rank', 'energy ×', 'cycles ×', 'KTQ / VScores / softmax cycles', 'note'],
    c.rows.map((r) => {
      const cf = r.study.config;
      return [
        String(r.study.rank),
        `${cf.pe_rows}×${cf.pe_cols} ${cf.dataflow}, SP ${cf.scratchpad_size / 1024} KiB/${cf.scratchpad_bandwidth}, acc ${cf.accumulator_size}/${cf.accumulator_bandwidth}`,
        exp(r.study.study.edp),
        exp(r.ours.edp),
        String(r.oursRank),
        exp(r.correct.edp_J_cycle),
        String(r.correctRank),
        num(r.energyRatio),
        num(r.cyclesRatio, 4),
        Object.values(r.layerCycles)
          .map((x) => (Number.isFinite(x) ? String(x) : '—'))
          .join(' / '),
        r.failures.join('; '),
      ];
    }),
  );
}

/** Energy (uJ, all layers × heads) against cycles, ours and (optionally) the study's, labelled by the study's rank. */
export function hwdseParetoSvg(c: StudyComparison, options: { title?: string; withStudy?: boolean; aggregation?: 'study' | 'correct' } = {}): string {
  const agg = options.aggregation ?? 'correct';
  const ours = c.rows.map((r) => ({
    x: agg === 'correct' ? r.correct.cycles : r.ours.cycles,
    y: (agg === 'correct' ? r.correct.energy_pJ : r.ours.energy) / 1e6,
    label: `#${r.study.rank}`,
  }));
  const series: ScatterSeries[] = [{ name: agg === 'correct' ? 'expt' : 'expt (study aggregation)', points: ours }];
  if (options.withStudy ?? true) {
    series.push({ name: 'study (2024-05-08)', points: c.rows.map((r) => ({ x: r.study.study.cycles, y: r.study.study.energy / 1e6, label: `#${r.study.rank}` })), marker: 'square' });
  }
  return scatterSvg(series, {
    title: options.title ?? 'HW-DSE: BERT-large KTQ + VScores + softmax × 16 heads',
    xLabel: 'cycles',
    yLabel: 'energy (uJ)',
  });
}

/** The study's metrics of a run's results, for {@link hwdseSummaryTable}. */
export function summaryRows<C>(results: readonly HwdseConfigResult<C>[]): { config: C; metrics: StudyHwdseMetrics }[] {
  return results.map((r) => ({ config: r.config, metrics: r.study }));
}

