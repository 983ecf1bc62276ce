/**
 * Environment failures are the user's to fix, not bugs: a read-only or full
 * cache, read-only reports, a file where the cache folder should be, a clean
 * during a run, an output path that cannot be written, a reader that closes
 * the pipe. Each is one line naming the path and what to do (exit 2; a
 * closed pipe: a quiet exit), results that finished stay in the cache, good
 * reports are never replaced by empty ones, and no temp file is left.
 *
 * Read-only and full disks are real mounts (a read-only bind mount, a tiny
 * tmpfs): root ignores permission bits, but not a read-only or full file
 * system. Where mounting is impossible those tests are skipped, saying why.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { goldenDir } from '../helpers/golden.ts';
import { bin, cacheEntries, cleanupTempDirs, expt, exptSpawn, gridExperiment, makeProject, planJson, readText, testEnv, writeConfig, type Run } from './fixture.ts';

const mounts: string[] = [];
test.after.always(() => {
  for (const m of mounts.splice(0).reverse()) spawnSync('umount', ['-l', m]);
  cleanupTempDirs();
});

/** Why this machine cannot mount a tmpfs (then the mount tests are skipped), or undefined. */
function mountProblem(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  const dir = mkdtempSync(path.join(tmpdir(), 'expt-mount-probe-'));
  try {
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { encoding: 'utf8' });
    if (r.error) return `no mount command (${r.error.message})`;
    if (r.status !== 0) return `mount failed: ${r.stderr.trim() || `exit ${r.status}`} (needs root with CAP_SYS_ADMIN)`;
    spawnSync('umount', [dir]);
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const cannotMount = mountProblem();
const withMount = cannotMount === undefined ? test : test.skip;
const mountNote = cannotMount === undefined ? '' : ` [skipped: ${cannotMount}]`;

function mount(...args: string[]): void {
  const target = args[args.length - 1];
  execFileSync('mount', args);
  mounts.push(target);
}

function readOnly(dir: string): void {
  mount('--bind', dir, dir);
  execFileSync('mount', ['-o', 'remount,ro,bind', dir]);
}

function unmount(dir: string): void {
  execFileSync('umount', [dir]);
  mounts.splice(mounts.indexOf(dir), 1);
}

/** Exactly one line on stderr, with no stack trace; returns it. */
function oneLine(t: { is: (a: unknown, b: unknown, m?: string) => void; notRegex: (s: string, r: RegExp) => void }, r: Run): string {
  const lines = r.stderr.trim().split('\n');
  t.is(lines.length, 1, r.stderr);
  t.notRegex(r.stderr, /\n\s+at |unexpected error|a bug in expt/);
  return lines[0];
}

const twoTasks = () => ({ grid: gridExperiment(300, ['VScores'], ['gemmini']) });

withMount(`read-only cache: run says so in one line before computing (not ENOENT), plan still works${mountNote}`, async (t) => {
  const dir = makeProject();
  writeConfig(dir, twoTasks());
  t.is((await expt(dir, 'run')).code, 0);
  const before = cacheEntries(dir);
  readOnly(path.join(dir, 'cache'));
  try {
    // Everything cached: a read-only cache is enough.
    const warm = await expt(dir, 'run');
    t.is(warm.code, 0, warm.stderr);
    writeConfig(dir, { grid: gridExperiment(301, ['VScores'], ['gemmini']) });
    const run = await expt(dir, 'run');
    t.is(run.code, 2);
    t.is(oneLine(t, run), "expt: cache: read-only file system (EROFS): make the cache folder writable, or set cacheDir in the config (or EXPT_CACHE_DIR) to a folder that is");
    t.notRegex(run.stdout, /done|FAILED/, 'nothing was computed');
    t.is((await planJson(dir)).filter((p) => p.state === 'will run').length, 2);
  } finally {
    unmount(path.join(dir, 'cache'));
  }
  t.deepEqual(cacheEntries(dir), before);
});

withMount(`read-only reports: run keeps its results in the cache and says how to write the reports; the reports are unchanged${mountNote}`, async (t) => {
  const dir = makeProject();
  writeConfig(dir, twoTasks());
  t.is((await expt(dir, 'run')).code, 0);
  const csv = readText(dir, 'reports/layers.csv');
  writeConfig(dir, { grid: gridExperiment(301, ['VScores'], ['gemmini']) });
  readOnly(path.join(dir, 'reports'));
  try {
    for (const command of ['run', 'report']) {
      const r = await expt(dir, command);
      t.is(r.code, 2, command);
      t.is(oneLine(t, r), "expt: reports: read-only file system (EROFS): make the reports folder writable, or set reportsDir in the config (or EXPT_REPORTS_DIR) to a folder that is; the results stay in the cache: 'expt report' writes the reports again");
    }
  } finally {
    unmount(path.join(dir, 'reports'));
  }
  t.is(readText(dir, 'reports/layers.csv'), csv);
  t.true((await planJson(dir)).every((p) => p.state === 'cached'), 'the results are in the cache');
  t.is((await expt(dir, 'report')).code, 0);
  t.deepEqual(readdirSync(path.join(dir, 'reports')).filter((f) => f.startsWith('.expt-staging')), []);
});

withMount(`full disk: the run stops with one line, the results stored before stay valid, no temp file is left${mountNote}`, async (t) => {
  const dir = makeProject();
  writeConfig(dir);
  const cache = path.join(dir, 'cache');
  mkdirSync(cache);
  // Room for the memo and one or two of the four ~20 KB map results.
  mount('-t', 'tmpfs', '-o', 'size=60k', 'tmpfs', cache);
  try {
    const run = await expt(dir, 'run', '-j', '1');
    t.is(run.code, 2, run.stdout + run.stderr);
    t.is(oneLine(t, run), 'expt: cache: no space left on the device (ENOSPC): free some space, or set cacheDir in the config (or EXPT_CACHE_DIR) to a folder on another disk; results finished so far stay in the cache');
    t.notRegex(run.stdout, /FAILED/);
    const kept = cacheEntries(dir);
    const plan = await planJson(dir);
    t.is(plan.filter((p) => p.state === 'cached').length, kept.length, 'every entry kept is complete');
    t.true(kept.length < 5);
    const list = (sub: string) => (existsSync(path.join(cache, sub)) ? readdirSync(path.join(cache, sub)) : []);
    t.deepEqual(list('.tmp'), [], 'no temp entry left');
    t.deepEqual(list('.sessions').filter((f) => f.includes('.tmp-')), [], 'no memo temp file left');
    t.false(existsSync(path.join(dir, 'reports')), 'no reports from a stopped run');
  } finally {
    unmount(cache);
  }
});

test('the cache folder is a file: plan, run, report and clean say so in one line; good reports are not overwritten', async (t) => {
  const dir = makeProject();
  writeConfig(dir, twoTasks());
  t.is((await expt(dir, 'run')).code, 0);
  const csv = readText(dir, 'reports/layers.csv');
  rmSync(path.join(dir, 'cache'), { recursive: true });
  writeFileSync(path.join(dir, 'cache'), 'not a folder\n');
  for (const command of ['plan', 'run', 'report', 'gc', 'clean']) {
    const r = await expt(dir, command);
    t.is(r.code, 2, command);
    t.is(oneLine(t, r), 'expt: cache: the cache folder is a file: move it away, or set cacheDir in the config (or EXPT_CACHE_DIR) to a folder');
  }
  t.is(readText(dir, 'reports/layers.csv'), csv);
  t.is(readText(dir, 'cache'), 'not a folder\n');
});

test('expt clean during a run is refused, naming the running process; the run completes', async (t) => {
  const dir = makeProject();
  writeConfig(dir, { grid: gridExperiment(3000) });
  const child = exptSpawn(dir, 'run', '-j', '1');
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const claims = path.join(dir, 'cache', '.claims');
  for (let i = 0; i < 600 && !(existsSync(claims) && readdirSync(claims).some((f) => f.startsWith('run-'))); i++) await new Promise((r) => setTimeout(r, 100));
  const clean = await expt(dir, 'clean');
  t.is(clean.code, 2);
  t.regex(oneLine(t, clean), new RegExp(`^expt: cache: another expt process \\(pid ${child.pid}\\) is computing into this cache: wait for it to finish \\(or stop it\\), then run expt clean again$`));
  t.is(await exited, 0);
  t.true((await planJson(dir)).every((p) => p.state === 'cached'));
  t.is((await expt(dir, 'clean')).code, 0);
});

test('expt plan --json and expt show piped into a reader that has gone: quiet exit 0 (no EPIPE stack)', async (t) => {
  const dir = makeProject();
  writeConfig(dir, twoTasks());
  t.is((await expt(dir, 'run')).code, 0);
  for (const args of [['plan', '--json'], ['show', 'VScores/gemmini']]) {
    // The reader exits before expt writes anything: every write meets a closed pipe.
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" ${args.join(' ')} | (exit 0); echo "status \${PIPESTATUS[0]}"`], { cwd: dir, env: testEnv, encoding: 'utf8' });
    t.is(r.stdout.trim(), 'status 0', `${args.join(' ')}: ${r.stderr}`);
    t.is(r.stderr, '', args.join(' '));
  }
  const head = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" plan --json | head -c 100 >/dev/null; echo "status \${PIPESTATUS[0]}"`], { cwd: dir, env: testEnv, encoding: 'utf8' });
  t.is(head.stdout.trim(), 'status 0');
  t.is(head.stderr, '');
});

test('expt map --emit-timeloop: a missing folder is created; a path that cannot be written fails before the search; expt export --out onto a file is one line', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'expt-output-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const input = path.join(dir, 'input.yaml');
  copyFileSync(path.join(goldenDir, 'paper-VScores-eyeriss-TLD', 'mapper-input.yaml'), input);
  const emitted = path.join(dir, 'new', 'deeper', 'map.yaml');
  const ok = await expt(dir, 'map', input, '--budget', '1s', '--emit-timeloop', emitted);
  t.is(ok.code, 0, ok.stderr);
  t.regex(readFileSync(emitted, 'utf8'), /^mapping:/);
  writeFileSync(path.join(dir, 'afile'), 'x\n');
  const bad = await expt(dir, 'map', input, '--budget', '5s', '--emit-timeloop', path.join(dir, 'afile', 'map.yaml'));
  t.is(bad.code, 2);
  t.regex(oneLine(t, bad), /^expt: .*afile\/map\.yaml: --emit-timeloop: .*afile is a file, not a folder: choose another path$/);
  // The mapping is printed before the file is written: nothing printed, no search ran.
  t.is(bad.stdout, '', 'no search ran');
  const intoDir = await expt(dir, 'map', input, '--emit-timeloop', dir);
  t.is(intoDir.code, 2);
  t.regex(oneLine(t, intoDir), /--emit-timeloop names a folder: give a file name$/);
  const exp = await expt(dir, 'export', input, '--out', path.join(dir, 'afile'));
  t.is(exp.code, 2);
  t.regex(oneLine(t, exp), /^expt: .*afile: export: --out is a file, not a folder: name a new or empty folder$/);
  t.is(readFileSync(path.join(dir, 'afile'), 'utf8'), 'x\n');
});
