/**
 * Reports of the HW-DSE sweeps and the cross-architecture study, from their
 * cached `hwdse` / `cross-arch` results (never computes):
 *   - `hwdse-<experiment>.md` + `.csv`: one row per config, the config keys
 *     then energy, cycles, EDP, utilization under both aggregations, sorted
 *     by EDP (Σ energy × Σ cycles; configs without a mapping last), each row
 *     with its rank under the study's EDP-sum too; the study's own
 *     PrettyTable (sorted by EDP-sum, its format byte for byte); for
 *     Gemmini configs of the 2024-05-08 table, the comparison with it
 *     (ranks, ratios, Spearman / Kendall); and a Pareto chart
 *     `charts/hwdse-<experiment>-pareto.svg` (energy against cycles).
 *   - `cross-arch-<experiment>.md` + `.csv`: the study's results table
 *     (Comp | Arch | Mapper | EDP | Cycles | Energy | MSE Runtime), with
 *     the mappings each search evaluated in place of its wall time, so two
 *     cold runs write the same bytes (`expt show` keeps the wall times).
 */
import { ranks, spearman } from '../sweeps/aggregate.ts';
import { compareWithStudy, comparisonMarkdown, type StudyComparison } from './hwdse-comparison.ts';
import type { GemminiHwConfig } from '../sweeps/hwdse-configs.ts';
import type { HwdseConfigResult } from '../sweeps/hwdse.ts';
import { scatterSvg, type ScatterSeries } from './svg.ts';
import { markdownTable } from '../sweeps/table.ts';
import { crossArchMarkdown, type CrossArchAggregateResult } from '../pipeline/kinds/cross-arch.ts';
import { hwdsePrettyTable, layerMetrics, withInfinity, type HwdseAggregateResult, type HwdseConfigRow } from '../pipeline/kinds/hwdse.ts';
import { exponential, grouped, markdownCell, NO_MAPPING } from './format.ts';
import { csvText, type CsvValue } from './csv.ts';

const md = markdownCell;
const sci = (n: number | null) => exponential(n, NO_MAPPING);
const int = (n: number | null) => grouped(n, NO_MAPPING);

/** Config rows sorted by EDP (the correct one), ties by EDP-sum then config order; ∞ last. With both ranks (1 = best; ties share a mean rank). */
export function hwdseRanking(result: Pick<HwdseAggregateResult, 'configs'>): { row: HwdseConfigRow; rank: number; rankEdpSum: number }[] {
  const edp = result.configs.map((r) => withInfinity(r).correct.edp_J_cycle);
  const edpSum = result.configs.map((r) => withInfinity(r).study.edp);
  const rank = ranks(edp);
  const rankSum = ranks(edpSum);
  return result.configs
    .map((row, i) => ({ row, rank: rank[i], rankEdpSum: rankSum[i], i }))
    .sort((a, b) => a.rank - b.rank || a.rankEdpSum - b.rankEdpSum || a.i - b.i)
    .map(({ row, rank: r, rankEdpSum }) => ({ row, rank: r, rankEdpSum }));
}

/** The keys whose values differ between configs (the study's table shows only those), in the study's key order. */
function varyingKeys(result: Pick<HwdseAggregateResult, 'configs' | 'sweep'>): string[] {
  const value = (r: HwdseConfigRow, k: string) => (r.config as unknown as Record<string, unknown>)[k];
  return result.sweep.keys.filter((k) => result.configs.some((r) => value(r, k) !== value(result.configs[0], k)));
}

function failures(row: HwdseConfigRow): string {
  return row.layers
    .filter((l) => !l.ok)
    .map((l) => `${l.layer}: ${l.reason}`)
    .join('; ');
}

export function hwdseColumns(keys: readonly string[]): string[] {
  return [
    'rank',
    'rank_edp_sum',
    'config',
    ...keys,
    'energy_pJ',
    'cycles',
    'edp_J_cycle',
    'utilization',
    'study_energy_pJ',
    'study_cycles',
    'study_edp_sum_J_cycle',
    'study_utilization_pct',
    'status',
    'reason',
    'notes',
  ];
}

/** One row per config (see the module comment); ∞ written `inf`, as the study prints it. */
export function hwdseCsv(result: HwdseAggregateResult): string {
  const rows: Record<string, CsvValue>[] = hwdseRanking(result).map(({ row, rank, rankEdpSum }) => {
    const x = withInfinity(row);
    return {
      rank,
      rank_edp_sum: rankEdpSum,
      config: row.index,
      ...(row.config as unknown as Record<string, CsvValue>),
      energy_pJ: x.correct.energy_pJ,
      cycles: x.correct.cycles,
      edp_J_cycle: x.correct.edp_J_cycle,
      utilization: row.correct.utilization,
      study_energy_pJ: x.study.energy,
      study_cycles: x.study.cycles,
      study_edp_sum_J_cycle: x.study.edp,
      study_utilization_pct: row.study.utilization,
      status: failures(row) === '' ? 'ok' : 'infeasible',
      reason: failures(row),
      notes: row.notes.join('; '),
    };
  });
  return csvText(hwdseColumns(result.sweep.keys), rows);
}

/** The sweep's results as the library's `HwdseConfigResult`s (∞ restored), for the comparison with the study. */
function libraryResults(result: HwdseAggregateResult): HwdseConfigResult<GemminiHwConfig>[] {
  return result.configs.map((r) => {
    const x = withInfinity(r);
    return {
      index: r.index,
      config: r.config as GemminiHwConfig,
      layers: r.layers.map((l) => ({
        ...layerMetrics(l),
        variant: l.variant,
        macs: l.macs,
        ...(l.ok ? {} : { reason: l.reason }),
        wallMs: 0,
        reused: false,
      })),
      study: x.study,
      correct: x.correct,
      notes: r.notes,
      wallMs: 0,
    };
  });
}

/** The comparison with the study's 2024-05-08 table, when the sweep is Gemmini's and shares configs with it. */
export function hwdseStudyComparison(result: HwdseAggregateResult): StudyComparison | undefined {
  if (result.sweep.architecture !== 'gemmini') return undefined;
  const c = compareWithStudy(libraryResults(result));
  return c.rows.length > 0 ? c : undefined;
}

const rho = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');

/** Energy (uJ) against cycles under the correct aggregation, labelled by config; the study's points when compared. */
export function hwdseParetoChart(name: string, result: HwdseAggregateResult, comparison?: StudyComparison): string {
  const ours = result.configs.map((r) => ({ x: withInfinity(r).correct.cycles, y: withInfinity(r).correct.energy_pJ / 1e6, label: `c${r.index}` }));
  const series: ScatterSeries[] = [{ name: 'expt (Σ energy, Σ cycles)', points: ours }];
  if (comparison) {
    const key = (c: object) => JSON.stringify(c);
    const index = new Map(result.configs.map((r) => [key(r.config), r.index]));
    series.push({
      name: 'study (2024-05-08 table)',
      points: comparison.rows.map((r) => ({ x: r.study.study.cycles, y: r.study.study.energy / 1e6, label: `c${index.get(key(r.study.config)) ?? '?'}` })),
      marker: 'square',
    });
  }
  const layers = result.sweep.layers.map((l) => `${l.id}${l.weight !== 1 ? ` ×${l.weight}` : ''}`).join(' + ');
  return scatterSvg(series, { title: `HW-DSE ${name}: ${result.sweep.model} ${layers}`, xLabel: 'cycles', yLabel: 'energy (uJ)' });
}

export function hwdseMarkdown(name: string, description: string | undefined, result: HwdseAggregateResult, links: { csv: string; chart: string }, comparison?: StudyComparison): string {
  const s = result.sweep;
  const keys = varyingKeys(result);
  const mapper = s.mapper.algorithm === 'exhaustive' ? 'exhaustive search' : `local search, effort ${s.mapper.effort}, seed ${s.mapper.seed}, ${s.mapper.restarts} restarts`;
  const out: string[] = [
    `# HW-DSE: ${md(name)}`,
    '',
    ...(description ? [description, ''] : []),
    `- Architecture: ${s.architecture} (matmuls on ${s.architecture} variants, normalization ops on ${s.architecture}-no variants), ${result.configs.length} configs: ${md(s.source)}.`,
    `- Constraints: \`${s.mode}\` at \`${s.version}\`${s.beyondCacti === 'clamp' ? '; SRAMs beyond the CACTI runs priced as the deepest run (clamped)' : ''}.`,
    `- Layers: ${s.model} ${s.layers.map((l) => `${l.id} × ${l.weight}`).join(', ')}${s.ignoreHeads ? ' (ignoreHeads: per-head layers once)' : ''}.`,
    `- Mapper: ${mapper}, objective ${s.mapper.metrics.join(', ')}.`,
    `- ${result.totals.cells} cells (configs × layers), ${result.totals.tasks} distinct map tasks (identical variant × layer pairs are one task), ${result.totals.infeasible} without a mapping.`,
    `- [CSV](${links.csv}), [Pareto chart](${links.chart}).`,
    '',
    'Two aggregations per config:',
    '',
    "- **EDP** (correct): energy and cycles summed over the layers (× their weight: heads for the per-head layers), EDP = Σ energy × Σ cycles (the layers run one after the other), utilization = the cycle-weighted mean.",
    "- **EDP-sum** (the study's `hwdse_run.py`): every metric × weight summed over the layers, each as Timeloop prints it (energy in uJ to 2 decimals, EDP to 3 digits): its \"EDP\" is Σ weight · EDP_layer, its utilization the head-weighted mean of the percentages. EDP-sum ≤ EDP, and the two can rank configs differently.",
    '',
    'A config with a layer that has no mapping is ∞ (the study\'s `inf`) and ranks last.',
    '',
    '## Ranking by EDP',
    '',
  ];
  const header = ['rank', 'config', ...keys, 'energy (pJ)', 'cycles', 'EDP (J·cycle)', 'utilization', 'EDP-sum rank', 'study: energy (pJ)', 'cycles', 'EDP-sum (J·cycle)', 'utilization'];
  const rows = hwdseRanking(result).map(({ row, rank, rankEdpSum }) => {
    const cfg = row.config as unknown as Record<string, unknown>;
    const failed = failures(row);
    return [
      String(rank),
      `c${row.index}`,
      ...keys.map((k) => String(cfg[k])),
      sci(row.correct.energy_pJ),
      int(row.correct.cycles),
      sci(row.correct.edp_J_cycle),
      failed ? md(`no mapping: ${failed}`) : `${(row.correct.utilization * 100).toFixed(2)} %`,
      String(rankEdpSum),
      sci(row.study.energy),
      int(row.study.cycles),
      sci(row.study.edp),
      `${row.study.utilization.toFixed(3)} %`,
    ];
  });
  out.push(markdownTable(header, rows), '');
  const best = (f: (r: HwdseConfigRow) => number | null) => {
    const finite = result.configs.filter((r) => f(r) !== null);
    return finite.length === 0 ? 'none' : `c${finite.reduce((a, b) => (f(b)! < f(a)! ? b : a)).index}`;
  };
  out.push(
    `Best by EDP: ${best((r) => r.correct.edp_J_cycle)}; by EDP-sum: ${best((r) => r.study.edp)}; by energy: ${best((r) => r.correct.energy_pJ)}; by cycles: ${best((r) => r.correct.cycles)}.`,
    `Spearman's ρ between the EDP and the EDP-sum rankings: ${rho(spearman(result.configs.map((r) => withInfinity(r).correct.edp_J_cycle), result.configs.map((r) => withInfinity(r).study.edp)))}.`,
    '',
    "## The study's summary table",
    '',
    "`hwdse_run.py -t`: the keys that differ from config 0, then the study's aggregation (energy pJ, cycles, utilization %, EDP-sum), sorted by EDP-sum.",
    '',
    '```text',
    hwdsePrettyTable(result),
    '```',
    '',
  );
  if (comparison) {
    out.push(
      "## Comparison with the study's 2024-05-08 table",
      '',
      `${comparison.rows.length} of the configs are in the study's table (study-facts §7.2). Ranks among them (1 = best); energy × and cycles × are ours (EDP-sum aggregation) over the study's.`,
      '',
      comparisonMarkdown(comparison),
      '',
      `- Spearman's ρ of the EDP-sum ranking against the study's: ${rho(comparison.rho)} (Kendall's τ ${rho(comparison.tau)}); over the ${comparison.mappedCount} configs where every layer mapped: ${rho(comparison.rhoMapped)}.`,
      `- With the correct EDP on our side: ρ ${rho(comparison.rhoCorrect)}. Energy ranking: ρ ${rho(comparison.rhoEnergy)}.`,
      '',
    );
  }
  const unmapped = result.configs.filter((r) => failures(r) !== '');
  if (unmapped.length > 0) {
    out.push('## Configs without a mapping', '');
    for (const r of unmapped) out.push(`- c${r.index}: ${md(failures(r))}`);
    out.push('');
  }
  const notes = [...new Set(result.configs.flatMap((r) => r.notes))];
  if (notes.length > 0) {
    out.push('## Approximations', '');
    for (const n of notes) out.push(`- ${md(n)} (configs ${result.configs.filter((r) => r.notes.includes(n)).map((r) => `c${r.index}`).join(', ')})`);
    out.push('');
  }
  out.push(`![Pareto chart](${links.chart})`, '');
  return out.join('\n');
}

export const CROSS_ARCH_COLUMNS = ['comp', 'arch', 'mapper', 'edp_J_cycle', 'cycles', 'energy_uJ', 'evaluations', 'utilization', 'macs', 'kind', 'status', 'reason', 'time_bound', 'task'] as const;

export function crossArchCsv(result: CrossArchAggregateResult): string {
  return csvText(
    CROSS_ARCH_COLUMNS,
    result.cells.map((c) => ({ ...c, status: c.ok ? 'ok' : 'infeasible' })),
  );
}

export function crossArchReportMarkdown(name: string, description: string | undefined, result: CrossArchAggregateResult, csv: string): string {
  const s = result.study;
  const out = [
    `# Cross-architecture study: ${md(name)}`,
    '',
    ...(description ? [description, ''] : []),
    `- Mapper ${s.mapper}: ${md(s.description)}; objective ${s.gemm.metrics.join(', ')}.${s.conv.budgetMs !== undefined && result.cells.some((c) => c.kind === 'conv') ? ` Convolutions stop on a ${s.conv.budgetMs / 1000} s time budget (†): their results depend on the machine.` : ''}`,
    "- Constraints: each preset's own (for Gemmini the study's constraints.yaml); convolutions, written in the study's letters, also get the study's R/S/Q/N constraints.",
    `- ${result.totals.cells} cells, ${result.totals.infeasible} without a mapping (N/A). MSE Evaluations: the mappings each search evaluated, in place of the study's MSE Runtime: a wall time differs on every run, a report must not (each search's wall time: \`expt show cross-arch:${md(name)}\`).`,
    `- [CSV](${csv}).`,
    '',
    "The study's table (`fetch_experiments_across_archs_results.py`; EDP as Timeloop prints it, energy in uJ):",
    '',
    crossArchMarkdown(result.cells, 'evaluations'),
    '',
  ];
  const unmapped = result.cells.filter((c) => !c.ok);
  if (unmapped.length > 0) {
    out.push('## Cells without a mapping', '');
    for (const c of unmapped) out.push(`- ${md(c.comp)} on ${md(c.arch)}: ${md(c.reason)}`);
    out.push('');
  }
  return out.join('\n');
}
