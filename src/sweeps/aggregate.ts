/**
 * Aggregating per-layer results into one figure per design point, two ways
 * (study-facts §1.4, §8 B8):
 *
 * - the study's (`hwdse_run.py`): every metric of a layer is multiplied by
 *   its weight (HEADS for KTQ, VScores and softmax, unless `-ih`; 1
 *   otherwise) and summed over the layers — energy, cycles, utilization and
 *   EDP alike; utilization is then divided by Σ weights (a head-weighted
 *   mean of the per-layer percentages, whatever their durations), and the
 *   "EDP" is Σ weight·EDP_layer, the "EDP-sum". The per-layer numbers are
 *   what its regexes scrape from Timeloop's printed summary: energy in uJ
 *   with 2 decimals, utilization in % with 2 decimals, EDP with 3
 *   significant digits ({@link timeloopPrinted}). A layer that failed to map
 *   contributes energy, cycles and EDP = ∞ and utilization 0.
 * - the correct one: energy and cycles summed over the layers (× weight),
 *   EDP = total energy × total cycles (the layers run one after the other),
 *   utilization = the cycle-weighted mean of the per-layer utilizations
 *   (each of its own arithmetic units: the array for a matmul, the NO unit
 *   for a normalization op), i.e. the fraction of the block's cycles in
 *   which the working unit computes. No rounding.
 *
 * EDP-sum ≠ EDP of the sum: Σ E_i·C_i ≤ (Σ E_i)(Σ C_i), and the two can
 * rank design points differently when the layers' shares of energy and
 * cycles differ between the points.
 */

/** One layer of one design point, as evaluated (one instance). */
export interface LayerMetrics {
  readonly layer: string;
  /** Instances of the layer in the aggregate (heads for per-head layers). */
  readonly weight: number;
  /** False when no mapping was found: the study then counts ∞ (and 0 utilization). */
  readonly ok: boolean;
  /** pJ, leakage included. */
  readonly energy_pJ: number;
  readonly cycles: number;
  /** Fraction, 0–1. */
  readonly utilization: number;
  readonly edp_J_cycle: number;
}

/** The study's four metrics, in its units (pJ, cycles, %, J·cycle). */
export interface StudyAggregate {
  readonly energy: number;
  readonly cycles: number;
  /** Percent. */
  readonly utilization: number;
  /** Σ per-layer EDP: the "EDP-sum". */
  readonly edp: number;
}

export interface CorrectAggregate {
  readonly energy_pJ: number;
  readonly cycles: number;
  /** Fraction, cycle-weighted. */
  readonly utilization: number;
  /** energy_pJ · 1e-12 · cycles. */
  readonly edp_J_cycle: number;
}

/** C's `printf("%.Nf")` through JS (exact ties, which binary values almost never are, may differ). */
function fixed(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}

/**
 * A layer's summary as Timeloop prints it and the study's regexes read it
 * back: `Energy: 2303.23 uJ`, `Utilization: 94.12%`, `EDP(J*cycle):
 * 1.03e+04`, `Cycles:` exact.
 */
export function timeloopPrinted(m: Pick<LayerMetrics, 'energy_pJ' | 'cycles' | 'utilization' | 'edp_J_cycle'>): { energy_pJ: number; cycles: number; utilization_pct: number; edp_J_cycle: number } {
  return {
    energy_pJ: fixed(m.energy_pJ / 1e6, 2) * 1e6,
    cycles: m.cycles,
    utilization_pct: fixed(m.utilization * 100, 2),
    edp_J_cycle: Number(m.edp_J_cycle.toExponential(2)),
  };
}

export interface StudyAggregateOptions {
  /** Read each layer's metrics as Timeloop prints them (default true, as the study did). */
  readonly printed?: boolean;
}

/** The study's aggregate (see the module comment). */
export function studyAggregate(layers: readonly LayerMetrics[], options: StudyAggregateOptions = {}): StudyAggregate {
  const printed = options.printed ?? true;
  let energy = 0;
  let cycles = 0;
  let utilization = 0;
  let edp = 0;
  let total = 0;
  for (const l of layers) {
    total += l.weight;
    if (!l.ok) {
      energy = cycles = edp = Infinity;
      continue;
    }
    const m = printed ? timeloopPrinted(l) : { energy_pJ: l.energy_pJ, cycles: l.cycles, utilization_pct: l.utilization * 100, edp_J_cycle: l.edp_J_cycle };
    energy += m.energy_pJ * l.weight;
    cycles += m.cycles * l.weight;
    utilization += m.utilization_pct * l.weight;
    edp += m.edp_J_cycle * l.weight;
  }
  return { energy, cycles, utilization: total > 0 ? utilization / total : 0, edp };
}

/** The correct aggregate (see the module comment). */
export function correctAggregate(layers: readonly LayerMetrics[]): CorrectAggregate {
  if (layers.some((l) => !l.ok)) return { energy_pJ: Infinity, cycles: Infinity, utilization: 0, edp_J_cycle: Infinity };
  let energy = 0;
  let cycles = 0;
  let busy = 0;
  for (const l of layers) {
    energy += l.energy_pJ * l.weight;
    cycles += l.cycles * l.weight;
    busy += l.utilization * l.cycles * l.weight;
  }
  return { energy_pJ: energy, cycles, utilization: cycles > 0 ? busy / cycles : 0, edp_J_cycle: energy * 1e-12 * cycles };
}

/** Ranks 1..n, ties sharing their mean rank (smaller value = rank 1); ∞ ranks last. */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => (a.v === b.v ? 0 : a.v < b.v ? -1 : 1));
  const out = new Array<number>(values.length);
  for (let s = 0; s < order.length; ) {
    let e = s;
    while (e + 1 < order.length && order[e + 1].v === order[s].v) e++;
    const mean = (s + e) / 2 + 1;
    for (let k = s; k <= e; k++) out[order[k].i] = mean;
    s = e + 1;
  }
  return out;
}

/** Spearman's rank correlation: Pearson's correlation of the (tie-averaged) ranks. */
export function spearman(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`spearman: ${a.length} vs ${b.length} values`);
  if (a.length < 2) return NaN;
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const ma = mean(ra);
  const mb = mean(rb);
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i] - ma) * (rb[i] - mb);
    da += (ra[i] - ma) ** 2;
    db += (rb[i] - mb) ** 2;
  }
  return da === 0 || db === 0 ? NaN : num / Math.sqrt(da * db);
}

/** Kendall's tau-b (ties accounted), a second opinion on small samples. */
export function kendallTau(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`kendallTau: ${a.length} vs ${b.length} values`);
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const x = Math.sign(a[i] - a[j] || 0);
      const y = Math.sign(b[i] - b[j] || 0);
      if (x === 0 && y === 0) continue;
      if (x === 0) tiesA++;
      else if (y === 0) tiesB++;
      else if (x === y) concordant++;
      else discordant++;
    }
  }
  const n0 = concordant + discordant;
  const denom = Math.sqrt((n0 + tiesA) * (n0 + tiesB));
  return denom === 0 ? NaN : (concordant - discordant) / denom;
}

/** Indices of the points no other point beats in both objectives (lower is better), sorted by the first. */
export function paretoFront(points: readonly { x: number; y: number }[]): number[] {
  const idx = points.map((_, i) => i).filter((i) => Number.isFinite(points[i].x) && Number.isFinite(points[i].y));
  const front = idx.filter((i) => !idx.some((j) => j !== i && points[j].x <= points[i].x && points[j].y <= points[i].y && (points[j].x < points[i].x || points[j].y < points[i].y)));
  return front.sort((i, j) => points[i].x - points[j].x || points[i].y - points[j].y);
}
