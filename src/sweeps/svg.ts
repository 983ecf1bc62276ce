/**
 * A tiny hand-written SVG scatter plot for design-space results: energy
 * against cycles, one labelled dot per design point, the Pareto front
 * (no other point has both less energy and fewer cycles) joined by a line
 * and drawn filled. Optional second series (e.g. the study's own numbers)
 * drawn as hollow squares. No dependencies; the output is deterministic.
 */
import { paretoFront } from './aggregate.ts';

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

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
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
