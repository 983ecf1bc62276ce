/**
 * Reports from the cache only (never computes), from each experiment's
 * cached `aggregate` result:
 *   - `layers.csv`: one row per cell of every complete experiment;
 *   - `models.csv` + `models.md`: per (model, architecture, fusion level)
 *     the per-block and whole-model totals (× instances per block, × blocks);
 *   - `fusion.csv` + `fusion.md`: per fused-pair cell, fused vs unfused pair
 *     energy and the savings;
 *   - `fusion-joint.md/.csv` + `fusion-joint-front.csv` (when an experiment
 *     asks for joint fusion): per (model, architecture) the block alone,
 *     under each study rewrite level and jointly, and the joint Pareto front;
 *   - `charts/<experiment>-energy-by-layer.svg` (each model's energy split
 *     by layer), `charts/<experiment>-fusion-savings.svg`,
 *     `charts/<experiment>-fusion-joint.svg` and `-fusion-joint-front.svg`;
 *   - HW-DSE sweeps and the cross-architecture study (studies.ts):
 *     `hwdse-<experiment>.md/.csv` with `charts/hwdse-<experiment>-pareto.svg`,
 *     `cross-arch-<experiment>.md/.csv`;
 *   - `index.md`: status of every experiment and links to all of the above.
 * The output depends on the cached results alone — no timestamps, no
 * durations — so an interrupted-then-resumed run writes the same bytes as an
 * uninterrupted one.
 */
import type { Cache } from '../build/cache.ts';
import type { LoadedConfig } from '../pipeline/config.ts';
import type { Expansion, StudyKind } from '../pipeline/expand.ts';
import type { CrossArchAggregateResult } from '../pipeline/kinds/cross-arch.ts';
import type { HwdseAggregateResult } from '../pipeline/kinds/hwdse.ts';
import { crossArchCsv, crossArchReportMarkdown, hwdseCsv, hwdseMarkdown, hwdseParetoChart, hwdseRanking, hwdseStudyComparison } from './studies.ts';
import type { TaskGraph } from '../build/graph.ts';
import type { AggregateResult, JointRow, LayerRow, ModelRow, PairRow } from '../pipeline/kinds/aggregate.ts';
import { exponential, grouped, markdownCell, MISSING, NO_MAPPING, percent } from './format.ts';
import { csvText, type CsvValue } from './csv.ts';
import { energyText, scatterSvg, signedBarChart, stackedBarChart } from './svg.ts';
import { commitReports } from './folder.ts';

export const LAYER_COLUMNS = [
  'experiment',
  'model',
  'layer',
  'arch',
  'fusion',
  'variant',
  'macs',
  'energy_pJ',
  'pJ_per_mac',
  'cycles',
  'utilization',
  'edp_J_cycle',
  'status',
  'reason',
  'hw',
  'fusion_mode',
  'fusion_flags',
  'per_block',
  'blocks',
  'energy_breakdown_pJ',
  'mapping',
  'task',
] as const;

export const MODEL_COLUMNS = [
  'experiment',
  'model',
  'arch',
  'fusion',
  'fusion_mode',
  'fusion_flags',
  'status',
  'reason',
  'fused_layers',
  'layers',
  'blocks',
  'block_macs',
  'block_normops',
  'block_energy_pJ',
  'block_cycles',
  'model_macs',
  'model_normops',
  'model_energy_pJ',
  'model_cycles',
  'model_edp_J_cycle',
  'pJ_per_mac',
] as const;

export const JOINT_COLUMNS = [
  'experiment',
  'model',
  'arch',
  'method',
  'level',
  'status',
  'reason',
  'blocks',
  'block_energy_pJ',
  'block_cycles',
  'block_edp_J_cycle',
  'block_dram_words',
  'model_energy_pJ',
  'model_edp_J_cycle',
  'fused',
  'task',
] as const;

export const JOINT_FRONT_COLUMNS = ['experiment', 'model', 'arch', 'block_energy_pJ', 'block_cycles', 'block_edp_J_cycle', 'fused'] as const;

export const FUSION_COLUMNS = [
  'experiment',
  'model',
  'arch',
  'pair',
  'fusion',
  'fusion_mode',
  'fusion_flags',
  'per_block',
  'blocks',
  'status',
  'reason',
  'unfused_energy_pJ',
  'fused_energy_pJ',
  'savings_pJ',
  'savings_pct',
  'unfused_matmul_energy_pJ',
  'unfused_normop_energy_pJ',
  'fused_matmul_energy_pJ',
  'fused_normop_energy_pJ',
  'unfused_cycles_sequential',
  'fused_cycles_sequential',
  'fused_cycles_overlapped',
  'block_savings_pJ',
  'model_savings_pJ',
  'task',
] as const;

export interface ExperimentReport {
  name: string;
  description?: string;
  /** Cells and distinct map tasks of the experiment. */
  cells: number;
  tasks: number;
  /** Distinct map tasks with a cached result. */
  cachedTasks: number;
  complete: boolean;
  /** A matrix / jobs experiment's aggregate. */
  result?: AggregateResult;
  study?: StudyKind;
  /** A HW-DSE sweep's aggregate. */
  hwdse?: HwdseAggregateResult;
  /** The cross-architecture study's aggregate. */
  crossArch?: CrossArchAggregateResult;
}

/** The per-cell rows of any experiment (matrix, jobs, sweep, cross-architecture). */
function rowsOf(r: ExperimentReport): readonly LayerRow[] {
  return r.result?.rows ?? r.hwdse?.rows ?? r.crossArch?.rows ?? [];
}

function totalsOf(r: ExperimentReport): AggregateResult['totals'] | undefined {
  return r.result?.totals ?? r.hwdse?.totals ?? r.crossArch?.totals;
}

export interface ReportOutcome {
  dir: string;
  files: string[];
  experiments: ExperimentReport[];
}

export function collectReports(expansion: Expansion, graph: TaskGraph, cache: Cache): ExperimentReport[] {
  return expansion.experiments.map((exp) => {
    const tasks = [...new Set(exp.cells.map((c) => graph.get(c.task)!.id))].map((id) => graph.get(id)!);
    const cachedTasks = tasks.filter((t) => cache.has(t.kind, t.key)).length;
    const agg = graph.get(exp.aggregate);
    const hit = agg ? cache.get(agg.kind, agg.key) : undefined;
    const value = hit?.ok ? hit.result : undefined;
    const base = { name: exp.name, description: exp.description, cells: exp.cells.length, tasks: tasks.length, cachedTasks, complete: value !== undefined };
    if (exp.study === 'hwdse') return { ...base, study: exp.study, ...(value !== undefined ? { hwdse: value as HwdseAggregateResult } : {}) };
    if (exp.study === 'cross-arch') return { ...base, study: exp.study, ...(value !== undefined ? { crossArch: value as CrossArchAggregateResult } : {}) };
    return { ...base, ...(value !== undefined ? { result: value as AggregateResult } : {}) };
  });
}

function breakdownText(b: Record<string, number>): string {
  return Object.entries(b)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
}

export function layersCsv(reports: readonly ExperimentReport[]): string {
  const rows: Record<string, CsvValue>[] = [];
  for (const r of reports) {
    for (const row of rowsOf(r)) {
      const { energy_breakdown_pJ, ...rest } = row;
      rows.push({ ...rest, energy_breakdown_pJ: breakdownText(energy_breakdown_pJ) });
    }
  }
  return csvText(LAYER_COLUMNS, rows);
}

export function modelsCsv(reports: readonly ExperimentReport[]): string {
  const rows: Record<string, CsvValue>[] = [];
  for (const r of reports) {
    for (const m of r.result?.models ?? []) {
      const { energy_by_layer_pJ: _byLayer, layers, fused_layers, ...rest } = m;
      rows.push({ ...rest, fused_layers: fused_layers.join(' '), layers: layers.join(' ') });
    }
  }
  return csvText(MODEL_COLUMNS, rows);
}

export function fusionCsv(reports: readonly ExperimentReport[]): string {
  const rows: Record<string, CsvValue>[] = [];
  for (const r of reports) for (const p of r.result?.pairs ?? []) rows.push({ ...p });
  return csvText(FUSION_COLUMNS, rows);
}

export function jointCsv(reports: readonly ExperimentReport[]): string {
  const rows: Record<string, CsvValue>[] = [];
  for (const r of reports) for (const j of r.result?.joint ?? []) rows.push({ ...j });
  return csvText(JOINT_COLUMNS, rows);
}

export function jointFrontCsv(reports: readonly ExperimentReport[]): string {
  const rows: Record<string, CsvValue>[] = [];
  for (const r of reports) for (const f of r.result?.joint_front ?? []) rows.push({ ...f });
  return csvText(JOINT_FRONT_COLUMNS, rows);
}

const sci = (n: number | null | undefined) => exponential(n, MISSING);
const int = (n: number | null | undefined) => grouped(n, MISSING);
const pct = (n: number | null | undefined) => percent(n, MISSING);
const md = markdownCell;
const fusionLabel = (fusion: string, mode: string, flags: string) => (fusion === 'none' ? 'none' : `${fusion}${mode ? ` (${mode}${flags ? ` ${flags}` : ''})` : ''}`);

export function layerTableMarkdown(rows: readonly LayerRow[]): string[] {
  const out = ['| model | layer | arch | fusion | variant | runs on | MACs | energy (pJ) | pJ/MAC | cycles | utilization | EDP (J·cycle) |', '| --- | --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const row of rows) {
    const cells = [row.model, row.layer, row.arch, row.fusion, row.variant, row.hw].map(md).join(' | ');
    if (row.status !== 'ok') {
      out.push(`| ${cells} | ${int(row.macs)} | infeasible: ${md(row.reason)} | | | | | |`);
      continue;
    }
    out.push(`| ${cells} | ${int(row.macs)} | ${sci(row.energy_pJ)} | ${row.pJ_per_mac!.toFixed(3)} | ${int(row.cycles)} | ${(row.utilization! * 100).toFixed(2)} % | ${sci(row.edp_J_cycle)} |`);
  }
  return out;
}

export function modelTableMarkdown(models: readonly ModelRow[]): string[] {
  const out = [
    '| model | arch | fusion | block energy (pJ) | block cycles | blocks | model energy (pJ) | model cycles | model EDP (J·cycle) | pJ/MAC |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const m of models) {
    const head = `| ${md(m.model)} | ${md(m.arch)} | ${md(fusionLabel(m.fusion, m.fusion_mode, m.fusion_flags))} |`;
    if (m.status === 'infeasible') {
      out.push(`${head} infeasible: ${md(m.reason)} | | ${m.blocks} | | | | |`);
      continue;
    }
    const note = m.status === 'partial' ? ` (partial: ${md(m.reason)})` : '';
    out.push(`${head} ${sci(m.block_energy_pJ)}${note} | ${int(m.block_cycles)} | ${m.blocks} | ${sci(m.model_energy_pJ)} | ${int(m.model_cycles)} | ${sci(m.model_edp_J_cycle)} | ${m.pJ_per_mac === null ? MISSING : m.pJ_per_mac.toFixed(3)} |`);
  }
  return out;
}

export function fusionTableMarkdown(pairs: readonly PairRow[]): string[] {
  const out = [
    '| model | arch | pair | fusion | unfused (pJ) | fused (pJ) | savings | fused matmul (pJ) | fused NO (pJ) | per block | savings per model (pJ) |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const p of pairs) {
    const head = `| ${md(p.model)} | ${md(p.arch)} | ${md(p.pair)} | ${md(fusionLabel(p.fusion, p.fusion_mode, p.fusion_flags))} |`;
    if (p.status !== 'ok') {
      out.push(`${head} ${sci(p.unfused_energy_pJ)} | infeasible: ${md(p.reason)} | | | | ${p.per_block} | |`);
      continue;
    }
    out.push(`${head} ${sci(p.unfused_energy_pJ)} | ${sci(p.fused_energy_pJ)} | ${pct(p.savings_pct)} | ${sci(p.fused_matmul_energy_pJ)} | ${sci(p.fused_normop_energy_pJ)} | ${p.per_block} | ${sci(p.model_savings_pJ)} |`);
  }
  return out;
}

export function modelsMarkdown(reports: readonly ExperimentReport[]): string {
  const out = [
    '# Per-block and whole-model totals',
    '',
    'Each layer\'s cost × its instances per block (heads × batch for KTQ, softmax, VScores; 1 otherwise) summed over the block, × blocks for the model.',
    'At a fusion level the fused pairs\' layers are taken fused (matmul and normalization op each mapped under the fused constraints), the other layers unfused; a pair that cannot be fused at that level (no valid mapping) is counted unfused and named (partial), and a level where no pair can be fused is infeasible.',
    'Cycles are summed layer after layer (no overlap between layers or between the two sides of a fused pair): an upper bound for fused pairs, whose energy alone is an estimate.',
    '',
  ];
  for (const r of reports) {
    const models = r.result?.models ?? [];
    if (models.length === 0) continue;
    out.push(`## ${md(r.name)}`, '', ...modelTableMarkdown(models), '');
  }
  if (out.length === 6) out.push('No complete experiment has a model matrix (models × layers).', '');
  return out.join('\n');
}

export function fusionMarkdown(reports: readonly ExperimentReport[]): string {
  const out = [
    '# Fusion: fused vs unfused pairs',
    '',
    'A fused pair = the matmul mapped under the fusion-rewritten constraints + the normalization op mapped under its own (src/fusion); the unfused pair = the same two layers unfused.',
    'Energies are for one instance of the pair (one head for KTQ→softmax); "per block" is the instances per block; the model savings are × per block × blocks.',
    'Fusion at DRAM is no fusion (0 % by construction). A fused cell without any valid mapping is listed as infeasible with the reason.',
    '',
  ];
  for (const r of reports) {
    const pairs = r.result?.pairs ?? [];
    if (pairs.length === 0) continue;
    out.push(`## ${md(r.name)}`, '', ...fusionTableMarkdown(pairs), '');
  }
  if (out.length === 6) out.push('No complete experiment has fused pairs.', '');
  return out.join('\n');
}

/** Per (model, arch): the block alone, under each study rewrite level, and jointly. */
export function jointTableMarkdown(rows: readonly JointRow[]): string[] {
  const out = ['| model | arch | method | block energy (pJ) | block cycles | block EDP (J·cycle) | vs alone | DRAM words | fused |', '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |'];
  for (const j of rows) {
    const alone = rows.find((x) => x.model === j.model && x.arch === j.arch && x.method === 'alone');
    const ratio = j.block_edp_J_cycle !== null && alone?.block_edp_J_cycle ? j.block_edp_J_cycle / alone.block_edp_J_cycle - 1 : null;
    const how = j.method === 'rewrite' ? `study rewrite @ ${j.level}` : j.method;
    out.push(
      j.status === 'ok'
        ? `| ${md(j.model)} | ${md(j.arch)} | ${md(how)} | ${sci(j.block_energy_pJ)} | ${int(j.block_cycles)} | ${sci(j.block_edp_J_cycle)} | ${ratio === null ? MISSING : pct(100 * ratio)} | ${sci(j.block_dram_words)} | ${md([j.fused, j.reason].filter((x) => x !== '').join('; ') || '-')} |`
        : `| ${md(j.model)} | ${md(j.arch)} | ${md(how)} | ${MISSING} | ${MISSING} | ${MISSING} | ${MISSING} | ${MISSING} | infeasible: ${md(j.reason)} |`,
    );
  }
  return out;
}

export function jointMarkdown(reports: readonly ExperimentReport[]): string {
  const out = [
    '# Joint fusion of whole blocks',
    '',
    'Per model and architecture, one block three ways: every layer alone (the experiment\'s unfused cells), the study\'s method at each rewrite level asked for (each fused pair\'s two layers mapped on their own under the rewritten constraints, the other layers alone), and the joint search (src/fusion/joint.ts): which tensors to fuse, at which level, and every layer\'s mapping chosen together, each layer a Timeloop mapping evaluated by the exact model, the capacity of every memory shared by what the fused layers hold at once.',
    'Block = each layer × its instances per block; cycles are summed layer after layer; EDP = block energy × block cycles. "vs alone" is the change in block EDP. DRAM words: reads, fills and updates of the outermost level. `expt show joint:...` prints the fused loop nests side by side; the joint search\'s energy–cycles Pareto front is in [fusion-joint-front.csv](fusion-joint-front.csv).',
    '',
  ];
  let any = false;
  for (const r of reports) {
    const rows = r.result?.joint ?? [];
    if (rows.length === 0) continue;
    any = true;
    out.push(`## ${md(r.name)}`, '', ...jointTableMarkdown(rows), '');
  }
  if (!any) out.push('No complete experiment asks for joint fusion (`fusion: [..., \'joint\']`).', '');
  return out.join('\n');
}

/** Block EDP of each way against the block alone, in %. */
export function jointChart(r: ExperimentReport): string | undefined {
  const rows = (r.result?.joint ?? []).filter((j) => j.method !== 'alone');
  if (rows.length === 0) return undefined;
  const all = r.result!.joint;
  return signedBarChart({
    title: `${r.name}: block EDP saved by fusing, study rewrite vs joint search`,
    subtitle: 'Positive: the block costs less EDP than with every layer alone. Infeasible blocks have no bar.',
    unit: '%',
    clip: [-100, 100],
    bars: rows.map((j) => {
      const alone = all.find((x) => x.model === j.model && x.arch === j.arch && x.method === 'alone');
      const saved = j.block_edp_J_cycle !== null && alone?.block_edp_J_cycle ? 100 * (1 - j.block_edp_J_cycle / alone.block_edp_J_cycle) : null;
      return { label: `${j.model} / ${j.arch} / ${j.method === 'rewrite' ? `rewrite @ ${j.level}` : 'joint'}`, value: saved, note: saved === null ? 'infeasible' : pct(saved) };
    }),
  });
}

/**
 * The joint search's energy–cycles Pareto front of each block, relative to
 * the block with every layer alone (1, 1): one series per (model, arch).
 */
export function jointFrontChart(r: ExperimentReport): string | undefined {
  const result = r.result;
  if (!result || result.joint_front.length === 0) return undefined;
  const blocks = [...new Set(result.joint_front.map((f) => `${f.model}\u0000${f.arch}`))];
  const series = blocks.map((b) => {
    const [model, arch] = b.split('\u0000');
    const alone = result.joint.find((j) => j.model === model && j.arch === arch && j.method === 'alone');
    const e = alone?.block_energy_pJ ?? NaN;
    const c = alone?.block_cycles ?? NaN;
    return {
      name: `${model} / ${arch}`,
      points: result.joint_front.filter((f) => f.model === model && f.arch === arch).map((f) => ({ x: f.block_cycles / c, y: f.block_energy_pJ / e, label: f.fused || 'nothing fused' })),
    };
  });
  return scatterSvg(series, {
    title: `${r.name}: joint fusion, each block's energy–cycles Pareto front (relative to every layer alone)`,
    xLabel: 'block cycles / cycles with every layer alone',
    yLabel: 'block energy / energy with every layer alone',
  });
}

/** Each (model, arch) at fusion none: the whole model's energy split by layer. */
export function energyByLayerChart(r: ExperimentReport): string | undefined {
  const models = (r.result?.models ?? []).filter((m) => m.fusion === 'none');
  if (models.length === 0) return undefined;
  const keys = [...new Set(models.flatMap((m) => m.layers))];
  return stackedBarChart({
    title: `${r.name}: whole-model energy by layer (unfused)`,
    subtitle: 'Share of each layer in the model\'s energy (× instances per block × blocks); the total is printed right of the bar.',
    keys,
    bars: models.map((m) => ({
      label: `${m.model} / ${m.arch}`,
      segments: m.energy_by_layer_pJ,
      note: m.status === 'ok' ? energyText(m.model_energy_pJ ?? 0) : 'infeasible',
    })),
  });
}

/** Savings of every fused-pair cell, in % of the unfused pair's energy. */
export function fusionSavingsChart(r: ExperimentReport): string | undefined {
  const pairs = r.result?.pairs ?? [];
  if (pairs.length === 0) return undefined;
  return signedBarChart({
    title: `${r.name}: energy saved by fusing (fused vs unfused pair)`,
    subtitle: 'Positive: the fused pair costs less energy than the two layers unfused. Axis clipped at -100 % (arrow); infeasible cells have no bar.',
    unit: '%',
    clip: [-100, 100],
    bars: pairs.map((p) => ({
      label: `${p.model} / ${p.arch} / ${p.pair} @ ${p.fusion}`,
      value: p.status === 'ok' ? p.savings_pct : null,
      note: p.status === 'ok' ? `${pct(p.savings_pct)}` : 'infeasible (see fusion.md)',
    })),
  });
}

export interface ReportLinks {
  /** Experiment → its HW-DSE or cross-architecture report files (Markdown, CSV, chart). */
  studies?: Map<string, { md: string; csv: string; chart?: string }>;
  layersCsv: string;
  modelsCsv: string;
  modelsMd: string;
  fusionCsv: string;
  fusionMd: string;
  /** Joint fusion of whole blocks, when an experiment asks for it. */
  jointMd?: string;
  jointCsv?: string;
  /** Experiment → chart files (relative to the reports folder). */
  charts: Map<string, string[]>;
}

export function indexMarkdown(reports: readonly ExperimentReport[], links: ReportLinks | string): string {
  const l: ReportLinks =
    typeof links === 'string' ? { layersCsv: links, modelsCsv: 'models.csv', modelsMd: 'models.md', fusionCsv: 'fusion.csv', fusionMd: 'fusion.md', charts: new Map() } : links;
  const out: string[] = [
    '# expt reports',
    '',
    `- [Per-layer table (CSV)](${l.layersCsv}): one row per cell of every complete experiment (infeasible cells with their reason).`,
    `- [Per-block and whole-model totals](${l.modelsMd}) ([CSV](${l.modelsCsv})).`,
    `- [Fusion comparison: fused vs unfused pairs](${l.fusionMd}) ([CSV](${l.fusionCsv})).`,
    ...(l.jointMd ? [`- [Joint fusion of whole blocks: alone vs study rewrite vs joint](${l.jointMd}) ([CSV](${l.jointCsv}), [Pareto fronts](fusion-joint-front.csv)).`] : []),
  ];
  for (const [exp, f] of l.studies ?? []) {
    const what = reports.find((r) => r.name === exp)?.study === 'hwdse' ? 'HW-DSE sweep' : 'Cross-architecture study';
    out.push(`- ${what} ${md(exp)}: [${f.md}](${f.md}) ([CSV](${f.csv})${f.chart ? `, [Pareto chart](${f.chart})` : ''}).`);
  }
  for (const [exp, files] of l.charts) for (const f of files) out.push(`- Chart (${md(exp)}): [${f}](${f})`);
  out.push('');
  out.push('| experiment | status | cells | tasks | infeasible | energy (pJ) | cycles | Σ EDP (J·cycle) |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of reports) {
    const t = totalsOf(r);
    const status = r.complete ? 'complete' : `incomplete: ${r.cachedTasks}/${r.tasks} tasks cached`;
    out.push(`| ${md(r.name)} | ${status} | ${r.cells} | ${r.tasks} | ${t ? t.infeasible : ''} | ${t ? sci(t.energy_pJ) : ''} | ${t ? int(t.cycles) : ''} | ${t ? sci(t.edp_sum_J_cycle) : ''} |`);
  }
  out.push('', 'Energy, cycles and Σ EDP sum the feasible cells once each (no multiplicities); see the model totals for per-block and whole-model numbers.', '');
  for (const r of reports) {
    out.push(`## ${md(r.name)}`, '');
    if (r.description) out.push(r.description, '');
    if (!r.complete) {
      out.push(`Not complete: ${r.cachedTasks} of ${r.tasks} tasks have results. Run \`expt run ${r.name}\` (and \`expt plan ${r.name}\` to see why tasks are missing).`, '');
      continue;
    }
    const study = l.studies?.get(r.name);
    if (r.hwdse && study) {
      const top = hwdseRanking(r.hwdse).slice(0, 3);
      out.push(
        `HW-DSE of ${r.hwdse.configs.length} configs (${md(r.hwdse.sweep.source)}): [report](${study.md}), [CSV](${study.csv}), [Pareto chart](${study.chart}).`,
        `Best by EDP (Σ energy × Σ cycles): ${top.map((x) => `c${x.row.index} (${exponential(x.row.correct.edp_J_cycle, NO_MAPPING)} J·cycle, EDP-sum rank ${x.rankEdpSum})`).join(', ')}.`,
        '',
      );
      continue;
    }
    if (r.crossArch && study) {
      out.push(`${r.crossArch.totals.cells} cells with mapper ${r.crossArch.study.mapper}, ${r.crossArch.totals.infeasible} without a mapping: [report](${study.md}), [CSV](${study.csv}).`, '');
      continue;
    }
    if (!r.result) continue;
    for (const f of l.charts.get(r.name) ?? []) out.push(`![${md(r.name)} chart](${f})`, '');
    if (r.result.models.length > 0) out.push('### Model totals', '', ...modelTableMarkdown(r.result.models), '');
    if (r.result.pairs.length > 0) out.push('### Fused pairs', '', ...fusionTableMarkdown(r.result.pairs), '');
    if (r.result.joint.length > 0) out.push('### Joint fusion (one block)', '', ...jointTableMarkdown(r.result.joint), '');
    out.push('### Layers', '', ...layerTableMarkdown(r.result.rows), '');
  }
  return out.join('\n');
}

/**
 * Writes every report from the cached results. All files are built first
 * (from results whose shape the cache checked: a malformed one is a miss,
 * the experiment incomplete), then swapped in together (folder.ts): an
 * error while building leaves the previous reports as they were.
 */
export function writeReports(loaded: LoadedConfig, expansion: Expansion, graph: TaskGraph, cache: Cache): ReportOutcome {
  const experiments = collectReports(expansion, graph, cache);
  const dir = loaded.reportsDir;
  const files = new Map<string, string>();
  const write = (name: string, text: string) => void files.set(name, text);
  write('layers.csv', layersCsv(experiments));
  write('models.csv', modelsCsv(experiments));
  write('models.md', modelsMarkdown(experiments));
  write('fusion.csv', fusionCsv(experiments));
  write('fusion.md', fusionMarkdown(experiments));
  const joint = experiments.some((r) => (r.result?.joint.length ?? 0) > 0);
  if (joint) {
    write('fusion-joint.csv', jointCsv(experiments));
    write('fusion-joint-front.csv', jointFrontCsv(experiments));
    write('fusion-joint.md', jointMarkdown(experiments));
  }
  const charts = new Map<string, string[]>();
  for (const r of experiments) {
    const list: string[] = [];
    for (const [suffix, svg] of [
      ['energy-by-layer', energyByLayerChart(r)],
      ['fusion-savings', fusionSavingsChart(r)],
      ['fusion-joint', jointChart(r)],
      ['fusion-joint-front', jointFrontChart(r)],
    ] as const) {
      if (svg === undefined) continue;
      const name = `charts/${r.name}-${suffix}.svg`;
      write(name, svg);
      list.push(name);
    }
    if (list.length > 0) charts.set(r.name, list);
  }
  const studies = new Map<string, { md: string; csv: string; chart?: string }>();
  for (const r of experiments) {
    if (r.hwdse) {
      const f = { md: `hwdse-${r.name}.md`, csv: `hwdse-${r.name}.csv`, chart: `charts/hwdse-${r.name}-pareto.svg` };
      const comparison = hwdseStudyComparison(r.hwdse);
      write(f.csv, hwdseCsv(r.hwdse));
      write(f.chart, hwdseParetoChart(r.name, r.hwdse, comparison));
      write(f.md, hwdseMarkdown(r.name, r.description, r.hwdse, { csv: f.csv, chart: f.chart }, comparison));
      studies.set(r.name, f);
    } else if (r.crossArch) {
      const f = { md: `cross-arch-${r.name}.md`, csv: `cross-arch-${r.name}.csv` };
      write(f.csv, crossArchCsv(r.crossArch));
      write(f.md, crossArchReportMarkdown(r.name, r.description, r.crossArch, f.csv));
      studies.set(r.name, f);
    }
  }
  // index.md first in the list: it links the rest. Reports of experiments no longer
  // reported (or no longer complete) are stale: the swap removes them.
  const index = indexMarkdown(experiments, { layersCsv: 'layers.csv', modelsCsv: 'models.csv', modelsMd: 'models.md', fusionCsv: 'fusion.csv', fusionMd: 'fusion.md', ...(joint ? { jointMd: 'fusion-joint.md', jointCsv: 'fusion-joint.csv' } : {}), charts, studies });
  const ordered = new Map([['index.md', index], ...files]);
  return { dir, files: commitReports(dir, 'report', ordered), experiments };
}
