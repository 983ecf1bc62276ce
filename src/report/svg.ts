/**
 * A small SVG writer for the report charts: horizontal bar charts, stacked
 * (shares of a total, with the total printed) or signed (a value per bar,
 * negative to the left of zero). Plain strings, no dependencies; the output
 * depends on the data alone (deterministic bytes, fixed number formatting).
 */

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
