/**
 * The study's reference mapper runs (tests/fixtures/golden/paper-*): `expt map`
 * on each mapper-input.yaml must reach an EDP no worse than the better of
 * Timeloop's mapper on this machine (mapper-expected.json) and the study's
 * committed run (dynamic energy, as the inputs carry no leakage), and the
 * mapping it prints must re-evaluate through `expt eval` to the same numbers.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goldenCases, repoRoot } from '../helpers/golden.ts';

const cli = join(repoRoot, 'bin', 'expt.js');
const dirs: string[] = [];
test.after.always(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const run = (args: string[]) => JSON.parse(execFileSync('node', [cli, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 }));

for (const c of goldenCases().filter((x) => x.category === 'paper')) {
  test(`expt map ${c.id}: EDP at most min(Timeloop mapper, study) and re-evaluates identically`, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'expt-map-'));
    dirs.push(dir);
    const emitted = join(dir, 'map.yaml');
    const input = join(c.dir, 'mapper-input.yaml');
    const out = run(['map', input, '--json', '--emit-timeloop', emitted]);
    const expected = JSON.parse(readFileSync(join(c.dir, 'mapper-expected.json'), 'utf8'));
    const target = Math.min(expected.best.edp_J_cycle, expected.study.edp_J_cycle_dynamic_only);
    const edp = out.summary.edp_J_cycle;
    t.log(`EDP ${edp.toExponential(4)}; Timeloop mapper ${expected.best.edp_J_cycle.toExponential(4)}; study ${expected.study.edp_J_cycle_dynamic_only.toExponential(4)}; ratio ${(edp / target).toFixed(4)}; ${out.search.evaluated} mappings in ${out.search.wall_time_s.toFixed(2)} s`);
    t.true(edp <= target * (1 + 1e-9), `EDP ${edp} > target ${target}`);
    t.is(out.search.algorithm, 'local-search');
    // The emitted Timeloop mapping, fed back to expt eval with the same input, gives the same numbers.
    const again = run(['eval', input, emitted, '--json']);
    t.deepEqual(again.summary, out.summary);
    t.deepEqual(again.storage, out.storage);
    t.deepEqual(again.arithmetic, out.arithmetic);
  });
}

test('expt map is deterministic: same input, same mapping', (t) => {
  const input = join(goldenCases().find((x) => x.id === 'paper-VScores-eyeriss-TLD')!.dir, 'mapper-input.yaml');
  const a = run(['map', input, '--json']);
  const b = run(['map', input, '--json']);
  t.deepEqual(a.mapping.timeloop, b.mapping.timeloop);
  t.is(a.summary.edp_J_cycle, b.summary.edp_J_cycle);
});

test('expt map gives the same mapping on 1 and 2 worker threads (local and exhaustive)', (t) => {
  const input = join(goldenCases().find((x) => x.id === 'paper-VScores-gemmini-TLD')!.dir, 'mapper-input.yaml');
  for (const extra of [[], ['--exhaustive']]) {
    const one = run(['map', input, '--json', '-j', '1', ...extra]);
    const two = run(['map', input, '--json', '-j', '2', ...extra]);
    t.deepEqual(two.mapping.timeloop, one.mapping.timeloop, extra.join(' '));
    t.is(two.summary.edp_J_cycle, one.summary.edp_J_cycle);
    t.is(two.search.jobs, 2);
  }
});
