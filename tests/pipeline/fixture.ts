/**
 * Temp-directory projects for the pipeline tests: the golden paper-* mapper
 * inputs split into one file per architecture (architecture + ERT +
 * constraints) and one per problem, and a config that maps every
 * (layer, architecture) pair; plus a runner for the real CLI.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { goldenDir, repoRoot } from '../helpers/golden.ts';

export const bin = path.join(repoRoot, 'bin', 'expt.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The CLI's environment in tests: plain output, and the engine version pinned
 * so that edits of src/model etc. made while the tests run (a shared working
 * tree) do not change the keys between two commands of one test.
 */
export const testEnv = { ...process.env, CI: '1', EXPT_ENGINE_VERSION: 'pipeline-tests' };

export function expt(cwd: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20, env: testEnv }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

export function exptSpawn(cwd: string, ...args: string[]): ChildProcess {
  return spawn(process.execPath, [bin, ...args], { cwd, env: testEnv, stdio: ['ignore', 'pipe', 'pipe'] });
}

const tempDirs: string[] = [];
export function cleanupTempDirs(): void {
  if (process.env['EXPT_TEST_KEEP_TMP']) return;
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export const LAYERS = ['KQV', 'VScores'] as const;
export const ARCHS = ['gemmini', 'eyeriss'] as const;

/** A project in a temp dir: archs/<arch>.yaml, problems/<layer>.yaml, no config yet. */
export function makeProject(prefix = 'expt-pipeline-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.push(dir);
  mkdirSync(path.join(dir, 'archs'));
  mkdirSync(path.join(dir, 'problems'));
  for (const arch of ARCHS) {
    const doc = parseYaml(readFileSync(path.join(goldenDir, `paper-KQV-${arch}-TLD`, 'mapper-input.yaml'), 'utf8')) as Record<string, unknown>;
    const { problem: _problem, ...rest } = doc;
    writeFileSync(path.join(dir, 'archs', `${arch}.yaml`), `# ${arch}: architecture, ERT and the study's constraints\n${stringifyYaml(rest)}`);
  }
  for (const layer of LAYERS) {
    const doc = parseYaml(readFileSync(path.join(goldenDir, `paper-${layer}-gemmini-TLD`, 'mapper-input.yaml'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(dir, 'problems', `${layer}.yaml`), stringifyYaml({ problem: doc['problem'] }));
  }
  return dir;
}

export interface JobOptions {
  effort?: number;
  experiments?: Record<string, unknown>;
}

/** The default experiment `grid`: every (layer, arch) pair with a small mapper effort. */
export function gridExperiment(effort = 300, layers: readonly string[] = LAYERS, archs: readonly string[] = ARCHS, seed = 1) {
  return {
    description: 'golden layers × archs',
    mapper: { effort, seed },
    jobs: layers.flatMap((layer) => archs.map((arch) => ({ files: [`archs/${arch}.yaml`, `problems/${layer}.yaml`], model: 'bert-large', layer, arch }))),
  };
}

/** Writes experiments.config.mjs with the given experiments (default: `grid`). */
export function writeConfig(dir: string, experiments: Record<string, unknown> = { grid: gridExperiment() }, extra: Record<string, unknown> = {}): void {
  writeFileSync(path.join(dir, 'experiments.config.mjs'), `export default ${JSON.stringify({ ...extra, experiments }, null, 2)};\n`);
}

export function readText(dir: string, file: string): string {
  return readFileSync(path.join(dir, file), 'utf8');
}

/** Every cache entry directory: `kind/key`. */
export function cacheEntries(dir: string): string[] {
  const root = path.join(dir, 'cache');
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const kind of readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)) {
    if (kind === 'tasks' || kind.startsWith('.')) continue;
    for (const key of readdirSync(path.join(root, kind))) out.push(`${kind}/${key}`);
  }
  return out.sort();
}

export interface PlanRow {
  id: string;
  kind: string;
  experiment: string | null;
  model: string | null;
  layer: string | null;
  arch: string | null;
  fusion: string | null;
  macs: number | null;
  state: 'cached' | 'will run';
  reason: string;
  key: string;
  aliases: string[];
}

export async function planJson(dir: string, ...args: string[]): Promise<PlanRow[]> {
  const r = await expt(dir, 'plan', '--json', ...args);
  if (r.code !== 0) throw new Error(`expt plan failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as PlanRow[];
}

export interface Summary {
  ran: number;
  cached: number;
  failed: number;
  skipped: number;
  interrupted: number;
  failures: { id: string; reason: string }[];
}

export async function runJson(dir: string, ...args: string[]): Promise<{ run: Run; summary: Summary }> {
  const run = await expt(dir, 'run', '--json', ...args);
  let summary: Summary;
  try {
    summary = JSON.parse(run.stdout) as Summary;
  } catch {
    throw new Error(`expt run --json printed no summary (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
  }
  return { run, summary };
}
