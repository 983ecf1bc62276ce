/**
 * bin/launch.mjs: expt starts from a bundle of its sources made on the first
 * start, and a bundle is never stale: an edit of any source file gives a new
 * bundle before it runs. Without the bundle (EXPT_NO_BUNDLE=1) the same
 * sources run through tsx. Run in a copy of the repository whose
 * node_modules holds links to the real packages, so the copy's bundles stay
 * in the copy.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { copyRepository as copyRepositoryTo } from '../helpers/repo-copy.ts';

const copies: string[] = [];
test.after.always(() => {
  for (const d of copies) rmSync(d, { recursive: true, force: true });
});

function copyRepository(): string {
  const dir = copyRepositoryTo('expt-launch-');
  copies.push(dir);
  return dir;
}

function run(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(cwd, 'bin', 'expt.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: '1', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

const bundles = (dir: string) => readdirSync(path.join(dir, 'node_modules', '.cache', 'expt')).filter((n) => n.startsWith('bundle-')).sort();

test('the first start bundles the sources; an edited source file is bundled anew before it runs', async (t) => {
  const dir = copyRepository();
  const first = await run(dir, ['--version']);
  t.is(first.code, 0, first.stderr);
  t.is(first.stdout.trim(), '0.1.0');
  const [built] = bundles(dir);
  t.truthy(built);
  t.deepEqual(readdirSync(path.join(dir, 'node_modules', '.cache', 'expt', built!)).filter((f) => f.endsWith('.mjs')).sort(), ['main.mjs', 'search-worker.mjs', 'worker.mjs']);

  // A file the CLI reaches only through the pipeline: the edit must show in `plan`.
  appendFileSync(path.join(dir, 'src', 'build', 'plan.ts'), "\nprocess.stderr.write('edited plan.ts\\n');\n");
  const edited = await run(dir, ['plan', 'quick']);
  t.is(edited.code, 0, edited.stderr);
  t.true(edited.stderr.includes('edited plan.ts'));
  t.is(bundles(dir).length, 2);

  const viaTsx = await run(dir, ['plan', 'quick'], { EXPT_NO_BUNDLE: '1' });
  t.is(viaTsx.code, 0, viaTsx.stderr);
  t.true(viaTsx.stderr.includes('edited plan.ts'));
  t.is(viaTsx.stdout, edited.stdout);
});

test('a cold run from the bundle (main thread and worker threads) gives the same reports as through tsx', async (t) => {
  const dir = copyRepository();
  const reports = async (env: NodeJS.ProcessEnv) => {
    const cache = mkdtempSync(path.join(dir, 'cache-'));
    const out = mkdtempSync(path.join(dir, 'reports-'));
    const r = await run(dir, ['run', 'quick', '-j', '2'], { ...env, EXPT_CACHE_DIR: cache, EXPT_REPORTS_DIR: out });
    t.is(r.code, 0, r.stderr);
    return readFileSync(path.join(out, 'layers.csv'), 'utf8');
  };
  const bundled = await reports({});
  t.is(bundles(dir).length, 1);
  const viaTsx = await reports({ EXPT_NO_BUNDLE: '1' });
  t.is(bundled, viaTsx);
  // Both computed the study's layers: BERT-large KQV is 4096 × 1024 × 3072 MACs.
  t.true(bundled.split('\n').some((row) => row.startsWith('quick,bert-large,KQV,gemmini,') && row.split(',')[6] === String(4096 * 1024 * 3072)));
});
