/**
 * The number formats of the Markdown reports, and the two marks they use for
 * a number that is not there. The marks mean different things and a reader
 * must be able to tell them apart: MISSING is a value a row does not have
 * (an unfused cell has no fusion saving), NO_MAPPING is the cost of a layer
 * or a config with no valid mapping (infinite: it ranks last).
 */

/** A value the row does not have. */
export const MISSING = '–';
/** The energy, cycles or EDP of something with no valid mapping: an infinite cost. */
export const NO_MAPPING = '∞';

type Maybe = number | null | undefined;

/** `1.2346e+9`: 5 significant digits; `absent` for null/undefined, `Infinity`/`NaN` as JavaScript prints them. */
export function exponential(n: Maybe, absent: string): string {
  return n === null || n === undefined ? absent : Number.isFinite(n) ? n.toExponential(4) : String(n);
}

/** A whole number with thousands separators: `12,884,901,888`. */
export function grouped(n: Maybe, absent: string): string {
  return n === null || n === undefined ? absent : Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n);
}

/** `12.34 %` of a value already in percent. */
export function percent(n: Maybe, absent: string): string {
  return n === null || n === undefined ? absent : `${n.toFixed(2)} %`;
}

/** `x` with `digits` decimals, or {@link NO_MAPPING} when it is not finite (a ratio to an infinite cost). */
export function fixedOrInfinite(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : NO_MAPPING;
}

/** A cell of a Markdown table: `|` escaped. */
export function markdownCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}
