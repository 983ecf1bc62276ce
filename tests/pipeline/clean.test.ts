/**
 * `expt clean` and `expt gc` delete only what expt made: a cacheDir /
 * reportsDir that is the project folder, a folder above it, the home
 * folder or `/` is refused (config field or environment variable); in the
 * cache and reports folders, files expt did not write are kept and listed;
 * a cache from before the marker still works; a folder of other files is
 * never taken for a cache.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { bin, cacheEntries, cleanupTempDirs, expt, gridExperiment, makeProject, planJson, testEnv, writeConfig, type Run } from './fixture.ts';

test.after.always(cleanupTempDirs);

function exptEnv(cwd: string, env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 120_000, env: { ...testEnv, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

/** Every file under `dir` with its content (what "nothing was touched" compares). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = readFileSync(p, 'latin1');
    }
  };
  walk(dir);
  return out;
}

/** One line on stderr, `expt: ...`, no stack trace. */
function oneLine(t: { is: (a: unknown, b: unknown, m?: string) => void; notRegex: (s: string, r: RegExp) => void }, r: Run): string {
  const lines = r.stderr.trim().split('\n');
  t.is(lines.length, 1, r.stderr);
  t.notRegex(r.stderr, /\n\s+at |unexpected error/);
  return lines[0];
}

const smallGrid = () => ({ grid: gridExperiment(300, ['VScores'], ['gemmini']) });

test("reportsDir '.' in a JSON config: run and clean refuse, naming the field; the project is untouched", async (t) => {
  const dir = makeProject();
  writeFileSync(path.join(dir, 'experiments.config.json'), JSON.stringify({ reportsDir: '.', experiments: smallGrid() }, null, 2));
  writeFileSync(path.join(dir, 'notes.txt'), 'my notes\n');
  const before = snapshot(dir);
  const run = await expt(dir, 'run');
  t.is(run.code, 2);
  t.regex(oneLine(t, run), /^expt: reportsDir '\.' in experiments\.config\.json is the project folder .*must be a folder of its own, such as 'reports'$/);
  const clean = await expt(dir, 'clean');
  t.is(clean.code, 2);
  t.regex(oneLine(t, clean), /reportsDir '\.' in experiments\.config\.json is the project folder/);
  t.deepEqual(snapshot(dir), before);
});

test('EXPT_CACHE_DIR / EXPT_REPORTS_DIR naming the project, a folder above it, the home folder or / are refused by clean and gc', async (t) => {
  const dir = makeProject();
  writeConfig(dir, smallGrid());
  const before = snapshot(dir);
  const cases: [Record<string, string>, RegExp][] = [
    [{ EXPT_REPORTS_DIR: '.' }, /^expt: EXPT_REPORTS_DIR=\. is the project folder/],
    [{ EXPT_REPORTS_DIR: '..' }, /^expt: EXPT_REPORTS_DIR=\.\. is a folder above the project/],
    [{ EXPT_CACHE_DIR: homedir() }, /^expt: EXPT_CACHE_DIR=.* is your home folder/],
    [{ EXPT_CACHE_DIR: '/' }, /^expt: EXPT_CACHE_DIR=\/ is the root of the file system/],
  ];
  for (const [env, message] of cases) {
    for (const command of ['clean', 'gc']) {
      const r = await exptEnv(dir, env, command);
      t.is(r.code, 2, `${command} ${JSON.stringify(env)}`);
      t.regex(oneLine(t, r), message);
    }
  }
  t.deepEqual(snapshot(dir), before);
});

test("clean removes expt's cache entries and report files only, keeps (and lists) anything else, and says what it removed", async (t) => {
  const dir = makeProject();
  writeConfig(dir, smallGrid());
  t.is((await expt(dir, 'run')).code, 0);
  t.true(existsSync(path.join(dir, 'cache', '.expt-cache')), 'the cache carries the marker');
  const manifest = JSON.parse(readFileSync(path.join(dir, 'reports', '.expt-reports.json'), 'utf8')) as { files: Record<string, string> };
  t.true('layers.csv' in manifest.files && 'index.md' in manifest.files);
  writeFileSync(path.join(dir, 'cache', 'README.txt'), 'not expt\n');
  writeFileSync(path.join(dir, 'reports', 'draft.md'), 'my draft\n');
  mkdirSync(path.join(dir, 'reports', 'charts'), { recursive: true });
  writeFileSync(path.join(dir, 'reports', 'charts', 'mine.svg'), '<svg/>\n');
  const clean = await expt(dir, 'clean');
  t.is(clean.code, 0, clean.stderr);
  t.regex(clean.stdout, /^expt clean: removed 2 cache entries and \d+ other cache files from cache$/m);
  t.regex(clean.stdout, /^expt clean: removed 6 report files from reports$/m);
  t.regex(clean.stdout, /^ {2}kept cache\/README\.txt \(not written by expt\)$/m);
  t.regex(clean.stdout, /^ {2}kept reports\/draft\.md \(not written by expt\)$/m);
  t.regex(clean.stdout, /^ {2}kept reports\/charts\/mine\.svg \(not written by expt\)$/m);
  t.deepEqual(readdirSync(path.join(dir, 'cache')).sort(), ['.expt-cache', 'README.txt']);
  t.deepEqual(snapshot(path.join(dir, 'reports')), { 'draft.md': 'my draft\n', [path.join('charts', 'mine.svg')]: '<svg/>\n' });
  t.deepEqual(cacheEntries(dir), []);
  // A second clean: nothing of expt's left, the same files kept.
  const again = await expt(dir, 'clean');
  t.is(again.code, 0);
  t.regex(again.stdout, /removed 0 cache entries/);
  t.true(existsSync(path.join(dir, 'cache', 'README.txt')) && existsSync(path.join(dir, 'reports', 'draft.md')));
});

test('a cache from before the marker (expt layout only) keeps working for run and plan, and clean removes it; a folder of other files is never a cache', async (t) => {
  const dir = makeProject();
  writeConfig(dir, smallGrid());
  t.is((await expt(dir, 'run')).code, 0);
  rmSync(path.join(dir, 'cache', '.expt-cache'));
  t.true((await planJson(dir)).every((p) => p.state === 'cached'), 'an unmarked cache of the known layout is read');
  const rerun = await expt(dir, 'run');
  t.is(rerun.code, 0, rerun.stderr);
  t.regex(rerun.stdout, /0 ran, 2 cached/);
  t.is((await expt(dir, 'clean')).code, 0);
  t.false(existsSync(path.join(dir, 'cache')));

  // cacheDir pointing at a folder of other files: refused for writing and for removing, nothing touched.
  const other = path.join(dir, 'experiments-data');
  mkdirSync(path.join(other, 'map'), { recursive: true });
  writeFileSync(path.join(other, 'data.csv'), 'a,b\n1,2\n');
  writeFileSync(path.join(other, 'map', 'notes.md'), '# notes\n');
  const before = snapshot(other);
  for (const command of ['run', 'clean', 'gc', 'plan']) {
    const r = await exptEnv(dir, { EXPT_CACHE_DIR: 'experiments-data' }, command);
    t.is(r.code, 2, command);
    t.regex(oneLine(t, r), /^expt: experiments-data: not an expt cache: the folder has no \.expt-cache and holds files expt did not make \(data\.csv, map\); set cacheDir in the config \(or EXPT_CACHE_DIR\) to a new folder$/);
  }
  t.deepEqual(snapshot(other), before);
});

test('gc removes a leftover memo temp file and temp entries of a killed process, and claims of dead processes', async (t) => {
  const dir = makeProject();
  writeConfig(dir, smallGrid());
  t.is((await expt(dir, 'run')).code, 0);
  // A pid that is surely gone: a process that has exited.
  const dead = await new Promise<number>((resolve) => {
    const child = execFile(process.execPath, ['-e', '0'], () => resolve(child.pid!));
  });
  const sessions = path.join(dir, 'cache', '.sessions');
  const memo = readdirSync(sessions).find((f) => f.endsWith('.json'))!;
  writeFileSync(path.join(sessions, `${memo}.tmp-${dead}`), 'x'.repeat(50_000));
  mkdirSync(path.join(dir, 'cache', '.tmp', `entry-${dead}-0123456789ab`), { recursive: true });
  mkdirSync(path.join(dir, 'cache', '.claims'), { recursive: true });
  writeFileSync(path.join(dir, 'cache', '.claims', 'run-dead'), JSON.stringify({ pid: dead, host: (await import('node:os')).hostname(), start: null, since: '' }));
  const gc = await expt(dir, 'gc', '--json');
  t.is(gc.code, 0, gc.stderr);
  t.is((JSON.parse(gc.stdout) as { temp: number }).temp, 3);
  t.deepEqual(readdirSync(sessions), [memo]);
  t.deepEqual(readdirSync(path.join(dir, 'cache', '.tmp')), []);
  t.deepEqual(readdirSync(path.join(dir, 'cache', '.claims')), []);
  t.true(statSync(path.join(sessions, memo)).isFile());
});
