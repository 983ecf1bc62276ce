/**
 * The study's fusion rewrite (mode `study`) against study-facts §3.3, one
 * test per row: the rewritten target list of the preset (gemmini, pim for
 * matmuls; gemmini-no, pim-no for the normalization ops), as deltas against
 * the preset's own list, must be exactly the row's deltas, quirks included
 * (first-occurrence edits, duplicate permutations on the fusion level,
 * Outputs kept nowhere at Registers/scratchpad, the DRAM permutation of
 * "fusion at DRAM"). Modified entries are compared as they are after the
 * rewrite; added ones as a multiset (the duplicates count).
 *
 * The default cf is [D=1, E=1]; "any flags" rows are checked under all
 * eight flag combinations.
 */
import test from 'ava';
import { loadArchitecture } from '../../src/inputs/presets.ts';
import { addConstraints, unconstrained } from '../../src/mapper/constraints.ts';
import { fuseTargets, type FusionArch, type FusionFlags } from '../../src/fusion/rewrite.ts';
import { canonicalEntry, mergeTargets, targetDeltas, targetList, type ConstraintTarget } from '../../src/fusion/targets.ts';
import { blockLayers } from '../../src/workload/layers.ts';

const layers = blockLayers('bert-large');

interface Row {
  arch: FusionArch;
  kind: 'matmul' | 'normop';
  level: string;
  flags?: FusionFlags;
  modified: ConstraintTarget[];
  added: ConstraintTarget[];
}

const ALL_FLAGS: FusionFlags[] = [];
for (const noEFusion of [false, true]) for (const lFusion of [false, true]) for (const payWritebackInMatmul of [false, true]) ALL_FLAGS.push({ noEFusion, lFusion, payWritebackInMatmul });

const presetOf = (arch: FusionArch, kind: 'matmul' | 'normop') => (kind === 'matmul' ? arch : `${arch}-no`);

function check(t: import('ava').ExecutionContext, row: Row) {
  const preset = loadArchitecture(presetOf(row.arch, row.kind));
  const base = targetList(preset.constraints);
  const out = fuseTargets(base, { arch: row.arch, kind: row.kind, level: row.level, flags: row.flags, mode: 'study' });
  const d = targetDeltas(base, out);
  t.deepEqual(d.removed, [], 'the study never removes an entry');
  t.deepEqual([...d.modified].sort(), row.modified.map(canonicalEntry).sort(), `modified (flags ${JSON.stringify(row.flags ?? {})})`);
  t.deepEqual([...d.added].sort(), row.added.map(canonicalEntry).sort(), `added (flags ${JSON.stringify(row.flags ?? {})})`);
  // The base list itself is left alone.
  t.deepEqual(targetList(preset.constraints), base);
  // Merged as timeloopfe merges, the rewritten list loads.
  const problem = layers.find((l) => l.id === (row.kind === 'matmul' ? 'KTQ' : 'softmax'))!.problem;
  t.notThrows(() => addConstraints(unconstrained(problem, preset.arch), mergeTargets(out), problem, preset.arch, { file: preset.file, path: 'fused' }));
  return out;
}

const dramTemporal = (extra: Partial<ConstraintTarget> = {}): ConstraintTarget => ({ target: 'DRAM', type: 'temporal', ...extra });
const perm = (target: string): ConstraintTarget => ({ target, type: 'temporal', permutation: 'EDL' });
const ds = (target: string, keep: string[], bypass: string[]): ConstraintTarget => ({ target, type: 'dataspace', keep, bypass });

test('§3.3 Gemmini matmul @DRAM (any flags): + DRAM temporal permutation [E,D,L] (nothing else)', (t) => {
  for (const flags of ALL_FLAGS) check(t, { arch: 'gemmini', kind: 'matmul', level: 'DRAM', flags, modified: [], added: [perm('DRAM')] });
});

test('§3.3 Gemmini matmul @Accumulator', (t) => {
  check(t, {
    arch: 'gemmini',
    kind: 'matmul',
    level: 'Accumulator',
    modified: [ds('DRAM', ['Inputs', 'Weights'], ['Outputs']), { target: 'Scratchpad', type: 'temporal', factors: 'D=1 E=1' }],
    added: [dramTemporal({ factors: 'D=1 E=1', permutation: 'EDL' }), perm('Accumulator')],
  });
});

test('§3.3 Gemmini matmul @Accumulator -pwim: the same minus the DRAM dataspace change', (t) => {
  check(t, {
    arch: 'gemmini',
    kind: 'matmul',
    level: 'Accumulator',
    flags: { payWritebackInMatmul: true },
    modified: [{ target: 'Scratchpad', type: 'temporal', factors: 'D=1 E=1' }],
    added: [dramTemporal({ factors: 'D=1 E=1', permutation: 'EDL' }), perm('Accumulator')],
  });
});

test('§3.3 Gemmini matmul @Accumulator -nef -lf: factors [D=1,L=1] on DRAM and Scratchpad', (t) => {
  check(t, {
    arch: 'gemmini',
    kind: 'matmul',
    level: 'Accumulator',
    flags: { noEFusion: true, lFusion: true },
    modified: [ds('DRAM', ['Inputs', 'Weights'], ['Outputs']), { target: 'Scratchpad', type: 'temporal', factors: 'D=1 L=1' }],
    added: [dramTemporal({ factors: 'D=1 L=1', permutation: 'EDL' }), perm('Accumulator')],
  });
});

test('§3.3 Gemmini matmul @Registers: Outputs kept by no level, 2 duplicate Registers permutations (B4, B5)', (t) => {
  const out = check(t, {
    arch: 'gemmini',
    kind: 'matmul',
    level: 'Registers',
    modified: [
      ds('DRAM', ['Inputs', 'Weights'], ['Outputs']),
      { target: 'Scratchpad', type: 'temporal', factors: 'D=1 E=1' },
      ds('Accumulator', [], ['Inputs', 'Weights', 'Outputs']),
      { target: 'Registers', type: 'temporal', factors: 'D=1 E=1 L=16', permutation: 'EDL' },
    ],
    added: [dramTemporal({ factors: 'D=1 E=1' }), { target: 'Accumulator', type: 'temporal', factors: 'D=1 E=1' }, perm('Registers'), perm('Registers')],
  });
  // B5: every level bypasses Outputs (Registers keep only Weights).
  const keepsOutputs = mergeTargets(out).filter((e) => ['bypass', 'dataspace'].includes(e.type) && e.keep?.includes('Outputs'));
  t.deepEqual(keepsOutputs, []);
});

test('§3.3 Gemmini NO @DRAM: no change', (t) => {
  for (const flags of ALL_FLAGS) check(t, { arch: 'gemmini', kind: 'normop', level: 'DRAM', flags, modified: [], added: [] });
});

test('§3.3 Gemmini NO @Accumulator', (t) => {
  check(t, {
    arch: 'gemmini',
    kind: 'normop',
    level: 'Accumulator',
    modified: [ds('DRAM', ['Outputs'], ['Weights', 'Inputs']), ds('Scratchpad', ['Outputs'], ['Weights', 'Inputs'])],
    added: [],
  });
});

test('§3.3 Gemmini NO @Accumulator -pwim: DRAM keeps nothing, Scratchpad as without', (t) => {
  check(t, {
    arch: 'gemmini',
    kind: 'normop',
    level: 'Accumulator',
    flags: { payWritebackInMatmul: true },
    modified: [ds('DRAM', [], ['Weights', 'Inputs', 'Outputs']), ds('Scratchpad', ['Outputs'], ['Weights', 'Inputs'])],
    added: [],
  });
});

test('§3.3 Gemmini NO @Registers: as @Accumulator, plus the Accumulator keeps nothing (B6)', (t) => {
  check(t, {
    arch: 'gemmini',
    kind: 'normop',
    level: 'Registers',
    modified: [ds('DRAM', ['Outputs'], ['Weights', 'Inputs']), ds('Scratchpad', ['Outputs'], ['Weights', 'Inputs']), ds('Accumulator', [], ['Weights', 'Outputs', 'Inputs'])],
    added: [],
  });
});

test('§3.3 PIM matmul @DRAM: + DRAM temporal permutation [E,D,L]', (t) => {
  for (const flags of ALL_FLAGS) check(t, { arch: 'pim', kind: 'matmul', level: 'DRAM', flags, modified: [], added: [perm('DRAM')] });
});

test('§3.3 PIM matmul @shared_glb (the DRAM dataspace omitted with -pwim)', (t) => {
  check(t, {
    arch: 'pim',
    kind: 'matmul',
    level: 'shared_glb',
    modified: [],
    added: [dramTemporal({ factors: 'D=1 E=1', permutation: 'EDL' }), ds('DRAM', ['Inputs', 'Weights'], ['Outputs']), perm('shared_glb')],
  });
  check(t, {
    arch: 'pim',
    kind: 'matmul',
    level: 'shared_glb',
    flags: { payWritebackInMatmul: true },
    modified: [],
    added: [dramTemporal({ factors: 'D=1 E=1', permutation: 'EDL' }), perm('shared_glb')],
  });
});

test('§3.3 PIM matmul @scratchpad: 2 duplicate scratchpad permutations, Outputs kept by no level (B4, B5)', (t) => {
  const added = [
    dramTemporal({ factors: 'D=1 E=1' }),
    { target: 'shared_glb', type: 'temporal', factors: 'D=1 E=1' },
    ds('DRAM', ['Inputs', 'Weights'], ['Outputs']),
    ds('shared_glb', ['Inputs', 'Weights'], ['Outputs']),
    perm('scratchpad'),
    perm('scratchpad'),
  ];
  const modified = [{ target: 'scratchpad', type: 'temporal', factors: 'D=1 E=1 L=1', permutation: 'EDL' }];
  check(t, { arch: 'pim', kind: 'matmul', level: 'scratchpad', modified, added });
  check(t, { arch: 'pim', kind: 'matmul', level: 'scratchpad', flags: { payWritebackInMatmul: true }, modified, added: added.filter((e) => e.type !== 'dataspace') });
});

test('§3.3 PIM NO @shared_glb (-pwim: DRAM keeps nothing)', (t) => {
  check(t, { arch: 'pim', kind: 'normop', level: 'shared_glb', modified: [ds('DRAM', ['Outputs'], ['Weights', 'Inputs'])], added: [] });
  check(t, {
    arch: 'pim',
    kind: 'normop',
    level: 'shared_glb',
    flags: { payWritebackInMatmul: true },
    modified: [ds('DRAM', [], ['Weights', 'Inputs', 'Outputs'])],
    added: [],
  });
});

test('§3.3 PIM NO @scratchpad: DRAM and shared_glb (-pwim: both keep nothing)', (t) => {
  check(t, {
    arch: 'pim',
    kind: 'normop',
    level: 'scratchpad',
    modified: [ds('DRAM', ['Outputs'], ['Weights', 'Inputs']), ds('shared_glb', ['Outputs'], ['Weights', 'Inputs'])],
    added: [],
  });
  check(t, {
    arch: 'pim',
    kind: 'normop',
    level: 'scratchpad',
    flags: { payWritebackInMatmul: true },
    modified: [ds('DRAM', [], ['Weights', 'Inputs', 'Outputs']), ds('shared_glb', [], ['Weights', 'Inputs', 'Outputs'])],
    added: [],
  });
});

test('study mode: the permutation goes to the first temporal constraint in list order, edits touch only the first per target', (t) => {
  // Two temporal constraints on DRAM: only the first gets cf and EDL.
  const base: ConstraintTarget[] = [
    { target: 'Registers', type: 'temporal', factors: 'L=16' },
    { target: 'DRAM', type: 'temporal', factors: 'L=4' },
    { target: 'DRAM', type: 'temporal', factors: 'D=2' },
    { target: 'DRAM', type: 'bypass', keep: ['Outputs'] },
    { target: 'DRAM', type: 'bypass', keep: ['Outputs'] },
  ];
  const out = fuseTargets(base, { arch: 'gemmini', kind: 'matmul', level: 'Accumulator', mode: 'study' });
  t.deepEqual(out.slice(0, base.length), [
    { target: 'Registers', type: 'temporal', factors: 'L=16' },
    { target: 'DRAM', type: 'temporal', factors: 'D=1 E=1', permutation: 'EDL' },
    { target: 'DRAM', type: 'temporal', factors: 'D=2' },
    { target: 'DRAM', type: 'bypass', keep: [], bypass: ['Outputs'] },
    { target: 'DRAM', type: 'bypass', keep: ['Outputs'] },
  ]);
  t.deepEqual(out.slice(base.length), [perm('Accumulator')]);
  t.throws(() => fuseTargets(base, { arch: 'gemmini', kind: 'matmul', level: 'Scratchpad', mode: 'study' }), { message: /not a fusion level of gemmini/ });
});
