/**
 * The one SVG writer of the reports: horizontal bar charts, stacked (shares
 * of a total, with the total printed) or signed (a value per bar, negative
 * to the left of zero), and scatter plots of design points (energy against
 * cycles, Pareto front joined). Plain strings, no dependencies; the output
 * depends on the data alone (deterministic bytes, fixed number formatting).
 */
import { paretoFront } from '../sweeps/aggregate.ts';

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A colour-blind-friendly palette (Okabe–Ito, then Tableau), cycled. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000', '#4E79A7', '#F28E2B', '#59A14F', '#B07AA1'];

const FONT = 'font-family="Helvetica, Arial, sans-serif"';

/** An energy in pJ with an SI prefix of J and 4 significant digits: `74.50 mJ`. */
export function energyText(pJ: number): string {
  if (!Number.isFinite(pJ)) return String(pJ);
  const units: [number, string][] = [
    [1e12, 'J'],
    [1e9, 'mJ'],
    [1e6, 'uJ'],
    [1e3, 'nJ'],
    [1, 'pJ'],
  ];
  const [scale, unit] = units.find(([s]) => Math.abs(pJ) >= s) ?? [1, 'pJ'];
  return `${(pJ / scale).toPrecision(4)} ${unit}`;
}
const n2 = (x: number) => (Math.round(x * 100) / 100).toString();

function text(x: number, y: number, body: string, attrs = ''): string {
  return `<text x="${n2(x)}" y="${n2(y)}" ${FONT} ${attrs}>${escapeXml(body)}</text>`;
}

function document(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${n2(height)}" viewBox="0 0 ${width} ${n2(height)}" role="img">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    text(12, 22, title, 'font-size="15" font-weight="bold"'),
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

export interface StackedBar {
  label: string;
  /** Segment key → value (non-negative); keys not in the chart's `keys` are ignored. */
  segments: Record<string, number>;
  /** Printed right of the bar (e.g. the total). */
  note?: string;
}

/**
 * Horizontal 100 % stacked bars: each bar is split into its segments'
 * shares (in `keys` order, one colour per key, legend on top); a bar with
 * no positive total is drawn empty with its note.
 */
export function stackedBarChart(options: { title: string; keys: readonly string[]; bars: readonly StackedBar[]; subtitle?: string; width?: number }): string {
  const width = options.width ?? 900;
  const labelW = labelWidth(options.bars.map((b) => b.label));
  const noteW = 170;
  const barW = width - labelW - noteW - 24;
  const rowH = 22;
  const body: string[] = [];
  let y = 34;
  if (options.subtitle) {
    body.push(text(12, y + 6, options.subtitle, 'font-size="11" fill="#555555"'));
    y += 14;
  }
  // Legend, wrapped.
  let lx = 12;
  y += 8;
  options.keys.forEach((key, i) => {
    const w = 22 + key.length * 7;
    if (lx + w > width - 12) {
      lx = 12;
      y += 18;
    }
    body.push(`<rect x="${lx}" y="${n2(y)}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/>`);
    body.push(text(lx + 16, y + 10, key, 'font-size="11"'));
    lx += w;
  });
  y += 26;
  // Axis ticks: 0, 25, 50, 75, 100 %.
  for (const p of [0, 25, 50, 75, 100]) {
    const x = labelW + (barW * p) / 100;
    body.push(`<line x1="${n2(x)}" y1="${n2(y - 4)}" x2="${n2(x)}" y2="${n2(y + options.bars.length * rowH)}" stroke="#dddddd"/>`);
    body.push(text(x, y - 6, `${p} %`, 'font-size="10" text-anchor="middle" fill="#555555"'));
  }
  for (const bar of options.bars) {
    const total = options.keys.reduce((a, k) => a + Math.max(0, bar.segments[k] ?? 0), 0);
    body.push(text(labelW - 6, y + 15, bar.label, 'font-size="11" text-anchor="end"'));
    let x = labelW;
    if (total > 0) {
      options.keys.forEach((k, i) => {
        const v = Math.max(0, bar.segments[k] ?? 0);
        if (v === 0) return;
        const w = (barW * v) / total;
        body.push(`<rect x="${n2(x)}" y="${n2(y + 3)}" width="${n2(w)}" height="${rowH - 6}" fill="${PALETTE[i % PALETTE.length]}"><title>${escapeXml(`${bar.label} ${k}: ${((100 * v) / total).toFixed(1)} %`)}</title></rect>`);
        x += w;
      });
    }
    if (bar.note) body.push(text(labelW + barW + 6, y + 15, bar.note, 'font-size="11"'));
    y += rowH;
  }
  return document(width, y + 14, options.title, body);
}

export interface SignedBar {
  label: string;
  /** null: no bar, only the note (e.g. "infeasible"). */
  value: number | null;
  note?: string;
}

/** Room for the longest label (11 px text, about 6.4 px a character). */
function labelWidth(labels: readonly string[]): number {
  return Math.ceil(Math.max(60, ...labels.map((l) => l.length * 6.4)) + 16);
}

/**
 * Horizontal bars of signed values around a zero line (e.g. savings in %:
 * positive to the right), scaled to the largest magnitude within
 * [`clip[0]`, `clip[1]`]; a bar beyond the clip ends in an arrow, its note
 * gives the value.
 */
export function signedBarChart(options: { title: string; bars: readonly SignedBar[]; unit: string; subtitle?: string; width?: number; clip?: readonly [number, number] }): string {
  const width = options.width ?? 900;
  const labelW = labelWidth(options.bars.map((b) => b.label));
  const noteW = 200;
  const plotW = Math.max(200, width - labelW - noteW - 34);
  const rowH = 20;
  const plotX = labelW + 10;
  const [lo, hi] = options.clip ?? [-Infinity, Infinity];
  const values = options.bars.map((b) => b.value).filter((v): v is number => v !== null && Number.isFinite(v));
  const max = Math.min(hi, Math.max(1e-12, ...values.map((v) => Math.max(0, v))));
  const min = Math.max(lo, Math.min(0, ...values));
  const span = max - min || 1;
  const zero = plotX + (plotW * -min) / span;
  const body: string[] = [];
  let y = 34;
  if (options.subtitle) {
    body.push(text(12, y + 6, options.subtitle, 'font-size="11" fill="#555555"'));
    y += 14;
  }
  y += 20;
  body.push(text(zero, y - 6, `0 ${options.unit}`, 'font-size="10" text-anchor="middle" fill="#555555"'));
  if (min < 0) body.push(text(plotX, y - 6, `${+min.toPrecision(3)} ${options.unit}`, 'font-size="10" text-anchor="start" fill="#555555"'));
  if (max > 1e-9) body.push(text(plotX + plotW, y - 6, `${+max.toPrecision(3)} ${options.unit}`, 'font-size="10" text-anchor="end" fill="#555555"'));
  body.push(`<line x1="${n2(zero)}" y1="${n2(y - 2)}" x2="${n2(zero)}" y2="${n2(y + options.bars.length * rowH)}" stroke="#888888"/>`);
  for (const bar of options.bars) {
    body.push(text(labelW - 6, y + 14, bar.label, 'font-size="11" text-anchor="end"'));
    if (bar.value !== null && Number.isFinite(bar.value)) {
      const v = Math.min(max, Math.max(min, bar.value));
      const w = (plotW * Math.abs(v)) / span;
      const x = v >= 0 ? zero : zero - w;
      const fill = v >= 0 ? '#009E73' : '#D55E00';
      body.push(`<rect x="${n2(x)}" y="${n2(y + 3)}" width="${n2(Math.max(w, 0.5))}" height="${rowH - 6}" fill="${fill}"/>`);
      // Clipped: an arrow head past the end of the bar.
      if (bar.value < min) body.push(`<path d="M ${n2(x)} ${n2(y + 3)} L ${n2(x - 8)} ${n2(y + rowH / 2)} L ${n2(x)} ${n2(y + rowH - 3)} Z" fill="${fill}"/>`);
      if (bar.value > max) body.push(`<path d="M ${n2(x + w)} ${n2(y + 3)} L ${n2(x + w + 8)} ${n2(y + rowH / 2)} L ${n2(x + w)} ${n2(y + rowH - 3)} Z" fill="${fill}"/>`);
    }
    const note = bar.note ?? (bar.value === null ? '' : `${bar.value.toFixed(1)} ${options.unit}`);
    if (note) body.push(text(plotX + plotW + 12, y + 14, note, 'font-size="11"'));
    y += rowH;
  }
  return document(width, y + 14, options.title, body);
}

// ---------------------------------------------------------------------------
// Scatter plots: one labelled dot per design point, the Pareto front (no
// other point has both less energy and fewer cycles) joined by a line and
// drawn filled; an optional second series (the study's own numbers) drawn as
// hollow squares.


export interface ScatterPoint {
  readonly x: number;
  readonly y: number;
  readonly label: string;
}

export interface ScatterSeries {
  readonly name: string;
  readonly points: readonly ScatterPoint[];
  /** `dot` (filled circles, Pareto front highlighted) or `square` (hollow squares, no front). */
  readonly marker?: 'dot' | 'square';
  readonly color?: string;
}

export interface ScatterOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly width?: number;
  readonly height?: number;
}

/** 1, 2 or 5 times a power of ten, about `n` steps over [lo, hi]. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-2) return v.toExponential(2).replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}

const r2 = (v: number) => Math.round(v * 100) / 100;

/** The scatter plot as an SVG document. Points with a non-finite coordinate are left out (and counted in a note). */
export function scatterSvg(series: readonly ScatterSeries[], options: ScatterOptions): string {
  const W = options.width ?? 760;
  const H = options.height ?? 520;
  const m = { left: 90, right: 30, top: 50, bottom: 70 };
  const finite = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const dropped = series.reduce((n, s) => n + s.points.length, 0) - finite.length;
  const xs = finite.map((p) => p.x);
  const ys = finite.map((p) => p.y);
  const pad = (lo: number, hi: number) => {
    const d = hi - lo || Math.abs(hi) || 1;
    return [lo - 0.05 * d, hi + 0.05 * d] as const;
  };
  const [x0, x1] = finite.length ? pad(Math.min(...xs), Math.max(...xs)) : [0, 1];
  const [y0, y1] = finite.length ? pad(Math.min(...ys), Math.max(...ys)) : [0, 1];
  const px = (x: number) => r2(m.left + ((x - x0) / (x1 - x0)) * (W - m.left - m.right));
  const py = (y: number) => r2(H - m.bottom - ((y - y0) / (y1 - y0)) * (H - m.top - m.bottom));
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`);
  // Axes, grid, ticks.
  out.push(`<g stroke="#ccc" stroke-width="1">`);
  const xt = niceTicks(x0, x1);
  const yt = niceTicks(y0, y1);
  for (const t of xt) out.push(`<line x1="${px(t)}" y1="${m.top}" x2="${px(t)}" y2="${H - m.bottom}"/>`);
  for (const t of yt) out.push(`<line x1="${m.left}" y1="${py(t)}" x2="${W - m.right}" y2="${py(t)}"/>`);
  out.push(`</g>`);
  out.push(`<rect x="${m.left}" y="${m.top}" width="${W - m.left - m.right}" height="${H - m.top - m.bottom}" fill="none" stroke="black"/>`);
  for (const t of xt) out.push(`<text x="${px(t)}" y="${H - m.bottom + 16}" text-anchor="middle">${fmt(t)}</text>`);
  for (const t of yt) out.push(`<text x="${m.left - 6}" y="${py(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  out.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 22}" text-anchor="middle" font-size="13">${escapeXml(options.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="13">${escapeXml(options.yLabel)}</text>`);
  const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
  series.forEach((s, si) => {
    const color = s.color ?? palette[si % palette.length];
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    const marker = s.marker ?? 'dot';
    out.push(`<g data-series="${escapeXml(s.name)}">`);
    const front = marker === 'dot' ? paretoFront(pts) : [];
    if (front.length > 1) {
      out.push(`<polyline fill="none" stroke="${color}" stroke-dasharray="4 3" points="${front.map((i) => `${px(pts[i].x)},${py(pts[i].y)}`).join(' ')}"/>`);
    }
    pts.forEach((p, i) => {
      const onFront = front.includes(i);
      const title = `<title>${escapeXml(`${s.name} ${p.label}: x=${p.x}, y=${p.y}${onFront ? ' (Pareto)' : ''}`)}</title>`;
      if (marker === 'square') {
        out.push(`<rect x="${px(p.x) - 4}" y="${py(p.y) - 4}" width="8" height="8" fill="none" stroke="${color}">${title}</rect>`);
      } else {
        out.push(`<circle cx="${px(p.x)}" cy="${py(p.y)}" r="${onFront ? 5 : 4}" fill="${onFront ? color : 'white'}" stroke="${color}">${title}</circle>`);
      }
      out.push(`<text x="${px(p.x) + 6}" y="${py(p.y) - 6}" fill="${color}">${escapeXml(p.label)}</text>`);
    });
    out.push(`</g>`);
  });
  // Legend.
  series.forEach((s, si) => {
    const color = s.color ?? palette[si % palette.length];
    const y = m.top + 14 + si * 16;
    const x = W - m.right - 170;
    out.push(
      (s.marker ?? 'dot') === 'square'
        ? `<rect x="${x - 4}" y="${y - 8}" width="8" height="8" fill="none" stroke="${color}"/>`
        : `<circle cx="${x}" cy="${y - 4}" r="4" fill="${color}"/>`,
    );
    out.push(`<text x="${x + 10}" y="${y}">${escapeXml(s.name)}${(s.marker ?? 'dot') === 'dot' ? ' (filled: Pareto)' : ''}</text>`);
  });
  if (dropped > 0) out.push(`<text x="${m.left}" y="${H - 6}" fill="#a00">${dropped} point(s) with no valid mapping not shown</text>`);
  out.push(`</svg>`);
  return out.join('\n') + '\n';
}
