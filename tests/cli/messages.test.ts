/**
 * Error lines are safe to print and say something the user can do: bytes
 * of a bad input are shown as escapes (never raw control characters on the
 * terminal), and `expt check` without Timeloop does not suggest an option
 * check rejects.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { goldenDir, repoRoot } from '../helpers/golden.ts';

const bin = path.join(repoRoot, 'bin', 'expt.js');

function expt(env: Record<string, string>, ...args: string[]) {
  const cwd = mkdtempSync(path.join(tmpdir(), 'expt-messages-'));
  try {
    const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

test('control characters of a bad input are printed as escapes, on one line', (t) => {
  const r = expt({}, '\x1b[2J\x1b[31mred\x07\rhidden\u202e');
  t.is(r.code, 2);
  t.is(r.stderr.split('\n').length, 2, 'one line');
  // eslint-disable-next-line no-control-regex
  t.notRegex(r.stderr.trimEnd(), /[\u0000-\u001f\u007f-\u009f\u202e]/);
  t.true(r.stderr.startsWith("expt: unknown command '\\x1b[2J\\x1b[31mred\\x07\\x0dhidden\\u202e' (commands: "), r.stderr);
});

test("expt check without Timeloop says how to get it, without suggesting --engine embedded (which check rejects)", (t) => {
  const input = path.join(goldenDir, 'paper-VScores-eyeriss-TLD', 'mapper-input.yaml');
  const r = expt({ EXPT_TIMELOOP_MODEL: 'none' }, 'check', input);
  t.is(r.code, 2);
  t.notRegex(r.stderr, /--engine/);
  t.regex(r.stderr, /^expt: timeloop-model not found at EXPT_TIMELOOP_MODEL='none': install Timeloop .*expt check compares expt with Timeloop, so it needs Timeloop; without it, expt run and expt eval use the embedded engine\)\n$/);
  const check = expt({ EXPT_TIMELOOP_MODEL: 'none' }, 'check', input, '--engine', 'embedded');
  t.is(check.code, 2, 'check has no --engine option');
});
