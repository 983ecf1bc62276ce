/**
 * `expt eval` through the real CLI (bin/expt.js as a child process): bad
 * inputs give exit code 2 and exactly one line on stderr naming the file and
 * the field, with no stack trace; good inputs reproduce the golden numbers,
 * whether given in one file or split over several.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { goldenDir, repoRoot } from '../helpers/golden.ts';

const bin = path.join(repoRoot, 'bin', 'expt.js');
const workDir = mkdtempSync(path.join(tmpdir(), 'expt-eval-test-'));
// EXPT_TEST_KEEP_TMP=1 keeps the written inputs for a look after the run.
test.after.always(() => {
  if (!process.env.EXPT_TEST_KEEP_TMP) rmSync(workDir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function expt(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: workDir, encoding: 'utf8', timeout: 60_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Writes `text` to a file of the temp dir; returns its name (relative to the dir, where the CLI runs). */
function writeInput(name: string, text: string): string {
  writeFileSync(path.join(workDir, name), text);
  return name;
}

// A small, valid input: DRAM > Buffer > 4 PEs with RF > 4 MACs (fanout 4 below Buffer).
const ARCHITECTURE = `architecture:
  version: 0.4
  subtree:
    - name: system
      local:
        - {name: DRAM, class: DRAM, attributes: {datawidth: 16, width: 64}}
        - {name: Buffer, class: SRAM, attributes: {datawidth: 16, width: 16, depth: 256}}
      subtree:
        - name: PE[0..3]
          local:
            - {name: RF, class: regfile, attributes: {datawidth: 16, width: 16, depth: 16}}
            - {name: MAC, class: intmac, attributes: {datawidth: 16}}
`;
const problem = (dimensions = '[D, E, L]', d = 'D') => `problem:
  shape:
    name: gemm
    dimensions: ${dimensions}
    data_spaces:
      - {name: Weights, projection: [[[${d}]], [[E]]]}
      - {name: Inputs, projection: [[[E]], [[L]]]}
      - {name: Outputs, projection: [[[${d}]], [[L]]], read_write: true}
  instance: {${d}: 8, E: 4, L: 4}
`;
const mapping = (opts: { bufferTarget?: string; dramTemporal?: string; dramSpatial?: boolean } = {}) => `mapping:
  - {target: DRAM, type: temporal, factors: "${opts.dramTemporal ?? 'D=2 E=1 L=2'}", permutation: DEL}
${opts.dramSpatial ? '  - {target: DRAM, type: spatial, factors: "D=1 E=1 L=1", permutation: DEL}\n' : ''}  - {target: ${opts.bufferTarget ?? 'Buffer'}, type: temporal, factors: "D=1 E=2 L=2", permutation: DEL}
  - {target: Buffer, type: spatial, factors: "D=4 E=1 L=1", permutation: DEL}
  - {target: RF, type: temporal, factors: "D=1 E=2 L=1", permutation: DEL}
`;
const ERT = `ERT:
  version: 0.4
  tables:
    - {name: system.DRAM, actions: [{name: read, energy: 64}, {name: write, energy: 64}, {name: update, energy: 64}, {name: leak, energy: 0}]}
    - {name: system.Buffer, actions: [{name: read, energy: 2}, {name: write, energy: 2.5}, {name: update, energy: 2.5}, {name: leak, energy: 0}]}
    - {name: "system.PE[0..3].RF", actions: [{name: read, energy: 0.5}, {name: write, energy: 0.6}, {name: update, energy: 0.6}, {name: leak, energy: 0}]}
    - {name: "system.PE[0..3].MAC", actions: [{name: compute, energy: 1}]}
`;

/** Asserts the CLI's contract for bad input: exit 2, nothing on stdout, one stderr line with these parts, no stack trace. */
function assertOneLineError(t: import('ava').ExecutionContext, run: Run, ...parts: string[]) {
  t.is(run.code, 2, `exit code; stderr: ${run.stderr}`);
  t.is(run.stdout, '');
  const lines = run.stderr.split('\n').filter((line) => line !== '');
  t.is(lines.length, 1, `expected one line on stderr, got:\n${run.stderr}`);
  t.notRegex(run.stderr, /^\s+at\s/m, 'no stack trace');
  t.notRegex(run.stderr, /unexpected error/);
  for (const part of parts) t.true(lines[0].includes(part), `stderr should contain '${part}': ${lines[0]}`);
}

test('the small valid input evaluates (baseline of the bad-input tests)', async (t) => {
  const file = writeInput('good.yaml', ARCHITECTURE + problem() + mapping() + ERT);
  const run = await expt('eval', file);
  t.is(run.code, 0, run.stderr);
  t.is(run.stderr, '');
  for (const name of ['DRAM', 'Buffer', 'RF', 'MAC', 'Total']) t.true(run.stdout.includes(name), name);
});

test('malformed YAML: exit 2, one line with the file and the line', async (t) => {
  const file = writeInput('malformed.yaml', ARCHITECTURE + problem() + 'mapping:\n  - {target: DRAM, type: temporal, factors: "D=2 E=1 L=2"\n' + ERT);
  assertOneLineError(t, await expt('eval', file), 'malformed.yaml', 'line ', 'YAML');
});

test('an unknown level name in a mapping target: exit 2, one line with mapping[i].target', async (t) => {
  const file = writeInput('unknown-level.yaml', ARCHITECTURE + problem() + mapping({ bufferTarget: 'Bufer' }) + ERT);
  assertOneLineError(t, await expt('eval', file), 'unknown-level.yaml', 'mapping[1].target', "'Bufer'");
});

test('a dimension named with more than one letter: exit 2, one line with problem.shape.dimensions[i]', async (t) => {
  const file = writeInput('long-dimension.yaml', ARCHITECTURE + problem('[DD, E, L]', 'DD') + mapping() + ERT);
  assertOneLineError(t, await expt('eval', file), 'long-dimension.yaml', 'problem.shape.dimensions[0]', "'DD'");
});

test('factors that do not multiply to the problem size: exit 2, one line naming mapping and the dimension', async (t) => {
  const file = writeInput('bad-factors.yaml', ARCHITECTURE + problem() + mapping({ dramTemporal: 'D=3 E=1 L=2' }) + ERT);
  assertOneLineError(t, await expt('eval', file), 'bad-factors.yaml', ': mapping: ', "dimension 'D'", 'not to its size 8');
});

test('a spatial directive on a level without fanout: exit 2, one line with mapping[i]', async (t) => {
  const file = writeInput('no-fanout.yaml', ARCHITECTURE + problem() + mapping({ dramSpatial: true }) + ERT);
  assertOneLineError(t, await expt('eval', file), 'no-fanout.yaml', 'mapping[1]', "'DRAM'", 'no spatial fanout');
});

test('a missing ERT block: exit 2, one line naming ERT and the files given', async (t) => {
  const a = writeInput('arch-only.yaml', ARCHITECTURE);
  const b = writeInput('problem-mapping.yaml', problem() + mapping());
  assertOneLineError(t, await expt('eval', a, b), 'arch-only.yaml', 'problem-mapping.yaml', 'ERT', 'missing');
});

test('an invalid mapping (tiles exceed a buffer): exit 2, one line naming the level and the reason', async (t) => {
  const file = writeInput('too-small.yaml', ARCHITECTURE.replace('depth: 256', 'depth: 2') + problem() + mapping() + ERT);
  assertOneLineError(t, await expt('eval', file), 'too-small.yaml', 'mapping', "level 'Buffer'", 'exceeds buffer capacity');
});

test('no input file: exit 2 with a usage line', async (t) => {
  assertOneLineError(t, await expt('eval'), 'no input files');
});

test('eval --help exits 0', async (t) => {
  const run = await expt('eval', '--help');
  t.is(run.code, 0);
  t.regex(run.stdout, /Usage: expt eval/);
});

// ---------------------------------------------------------------------------
// Golden numbers through the CLI.

const gemmCase = path.join(goldenDir, 'gemm-001');
const gemmInput = path.join(gemmCase, 'input.yaml');
/* eslint-disable @typescript-eslint/no-explicit-any */
const gemmExpected: any = JSON.parse(readFileSync(path.join(gemmCase, 'expected.json'), 'utf8'));

function relClose(a: number, b: number, tol = 1e-6): boolean {
  return a === b || Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b));
}

test('eval --json on a golden gemm case gives its expected cycles and energy', async (t) => {
  const run = await expt('eval', gemmInput, '--json');
  t.is(run.code, 0, run.stderr);
  t.is(run.stderr, '');
  const out = JSON.parse(run.stdout);
  t.is(out.format, 'expt-eval-v1');
  t.deepEqual(out.inputs, [gemmInput]);
  for (const key of ['arithmetic', 'storage', 'networks', 'summary']) t.true(key in out, key);
  t.is(out.summary.cycles, gemmExpected.summary.cycles);
  t.true(relClose(out.summary.energy_pJ, gemmExpected.summary.energy_pJ), `${out.summary.energy_pJ} vs ${gemmExpected.summary.energy_pJ}`);
  t.true(relClose(out.summary.edp_J_cycle, gemmExpected.summary.edp_J_cycle));
  t.deepEqual(
    out.storage.map((s: { name: string }) => s.name),
    gemmExpected.storage.map((s: { name: string }) => s.name),
  );
});

test('eval on a golden gemm case prints the levels and the fJ/Compute Total', async (t) => {
  const run = await expt('eval', gemmInput);
  t.is(run.code, 0, run.stderr);
  for (const level of gemmExpected.storage as { name: string }[]) t.regex(run.stdout, new RegExp(`^${level.name}\\s`, 'm'), level.name);
  t.regex(run.stdout, /^\s+Total\s+=\s+[\d,]+\.\d\d$/m);
  t.regex(run.stdout, new RegExp(`Cycles\\s+:\\s+${gemmExpected.summary.cycles}\\b`));
});

test('the input split over two files gives the same result as one file', async (t) => {
  const doc = parseYaml(readFileSync(gemmInput, 'utf8')) as Record<string, unknown>;
  const archFile = writeInput('gemm-arch-ert.yaml', stringifyYaml({ architecture: doc.architecture, ERT: doc.ERT }));
  const workFile = writeInput('gemm-problem-mapping.yaml', stringifyYaml({ problem: doc.problem, mapping: doc.mapping }));
  const [whole, split] = await Promise.all([expt('eval', gemmInput, '--json'), expt('eval', archFile, workFile, '--json')]);
  t.is(split.code, 0, split.stderr);
  const a = JSON.parse(whole.stdout);
  const b = JSON.parse(split.stdout);
  t.deepEqual(b.inputs, [archFile, workFile]);
  delete a.inputs;
  delete b.inputs;
  t.deepEqual(b, a);
});

test('a later file overrides an earlier one key by key', async (t) => {
  const doc = parseYaml(readFileSync(gemmInput, 'utf8')) as { ERT: { tables: { name: string; actions: { name: string; energy: number }[] }[] } };
  for (const table of doc.ERT.tables) for (const action of table.actions) if (action.name === 'compute') action.energy *= 2;
  const override = writeInput('gemm-ert-override.yaml', stringifyYaml({ ERT: doc.ERT }));
  const [base, overridden] = await Promise.all([expt('eval', gemmInput, '--json'), expt('eval', gemmInput, override, '--json')]);
  t.is(overridden.code, 0, overridden.stderr);
  const a = JSON.parse(base.stdout);
  const b = JSON.parse(overridden.stdout);
  t.true(relClose(b.arithmetic.energy_pJ, 2 * a.arithmetic.energy_pJ));
  t.is(b.summary.cycles, a.summary.cycles);
});
