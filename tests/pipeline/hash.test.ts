/**
 * Canonical hashing: the key of a task depends on parsed content only —
 * reformatting a YAML file, reordering its keys or adding comments changes
 * no key (unit level and through `expt plan` on a real project).
 */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { canonicalJson, canonicalize, hashValue } from '../../src/build/hash.ts';
import { readMapperJob } from '../../src/inputs/mapper-job.ts';
import { cleanupTempDirs, expt, makeProject, planJson, runJson, writeConfig } from './fixture.ts';

test.after.always(cleanupTempDirs);

test('canonical JSON sorts keys at every depth and drops undefined members', (t) => {
  const a = { b: 1, a: { d: [1, { y: 2, x: 1 }], c: 'z' }, u: undefined };
  const b = { a: { c: 'z', d: [1, { x: 1, y: 2 }] }, b: 1 };
  t.is(canonicalJson(a), '{"a":{"c":"z","d":[1,{"x":1,"y":2}]},"b":1}');
  t.is(hashValue(a), hashValue(b));
});

test('canonical numbers: 1.0 = 1, -0 = 0, exponents normalized, non-finite values are distinct strings', (t) => {
  t.is(canonicalJson([1.0, -0, 1e3, 0.1 + 0.2, 2.5e-7]), '[1,0,1000,0.30000000000000004,2.5e-7]');
  t.is(canonicalJson([Infinity, -Infinity, NaN]), '["Infinity","-Infinity","NaN"]');
  t.is(hashValue(parseYaml('x: 1.0')), hashValue(parseYaml('x: 1')));
  t.is(hashValue(parseYaml('x: 1e3')), hashValue(parseYaml('x: 1000')));
  t.not(hashValue({ x: 1 }), hashValue({ x: '1' }));
});

test('arrays keep their order; holes and undefined items become null', (t) => {
  t.not(hashValue([1, 2]), hashValue([2, 1]));
  t.deepEqual(canonicalize([undefined, 1]), [null, 1]);
});

test('maps, sets and typed arrays hash by content; functions are refused', (t) => {
  t.is(hashValue(new Map([['b', 1], ['a', 2]])), hashValue({ a: 2, b: 1 }));
  t.is(hashValue(new Set([3, 1, 2])), hashValue(new Set([2, 3, 1])));
  t.is(hashValue(new Float64Array([1, 2])), hashValue([1, 2]));
  t.throws(() => hashValue({ f: () => 1 }), { message: /cannot hash a function \(at \$\.f\)/ });
});

test('reformatted YAML (flow/block style, key order, comments, quoting) parses to the same hashes', (t) => {
  const dir = makeProject();
  const file = path.join(dir, 'archs', 'gemmini.yaml');
  const original = readMapperJob([file, path.join(dir, 'problems', 'KQV.yaml')]);
  const doc = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const reordered = Object.fromEntries(Object.entries(doc).reverse());
  const other = path.join(dir, 'archs', 'gemmini-reformatted.yaml');
  writeFileSync(other, '# reformatted\n' + stringifyYaml(reordered, { defaultStringType: 'QUOTE_DOUBLE', collectionStyle: 'flow', sortMapEntries: true }));
  const again = readMapperJob([other, path.join(dir, 'problems', 'KQV.yaml')]);
  t.is(hashValue(again.arch), hashValue(original.arch));
  t.is(hashValue(again.ert), hashValue(original.ert));
  t.is(hashValue(again.constraints), hashValue(original.constraints));
});

test('expt: reformatting a YAML file or reordering its keys reruns nothing', async (t) => {
  const dir = makeProject();
  writeConfig(dir);
  const first = await runJson(dir);
  t.is(first.run.code, 0, first.run.stderr);
  t.is(first.summary.failed, 0);
  const csv = readFileSync(path.join(dir, 'reports', 'layers.csv'), 'utf8');

  // Rewrite every input: keys in reverse order (recursively), flow style, comments, different number spellings.
  const reverse = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(reverse) : typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverse(x)])) : v;
  for (const f of ['archs/gemmini.yaml', 'archs/eyeriss.yaml', 'problems/KQV.yaml', 'problems/VScores.yaml']) {
    const p = path.join(dir, f);
    const doc = parseYaml(readFileSync(p, 'utf8'));
    let text = stringifyYaml(reverse(doc), { collectionStyle: 'flow', lineWidth: 0 });
    text = text.replace(/\benergy: 0\b(?!\.)/g, 'energy: 0.0e+0');
    writeFileSync(p, `# reformatted on purpose\n# keys reversed, flow style\n${text}\n# trailing comment\n`);
  }
  // The config itself, reformatted: other key order, a comment, different spacing.
  const cfgFile = path.join(dir, 'experiments.config.mjs');
  const cfg = readFileSync(cfgFile, 'utf8');
  writeFileSync(cfgFile, `// reformatted\n${cfg.replace(/\n\s+/g, '\n      ')}`);

  const plan = await planJson(dir);
  t.true(plan.length > 0);
  t.deepEqual(plan.filter((p) => p.state !== 'cached').map((p) => `${p.id}: ${p.reason}`), []);
  const again = await runJson(dir);
  t.is(again.summary.ran, 0);
  t.is(again.summary.cached, plan.length);
  t.is(readFileSync(path.join(dir, 'reports', 'layers.csv'), 'utf8'), csv);
  const r = await expt(dir, 'plan');
  t.regex(r.stdout, /nothing to do/);
});
