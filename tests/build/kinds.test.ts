/** The registry of task kinds: lazy loading, unknown kinds, the result shapes the cache checks. */
import test from 'ava';
import { KindRegistry } from '../../src/build/kinds.ts';
import type { TaskKind } from '../../src/build/task.ts';
import { UserError } from '../../src/util/errors.ts';

const kindNamed = (name: string, resultShape?: TaskKind['resultShape']): TaskKind => ({
  name,
  worker: false,
  engine: () => ({ id: name, version: '1' }),
  run: () => ({ ok: true }),
  ...(resultShape !== undefined ? { resultShape } : {}),
});

function registry(loads: string[]): KindRegistry {
  const loader = (kind: TaskKind) => async () => {
    loads.push(kind.name);
    return { kind };
  };
  return new KindRegistry(
    { checked: loader(kindNamed('checked', { object: { ok: 'boolean' } })), free: loader(kindNamed('free')) },
    new URL('./worker.mjs', import.meta.url),
  );
}

test('a kind is loaded on first use, once; get sees only loaded kinds', async (t) => {
  const loads: string[] = [];
  const kinds = registry(loads);
  t.deepEqual(kinds.names, ['checked', 'free']);
  t.is(kinds.get('free'), undefined);
  t.is((await kinds.load('free')).name, 'free');
  await kinds.loadAll(['free', 'free']);
  t.deepEqual(loads, ['free']);
  await kinds.loadAll();
  t.deepEqual(loads, ['free', 'checked']);
  t.is(kinds.get('checked')?.name, 'checked');
});

test('an unknown kind is a UserError listing the kinds (names of Object.prototype included)', async (t) => {
  const kinds = registry([]);
  for (const name of ['nope', 'constructor']) {
    const error = await t.throwsAsync(kinds.load(name), { instanceOf: UserError });
    t.is(error?.message, `unknown task kind '${name}' (kinds: checked, free)`);
  }
});

test("validate checks a result against its kind's shape once the kind is loaded", async (t) => {
  const kinds = registry([]);
  t.is(kinds.validate('checked', { ok: 'yes' }), undefined);
  await kinds.loadAll();
  t.is(kinds.validate('checked', { ok: true }), undefined);
  t.is(kinds.validate('checked', { ok: 'yes' }), 'result.ok: expected true or false, got a string');
  t.is(kinds.validate('free', 'anything'), undefined);
  t.is(kinds.validate('other', 'anything'), undefined);
});
