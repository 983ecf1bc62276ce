/**
 * The attribute-expression evaluator: Python arithmetic (what timeloopfe
 * evaluates with eval) without eval.
 */
import test from 'ava';
import { evaluateOrKeep, scopeOf, tryEvaluate } from '../../src/timeloop/expression.ts';

const value = (text: string, scope: Record<string, unknown> = {}) => {
  const r = tryEvaluate(text, scopeOf(scope));
  if (!r.ok) throw new Error(`${text}: ${r.reason}`);
  return r.value;
};

test('the study\'s expressions', (t) => {
  t.is(value('262144*2'), 524288);
  t.is(value('16384*2'), 32768);
  t.is(value('2**14'), 16384);
  t.is(value('4*2**16'), 262144);
  t.is(value('24*2**20'), 25165824);
  t.is(value('24*2**16'), 1572864);
  t.is(value('512*2**10'), 524288);
  t.is(value('(16384*4)//(1024)'), 64);
  t.is(value('4*16'), 64);
  t.is(value('2048*2'), 4096);
});

test('Python semantics: precedence, associativity, floor division and modulo', (t) => {
  t.is(value('2**3**2'), 512); // right-associative
  t.is(value('-2**2'), -4); // ** binds tighter than unary minus
  t.is(value('2**-1'), 0.5);
  t.is(value('7/2'), 3.5);
  t.is(value('7//2'), 3);
  t.is(value('-7//2'), -4);
  t.is(value('-7 % 3'), 2);
  t.is(value('7 % -3'), -2);
  t.is(value('1 + 2 * 3 - 4 / 2'), 5);
  t.is(value('(1 + 2) * 3'), 9);
  t.is(value('1.2e-9'), 1.2e-9);
  t.is(value('.5 * 4'), 2);
});

test('names come from the scope; functions', (t) => {
  t.is(value('EMBEDDING // HEADS', { EMBEDDING: 1024, HEADS: 16 }), 64);
  t.is(value('max(EMBEDDING, SEQ_LENGTH)', { EMBEDDING: 1024, SEQ_LENGTH: 4096 }), 4096);
  t.is(value('ceil(log2(depth))', { depth: 1000 }), 10);
  t.is(value('math.floor(7 / 2) + min(3, 1, 2)'), 4);
  t.is(value('round(2.5) + round(3.5)'), 6); // half to even, as Python
  t.is(value('True + 1'), 2);
  // Later scopes win.
  t.is(tryEvaluate('x', scopeOf({ x: 1 }, { x: 2 })).ok && (tryEvaluate('x', scopeOf({ x: 1 }, { x: 2 })) as { value: number }).value, 2);
});

test('what is not an expression stays a string (timeloopfe keeps it)', (t) => {
  for (const s of ['32nm', 'LPDDR4', '1ns', 'D2A_NoC', 'DDR3', 'num_destinations', '']) t.is(evaluateOrKeep(s, scopeOf({})), s);
  t.is(evaluateOrKeep(64, scopeOf({})), 64);
  const r = tryEvaluate('depth * 2');
  t.false(r.ok);
  t.like(r, { unknownName: 'depth' });
  t.regex((tryEvaluate('1 +') as { reason: string }).reason, /end of expression/);
  t.regex((tryEvaluate('4 // 0') as { reason: string }).reason, /division by zero/);
  t.regex((tryEvaluate('foo(2)') as { reason: string }).reason, /unknown function/);
  t.regex((tryEvaluate('2 ^ 3') as { reason: string }).reason, /unexpected/);
});

test('no code is run: attribute access and calls other than the listed functions are refused', (t) => {
  for (const s of ['__import__("os")', 'process.exit(1)', 'constructor', 'a[0]', 'lambda: 1']) t.false(tryEvaluate(s).ok, s);
});
