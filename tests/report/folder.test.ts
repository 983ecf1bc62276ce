/**
 * Reports are built whole from validated results and swapped in together:
 * a cached result of the wrong shape (hash-consistent) is a miss that run
 * recomputes, never a crash after some files were replaced; a report file
 * expt did not write is never overwritten; a reports folder from before the
 * manifest is taken over.
 */
import test from 'ava';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sha256 } from '../../src/build/hash.ts';
import { repoRoot } from '../helpers/golden.ts';
import { cleanupTempDirs, expt, makeProject, planJson, runJson, writeConfig } from '../pipeline/fixture.ts';

test.after.always(cleanupTempDirs);

/** Every file of the reports folder with its content. */
function reports(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const root = path.join(dir, 'reports');
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(root, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(root);
  return out;
}

/** A model matrix on the gemmini preset: one map task, an aggregate with a chart. */
function matrixProject(): string {
  const dir = makeProject();
  mkdirSync(path.join(dir, 'experiments', 'archs'), { recursive: true });
  copyFileSync(path.join(repoRoot, 'experiments', 'archs', 'gemmini.yaml'), path.join(dir, 'experiments', 'archs', 'gemmini.yaml'));
  writeConfig(dir, { paper: { models: ['bert-base'], layers: ['VScores'], architectures: ['gemmini'], mapper: { effort: 300 } } });
  return dir;
}

test('a hash-consistent aggregate entry of the wrong shape: plan says it will be recomputed, report does not crash or half-write, run restores the same reports', async (t) => {
  const dir = matrixProject();
  const cold = await runJson(dir);
  t.is(cold.run.code, 0, cold.run.stderr);
  const good = reports(dir);
  t.true('charts/paper-energy-by-layer.svg' in good, Object.keys(good).join(', '));

  // `{"hello":1}` with a manifest that matches it: the entry is complete and consistent, just not an aggregate.
  const agg = (await planJson(dir)).find((p) => p.kind === 'aggregate')!;
  const entry = path.join(dir, 'cache', 'aggregate', agg.key);
  const text = '{"hello":1}\n';
  writeFileSync(path.join(entry, 'result.json'), text);
  const manifest = JSON.parse(readFileSync(path.join(entry, 'manifest.json'), 'utf8')) as { result: { sha256: string; bytes: number } };
  manifest.result = { sha256: sha256(text), bytes: Buffer.byteLength(text) };
  writeFileSync(path.join(entry, 'manifest.json'), JSON.stringify(manifest, null, 2));

  const plan = await planJson(dir);
  const p = plan.find((x) => x.id === agg.id)!;
  t.is(p.state, 'will run');
  t.is(p.reason, 'the cached result is corrupt (result.json has the wrong shape for a aggregate task: result.format: missing); recomputing it');

  const report = await expt(dir, 'report');
  t.is(report.code, 0, report.stderr);
  t.is(report.stderr, '');
  t.regex(report.stdout, /paper: incomplete \(1\/1 tasks cached; run 'expt run paper'\)/);
  // Whole reports of what the cache holds (the experiment incomplete), no leftover of the swap.
  t.regex(readFileSync(path.join(dir, 'reports', 'index.md'), 'utf8'), /\| paper \| incomplete: 1\/1 tasks cached \|/);
  t.deepEqual(readdirSync(path.join(dir, 'reports')).filter((f) => f.startsWith('.expt-staging')), []);

  const rerun = await runJson(dir);
  t.is(rerun.run.code, 0, rerun.run.stderr);
  t.deepEqual([rerun.summary.ran, rerun.summary.cached], [1, 1]);
  t.deepEqual(reports(dir), good);
});

test('a report file expt did not write is never overwritten; a reports folder from before the manifest is taken over', async (t) => {
  const dir = matrixProject();
  t.is((await runJson(dir)).run.code, 0);
  const good = reports(dir);

  // From before the manifest: only expt's report names in it.
  rmSync(path.join(dir, 'reports', '.expt-reports.json'));
  const legacy = await expt(dir, 'report');
  t.is(legacy.code, 0, legacy.stderr);
  t.deepEqual(reports(dir), good);

  // Someone else's folder, with an index.md expt did not write: refused, untouched.
  rmSync(path.join(dir, 'reports'), { recursive: true });
  mkdirSync(path.join(dir, 'reports'));
  writeFileSync(path.join(dir, 'reports', 'index.md'), '# my index\n');
  writeFileSync(path.join(dir, 'reports', 'notes.md'), '# notes\n');
  const r = await expt(dir, 'report');
  t.is(r.code, 2);
  t.is(r.stderr, "expt: reports/index.md: exists and was not written by expt (.expt-reports.json does not list it): move it away, or set reportsDir in the config (or EXPT_REPORTS_DIR) to a folder of its own\n");
  t.deepEqual(reports(dir), { 'index.md': '# my index\n', 'notes.md': '# notes\n' });

  // Without the clash, expt's reports go beside the other files, which clean then keeps.
  rmSync(path.join(dir, 'reports', 'index.md'));
  t.is((await expt(dir, 'report')).code, 0);
  t.is(reports(dir)['notes.md'], '# notes\n');
  t.is(reports(dir)['layers.csv'], good['layers.csv']);
  const clean = await expt(dir, 'clean');
  t.is(clean.code, 0);
  t.deepEqual(reports(dir), { 'notes.md': '# notes\n' });
  t.false(existsSync(path.join(dir, 'cache')));
});
