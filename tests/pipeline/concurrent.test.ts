/**
 * Concurrent runs on one cache share the work: a task another live process
 * is computing is waited for, not recomputed, so N cold runs compute each
 * task once between them and write the same reports; a claim dies with its
 * holder (a SIGKILLed run's claims are ignored and removed); -j is capped.
 * (The CPU-time figures are `npm run bench -- concurrent`.)
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { bin, cacheEntries, cleanupTempDirs, exptSpawn, gridExperiment, makeProject, planJson, readText, runJson, testEnv, writeConfig, type Run } from './fixture.ts';

test.after.always(cleanupTempDirs);

function runWithEnv(cwd: string, env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 300_000, env: { ...testEnv, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

test('cold runs at once on one cache compute each task once between them (same experiments or overlapping ones) and write identical reports', async (t) => {
  const dir = makeProject();
  writeConfig(dir, { grid: gridExperiment(2000) });
  // Two runs of the same experiments (one waits for the other) and one of a part of them (it shares single tasks).
  const runs = await Promise.all([
    runWithEnv(dir, { EXPT_REPORTS_DIR: 'reports-1' }, 'run', '--json', '-j', '1'),
    runWithEnv(dir, { EXPT_REPORTS_DIR: 'reports-2' }, 'run', '--json', '-j', '1'),
    runWithEnv(dir, { EXPT_REPORTS_DIR: 'reports-gemmini' }, 'run', '--json', '-j', '1', '--only', 'arch=gemmini'),
    runWithEnv(dir, { EXPT_REPORTS_DIR: 'reports-3' }, 'run', '--json', '-j', '1'),
  ]);
  const summaries = runs.map((r) => {
    t.is(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { ran: number; cached: number; failed: number };
  });
  t.is(summaries.reduce((s, x) => s + x.ran, 0), 5, `ran: ${summaries.map((s) => s.ran).join(', ')}`);
  for (const s of [summaries[0], summaries[1], summaries[3]]) t.is(s.ran + s.cached, 5);
  t.is(summaries[2].ran + summaries[2].cached, 2);
  const csv = readText(dir, 'reports-1/layers.csv');
  t.is(readText(dir, 'reports-2/layers.csv'), csv);
  t.is(readText(dir, 'reports-3/layers.csv'), csv);
  t.is(cacheEntries(dir).length, 5);
  t.true((await planJson(dir)).every((p) => p.state === 'cached'));
  t.deepEqual(readdirSync(path.join(dir, 'cache', '.claims')), [], 'every claim released');
});

test('the claims of a killed run are ignored and removed; the next run computes what it was computing', async (t) => {
  const dir = makeProject();
  writeConfig(dir, { grid: gridExperiment(3000) });
  const child = exptSpawn(dir, 'run', '-j', '1');
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const claims = path.join(dir, 'cache', '.claims');
  const taskClaims = () => (existsSync(claims) ? readdirSync(claims).filter((f) => f.startsWith('map-')) : []);
  for (let i = 0; i < 600 && taskClaims().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  const held = taskClaims();
  t.is(held.length, 1, 'one map task claimed at -j 1');
  child.kill('SIGKILL');
  t.is(await exited, 'SIGKILL');
  const claim = JSON.parse(readFileSync(path.join(claims, held[0]), 'utf8')) as { pid: number };
  t.is(claim.pid, child.pid!, 'the claim outlived its holder on disk');
  const rerun = await runJson(dir, '-j', '2');
  t.is(rerun.run.code, 0, rerun.run.stderr);
  t.is(rerun.summary.ran + rerun.summary.cached, 5);
  t.true(rerun.summary.ran >= 1, 'the dead claim did not block its task');
  t.deepEqual(readdirSync(claims), []);
});

test('-j above 4 × the cores is capped with a note', async (t) => {
  const dir = makeProject();
  writeConfig(dir, { grid: gridExperiment(300, ['VScores'], ['gemmini']) });
  const r = await runJson(dir, '-j', '1000');
  t.is(r.run.code, 0, r.run.stderr);
  const cores = availableParallelism();
  t.regex(r.run.stderr, new RegExp(`^expt run: note: -j 1000 capped at ${4 * cores} \\(4 × ${cores} cores?\\): more jobs only add memory and contention$`, 'm'));
});
