/** Number formatting of the `expt eval` report. */
import test from 'ava';
import { formatCount, formatFixed, formatScientific } from '../../src/model/evaluation-text.ts';

test('formatCount groups thousands and keeps decimals only for non-integers', (t) => {
  t.is(formatCount(0), '0');
  t.is(formatCount(999), '999');
  t.is(formatCount(1000), '1,000');
  t.is(formatCount(12884901888), '12,884,901,888');
  t.is(formatCount(1234.5), '1,234.50');
  t.is(formatCount(-1234567), '-1,234,567');
});

test('formatFixed rounds to the given decimals and groups the whole part', (t) => {
  t.is(formatFixed(17593565266.834, 2), '17,593,565,266.83');
  t.is(formatFixed(0.005, 2), '0.01');
  t.is(formatFixed(999.999, 2), '1,000.00');
});

test('formatScientific prints two exponent digits, like Timeloop', (t) => {
  t.is(formatScientific(940911.2), '9.409e+05');
  t.is(formatScientific(4.05649796e-6, 3), '4.06e-06');
  t.is(formatScientific(1.2e123), '1.200e+123');
});
