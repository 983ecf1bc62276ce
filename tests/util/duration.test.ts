/** util/duration.ts: one reading of durations for the config and the commands. */
import test from 'ava';
import { durationMs } from '../../src/util/duration.ts';

test('units: ms, s (also bare), m, h', (t) => {
  t.is(durationMs('500ms'), 500);
  t.is(durationMs('10s'), 10_000);
  t.is(durationMs('1.5'), 1_500);
  t.is(durationMs(' 2m '), 120_000);
  t.is(durationMs('1h'), 3_600_000);
});

test('not a positive duration: undefined (never NaN, never zero)', (t) => {
  for (const text of ['0', '0s', '1.2.3', 'abc', '', '-5s', '10 minutes']) t.is(durationMs(text), undefined, text);
});
