/**
 * The timeloop engine end to end, with the real Timeloop (skipped, visibly,
 * without it; EXPT_TIMELOOP_MODEL=none forces the skip): a tiny experiment
 * (one small GEMM on the study's Gemmini with its constraints) runs with
 * `expt run --engine timeloop` (timeloop-mapper, its files kept with the
 * cache entry, the result shown and reported like the embedded engine's),
 * the embedded engine's results stay separate, and `expt check` in pipeline
 * mode reports identical counts for the task.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { findTimeloopModel } from '../helpers/oracle-fuzz.ts';
import { bin, cleanupTempDirs, makeProject, testEnv, writeConfig, type Run } from '../pipeline/fixture.ts';

test.after.always(cleanupTempDirs);

const model = findTimeloopModel();

function exptWith(env: NodeJS.ProcessEnv, cwd: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20, env }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

if (!model || !existsSync(path.join(path.dirname(model), 'timeloop-mapper'))) {
  test.skip('timeloop-model/timeloop-mapper not installed: expt run --engine timeloop and expt check (pipeline mode) end to end skipped', () => {});
} else {
  test('expt run --engine timeloop on a tiny experiment, then expt check reports identical counts', async (t) => {
    const env = { ...testEnv, EXPT_TIMELOOP_MODEL: model };
    const dir = makeProject('expt-tl-engine-');
    const kqv = parseYaml(readFileSync(path.join(dir, 'problems', 'KQV.yaml'), 'utf8')) as { problem: { instance: Record<string, number> } };
    kqv.problem.instance = { D: 64, E: 64, L: 32 };
    writeFileSync(path.join(dir, 'problems', 'tiny.yaml'), stringifyYaml(kqv));
    writeConfig(
      dir,
      { tiny: { mapper: { effort: 200 }, jobs: [{ files: ['archs/gemmini.yaml', 'problems/tiny.yaml'], model: 'tiny', layer: 'KQV', arch: 'gemmini' }] } },
      { timeloop: { timeLimit: '300s', mapper: { num_threads: 1 } } },
    );
    const run = await exptWith(env, dir, 'run', '--engine', 'timeloop', '--json');
    t.is(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as { ran: number; failed: number };
    t.is(summary.failed, 0);
    t.is(summary.ran, 2); // the map task and the aggregate
    // Timeloop's input and logs are kept with the cache entry.
    const entries = readdirSync(path.join(dir, 'cache', 'map'));
    t.is(entries.length, 1);
    const files = readdirSync(path.join(dir, 'cache', 'map', entries[0], 'files'));
    for (const f of ['input.yaml', 'run.stdout', 'run.stderr', 'timeloop-mapper.stats.txt', 'timeloop-mapper.map.yaml']) t.true(files.includes(f), `${f} in ${files.join(', ')}`);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'cache', 'map', entries[0], 'manifest.json'), 'utf8')) as { engine: { id: string; version: string } };
    t.is(manifest.engine.id, 'timeloop-mapper');
    // Reports and show work as with the embedded engine.
    const layers = readFileSync(path.join(dir, 'reports', 'layers.csv'), 'utf8');
    t.regex(layers, /\ntiny,tiny,KQV,gemmini,none,,131072,[0-9.]+,[0-9.]+,[0-9]+,.*,ok,/);
    const show = await exptWith(env, dir, 'show', '--engine', 'timeloop', 'tiny/KQV');
    t.is(show.code, 0, show.stderr);
    t.regex(show.stdout, /Search {6}: timeloop-mapper \(timeloop-mapper@sha256:[0-9a-f]{12}\)/);
    // Cached for the timeloop engine; the embedded engine has its own results.
    const planTl = await exptWith(env, dir, 'plan', '--engine', 'timeloop');
    t.regex(planTl.stdout, /0 will run/);
    const planEmb = await exptWith(env, dir, 'plan');
    t.regex(planEmb.stdout, /will run {2}map:tiny\/tiny\/KQV\/gemmini\/none +engine changed: timeloop-mapper → expt-builtin-mapper/);
    // expt check (pipeline mode): maps with the embedded engine first, compares with timeloop-model.
    const check = await exptWith(env, dir, 'check', '--json');
    t.is(check.code, 0, check.stderr);
    const j = JSON.parse(check.stdout) as { totals: { tasks: number; compared: number; identical: number }; rows: { id: string; counts_equal: boolean; cycles_ratio: number }[] };
    t.deepEqual([j.totals.tasks, j.totals.compared, j.totals.identical], [1, 1, 1]);
    t.true(j.rows[0].counts_equal);
    t.is(j.rows[0].cycles_ratio, 1);
    const csv = readFileSync(path.join(dir, 'reports', 'fidelity.csv'), 'utf8');
    t.regex(csv, /^id,model,layer,arch,hw,fusion,status,counts_equal,/);
    t.regex(csv, /\nTOTAL,.*,1\/1,/);
    t.regex(readFileSync(path.join(dir, 'reports', 'fidelity.md'), 'utf8'), /\*\*Total:\*\* 1 map tasks: 1 compared, 1 of 1 with identical counts/);
  });
}
