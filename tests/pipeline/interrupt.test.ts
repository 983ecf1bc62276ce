/**
 * Interrupted runs: SIGKILL mid-run leaves no corrupt entry, the rerun
 * recomputes only what had not finished, and the final reports are
 * byte-identical to an uninterrupted run's. Ctrl+C (SIGINT) stops promptly
 * with exit code 130 and keeps the finished results.
 */
import test from 'ava';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Cache } from '../../src/build/cache.ts';
import { cacheEntries, cleanupTempDirs, exptSpawn, gridExperiment, makeProject, planJson, readText, runJson, writeConfig } from './fixture.ts';

test.after.always(cleanupTempDirs);

/** Four experiments with different seeds: 16 distinct map tasks + 4 aggregates. */
function experiments() {
  return Object.fromEntries([1, 2, 3, 4].map((seed) => [`seed${seed}`, gridExperiment(4000, undefined, undefined, seed)]));
}

function mapEntries(dir: string): string[] {
  return cacheEntries(dir).filter((e) => e.startsWith('map/'));
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function manifestTimes(dir: string, entries: string[]): Map<string, string> {
  const cache = new Cache(path.join(dir, 'cache'));
  const out = new Map<string, string>();
  for (const e of entries) {
    const [kind, key] = e.split('/');
    const hit = cache.get(kind, key);
    if (!hit.ok) throw new Error(`corrupt entry ${e}: ${hit.detail}`);
    out.set(e, hit.manifest.finishedAt);
  }
  return out;
}

test('SIGKILL mid-run: no corrupt entry, completed tasks are not recomputed, reports identical to an uninterrupted run', async (t) => {
  const reference = makeProject('expt-ref-');
  writeConfig(reference, experiments());
  const ref = await runJson(reference, '-j', '2');
  t.is(ref.run.code, 0, ref.run.stderr);
  t.is(ref.summary.ran, 20);

  const dir = makeProject('expt-kill-');
  writeConfig(dir, experiments());
  const child = exptSpawn(dir, 'run', '-j', '1');
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal === 'SIGKILL' ? -9 : code)));
  await waitFor(() => mapEntries(dir).length >= 3, 60_000);
  child.kill('SIGKILL');
  t.is(await exited, -9);

  const survived = cacheEntries(dir);
  t.true(survived.length >= 3 && survived.length < 20, `${survived.length} entries after the kill`);
  const before = manifestTimes(dir, survived); // throws on a corrupt entry
  // Only temp leftovers of the killed write may remain, never a partial entry.
  for (const kind of readdirSync(path.join(dir, 'cache'))) {
    if (kind.startsWith('.') || kind === 'tasks') continue;
    for (const key of readdirSync(path.join(dir, 'cache', kind))) t.true(statSync(path.join(dir, 'cache', kind, key, 'manifest.json')).isFile());
  }

  const plan = await planJson(dir);
  t.is(plan.filter((p) => p.state === 'cached').length, survived.length);
  const rerun = await runJson(dir, '-j', '2');
  t.is(rerun.run.code, 0, rerun.run.stderr);
  t.is(rerun.summary.cached, survived.length);
  t.is(rerun.summary.ran, 20 - survived.length);
  // The results that survived were not recomputed.
  const after = manifestTimes(dir, survived);
  t.deepEqual([...after], [...before]);

  t.is(readText(dir, 'reports/layers.csv'), readText(reference, 'reports/layers.csv'));
  t.is(readText(dir, 'reports/index.md'), readText(reference, 'reports/index.md'));
  t.deepEqual(cacheEntries(dir), cacheEntries(reference));
});

test('Ctrl+C (SIGINT) stops promptly with exit 130, keeps finished results, and the next run resumes', async (t) => {
  const dir = makeProject('expt-int-');
  writeConfig(dir, experiments());
  const child = exptSpawn(dir, 'run', '-j', '2');
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor(() => mapEntries(dir).length >= 2, 60_000);
  const t0 = Date.now();
  child.kill('SIGINT');
  const code = await exited;
  const stopMs = Date.now() - t0;
  t.is(code, 130);
  t.true(stopMs < 3000, `stopped after ${stopMs} ms`);
  t.regex(stderr, /interrupted; \d+ new results? kept in the cache/);
  const kept = cacheEntries(dir);
  manifestTimes(dir, kept);
  t.true(kept.length >= 2);
  const rerun = await runJson(dir);
  t.is(rerun.summary.cached, kept.length);
  t.is(rerun.summary.ran + rerun.summary.cached, 20);
});
