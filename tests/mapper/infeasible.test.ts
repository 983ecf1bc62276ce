/**
 * Inputs that admit no mapping must say why in one line (exit 2): which
 * constraint leaves no factor split, or which buffer no tiling fits.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goldenDir, repoRoot } from '../helpers/golden.ts';

const base = readFileSync(join(goldenDir, 'paper-KQV-gemmini-TLD', 'mapper-input.yaml'), 'utf8');

const dirs: string[] = [];
test.after.always(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function map(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'expt-infeasible-'));
  dirs.push(dir);
  const file = join(dir, 'input.yaml');
  writeFileSync(file, text);
  const r = spawnSync('node', [join(repoRoot, 'bin', 'expt.js'), 'map', file], { encoding: 'utf8' });
  return { ...r, file };
}

test('a factor constraint that does not divide the dimension is dropped with a note, as Timeloop does', (t) => {
  const r = map(base.replace('{target: "Scratchpad", type: "temporal", factors: "D=1"}', '{target: "Scratchpad", type: "temporal", factors: "D=7"}'));
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /Note {8}: cannot accept D=7 at Scratchpad as a factor of 3072 with the other exact factors \(16\): the constraint is ignored/);
});

test('a bound no split can meet names the constraint', (t) => {
  const r = map(base.replace('{target: "Scratchpad", type: "temporal", factors: "D=1"}', '{target: "Scratchpad", type: "temporal", factors: "D>=4096"}'));
  t.is(r.status, 2);
  const lines = r.stderr.trim().split('\n');
  t.is(lines.length, 1, r.stderr);
  t.true(lines[0].includes(r.file));
  t.regex(lines[0], /infeasible: no split of dimension D=3072/);
  t.regex(lines[0], /Scratchpad >=4096/);
});

test('a buffer no tiling fits is named with its capacity', (t) => {
  // Registers (1 word) forced to keep Weights and Inputs: no tiling fits.
  const r = map(base.replace('{target: "Registers", type: "bypass", keep: ["Weights"], bypass: ["Inputs", "Outputs"]}', '{target: "Registers", type: "bypass", keep: ["Weights", "Inputs"], bypass: ["Outputs"]}'));
  t.is(r.status, 2);
  const lines = r.stderr.trim().split('\n');
  t.is(lines.length, 1, r.stderr);
  t.regex(lines[0], /infeasible: no valid mapping found/);
  t.regex(lines[0], /Registers capacity \(1 words/);
});

test('an unknown constraint target is a one-line error naming the field', (t) => {
  const r = map(base.replace('{target: "Registers", type: "temporal"', '{target: "Regs", type: "temporal"'));
  t.is(r.status, 2);
  t.regex(r.stderr.trim(), /mapspace_constraints\[7\]\.target: 'Regs' is not a storage level/);
  t.false(r.stderr.includes('    at '), 'no stack trace');
});
