/**
 * `npm run bench -- pipeline [experiment...] [-j N]`: wall time of
 * `expt run` on this repository's experiments.config.ts, cold (empty cache)
 * and warm (everything cached: the no-op rerun), each as a fresh process the
 * way a user runs it. The cache and reports go to a temporary folder
 * (EXPT_CACHE_DIR / EXPT_REPORTS_DIR), so the repository's cache/ is untouched.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../tests/helpers/golden.ts';

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

export async function main(argv: string[]): Promise<number> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'expt-bench-pipeline-'));
  const env = { ...process.env, CI: '1', EXPT_CACHE_DIR: path.join(tmp, 'cache'), EXPT_REPORTS_DIR: path.join(tmp, 'reports') };
  try {
    const cold = await run(argv, env);
    const warm = await run(argv, env);
    const show = (name: string, r: Timed) => {
      const s = r.summary;
      process.stdout.write(`${name.padEnd(5)} ${r.seconds.toFixed(2).padStart(7)} s  exit ${r.code}  ${s ? `ran ${s.ran}, cached ${s.cached}, failed ${s.failed}, skipped ${s.skipped}` : `no summary: ${r.stderr.trim().split('\n').at(-1)}`}\n`);
    };
    process.stdout.write(`expt run ${argv.join(' ')} (${repoRoot}/experiments.config.ts), wall time per process:\n`);
    show('cold', cold);
    show('warm', warm);
    return cold.code === 0 && warm.code === 0 && warm.summary?.ran === 0 ? 0 : 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
