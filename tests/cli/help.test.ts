/**
 * Drives the real CLI entry point (bin/expt.js, which runs the TypeScript
 * sources through tsx) as a child process.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.join(repoRoot, 'bin', 'expt.js');

function expt(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('--help exits 0 and lists the eval command', (t) => {
  const { code, stdout, stderr } = expt('--help');
  t.is(code, 0, stderr);
  t.regex(stdout, /Usage: expt <command>/);
  t.regex(stdout, /^\s+eval\s+\S/m);
  t.is(stderr, '');
});

test('-h is --help', (t) => {
  const { code, stdout } = expt('-h');
  t.is(code, 0);
  t.regex(stdout, /\beval\b/);
});

test('--version prints the package version', (t) => {
  const { code, stdout } = expt('--version');
  t.is(code, 0);
  t.regex(stdout.trim(), /^\d+\.\d+\.\d+/);
});

test('an unknown command exits 2 with one line on stderr', (t) => {
  const { code, stdout, stderr } = expt('frobnicate');
  t.is(code, 2);
  t.is(stdout, '');
  const lines = stderr.split('\n').filter((line) => line !== '');
  t.is(lines.length, 1, stderr);
  t.regex(lines[0], /unknown command 'frobnicate'/);
});

test('an unknown global option exits 2 with one line on stderr', (t) => {
  const { code, stderr } = expt('--frobnicate');
  t.is(code, 2);
  t.is(stderr.trim().split('\n').length, 1, stderr);
});
