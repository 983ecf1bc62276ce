/**
 * The content-addressed cache: complete entries only (temp dir + rename,
 * manifest last), corrupt entries detected and treated as misses, several
 * writers of one key never corrupt it, gc and clean.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Cache, type Manifest } from '../../src/build/cache.ts';
import { sha256 } from '../../src/build/hash.ts';
import { repoRoot } from '../helpers/golden.ts';

const roots: string[] = [];
test.after.always(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function newCache(): Cache {
  const root = mkdtempSync(path.join(tmpdir(), 'expt-cache-test-'));
  roots.push(root);
  return new Cache(path.join(root, 'cache'));
}

const key = (n: number) => sha256(`key ${n}`);

function info(k: string, kind = 'map'): Omit<Manifest, 'format' | 'result'> {
  const now = new Date().toISOString();
  return { kind, key: k, task: `${kind}:t${k.slice(0, 4)}`, engine: { id: 'test', version: '1' }, inputs: { a: { label: 'a.yaml', hash: sha256('a') } }, deps: {}, startedAt: now, finishedAt: now, durationMs: 1 };
}

test('put then get returns the result and the manifest; a missing key is a miss', (t) => {
  const cache = newCache();
  t.is(cache.put(info(key(1)), { value: 42, list: [1, 2] }), 'stored');
  const hit = cache.get('map', key(1));
  t.true(hit.ok);
  if (!hit.ok) return;
  t.deepEqual(hit.result, { value: 42, list: [1, 2] });
  t.is(hit.manifest.key, key(1));
  t.is(hit.manifest.inputs['a'].label, 'a.yaml');
  t.deepEqual(readdirSync(cache.entryDir('map', key(1))).sort(), ['manifest.json', 'result.json']);
  const miss = cache.get('map', key(2));
  t.false(miss.ok);
  if (!miss.ok) t.is(miss.reason, 'missing');
  // Nothing is left behind in the temp area.
  t.deepEqual(readdirSync(path.join(cache.root, '.tmp')), []);
});

const corruptions: [string, (dir: string) => void, RegExp][] = [
  ['result.json truncated', (d) => writeFileSync(path.join(d, 'result.json'), readFileSync(path.join(d, 'result.json'), 'utf8').slice(0, 5)), /does not match the hash/],
  ['result.json edited', (d) => writeFileSync(path.join(d, 'result.json'), '{"value": 43}\n'), /does not match the hash/],
  ['result.json missing', (d) => rmSync(path.join(d, 'result.json')), /result.json is missing/],
  ['manifest.json missing (interrupted before the manifest)', (d) => rmSync(path.join(d, 'manifest.json')), /manifest.json is missing/],
  ['manifest.json not JSON', (d) => writeFileSync(path.join(d, 'manifest.json'), '{"format": "expt-cache-v1", '), /not valid JSON/],
  [
    'manifest for another key',
    (d) => {
      const m = JSON.parse(readFileSync(path.join(d, 'manifest.json'), 'utf8')) as Manifest;
      writeFileSync(path.join(d, 'manifest.json'), JSON.stringify({ ...m, key: key(99) }));
    },
    /another entry/,
  ],
];

for (const [name, damage, detail] of corruptions) {
  test(`corrupt entry is a miss, then replaced by the next put: ${name}`, (t) => {
    const cache = newCache();
    cache.put(info(key(1)), { value: 42 });
    damage(cache.entryDir('map', key(1)));
    const lookup = cache.get('map', key(1));
    t.false(lookup.ok);
    if (lookup.ok) return;
    t.is(lookup.reason, 'corrupt');
    t.regex(lookup.detail, detail);
    t.false(cache.has('map', key(1)));
    t.is(cache.put(info(key(1)), { value: 42 }), 'stored');
    const again = cache.get('map', key(1));
    t.true(again.ok);
    if (again.ok) t.deepEqual(again.result, { value: 42 });
  });
}

test('a second writer of a key keeps the first complete entry (or replaces it when asked)', (t) => {
  const cache = newCache();
  t.is(cache.put(info(key(1)), { from: 'first' }), 'stored');
  t.is(cache.put(info(key(1)), { from: 'second' }), 'kept');
  const hit = cache.get('map', key(1));
  t.true(hit.ok && (hit.result as { from: string }).from === 'first');
  t.is(cache.put(info(key(1)), { from: 'forced' }, { replace: true }), 'stored');
  const forced = cache.get('map', key(1));
  t.true(forced.ok && (forced.result as { from: string }).from === 'forced');
});

test('many processes writing the same keys at once leave complete entries only', async (t) => {
  const cache = newCache();
  const script = `
    import { Cache } from ${JSON.stringify(path.join(repoRoot, 'src/build/cache.ts'))};
    import { sha256 } from ${JSON.stringify(path.join(repoRoot, 'src/build/hash.ts'))};
    const cache = new Cache(process.argv[2]);
    const now = new Date().toISOString();
    for (let round = 0; round < 20; round++) {
      for (let n = 0; n < 5; n++) {
        const k = sha256('key ' + n);
        cache.put({ kind: 'map', key: k, task: 't' + n, engine: { id: 'x', version: '1' }, inputs: {}, deps: {}, startedAt: now, finishedAt: now, durationMs: 0 },
          { n, writer: process.pid, padding: 'x'.repeat(20000) });
      }
    }
  `;
  const file = path.join(path.dirname(cache.root), 'writer.ts');
  writeFileSync(file, script);
  await Promise.all(
    Array.from({ length: 6 }, () => new Promise<void>((resolve, reject) => {
      execFile(process.execPath, ['--import=tsx', file, cache.root], { cwd: repoRoot }, (error) => (error ? reject(error) : resolve()));
    })),
  );
  for (let n = 0; n < 5; n++) {
    const hit = cache.get('map', key(n));
    t.true(hit.ok, `entry ${n}: ${hit.ok ? '' : hit.detail}`);
    if (hit.ok) t.is((hit.result as { n: number }).n, n);
  }
  t.is(cache.entries().length, 5);
  t.deepEqual(readdirSync(path.join(cache.root, '.tmp')), []);
});

test('gc removes unreferenced entries and stale records; clean removes everything', (t) => {
  const cache = newCache();
  for (let n = 0; n < 4; n++) cache.put(info(key(n), n % 2 === 0 ? 'map' : 'aggregate'), { n });
  cache.writeRecord({ id: 'map:keep', kind: 'map', key: key(0), engine: { id: 'x', version: '1' }, inputs: {}, deps: {}, updatedAt: '' });
  cache.writeRecord({ id: 'map:gone', kind: 'map', key: key(2), engine: { id: 'x', version: '1' }, inputs: {}, deps: {}, updatedAt: '' });
  const out = cache.gc(new Set([`map/${key(0)}`, `aggregate/${key(1)}`]), new Set(['map:keep']));
  t.deepEqual(out.removed.map((e) => `${e.kind}/${e.key}`).sort(), [`aggregate/${key(3)}`, `map/${key(2)}`].sort());
  t.is(out.kept, 2);
  t.is(out.records, 1);
  t.true(cache.has('map', key(0)));
  t.false(cache.has('map', key(2)));
  t.truthy(cache.readRecord('map:keep'));
  t.is(cache.readRecord('map:gone'), undefined);
  cache.clean();
  t.false(existsSync(cache.root));
});
