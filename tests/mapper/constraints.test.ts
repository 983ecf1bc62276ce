/**
 * Mapspace constraints with Timeloop's semantics, and the timeloopfe
 * `maximize_dims` macro, on the Gemmini study architecture.
 */
import test from 'ava';
import { join } from 'node:path';
import { addConstraints, resolveMaximizeDims, unconstrained } from '../../src/mapper/constraints.ts';
import { MapSpace } from '../../src/mapper/mapspace.ts';
import { localSearch } from '../../src/mapper/search.ts';
import { prepareModel } from '../../src/model/evaluate.ts';
import { importTimeloopDocuments } from '../../src/timeloop/tree-import.ts';
import { readYamlFile } from '../../src/util/yaml.ts';
import { goldenDir } from '../helpers/golden.ts';

const file = join(goldenDir, 'paper-KQV-gemmini-TLD', 'mapper-input.yaml');
const input = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
const problem = input.problem!;
const arch = input.architecture!;
const [D, E, L] = [0, 1, 2];
const level = (name: string) => arch.storage.findIndex((s) => s.name === name);

test('exact, bounded and whole-dimension factors, permutations and keep/bypass are read', (t) => {
  const c = unconstrained(problem, arch);
  addConstraints(
    c,
    [
      { target: 'DRAM', type: 'temporal', factors: 'D>=2 L<=8 E=0', permutation: 'D_L' },
      { target: 'Scratchpad', type: 'spatial', factors: 'D=16', split: 0 },
      { target: 'Registers', type: 'bypass', keep: ['Weights'], bypass: ['Inputs', 'Outputs'] },
      { target: 'Accumulator', type: 'temporal', factors: 'D=99999' },
    ],
    problem,
    arch,
    { file: 'c.yaml', path: 'targets' },
  );
  const dram = c.levels[level('DRAM')];
  t.is(dram.temporal.min[D], 2);
  t.is(dram.temporal.max[L], 8);
  t.is(dram.temporal.exact[E], 1024, 'E=0 means the whole dimension');
  t.deepEqual(dram.temporal.prefix, [D]);
  t.deepEqual(dram.temporal.suffix, [L]);
  t.is(c.levels[level('Scratchpad')].spatial.exact[D], 16);
  t.is(c.levels[level('Scratchpad')].split, 0);
  t.deepEqual(c.levels[level('Registers')].keep, [true, false, false]);
  // Timeloop drops a factor larger than the dimension, with a warning.
  t.is(c.levels[level('Accumulator')].temporal.exact[D], undefined);
  t.is(c.warnings.length, 1);
  t.regex(c.warnings[0], /exceeds the problem dimension 3072/);
});

test('maximize_dims fills the capacity group by group, after the exact factors elsewhere', (t) => {
  const c = unconstrained(problem, arch);
  addConstraints(
    c,
    [
      { target: 'Registers', type: 'temporal', factors: 'L=16' },
      { target: 'Accumulator', type: 'temporal', maximize_dims: [['E'], ['L']], maximize_dims_capacity: 64 },
      { target: 'Scratchpad', type: 'temporal', factors: 'D=3', maximize_dims: [['L']], maximize_dims_capacity: 100 },
    ],
    problem,
    arch,
    { file: 'c.yaml', path: 'targets' },
  );
  resolveMaximizeDims(c, problem, arch, 'c.yaml');
  const acc = c.levels[level('Accumulator')].temporal;
  t.is(acc.exact[E], 64, 'E takes the whole capacity 64');
  t.is(acc.exact[L], 1, 'nothing is left for L');
  // Scratchpad: capacity 100 / D=3 → 33; L has 4096/16 = 256 left: the largest power of two ≤ 33 is 32.
  t.is(c.levels[level('Scratchpad')].temporal.exact[L], 32);
});

test('the mapper only returns mappings inside the constraints', (t) => {
  const c = unconstrained(problem, arch);
  const block = input.raw['mapspace_constraints'];
  addConstraints(c, block.value, problem, arch, { file, path: 'mapspace_constraints' });
  addConstraints(c, [{ target: 'DRAM', type: 'temporal', factors: 'L<=4 D>=4', permutation: 'L' }], problem, arch, { file: 'extra.yaml', path: 'targets' });
  const space = new MapSpace(problem, arch, c);
  const r = localSearch(space, prepareModel(problem, arch, input.ert!), { metrics: ['edp'], effort: 2000 });
  t.truthy(r.mapping);
  const m = r.mapping!;
  const dram = m.levels[level('DRAM')].temporal;
  t.true(dram.factors[L] <= 4);
  t.true(dram.factors[D] >= 4);
  if (dram.factors[L] > 1) t.is(dram.permutation[0], L, 'L innermost at DRAM');
  t.is(m.levels[level('Scratchpad')].temporal.factors[D], 1);
  t.deepEqual(m.levels[level('Scratchpad')].spatial!.factors, [16, 1, 1]);
  t.deepEqual(m.levels[level('Registers')].temporal.factors, [1, 1, 16]);
  t.deepEqual(m.levels[level('Accumulator')].keep, [false, false, true]);
});
