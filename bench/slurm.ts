/**
 * `npm run bench -- slurm [--tasks N] [--per-element K]`: the per-task cost of
 * running through Slurm instead of this machine's worker threads, on the
 * localhost cluster (scripts/slurm-localhost.sh start). The same small
 * matrix (N map tasks of a tiny effort, so the mapping itself is cheap and
 * the overhead shows) runs cold once locally and once with --executor slurm,
 * each in its own temp project; both wall times are measured in this run.
 *
 * Figures: local_wall_s, slurm_wall_s, tasks, slurm_overhead_per_task_s
 * ((slurm − local) / tasks), slurm_over_local_ratio.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'expt.js');

export function main(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { tasks: { type: 'string' }, 'per-element': { type: 'string' } } });
  const sinfo = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8' });
  if (sinfo.error || !/idle|mixed|alloc/.test(sinfo.stdout)) {
    process.stderr.write('bench slurm: no Slurm node is up (start one with scripts/slurm-localhost.sh start, as root)\n');
    return 2;
  }
  // bert-base, bert-large, gpt2-small × the six matmuls × gemmini: up to 18 map tasks.
  const models = ['bert-base', 'bert-large', 'gpt2-small'];
  const layers = ['KQV', 'KTQ', 'VScores', 'Out', 'FF1', 'FF2'];
  const wanted = Number(values.tasks ?? 18);
  const experiments: Record<string, unknown> = {};
  models.forEach((m, i) => {
    const n = Math.max(0, Math.min(layers.length, wanted - i * layers.length));
    if (n > 0) experiments[m] = { models: [m], layers: layers.slice(0, n), architectures: ['gemmini'], mapper: { effort: 50 } };
  });
  const perElement = values['per-element'] !== undefined ? Number(values['per-element']) : undefined;
  const temps: string[] = [];
  const time = (executor: 'local' | 'slurm'): { wall: number; tasks: number } => {
    const dir = mkdtempSync(path.join(tmpdir(), `expt-bench-slurm-${executor}-`));
    temps.push(dir);
    cpSync(path.join(root, 'experiments'), path.join(dir, 'experiments'), { recursive: true });
    const exec = executor === 'slurm' ? { kind: 'slurm', ...(perElement ? { tasksPerElement: perElement } : {}) } : 'local';
    writeFileSync(path.join(dir, 'experiments.config.json'), JSON.stringify({ executor: exec, experiments }));
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [bin, 'run', '--json', '--no-report'], { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: '1', EXPT_SLURM_POLL_MS: '200' } });
    const wall = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`expt run (${executor}) failed: ${r.stderr}`);
    const s = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ran: number };
    return { wall, tasks: s.ran };
  };
  try {
    const local = time('local');
    const slurm = time('slurm');
    console.log(`tasks: ${local.tasks}`);
    console.log(`local_wall_s: ${local.wall.toFixed(2)}`);
    console.log(`slurm_wall_s: ${slurm.wall.toFixed(2)}`);
    console.log(`slurm_overhead_per_task_s: ${((slurm.wall - local.wall) / local.tasks).toFixed(3)}`);
    console.log(`slurm_over_local_ratio: ${(slurm.wall / local.wall).toFixed(2)}`);
  } finally {
    for (const d of temps) rmSync(d, { recursive: true, force: true });
  }
  return 0;
}
