/**
 * Constraint target lists: canonical entries, deltas between two lists, and
 * mergeTargets, which folds the entries for one target and type into one
 * the way timeloopfe combines them (unions; conflicts are errors, no later
 * entry silently wins), so that a list with the study's duplicates loads
 * with addConstraints.
 */
import test from 'ava';
import { loadArchitecture } from '../../src/inputs/presets.ts';
import { addConstraints, unconstrained } from '../../src/mapper/constraints.ts';
import { canonicalEntry, mergeTargets, targetDeltas, targetList, type ConstraintTarget } from '../../src/fusion/targets.ts';
import { UserError } from '../../src/util/errors.ts';
import { blockLayers } from '../../src/workload/layers.ts';

test('canonicalEntry: one spelling of the dataspace type, factors and keep/bypass as sets, permutation in order', (t) => {
  t.is(
    canonicalEntry({ target: 'DRAM', type: 'bypass', keep: ['Weights', 'Inputs'], bypass: [] }),
    canonicalEntry({ target: 'DRAM', type: 'dataspace', keep: ['Inputs', 'Weights'], bypass: [] }),
  );
  t.is(canonicalEntry({ target: 'R', type: 'temporal', factors: 'E=1 D=1 L=16' }), canonicalEntry({ target: 'R', type: 'temporal', factors: ['D=1', 'E=1', 'L=16'] }));
  t.not(canonicalEntry({ target: 'R', type: 'temporal', permutation: 'EDL' }), canonicalEntry({ target: 'R', type: 'temporal', permutation: 'LDE' }));
  t.is(canonicalEntry({ target: 'R', type: 'temporal', permutation: 'EDL' }), canonicalEntry({ target: 'R', type: 'temporal', permutation: ['E', 'D', 'L'] }));
  t.is(canonicalEntry({ target: 'A', type: 'temporal', maximize_dims: [['E'], ['L']], maximize_dims_capacity: 64 }), 'A temporal maximize_dims=[["E"],["L"]] maximize_dims_capacity=64');
});

test('targetDeltas: edits in place and appended entries, duplicates counted', (t) => {
  const base: ConstraintTarget[] = [
    { target: 'DRAM', type: 'bypass', keep: ['Weights', 'Inputs', 'Outputs'], bypass: [] },
    { target: 'R', type: 'temporal', factors: 'L=16' },
  ];
  const out: ConstraintTarget[] = [
    { target: 'DRAM', type: 'bypass', keep: ['Weights', 'Inputs'], bypass: ['Outputs'] },
    { target: 'R', type: 'temporal', factors: 'L=16' },
    { target: 'R', type: 'temporal', permutation: 'EDL' },
    { target: 'R', type: 'temporal', permutation: 'EDL' },
  ];
  const d = targetDeltas(base, out);
  t.deepEqual(d.modified, ['DRAM dataspace keep[Inputs,Weights] bypass[Outputs]']);
  t.deepEqual(d.added, ['R temporal permutation[E,D,L]', 'R temporal permutation[E,D,L]']);
  t.deepEqual(d.removed, []);
});

test('mergeTargets: same target and type fold into the first, in its place; different types stay apart', (t) => {
  const merged = mergeTargets([
    { target: 'Registers', type: 'temporal', factors: 'D=1 E=1 L=16', permutation: 'EDL' },
    { target: 'Registers', type: 'bypass', keep: ['Weights'] },
    { target: 'Registers', type: 'temporal', factors: 'E=1 D=1 L=16' },
    { target: 'Registers', type: 'temporal', permutation: 'EDL' },
    { target: 'Registers', type: 'dataspace', bypass: ['Inputs', 'Outputs'] },
    { target: 'DRAM', type: 'temporal', factors: 'D=1' },
  ]);
  t.deepEqual(merged, [
    { target: 'Registers', type: 'temporal', factors: 'D=1 E=1 L=16', permutation: 'EDL' },
    { target: 'Registers', type: 'bypass', keep: ['Weights'], bypass: ['Inputs', 'Outputs'] },
    { target: 'DRAM', type: 'temporal', factors: 'D=1' },
  ]);
});

test('mergeTargets: factors union, identical tokens once, a >= and a <= bound both kept', (t) => {
  const [m] = mergeTargets([
    { target: 'A', type: 'temporal', factors: 'D=1 E>=2' },
    { target: 'A', type: 'temporal', factors: ['L=4', 'D=1', 'E<=8'] },
  ]);
  t.is(m.factors, 'D=1 E>=2 L=4 E<=8');
});

test('mergeTargets: a missing value is taken from the other entry; equal values merge', (t) => {
  const [m] = mergeTargets([
    { target: 'A', type: 'temporal', maximize_dims: [['E'], ['L']], maximize_dims_capacity: 64 },
    { target: 'A', type: 'temporal', permutation: 'EDL', maximize_dims: [['E'], ['L']] },
  ]);
  t.deepEqual(m, { target: 'A', type: 'temporal', maximize_dims: [['E'], ['L']], maximize_dims_capacity: 64, permutation: 'EDL' });
});

test('mergeTargets: conflicts are errors, as in timeloopfe (no later-wins)', (t) => {
  const conflict = (list: ConstraintTarget[], pattern: RegExp) => {
    const e = t.throws(() => mergeTargets(list), { instanceOf: UserError });
    t.regex(e!.message, pattern);
  };
  conflict(
    [
      { target: 'A', type: 'temporal', factors: 'E=1' },
      { target: 'A', type: 'temporal', factors: 'E=16' },
    ],
    /factors E=1 and E=16/,
  );
  conflict(
    [
      { target: 'A', type: 'temporal', factors: 'E=1' },
      { target: 'A', type: 'temporal', factors: 'E<=4' },
    ],
    /factors E=1 and E<=4/,
  );
  conflict(
    [
      { target: 'A', type: 'temporal', permutation: 'EDL' },
      { target: 'A', type: 'temporal', permutation: 'LDE' },
    ],
    /permutations EDL and LDE/,
  );
  conflict(
    [
      { target: 'A', type: 'bypass', keep: ['Outputs'] },
      { target: 'A', type: 'dataspace', bypass: ['Outputs'] },
    ],
    /Outputs both kept and bypassed/,
  );
  conflict(
    [
      { target: 'A', type: 'spatial', split: 0 },
      { target: 'A', type: 'spatial', split: 1 },
    ],
    /split 0 and 1/,
  );
});

test('mergeTargets: duplicates addConstraints rejects load once merged', (t) => {
  const preset = loadArchitecture('gemmini');
  const problem = blockLayers('bert-large').find((l) => l.id === 'KTQ')!.problem;
  const list: ConstraintTarget[] = [
    ...targetList(preset.constraints),
    { target: 'Registers', type: 'temporal', permutation: 'EDL' },
    { target: 'Registers', type: 'temporal', permutation: 'EDL' },
    { target: 'Registers', type: 'temporal', factors: 'E=1 D=1 L=16' },
  ];
  const origin = { file: 'test', path: 'mapspace_constraints' };
  t.throws(() => addConstraints(unconstrained(problem, preset.arch), list, problem, preset.arch, origin), { message: /constrained twice/ });
  const c = unconstrained(problem, preset.arch);
  addConstraints(c, mergeTargets(list), problem, preset.arch, origin);
  const reg = c.levels[preset.arch.storage.findIndex((s) => s.name === 'Registers')].temporal;
  t.deepEqual(reg.prefix.map((d) => problem.dimensions[d]).join(''), 'EDL');
  t.deepEqual(reg.exact, problem.dimensions.map((d) => ({ D: 1, E: 1, L: 16 })[d]));
});

test('targetList reads a preset block and rejects a malformed one', (t) => {
  t.true(targetList(loadArchitecture('gemmini').constraints).length > 0);
  t.deepEqual(targetList(undefined), []);
  t.throws(() => targetList({ targets: 'x' }), { instanceOf: UserError });
  t.throws(() => targetList([{ type: 'temporal' }]), { instanceOf: UserError });
});
