/**
 * How far the SRAM interpolation between stored CACTI runs (cacti.ts) is
 * from CACTI itself, measured on runs the interpolation is not shown:
 *
 *  - depth192: the 80 stored runs at depth 192 (the only depth that is not a
 *    power of two within 64…65536), predicted from depths 128 and 256, i.e.
 *    real off-grid points at 58 % of the way (in log) across a grid step;
 *  - depth-leave-one-out: every power-of-two depth D with D/2 and 2D stored,
 *    predicted from D/2 and 2D (the 192 runs hidden too);
 *  - width-leave-one-out: every width W with W/2 and 2W stored, predicted
 *    from W/2 and 2W (all runs of width W hidden).
 * The leave-one-out cases predict across a step twice as wide as real use
 * (a grid step is one factor of two), so they overstate the error.
 *
 * Run: npx tsx src/arch/energy/interpolation-error.ts
 */
import { pathToFileURL } from 'node:url';
import { cactiRun, storedCactiRuns, type CactiRun, type CactiRunKey } from './cacti.ts';

const FIELDS = [
  ['read', 'readNJ'],
  ['write', 'writeNJ'],
  ['leakage', 'leakMWPerBank'],
  ['area', 'areaMM2'],
] as const;

export interface ErrorStats {
  readonly count: number;
  /** Of |relative error|. */
  readonly median: number;
  readonly p90: number;
  readonly max: number;
  /** Mean signed relative error (positive: interpolation above CACTI). */
  readonly meanSigned: number;
}

export type CaseStats = Readonly<Record<(typeof FIELDS)[number][0], ErrorStats>>;

export interface InterpolationErrorReport {
  readonly depth192: CaseStats;
  readonly depthLeaveOneOut: CaseStats;
  readonly widthLeaveOneOut: CaseStats;
}

function stats(errors: readonly number[]): ErrorStats {
  const abs = errors.map(Math.abs).sort((a, b) => a - b);
  const at = (q: number) => abs[Math.min(abs.length - 1, Math.floor(q * abs.length))];
  return {
    count: abs.length,
    median: abs.length % 2 ? abs[(abs.length - 1) / 2] : (abs[abs.length / 2 - 1] + abs[abs.length / 2]) / 2,
    p90: at(0.9),
    max: abs[abs.length - 1],
    meanSigned: errors.reduce((s, e) => s + e, 0) / errors.length,
  };
}

function same(a: CactiRunKey, b: CactiRunKey): boolean {
  return a.technologyNm === b.technologyNm && a.width === b.width && a.depth === b.depth && a.nRwPorts === b.nRwPorts && a.nBanks === b.nBanks;
}

function measure(cases: readonly { key: CactiRunKey; run: CactiRun; skip: (k: CactiRunKey) => boolean }[]): CaseStats {
  const errors: Record<string, number[]> = { read: [], write: [], leakage: [], area: [] };
  for (const c of cases) {
    const got = cactiRun(c.key, c.skip);
    if ('reason' in got) throw new Error(`interpolation failed for ${JSON.stringify(c.key)}: ${got.reason}`);
    if (got.exact) throw new Error(`run ${JSON.stringify(c.key)} was not hidden`);
    for (const [name, field] of FIELDS) errors[name].push(got.run[field] / c.run[field] - 1);
  }
  return Object.fromEntries(FIELDS.map(([name]) => [name, stats(errors[name])])) as unknown as CaseStats;
}

const isPow2 = (x: number) => Number.isInteger(Math.log2(x));

export function measureInterpolationError(): InterpolationErrorReport {
  const runs = storedCactiRuns();
  const stored = new Set(runs.map((r) => JSON.stringify([r.key.technologyNm, r.key.width, r.key.depth, r.key.nRwPorts, r.key.nBanks])));
  const has = (k: CactiRunKey) => stored.has(JSON.stringify([k.technologyNm, k.width, k.depth, k.nRwPorts, k.nBanks]));
  const depth192 = runs
    .filter((r) => r.key.depth === 192)
    .map((r) => ({ ...r, skip: (k: CactiRunKey) => k.depth === 192 }));
  const depthLoo = runs
    .filter((r) => isPow2(r.key.depth) && r.key.depth * 2 <= 65536 && has({ ...r.key, depth: r.key.depth / 2 }) && has({ ...r.key, depth: r.key.depth * 2 }))
    .map((r) => ({ ...r, skip: (k: CactiRunKey) => k.depth === 192 || same(k, r.key) }));
  const widthLoo = runs
    .filter((r) => r.key.depth <= 65536 && has({ ...r.key, width: r.key.width / 2 }) && has({ ...r.key, width: r.key.width * 2 }))
    // Hide the whole width (at this node, ports and banks), or the depth interpolation at that width would answer.
    .map((r) => ({ ...r, skip: (k: CactiRunKey) => same({ ...k, depth: r.key.depth }, r.key) }));
  return { depth192: measure(depth192), depthLeaveOneOut: measure(depthLoo), widthLeaveOneOut: measure(widthLoo) };
}

export function formatInterpolationError(report: InterpolationErrorReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const lines = ['case                  quantity   n     median   p90      max      mean signed'];
  for (const [label, s] of [
    ['depth 192 (off-grid)', report.depth192],
    ['depth leave-one-out', report.depthLeaveOneOut],
    ['width leave-one-out', report.widthLeaveOneOut],
  ] as const) {
    for (const [name] of FIELDS) {
      const e = s[name];
      lines.push(
        `${label.padEnd(22)}${name.padEnd(11)}${String(e.count).padEnd(6)}${pct(e.median).padEnd(9)}${pct(e.p90).padEnd(9)}${pct(e.max).padEnd(9)}${(e.meanSigned >= 0 ? '+' : '') + pct(e.meanSigned)}`,
      );
    }
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(formatInterpolationError(measureInterpolationError()));
}
