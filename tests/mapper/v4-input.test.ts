/**
 * `expt map` reads the study's own timeloopfe v0.4 files (variables file,
 * `nodes:` architecture with per-node constraints, no ERT: energies from the
 * estimator) as `expt check` does, and its best mapping re-evaluates to the
 * same numbers through the model and through `expt eval` on the same v0.4
 * files plus the emitted mapping.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMapperJob } from '../../src/inputs/mapper-job.ts';
import { parseMapping } from '../../src/timeloop/tree-import.ts';
import { evaluateMapping, prepareModel } from '../../src/model/evaluate.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'tests', 'fixtures', 'timeloopfe');

test('expt map and expt eval on timeloopfe v0.4 Simba and TPU files: the mapping re-evaluates identically', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'expt-v4-map-'));
  try {
    const problem = join(dir, 'gemm.yaml');
    writeFileSync(
      problem,
      [
        'problem:',
        '  shape:',
        '    name: gemm',
        '    dimensions: [D, E, L]',
        '    data_spaces:',
        '      - {name: Weights, projection: [[[D]], [[E]]]}',
        '      - {name: Inputs, projection: [[[E]], [[L]]]}',
        '      - {name: Outputs, projection: [[[D]], [[L]]], read_write: true}',
        '  instance: {D: 512, E: 256, L: 512}',
        '',
      ].join('\n'),
    );
    for (const arch of ['simba.yaml', 'tpu.yaml']) {
      const files = [join(FIX, 'variables.yaml'), join(FIX, arch), problem];
      const emitted = join(dir, `map-${arch}`);
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'expt.js'), 'map', ...files, '--json', '--effort', '2000', '--emit-timeloop', emitted], { encoding: 'utf8' });
      t.is(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      t.is(out.summary.computes, 512 * 256 * 512, arch);
      const job = readMapperJob(files);
      const mapping = parseMapping(out.mapping.timeloop, job.problem, job.arch, { file: 'map', path: 'mapping' });
      const again = evaluateMapping(prepareModel(job.problem, job.arch, job.ert), mapping);
      t.true(again.ok, arch);
      if (again.ok) {
        t.is(again.value.summary.energy_pJ, out.summary.energy_pJ, arch);
        t.is(again.value.summary.cycles, out.summary.cycles, arch);
      }
      const e = spawnSync(process.execPath, [join(ROOT, 'bin', 'expt.js'), 'eval', ...files, emitted, '--json'], { encoding: 'utf8' });
      t.is(e.status, 0, e.stderr);
      const ev = JSON.parse(e.stdout);
      t.is(ev.summary.energy_pJ, out.summary.energy_pJ, arch);
      t.is(ev.summary.cycles, out.summary.cycles, arch);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
