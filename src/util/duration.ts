/**
 * Durations as users write them (`500ms`, `10s`, `2m`, `1h`; a bare number
 * is seconds), for the config's time limits and the commands' --budget and
 * --timeout. One parser, so that `1.2.3` or `0` is refused everywhere rather
 * than read as NaN or as no time at all.
 */

/** Milliseconds (rounded), or undefined for a text that is not a positive duration. */
export function durationMs(text: string): number | undefined {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m || Number(m[1]) <= 0) return undefined;
  const v = Number(m[1]);
  return Math.round(m[2] === 'ms' ? v : m[2] === 'm' ? v * 60_000 : m[2] === 'h' ? v * 3_600_000 : v * 1000);
}
