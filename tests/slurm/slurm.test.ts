/**
 * `expt run --executor slurm` against a real Slurm: the one-node cluster of
 * scripts/slurm-localhost.sh (CI starts it before the tests). Reports equal a
 * local run's byte for byte; a failed element is reported and a rerun
 * submits only it (and what it holds back); --detach then run collects
 * without resubmitting; an element cancelled with scancel is resubmitted;
 * the array throttle holds. Without a running cluster every test here is
 * skipped with the reason.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers/golden.ts';
import { bin, testEnv } from '../pipeline/fixture.ts';

function clusterProblem(): string | undefined {
  const r = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8' });
  if (r.error) return 'sinfo not found: no Slurm here (scripts/slurm-localhost.sh start installs and starts a one-node cluster, as root)';
  if (r.status !== 0) return `sinfo failed: ${r.stderr.trim()} (scripts/slurm-localhost.sh start)`;
  if (!/idle|mixed|alloc/.test(r.stdout)) return `no node is up (sinfo: ${r.stdout.trim() || 'nothing'}; scripts/slurm-localhost.sh start)`;
  return undefined;
}
const problem = clusterProblem();
const slurmTest = problem === undefined ? test.serial : test.skip;
if (problem !== undefined) test(`Slurm tests skipped: ${problem}`, (t) => t.pass());

const temps: string[] = [];
const submitted: string[] = [];
test.after.always(() => {
  // Nothing of ours stays queued after the tests.
  if (submitted.length > 0) spawnSync('scancel', submitted);
  if (process.env['EXPT_TEST_KEEP_TMP']) return;
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

const env = { ...testEnv, EXPT_SLURM_POLL_MS: '250' };

function expt(cwd: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, env, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
  const ids = /submitted Slurm jobs? ([\d, ]+)/.exec(r.stdout + r.stderr)?.[1];
  if (ids) submitted.push(...ids.split(',').map((s) => s.trim()));
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A project with the repository's presets and models and the given experiments (JSON config). */
function project(experiments: Record<string, unknown>, executor?: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'expt-slurm-'));
  temps.push(dir);
  cpSync(path.join(repoRoot, 'experiments'), path.join(dir, 'experiments'), { recursive: true });
  writeFileSync(path.join(dir, 'experiments.config.json'), JSON.stringify({ ...(executor ? { executor } : {}), experiments }, null, 2));
  return dir;
}

const quick = {
  jobs: ['KQV', 'VScores'].flatMap((layer) => ['gemmini', 'eyeriss'].flatMap((arch) => ['TLD', 'TLL'].map((variant) => ({ model: 'bert-large', layer, arch, variant })))),
};
const small = { models: ['bert-base'], layers: ['KQV', 'KTQ', 'softmax'], architectures: ['gemmini'], fusion: ['none', 'Accumulator'], mapper: { effort: 300 } };

/** Every file under a folder, relative path → bytes. */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), readFileSync(p, 'latin1'));
    }
  };
  walk(dir);
  return out;
}

/** A wrapper for `executor.command`: runs expt unless a rule says otherwise (fail once, wait first). */
function wrapper(dir: string, body: string): string {
  const file = path.join(dir, 'node-wrapper.sh');
  writeFileSync(file, `#!/bin/bash\n${body}\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

function json(out: string): Record<string, unknown> {
  return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

slurmTest('quick and a small matrix through --executor slurm: the same reports as a local run, byte for byte; a second call runs nothing', (t) => {
  const experiments = { quick, small };
  const viaSlurm = project(experiments);
  const local = project(experiments);
  const s = expt(viaSlurm, 'run', '--executor', 'slurm', '--json');
  t.is(s.code, 0, s.stderr);
  t.regex(s.stderr, /submitted Slurm jobs? \d+/);
  const summary = json(s.stdout);
  t.is(summary['failed'], 0);
  t.true((summary['ran'] as number) > 10);
  const l = expt(local, 'run', '--json');
  t.is(l.code, 0, l.stderr);
  const a = tree(path.join(viaSlurm, 'reports'));
  const b = tree(path.join(local, 'reports'));
  t.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [f, text] of a) t.true(text === b.get(f), `reports/${f} differs`);
  const again = expt(viaSlurm, 'run', '--executor', 'slurm', '--json');
  t.is(again.code, 0, again.stderr);
  t.is(json(again.stdout)['ran'], 0);
  t.notRegex(again.stderr, /submitted Slurm/);
  // Finished submissions are history: gc removes their folders.
  t.is(readdirSync(path.join(viaSlurm, 'cache', '.slurm')).length, 1);
  const gc = expt(viaSlurm, 'gc');
  t.is(gc.code, 0, gc.stderr);
  t.regex(gc.stdout, /removed 1 finished Slurm submission folder/);
  t.deepEqual(readdirSync(path.join(viaSlurm, 'cache', '.slurm')), []);
});

slurmTest('a failed element is reported with Slurm\'s state and its stderr; its dependents are skipped, the rest completes (exit 1); a rerun submits only those', (t) => {
  const dir = project({ small });
  const marker = path.join(dir, 'failed-once');
  // Element 0 of wave 0 dies before expt starts, once.
  const cmd = wrapper(dir, `if [ "$3" = 0 ] && [ "$4" = 0 ] && [ ! -e ${JSON.stringify(marker)} ]; then touch ${JSON.stringify(marker)}; echo "node on fire" >&2; exit 3; fi`);
  writeFileSync(path.join(dir, 'experiments.config.json'), JSON.stringify({ executor: { kind: 'slurm', command: cmd }, experiments: { small } }, null, 2));
  const first = expt(dir, 'run', '--json');
  t.is(first.code, 1, first.stderr);
  const s1 = json(first.stdout) as { ran: number; failed: number; skipped: number; failures: { id: string; reason: string }[] };
  t.is(s1.failed, 1);
  t.regex(s1.failures[0].reason, /ended FAILED.*exit 3.*node on fire/);
  t.true(s1.skipped >= 1, 'the failed task holds back its pair and the aggregate');
  const second = expt(dir, 'run', '--json');
  t.is(second.code, 0, second.stderr);
  const s2 = json(second.stdout) as { ran: number; cached: number; failed: number };
  t.is(s2.failed, 0);
  t.is(s2.ran, 1 + s1.skipped);
  t.is(s2.cached, s1.ran);
});

slurmTest('--detach returns after submitting; a later run waits for the queued tasks instead of submitting them again', async (t) => {
  const dir = project({ quick });
  const go = path.join(dir, 'go');
  // Elements wait for the test's signal, so the tasks are still queued when the collecting run looks.
  const cmd = wrapper(dir, `while [ ! -e ${JSON.stringify(go)} ]; do sleep 0.2; done`);
  writeFileSync(path.join(dir, 'experiments.config.json'), JSON.stringify({ executor: { kind: 'slurm', command: cmd }, experiments: { quick } }, null, 2));
  const detached = expt(dir, 'run', '--detach');
  t.is(detached.code, 0, detached.stderr);
  t.regex(detached.stdout, /submitted Slurm jobs \d+, \d+/);
  t.regex(detached.stderr, /keep running .*run the same command again.*scancel/);
  t.false(existsSync(path.join(dir, 'reports', 'layers.csv')));
  const plan = expt(dir, 'plan');
  t.regex(plan.stdout, /queued on Slurm as \d+_\d+ \((PENDING|RUNNING)\)/);
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [bin, 'run', '--json'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => {
    err += d;
    if (/already queued/.test(err) && !existsSync(go)) writeFileSync(go, '');
  });
  const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  writeFileSync(go, '');
  t.is(code, 0, err);
  t.notRegex(err, /submitted Slurm/);
  t.regex(err, /5 tasks are already queued by an earlier submission/);
  t.is(json(out)['ran'], 5);
  t.true(existsSync(path.join(dir, 'reports', 'layers.csv')));
});

slurmTest('an element cancelled with scancel mid-run is submitted again by the next run, and only it', (t) => {
  const dir = project({ quick });
  const cmd = wrapper(dir, 'sleep 4');
  writeFileSync(path.join(dir, 'experiments.config.json'), JSON.stringify({ executor: { kind: 'slurm', command: cmd }, experiments: { quick } }, null, 2));
  const detached = expt(dir, 'run', '--detach');
  t.is(detached.code, 0, detached.stderr);
  const [wave0] = /submitted Slurm jobs (\d+)/.exec(detached.stdout)!.slice(1);
  execFileSync('scancel', [`${wave0}_1`]);
  const next = expt(dir, 'run', '--json');
  t.is(next.code, 0, next.stderr);
  t.regex(next.stderr, /submitted Slurm job/);
  const jobs = readdirSync(path.join(dir, 'cache', '.slurm')).sort();
  t.is(jobs.length, 2);
  const resubmitted = readFileSync(path.join(dir, 'cache', '.slurm', jobs[1], 'tasks.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
  // The cancelled map task and the aggregate that waited for it (cancelled with the dependency wave's element or not).
  t.true(resubmitted.some((id) => id.startsWith('map:')));
  t.true(resubmitted.length <= 2, resubmitted.join(', '));
  t.is(json(next.stdout)['failed'], 0);
});

slurmTest('per-experiment settings: each experiment\'s tasks go to an array with its own settings', (t) => {
  const other = { ...small, models: ['gpt2-small'], fusion: ['none'] };
  const dir = project({ small, other: { ...other, executor: { kind: 'slurm', time: '20:00', tasksPerElement: 2 } } }, { kind: 'slurm', time: '10:00' });
  const r = expt(dir, 'run', '--json');
  t.is(r.code, 0, r.stderr);
  const [folder] = readdirSync(path.join(dir, 'cache', '.slurm'));
  const job = JSON.parse(readFileSync(path.join(dir, 'cache', '.slurm', folder, 'job.json'), 'utf8')) as { arrays: { wave: number; settings: { time?: string } }[] };
  const wave0 = job.arrays.filter((a) => a.wave === 0);
  t.deepEqual(wave0.map((a) => a.settings.time).sort(), ['10:00', '20:00']);
  // Two tasks per element on the 20-minute array: its tasks are done all the same.
  t.deepEqual(wave0.map((a) => (a as unknown as { tasksPerElement: number }).tasksPerElement).sort(), [1, 2]);
  t.is(json(r.stdout)['failed'], 0);
});

test('no Slurm client on PATH: one line saying where to run or how to start a test cluster (exit 2)', (t) => {
  const dir = project({ small }, { kind: 'slurm' });
  const r = spawnSync(process.execPath, [bin, 'run'], { cwd: dir, env: { ...env, PATH: path.join(dir, 'no-such-bin') }, encoding: 'utf8' });
  t.is(r.status, 2);
  t.regex(r.stderr, /^expt: (squeue|sbatch|scontrol) not found: run expt on a Slurm cluster's login node .*scripts\/slurm-localhost\.sh start.*--executor local`\n$/);
  t.is(r.stderr.split('\n').length, 2);
});

test('experiments that ask for different executors: one line naming the field, unless --executor chooses (exit 2)', (t) => {
  const dir = project({ small, other: { ...small, executor: 'slurm' } });
  const r = spawnSync(process.execPath, [bin, 'plan'], { cwd: dir, env, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const run = spawnSync(process.execPath, [bin, 'run'], { cwd: dir, env, encoding: 'utf8' });
  t.is(run.status, 2);
  t.is(run.stderr, "expt: experiments.config.json: experiments.other.executor: experiment 'small' runs on local and 'other' on slurm: run them separately, or choose one with --executor local|slurm\n");
});

slurmTest('the array throttle holds: with throttle 1, no two elements of one array run at once', (t) => {
  const dir = project({ small });
  const log = path.join(dir, 'elements.log');
  // Each element logs when its process starts and ends (Slurm's own view lags: a finishing element
  // may still be listed as running when the next one starts).
  const cmd = path.join(dir, 'node-wrapper.sh');
  writeFileSync(
    cmd,
    [
      '#!/bin/bash',
      `echo "$SLURM_ARRAY_JOB_ID start $(date +%s%N)" >> ${JSON.stringify(log)}`,
      'sleep 1',
      `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} "$@"; rc=$?`,
      `echo "$SLURM_ARRAY_JOB_ID end $(date +%s%N)" >> ${JSON.stringify(log)}`,
      'exit $rc',
      '',
    ].join('\n'),
  );
  chmodSync(cmd, 0o755);
  writeFileSync(path.join(dir, 'experiments.config.json'), JSON.stringify({ executor: { kind: 'slurm', command: cmd, throttle: 1 }, experiments: { small } }, null, 2));
  const r = expt(dir, 'run', '--json');
  t.is(r.code, 0, r.stderr);
  const events = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ')).map(([array, what, ns]) => ({ array, what, at: BigInt(ns) }));
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const running = new Map<string, number>();
  let most = 0;
  for (const e of events) {
    const n = (running.get(e.array) ?? 0) + (e.what === 'start' ? 1 : -1);
    running.set(e.array, n);
    most = Math.max(most, n);
  }
  t.true(events.filter((e) => e.what === 'start').length >= 4, 'the map wave has several elements');
  t.is(most, 1);
});
