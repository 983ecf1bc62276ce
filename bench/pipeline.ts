/**
 * `npm run bench -- pipeline [experiment...] [-j N] [--twice]`: wall time of
 * `expt run` on this repository's experiments.config.ts, cold (empty cache)
 * and warm (everything cached: the no-op rerun), each as a fresh process the
 * way a user runs it, and how many cells a time budget cut. `--twice` runs
 * cold once more in a cache of its own and compares the two report folders
 * byte for byte (`reports_identical`). The cache and reports go to a
 * temporary folder (EXPT_CACHE_DIR / EXPT_REPORTS_DIR), so the repository's cache/ is untouched.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../tests/helpers/golden.ts';
import { STOPPED_BY_BUDGET } from '../src/pipeline/kinds/aggregate.ts';

interface Timed {
  seconds: number;
  code: number | null;
  summary: { ran: number; cached: number; failed: number; skipped: number } | null;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  const start = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(repoRoot, 'bin', 'expt.js'), 'run', '--json', ...args], { cwd: repoRoot, env, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const seconds = (performance.now() - start) / 1000;
      let summary = null;
      try {
        summary = JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
      } catch {
        // no summary: reported below
      }
      resolve({ seconds, code: error ? (typeof error.code === 'number' ? error.code : null) : 0, summary, stderr });
    });
  });
}

/** Every file under `dir`, relative path → content, for a byte-for-byte comparison. */
function readTree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), readFileSync(p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

function sameTree(a: Map<string, Buffer>, b: Map<string, Buffer>): string[] {
  const differ: string[] = [];
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined || !v.equals(w)) differ.push(k);
  }
  for (const k of b.keys()) if (!a.has(k)) differ.push(k);
  return differ;
}

/** Cells whose search its time budget cut (the reason column of layers.csv says so). */
function budgetCut(reports: Map<string, Buffer>): number {
  const csv = reports.get('layers.csv')?.toString('utf8') ?? '';
  return csv.split('\n').filter((line) => line.includes(STOPPED_BY_BUDGET)).length;
}

export async function main(argv: string[]): Promise<number> {
  const twice = argv.includes('--twice');
  const args = argv.filter((a) => a !== '--twice');
  const tmp = mkdtempSync(path.join(tmpdir(), 'expt-bench-pipeline-'));
  const envFor = (name: string) => ({ ...process.env, CI: '1', EXPT_CACHE_DIR: path.join(tmp, name, 'cache'), EXPT_REPORTS_DIR: path.join(tmp, name, 'reports') });
  try {
    const env = envFor('first');
    const cold = await run(args, env);
    const warm = await run(args, env);
    const show = (name: string, r: Timed) => {
      const s = r.summary;
      process.stdout.write(`${name}_wall_s: ${r.seconds.toFixed(2)}\n`);
      process.stdout.write(`${name}_exit: ${r.code}\n`);
      if (s) process.stdout.write(`${name}_tasks: ran ${s.ran}, cached ${s.cached}, failed ${s.failed}, skipped ${s.skipped}\n`);
      else process.stdout.write(`${name}_tasks: no summary (${r.stderr.trim().split('\n').at(-1)})\n`);
    };
    process.stdout.write(`case: expt run ${args.join(' ')} (${repoRoot}/experiments.config.ts), wall time per process\n`);
    show('cold', cold);
    show('warm', warm);
    const reports = readTree(env.EXPT_REPORTS_DIR);
    process.stdout.write(`budget_cut_cells: ${budgetCut(reports)}\n`);
    let identical = true;
    if (twice) {
      // A second cold run in its own cache: a result that depends on the machine's speed shows here.
      const again = envFor('second');
      const second = await run(args, again);
      show('second_cold', second);
      const secondReports = readTree(again.EXPT_REPORTS_DIR);
      const differ = sameTree(reports, secondReports);
      identical = differ.length === 0;
      process.stdout.write(`reports_identical: ${identical}${identical ? '' : ` (${differ.join(', ')})`}\n`);
    }
    return cold.code === 0 && warm.code === 0 && warm.summary?.ran === 0 && identical ? 0 : 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
