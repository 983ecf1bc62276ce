/**
 * A clone of expt has nothing beside it: every file the program, the tests
 * and the benches read lives in the repository. A tracked file that points
 * at the ground-truth folder outside the checkout works only on a machine
 * that happens to have it.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fixturesDir, goldenDir, referenceDir, repoRoot } from '../helpers/golden.ts';

// The folder as a path literal or as path segments passed to join();
// built from parts so that this file does not match itself.
const SHARED = ['sha', 'red'].join('');
const OUTSIDE = new RegExp(`\\.\\./${SHARED}\\b|['"]\\.\\.['"]\\s*,\\s*(['"]\\.\\.['"]\\s*,\\s*)*['"]${SHARED}['"]`);

/** Tracked files (git), or every file outside node_modules when this is not a git checkout. */
function projectFiles(): string[] {
  if (existsSync(join(repoRoot, '.git'))) {
    return execFileSync('git', ['ls-files', '-z'], { cwd: repoRoot, encoding: 'utf8' }).split('\0').filter((f) => f !== '');
  }
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (['node_modules', 'cache', 'reports', '.git'].includes(e.name)) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(repoRoot, p));
    }
  };
  walk(repoRoot);
  return out;
}

test('no file of the project refers to the ground-truth folder outside the checkout', (t) => {
  const files = projectFiles();
  t.true(files.length > 100, `expected the project's files, found ${files.length}`);
  const hits = files.filter((f) => existsSync(join(repoRoot, f)) && statSync(join(repoRoot, f)).isFile() && OUTSIDE.test(readFileSync(join(repoRoot, f), 'latin1')));
  t.deepEqual(hits, []);
});

test('the vendored ground truth is in the repository, each folder with its provenance README', (t) => {
  for (const dir of [fixturesDir, goldenDir, referenceDir, join(referenceDir, 'energy'), join(repoRoot, 'data', 'energy')]) {
    t.true(existsSync(join(dir, 'README.md')), `${relative(repoRoot, dir)}/README.md`);
  }
  const index = JSON.parse(readFileSync(join(goldenDir, 'index.json'), 'utf8')) as { cases: { case_id: string }[] };
  t.true(index.cases.length >= 96, `expected the 96 public cases, found ${index.cases.length}`);
  for (const c of index.cases) t.true(existsSync(join(goldenDir, c.case_id, 'expected.json')), c.case_id);
});
