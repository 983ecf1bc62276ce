/**
 * The expansion memo (src/build/session-memo.ts): file-system
 * observations recorded during an expansion, a memo used only while they
 * all hold, and through the CLI the same plan with and without it.
 */
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as fsNamed from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MEMO_FORMAT, readMemo, recordFs, writeMemo, type SessionMemo } from '../../src/build/session-memo.ts';
import { cleanupTempDirs, expt, makeProject, planJson, runJson, writeConfig } from './fixture.ts';

test.after.always(cleanupTempDirs);

const temps: string[] = [];
test.after.always(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'expt-memo-'));
  temps.push(d);
  return d;
}

test('recordFs sees reads, existence checks, listings and failed calls through named imports; fs is restored after', (t) => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'a.yaml'), 'a: 1\n');
  const rec = recordFs(() => {
    // Named ESM imports of node:fs are what the expander uses.
    const text = fsNamed.readFileSync(path.join(dir, 'a.yaml'), 'utf8');
    const there = fsNamed.existsSync(path.join(dir, 'b.csv'));
    const names = fsNamed.readdirSync(dir);
    let missing = false;
    try {
      fsNamed.readFileSync(path.join(dir, 'nope.yaml'));
    } catch {
      missing = true;
    }
    return { text, there, names, missing };
  });
  t.deepEqual(rec.result, { text: 'a: 1\n', there: false, names: ['a.yaml'], missing: true });
  t.true(rec.complete);
  t.deepEqual(
    rec.observations.map((o) => [o.op, path.basename(o.path), o.value.length === 64 ? 'sha' : o.value]),
    [
      ['read', 'a.yaml', 'sha'],
      ['exists', 'b.csv', 'false'],
      ['readdir', path.basename(dir), 'a.yaml'],
      ['read', 'nope.yaml', 'unreadable'],
    ],
  );
  // Restored: nothing is recorded outside.
  const after = recordFs(() => 0);
  fsNamed.readFileSync(path.join(dir, 'a.yaml'));
  t.deepEqual(after.observations, []);
});

test('a memo holds while every observation holds: a changed, created or removed file invalidates it', (t) => {
  const dir = tempDir();
  const cache = path.join(dir, 'cache');
  mkdirSync(path.join(dir, 'archs'));
  writeFileSync(path.join(dir, 'archs', 'x.yaml'), 'x: 1\n');
  const rec = recordFs(() => {
    fsNamed.readFileSync(path.join(dir, 'archs', 'x.yaml'), 'utf8');
    fsNamed.existsSync(path.join(dir, 'archs', 'x.energy.csv'));
    return fsNamed.readdirSync(path.join(dir, 'archs'));
  });
  const memo: SessionMemo = { format: MEMO_FORMAT, fingerprint: 'f'.repeat(64), observations: rec.observations, experiments: [], tasks: [] };
  writeMemo(cache, memo);
  t.truthy(readMemo(cache, memo.fingerprint));
  t.is(readMemo(cache, 'e'.repeat(64)), undefined, 'another fingerprint');
  writeFileSync(path.join(dir, 'archs', 'x.yaml'), 'x: 2\n');
  t.is(readMemo(cache, memo.fingerprint), undefined, 'content changed');
  writeFileSync(path.join(dir, 'archs', 'x.yaml'), 'x: 1\n');
  t.truthy(readMemo(cache, memo.fingerprint), 'back to the recorded content');
  writeFileSync(path.join(dir, 'archs', 'x.energy.csv'), 'component,action,energy_pJ\n');
  t.is(readMemo(cache, memo.fingerprint), undefined, 'a file it checked for appeared');
  rmSync(path.join(dir, 'archs', 'x.energy.csv'));
  writeFileSync(path.join(dir, 'archs', 'y.yaml'), 'y: 1\n');
  t.is(readMemo(cache, memo.fingerprint), undefined, 'the listing changed');
  rmSync(path.join(dir, 'archs', 'y.yaml'));
  t.truthy(readMemo(cache, memo.fingerprint));
  writeFileSync(path.join(cache, '.sessions', `${memo.fingerprint}.json`), '{"truncated":');
  t.is(readMemo(cache, memo.fingerprint), undefined, 'a corrupt memo is a miss');
});

test('expt plan from the memo equals the full expansion; the memo is used while the inputs hold and dropped when one changes', async (t) => {
  const dir = makeProject();
  writeConfig(dir);
  t.is((await runJson(dir)).run.code, 0);
  const sessions = path.join(dir, 'cache', '.sessions');
  t.is(readdirSync(sessions).length, 1);
  const memoFile = path.join(sessions, readdirSync(sessions)[0]);
  const memo = JSON.parse(readFileSync(memoFile, 'utf8')) as SessionMemo;
  t.true(memo.observations.some((o) => o.op === 'read' && o.path.endsWith(path.join('archs', 'gemmini.yaml'))));
  t.true(memo.tasks.every((task) => Object.values(task.inputs).every((i) => !('value' in i))), 'no input values in the memo');

  const fromMemo = await planJson(dir);
  rmSync(sessions, { recursive: true });
  const full = await planJson(dir);
  t.deepEqual(fromMemo, full);
  t.true(existsSync(memoFile), 'written again by the full expansion');

  // Proof that plan reads the memo: a label changed in it shows up...
  const tampered = readFileSync(memoFile, 'utf8').replace(/"label":"archs\/gemmini\.yaml"/g, '"label":"(from the memo)"');
  writeFileSync(memoFile, tampered);
  const text = await expt(dir, 'plan', '--json');
  t.regex(text.stdout, /\(from the memo\)/);
  // ...until an input file changes (a comment is enough to invalidate the memo; the keys stay).
  writeFileSync(path.join(dir, 'archs', 'gemmini.yaml'), `# edited\n${readFileSync(path.join(dir, 'archs', 'gemmini.yaml'), 'utf8')}`);
  const after = await planJson(dir);
  let plan = after;
  t.notRegex(JSON.stringify(after), /\(from the memo\)/);
  t.true(after.every((p) => p.state === 'cached'));
  t.deepEqual(
    after.map((p) => p.key),
    full.map((p) => p.key),
  );

  // A run that has something to do while the memo holds expands again (tasks need their input values).
  plan = await planJson(dir);
  const victim = plan.find((p) => p.kind === 'map')!;
  rmSync(path.join(dir, 'cache', 'map', victim.key), { recursive: true });
  // (The aggregate's key is made of its dependencies' keys, which did not change: it stays cached.)
  t.deepEqual((await planJson(dir)).filter((p) => p.state === 'will run').map((p) => p.id), [victim.id]);
  const run = await runJson(dir);
  t.is(run.run.code, 0, run.run.stderr);
  t.deepEqual([run.summary.ran, run.summary.cached, run.summary.failed], [1, 4, 0]);
});
