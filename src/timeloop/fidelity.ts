/**
 * How far the embedded engine is from the real Timeloop on one task: the
 * two {@link Evaluation}s compared per storage level and dataspace (every
 * count exactly; energy and cycles as ratios expt / Timeloop) and as a whole.
 * Timeloop's stats.txt prints energies with 2 decimals, so energy ratios are
 * that precise; `energyWithinPrint` says whether expt's value rounds to the
 * printed one.
 */
import type { DataspaceStats, Evaluation } from '../model/result.ts';

export const COUNT_FIELDS = [
  'partition_size',
  'utilized_capacity',
  'utilized_instances',
  'utilized_clusters',
  'reads',
  'fills',
  'updates',
  'temporal_reductions',
  'address_generations',
] as const satisfies readonly (keyof DataspaceStats)[];

export interface FidelityRow {
  readonly level: string;
  /** A dataspace name, or '-' for the level's own line (cycles, kept dataspaces) and the MAC. */
  readonly dataspace: string;
  readonly countsEqual: boolean;
  /** `reads: expt 12, Timeloop 14`, ... */
  readonly differences: readonly string[];
  readonly energyExpt: number;
  readonly energyTimeloop: number;
  /** expt / Timeloop (1 when both are 0; Infinity when only Timeloop's is 0). */
  readonly energyRatio: number;
  readonly energyWithinPrint: boolean;
  readonly cyclesExpt?: number;
  readonly cyclesTimeloop?: number;
  readonly cyclesRatio?: number;
}

export interface FidelityReport {
  readonly rows: readonly FidelityRow[];
  /** Every count of every level, dataspace and the MAC, and the total cycles, are equal. */
  readonly countsEqual: boolean;
  readonly energyExpt: number;
  readonly energyTimeloop: number;
  readonly energyRatio: number;
  /** Leakage in the totals (Timeloop v3.0.3 has no leakage model and prints none). */
  readonly leakageExpt: number;
  readonly leakageTimeloop: number;
  /** Totals without leakage, expt / Timeloop. */
  readonly dynamicEnergyRatio: number;
  readonly cyclesExpt: number;
  readonly cyclesTimeloop: number;
  readonly cyclesRatio: number;
  readonly differences: number;
}

function ratio(a: number, b: number): number {
  if (a === b) return 1;
  return b === 0 ? Infinity : a / b;
}

/** Printed with 2 decimals: expt's value must round to it. */
function withinPrint(ours: number, printed: number): boolean {
  return Math.abs(ours - printed) <= 0.005 + 1e-9 * Math.abs(ours);
}

/** Compares expt's evaluation with Timeloop's (both of the same mapping). */
export function compareEvaluations(expt: Evaluation, timeloop: Evaluation): FidelityReport {
  const rows: FidelityRow[] = [];
  const names = [...new Set([...expt.storage.map((s) => s.name), ...timeloop.storage.map((s) => s.name)])];
  for (const name of names) {
    const a = expt.storage.find((s) => s.name === name);
    const b = timeloop.storage.find((s) => s.name === name);
    if (!a || !b) {
      rows.push({
        level: name,
        dataspace: '-',
        countsEqual: false,
        differences: [`level only in ${a ? 'expt' : 'Timeloop'}`],
        energyExpt: a?.energy_pJ ?? 0,
        energyTimeloop: b?.energy_pJ ?? 0,
        energyRatio: ratio(a?.energy_pJ ?? 0, b?.energy_pJ ?? 0),
        energyWithinPrint: false,
      });
      continue;
    }
    const levelDiffs: string[] = [];
    const kept = (e: typeof a) => Object.keys(e.dataspaces).join(',');
    if (kept(a) !== kept(b)) levelDiffs.push(`kept: expt ${kept(a) || '-'}, Timeloop ${kept(b) || '-'}`);
    for (const f of ['instances', 'size_words', 'block_size', 'utilized_instances'] as const) {
      if (a[f] !== b[f]) levelDiffs.push(`${f}: expt ${a[f]}, Timeloop ${b[f]}`);
    }
    if (a.cycles !== b.cycles) levelDiffs.push(`cycles: expt ${a.cycles}, Timeloop ${b.cycles}`);
    rows.push({
      level: name,
      dataspace: '-',
      countsEqual: levelDiffs.length === 0,
      differences: levelDiffs,
      energyExpt: a.energy_pJ,
      energyTimeloop: b.energy_pJ,
      energyRatio: ratio(a.energy_pJ, b.energy_pJ),
      energyWithinPrint: Object.keys(b.dataspaces).length === 0 ? a.energy_pJ === 0 : Math.abs(a.energy_pJ - b.energy_pJ) <= 0.005 * Object.keys(b.dataspaces).length + 1e-9 * Math.abs(a.energy_pJ),
      cyclesExpt: a.cycles,
      cyclesTimeloop: b.cycles,
      cyclesRatio: ratio(a.cycles, b.cycles),
    });
    for (const ds of [...new Set([...Object.keys(a.dataspaces), ...Object.keys(b.dataspaces)])]) {
      const x = a.dataspaces[ds];
      const y = b.dataspaces[ds];
      const diffs: string[] = [];
      if (!x || !y) diffs.push(`kept only by ${x ? 'expt' : 'Timeloop'}`);
      else for (const f of COUNT_FIELDS) if (x[f] !== y[f]) diffs.push(`${f}: expt ${x[f]}, Timeloop ${y[f]}`);
      const ex = x?.energy_pJ ?? 0;
      const ey = y?.energy_pJ ?? 0;
      rows.push({
        level: name,
        dataspace: ds,
        countsEqual: diffs.length === 0,
        differences: diffs,
        energyExpt: ex,
        energyTimeloop: ey,
        energyRatio: ratio(ex, ey),
        energyWithinPrint: withinPrint(ex, ey),
      });
    }
  }
  const ma = expt.arithmetic;
  const mb = timeloop.arithmetic;
  const macDiffs: string[] = [];
  for (const f of ['instances', 'utilized_instances', 'computes', 'cycles'] as const) if (ma[f] !== mb[f]) macDiffs.push(`${f}: expt ${ma[f]}, Timeloop ${mb[f]}`);
  rows.push({
    level: ma.name,
    dataspace: '-',
    countsEqual: macDiffs.length === 0,
    differences: macDiffs,
    energyExpt: ma.energy_pJ,
    energyTimeloop: mb.energy_pJ,
    energyRatio: ratio(ma.energy_pJ, mb.energy_pJ),
    energyWithinPrint: withinPrint(ma.energy_pJ, mb.energy_pJ),
    cyclesExpt: ma.cycles,
    cyclesTimeloop: mb.cycles,
    cyclesRatio: ratio(ma.cycles, mb.cycles),
  });
  for (const n of timeloop.networks) {
    const m = expt.networks.find((x) => x.name === n.name);
    if (!m || (n.energy_pJ === 0 && m.energy_pJ === 0)) continue;
    rows.push({
      level: n.name,
      dataspace: '-',
      countsEqual: true,
      differences: [],
      energyExpt: m.energy_pJ,
      energyTimeloop: n.energy_pJ,
      energyRatio: ratio(m.energy_pJ, n.energy_pJ),
      energyWithinPrint: Math.abs(m.energy_pJ - n.energy_pJ) <= 0.005 * Math.max(1, Object.keys(n.dataspaces).length) + 1e-9 * Math.abs(m.energy_pJ),
    });
  }
  const cyclesEqual = expt.summary.cycles === timeloop.summary.cycles;
  const differences = rows.reduce((s, r) => s + r.differences.length, 0) + (cyclesEqual ? 0 : 1);
  return {
    rows,
    countsEqual: differences === 0,
    energyExpt: expt.summary.energy_pJ,
    energyTimeloop: timeloop.summary.energy_pJ,
    energyRatio: ratio(expt.summary.energy_pJ, timeloop.summary.energy_pJ),
    leakageExpt: expt.summary.leakage_energy_pJ,
    leakageTimeloop: timeloop.summary.leakage_energy_pJ,
    dynamicEnergyRatio: ratio(expt.summary.energy_pJ - expt.summary.leakage_energy_pJ, timeloop.summary.energy_pJ - timeloop.summary.leakage_energy_pJ),
    cyclesExpt: expt.summary.cycles,
    cyclesTimeloop: timeloop.summary.cycles,
    cyclesRatio: ratio(expt.summary.cycles, timeloop.summary.cycles),
    differences,
  };
}
