/** The task graph: keys, merging of identical tasks, topological order, cycles. */
import test from 'ava';
import { buildGraph, topologicalOrder } from '../../src/build/graph.ts';
import type { TaskSpec } from '../../src/build/task.ts';
import type { TaskRecord } from '../../src/build/cache.ts';
import { explain } from '../../src/build/plan.ts';

const engine = () => ({ id: 'e', version: '1' });

function spec(id: string, value: unknown, deps: string[] = [], kind = 'map'): TaskSpec {
  return { id, kind, inputs: { x: { label: `${id}.yaml`, value } }, deps, meta: { experiment: 'e', layer: id } };
}

test('identical specs (same kind, inputs, deps) become one task with aliases and all cells', (t) => {
  const g = buildGraph([spec('a', { v: 1 }), spec('b', { v: 1 }), spec('c', { v: 2 }), spec('agg', null, ['a', 'b', 'c'], 'aggregate')], engine);
  t.deepEqual(g.order.map((x) => x.id), ['a', 'c', 'agg']);
  const a = g.get('b')!;
  t.is(a.id, 'a');
  t.deepEqual(a.aliases, ['b']);
  t.deepEqual(a.cells.map((c) => c.layer), ['a', 'b']);
  t.deepEqual(Object.keys(g.get('agg')!.depKeys), ['a', 'c']);
  t.deepEqual(g.dependents('a'), ['agg']);
});

test('labels and meta are not in the key; inputs, engine and dependency keys are', (t) => {
  const k = (specs: TaskSpec[], e = engine) => buildGraph(specs, e).get('t')!.key;
  const base = k([spec('t', { v: 1 })]);
  t.is(k([{ ...spec('t', { v: 1 }), inputs: { x: { label: 'moved/elsewhere.yaml', value: { v: 1 } } }, meta: { layer: 'other' } }]), base);
  t.not(k([spec('t', { v: 2 })]), base);
  t.not(k([spec('t', { v: 1 })], () => ({ id: 'e', version: '2' })), base);
  const withDep = (dv: number) => k([spec('d', { dv }), spec('t', { v: 1 }, ['d'])]);
  t.not(withDep(1), withDep(2));
  t.not(withDep(1), base);
});

test('topological order puts dependencies first; a cycle or a missing dependency is named', (t) => {
  const order = topologicalOrder([spec('c', 1, ['b']), spec('b', 1, ['a']), spec('a', 1)]);
  t.deepEqual(order.map((s) => s.id), ['a', 'b', 'c']);
  t.throws(() => topologicalOrder([spec('a', 1, ['c']), spec('b', 1, ['a']), spec('c', 1, ['b'])]), { message: 'dependency cycle: a → c → b → a' });
  t.throws(() => topologicalOrder([spec('a', 1, ['zzz'])]), { message: /'a' depends on 'zzz', which is not a task/ });
  t.throws(() => topologicalOrder([spec('a', 1), spec('a', 2)]), { message: /two tasks have the id 'a'/ });
});

test('closure keeps a task and everything it depends on, in order', (t) => {
  const g = buildGraph([spec('a', 1), spec('b', 2, ['a']), spec('c', 3), spec('d', 4, ['b'])], engine);
  t.deepEqual(g.closure(['d']).order.map((x) => x.id), ['a', 'b', 'd']);
  t.deepEqual(g.closure(['c']).order.map((x) => x.id), ['c']);
});

test('explain: names the engine change, changed/new/removed inputs and dependencies that will run', (t) => {
  const g = buildGraph([spec('d', { v: 2 }), { ...spec('t', { v: 1 }, ['d']), inputs: { x: { label: 'x.yaml', value: 1 }, y: { label: 'y.yaml', value: 2 } } }], engine);
  const task = g.get('t')!;
  const planned = new Map([['d', { task: g.get('d')!, state: 'will run' as const, reason: '' }]]);
  const record = (over: Partial<TaskRecord>): TaskRecord => ({
    id: 't', kind: 'map', key: 'old', engine: engine(), inputs: { ...task.inputHashes }, deps: { ...task.depKeys }, updatedAt: '', ...over,
  });
  t.is(explain(task, undefined, planned), 'no cached result for this key (never run)');
  t.is(explain(task, record({ key: task.key }), planned), 'no cached result for this key (the last result was removed)');
  t.is(explain(task, record({ engine: { id: 'e', version: '0' } }), planned), 'engine e changed (0 → 1)');
  t.is(explain(task, record({ inputs: { x: { label: 'x.yaml', hash: 'h' }, z: { label: 'z', hash: 'h' } } }), planned), 'input `x` (x.yaml) changed since the cached result; new input `y` (y.yaml); input `z` was removed');
  t.is(explain(task, record({ deps: { d: 'k0' } }), planned), 'dependency d will run');
  t.is(explain(task, record({ deps: { d: 'k0' } }), new Map()), 'dependency d changed');
});
