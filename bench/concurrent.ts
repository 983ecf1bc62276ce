/**
 * `npm run bench -- concurrent [N] [--rounds R] [experiment...]`: do N simultaneous cold
 * `expt run` on one cache share the work? Runs this repository's
 * experiments.config.ts once alone on an empty cache, then N at once (default
 * 4) on another empty cache, each a fresh process, and prints the total CPU
 * time (user + system of the expt processes and their worker threads) and
 * the wall time of each, their ratio (the goal: within 1.3× of one run),
 * how many tasks the N runs computed between them, and whether every run
 * wrote the same reports as the single one. R rounds (default 3) of both,
 * each on fresh caches: one cold run's CPU time varies by several percent
 * from run to run, so the figures are medians over the rounds (and each
 * round's ratio is printed too). The caches and reports go to a temporary
 * folder (EXPT_CACHE_DIR / EXPT_REPORTS_DIR).
 *
 * CPU time is read from /proc/self/stat: the times of waited-for children
 * (Linux).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../tests/helpers/golden.ts';

/** CPU seconds of this process's waited-for children so far (cutime + cstime). */
function childrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 (cutime, cstime) in clock ticks; index = field − 3.
  const ticks = Number(fields[13]) + Number(fields[14]);
  return ticks / clockTicks();
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    // getconf CLK_TCK is 100 on every Linux this runs on; ask rather than assume.
    try {
      const out = execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
      ticksPerSecond = Number(out.trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

interface Outcome {
  code: number | null;
  ran: number;
  cached: number;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(repoRoot, 'bin', 'expt.js'), 'run', '--json', ...args], { cwd: repoRoot, env, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      let ran = -1;
      let cached = -1;
      try {
        const s = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as { ran: number; cached: number };
        ({ ran, cached } = s);
      } catch {
        // no summary: the exit code says why
      }
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, ran, cached, stderr });
    });
  });
}

/** Every report file (relative path → content). */
function reports(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(path.relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

function same(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

interface Round {
  singleCpu: number;
  singleWall: number;
  manyCpu: number;
  manyWall: number;
  ran: number;
  computed: number[];
  identical: boolean;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One round: a cold run alone, then `n` cold runs at once on another empty cache; undefined when a run failed. */
async function round(tmp: string, r: number, n: number, experiments: string[]): Promise<Round | undefined> {
  const env = (cache: string, reportsDir: string) => ({ ...process.env, CI: '1', EXPT_CACHE_DIR: path.join(tmp, `${r}-${cache}`), EXPT_REPORTS_DIR: path.join(tmp, `${r}-${reportsDir}`) });
  let cpu0 = childrenCpuSeconds();
  let t0 = performance.now();
  const single = await run(experiments, env('cache-single', 'reports-single'));
  const singleCpu = childrenCpuSeconds() - cpu0;
  const singleWall = (performance.now() - t0) / 1000;
  if (single.code !== 0) {
    process.stderr.write(`the single run failed (exit ${single.code}): ${single.stderr}\n`);
    return undefined;
  }
  cpu0 = childrenCpuSeconds();
  t0 = performance.now();
  const many = await Promise.all(Array.from({ length: n }, (_, i) => run(experiments, env('cache-shared', `reports-${i}`))));
  const manyCpu = childrenCpuSeconds() - cpu0;
  const manyWall = (performance.now() - t0) / 1000;
  const failed = many.filter((m) => m.code !== 0);
  for (const m of failed) process.stderr.write(`a concurrent run failed (exit ${m.code}): ${m.stderr.trim().split('\n').at(-1)}\n`);
  if (failed.length > 0) return undefined;
  const reference = reports(path.join(tmp, `${r}-reports-single`));
  const identical = many.every((_, i) => same(reports(path.join(tmp, `${r}-reports-${i}`)), reference));
  return { singleCpu, singleWall, manyCpu, manyWall, ran: single.ran, computed: many.map((m) => m.ran), identical };
}

export async function main(argv: string[]): Promise<number> {
  // `concurrent [N] [--rounds R] [experiment...]`
  const args = [...argv];
  const roundsAt = args.indexOf('--rounds');
  const rounds = roundsAt >= 0 ? Number(args.splice(roundsAt, 2)[1]) : 3;
  if (!Number.isInteger(rounds) || rounds < 1) {
    process.stderr.write('concurrent: --rounds expects a whole number of at least 1\n');
    return 2;
  }
  const n = args[0] !== undefined && /^\d+$/.test(args[0]) ? Number(args.shift()) : 4;
  const experiments = args;
  const tmp = mkdtempSync(path.join(tmpdir(), 'expt-bench-concurrent-'));
  try {
    process.stdout.write(`expt run ${experiments.join(' ')} (${repoRoot}/experiments.config.ts), ${rounds} rounds of: 1 cold run alone, then ${n} cold runs at once on one cache\n`);
    // The first start after a source edit bundles the sources (bin/launch.mjs): not part of any measure.
    execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'expt.js'), '--version'], { cwd: repoRoot, env: { ...process.env, CI: '1' } });
    const done: Round[] = [];
    for (let r = 0; r < rounds; r++) {
      const one = await round(tmp, r, n, experiments);
      if (one === undefined) return 1;
      done.push(one);
      process.stdout.write(`round_${r + 1}_cpu_ratio: ${(one.manyCpu / one.singleCpu).toFixed(3)}\n`);
    }
    // CPU time of one cold run varies by several percent from run to run: the ratio of medians.
    const singleCpu = median(done.map((d) => d.singleCpu));
    const manyCpu = median(done.map((d) => d.manyCpu));
    process.stdout.write(`tasks: ${done[0].ran}\n`);
    process.stdout.write(`single_cpu_s: ${singleCpu.toFixed(2)}\n`);
    process.stdout.write(`single_wall_s: ${median(done.map((d) => d.singleWall)).toFixed(2)}\n`);
    process.stdout.write(`concurrent_runs: ${n}\n`);
    process.stdout.write(`concurrent_total_cpu_s: ${manyCpu.toFixed(2)}\n`);
    process.stdout.write(`concurrent_wall_s: ${median(done.map((d) => d.manyWall)).toFixed(2)}\n`);
    process.stdout.write(`cpu_ratio: ${(manyCpu / singleCpu).toFixed(3)}\n`);
    process.stdout.write(`tasks_computed_by_all: ${done.map((d) => d.computed.reduce((a, b) => a + Math.max(0, b), 0)).join(' ')}\n`);
    process.stdout.write(`tasks_computed_per_run: ${done.map((d) => d.computed.join('+')).join(' ')}\n`);
    const identical = done.every((d) => d.identical);
    process.stdout.write(`reports_identical: ${identical}\n`);
    return identical ? 0 : 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
