/**
 * Tables in the study's formats:
 * - {@link prettyTable}: Python PrettyTable's default style (what
 *   `hwdse_run.py -t` prints): `+---+` rules, one space of padding, every
 *   cell centred the way Python's `str.center` centres;
 * - {@link hwdseSummaryTable}: the HW-DSE "SUMMARY TABLE" — the config keys
 *   that differ from the first result's (in the order the first difference
 *   is met), then energy, cycles, utilization and edp, rows sorted by edp
 *   (a stable sort of the results' order), floats with 3 decimals;
 * - {@link markdownTable}: the cross-architecture results table of
 *   `fetch_experiments_across_archs_results.py`.
 */
import type { CrossArchCell } from './cross-arch.ts';

/** Python's `str.center(width)`: the odd space goes left when the padding and the width are both odd. */
export function pyCenter(s: string, width: number): string {
  const marg = width - s.length;
  if (marg <= 0) return s;
  const left = Math.floor(marg / 2) + (marg & width & 1);
  return ' '.repeat(left) + s + ' '.repeat(marg - left);
}

/** PrettyTable's default rendering of a header and rows of already formatted cells. */
export function prettyTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const rule = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const line = (cells: readonly string[]) => '|' + cells.map((cell, c) => ` ${pyCenter(cell, widths[c])} `).join('|') + '|';
  return [rule, line(header), rule, ...rows.map(line), rule].join('\n');
}

/** Python's `"{:.3f}".format(x)` (inf as `inf`). */
export function pyFixed3(x: number): string {
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Number.isNaN(x)) return 'nan';
  return x.toFixed(3);
}

export interface SummaryRow<C> {
  readonly config: C;
  /** The study's metric keys: energy (pJ), cycles, utilization (%), edp (J·cycle). */
  readonly metrics: { readonly energy: number; readonly cycles: number; readonly utilization: number; readonly edp: number };
}

/**
 * The HW-DSE summary table (`hwdse_run.py -t`), from results in run order.
 * `keys` are the config keys in the study's order. Cycles print as an
 * integer (the study's are ints); a cycle count of ∞ prints `inf`.
 */
export function hwdseSummaryTable<C extends object>(results: readonly SummaryRow<C>[], keys: readonly (keyof C & string)[]): string {
  const keep: (keyof C & string)[] = [];
  if (results.length > 0) {
    const ref = results[0].config;
    for (const r of results.slice(1)) {
      for (const k of keys) if (!keep.includes(k) && r.config[k] !== ref[k]) keep.push(k);
    }
  }
  const metrics = ['energy', 'cycles', 'utilization', 'edp'] as const;
  const sorted = results
    .map((r, i) => ({ r, i }))
    .sort((a, b) => (a.r.metrics.edp === b.r.metrics.edp ? a.i - b.i : a.r.metrics.edp < b.r.metrics.edp ? -1 : 1))
    .map((x) => x.r);
  const rows = sorted.map((r) => [
    ...keep.map((k) => String(r.config[k])),
    ...metrics.map((m) => (m === 'cycles' && Number.isInteger(r.metrics.cycles) ? String(r.metrics.cycles) : pyFixed3(r.metrics[m]))),
  ]);
  return prettyTable([...keep, ...metrics], rows);
}

/** A GitHub-style Markdown table: `| a | b |` rows under a `|---|` rule. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** C's `%.2e` (`9.41e+05`), as Timeloop prints the EDP. */
export function cExp2(x: number): string {
  if (!Number.isFinite(x)) return 'N/A';
  const [m, e] = x.toExponential(2).split('e');
  const n = Number(e);
  return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
}

/**
 * The study's results table: `| Comp | Arch | Mapper | EDP (J*cycle) |
 * Cycles | Energy (uJ) | MSE Runtime (s) |`, EDP as Timeloop prints it,
 * energy in uJ to 2 decimals, `N/A` where no mapping was found. The
 * mapper column names the preset (the study's says `TL`); a runtime marked
 * `†` is a search that stopped on its time budget.
 *
 * `effort: 'evaluations'` puts the mappings each search evaluated in the
 * last column instead of its wall time: a report must be the same bytes
 * on every cold run, and a wall time never is.
 */
export function crossArchTable(cells: readonly CrossArchCell[], effort: 'runtime' | 'evaluations' = 'runtime'): string {
  return markdownTable(
    ['Comp', 'Arch', 'Mapper', 'EDP (J*cycle)', 'Cycles', 'Energy (uJ)', effort === 'runtime' ? 'MSE Runtime (s)' : 'MSE Evaluations'],
    cells.map((c) => [
      c.comp,
      c.arch,
      c.mapper,
      c.ok ? cExp2(c.edp_J_cycle) : 'N/A',
      c.ok ? String(c.cycles) : 'N/A',
      c.ok ? c.energy_uJ.toFixed(2) : 'N/A',
      `${effort === 'runtime' ? c.runtime_s.toFixed(3) : c.evaluations === undefined ? 'n/a' : String(c.evaluations)}${c.timeBound ? '†' : ''}`,
    ]),
  );
}
