/**
 * The `fixed` fusion rewrite (the default): the study's rewrite with §8
 * B4–B6 repaired. Each repair is checked against the study's result on the
 * same input:
 * - fusion at DRAM is the identity;
 * - B4: permutation EDL on every level at or above the fusion level that
 *   has a loop to order, once; no duplicate entries anywhere;
 * - B5: the matmul's fusion level keeps the Outputs, so no dataspace is
 *   left without a keeping level (the study's Registers / scratchpad fusion
 *   keeps them nowhere);
 * - B6: the NO's fused inputs hold whole columns, all sweeps inside, at
 *   their resident level (E=1, D=1 above it): register fusion maps for
 *   BERT-large's layernorm (a 1024 column in the 1024-entry input register
 *   file) and not for its softmax (4096), which the study maps with the
 *   column split into four pieces that reach the register file from no
 *   level (no level holds a whole column).
 */
import test from 'ava';
import { loadArchitecture, presetConstraints } from '../../src/inputs/presets.ts';
import { InfeasibleMapspaceError, MapSpace } from '../../src/mapper/mapspace.ts';
import { localSearch } from '../../src/mapper/search.ts';
import { evaluateMapping, prepareModel } from '../../src/model/evaluate.ts';
import { fusedConstraints, FUSION_LEVELS, fuseTargets, STORAGE_LEVELS, type FusionArch, type FusionFlags } from '../../src/fusion/index.ts';
import { canonicalEntry, canonicalType, factorTokens, mergeTargets, permutationLetters, targetDeltas, targetList, type ConstraintTarget } from '../../src/fusion/targets.ts';
import { blockLayers } from '../../src/workload/layers.ts';

const layers = blockLayers('bert-large');
const layer = (id: string) => layers.find((l) => l.id === id)!;
const ARCHS: FusionArch[] = ['gemmini', 'pim'];
const KINDS = ['matmul', 'normop'] as const;
const ALL_FLAGS: FusionFlags[] = [];
for (const noEFusion of [false, true]) for (const lFusion of [false, true]) for (const payWritebackInMatmul of [false, true]) ALL_FLAGS.push({ noEFusion, lFusion, payWritebackInMatmul });
const presetOf = (arch: FusionArch, kind: 'matmul' | 'normop') => (kind === 'matmul' ? arch : `${arch}-no`);
const baseOf = (arch: FusionArch, kind: 'matmul' | 'normop') => targetList(loadArchitecture(presetOf(arch, kind)).constraints);
const fixed = (arch: FusionArch, kind: 'matmul' | 'normop', level: string, flags: FusionFlags = {}) => fuseTargets(baseOf(arch, kind), { arch, kind, level, flags });
const study = (arch: FusionArch, kind: 'matmul' | 'normop', level: string, flags: FusionFlags = {}) =>
  fuseTargets(baseOf(arch, kind), { arch, kind, level, flags, mode: 'study' });

const permutedLevels = (list: readonly ConstraintTarget[]) => list.filter((e) => e.type === 'temporal' && permutationLetters(e.permutation).length > 0).map((e) => e.target);
const dataspaceOf = (list: readonly ConstraintTarget[], target: string) => list.find((e) => e.target === target && canonicalType(e.type) === 'dataspace');
const temporalOf = (list: readonly ConstraintTarget[], target: string) => list.find((e) => e.target === target && e.type === 'temporal');
const exactFactors = (e: ConstraintTarget | undefined) => Object.fromEntries(factorTokens(e?.factors).filter((f) => f.op === '=').map((f) => [f.dim, f.value]));

test('fixed is the default mode', (t) => {
  const base = baseOf('gemmini', 'matmul');
  t.deepEqual(fuseTargets(base, { arch: 'gemmini', kind: 'matmul', level: 'Registers' }), fixed('gemmini', 'matmul', 'Registers'));
  t.notDeepEqual(fixed('gemmini', 'matmul', 'Registers'), study('gemmini', 'matmul', 'Registers'));
});

test('fixed: fusion at DRAM is no fusion (the study adds a DRAM permutation to the matmul)', (t) => {
  for (const arch of ARCHS) {
    for (const kind of KINDS) {
      for (const flags of ALL_FLAGS) t.deepEqual(fixed(arch, kind, 'DRAM', flags), baseOf(arch, kind), `${arch} ${kind} ${JSON.stringify(flags)}`);
    }
  }
  t.deepEqual(targetDeltas(baseOf('gemmini', 'matmul'), study('gemmini', 'matmul', 'DRAM')).added, ['DRAM temporal permutation[E,D,L]']);
});

test('fixed: never a second entry for a target and type, whatever the level and flags', (t) => {
  for (const arch of ARCHS) {
    for (const kind of KINDS) {
      for (const level of FUSION_LEVELS[arch]) {
        for (const flags of ALL_FLAGS) {
          const out = fixed(arch, kind, level, flags);
          const keys = out.map((e) => `${e.target} ${canonicalType(e.type)}`);
          t.is(new Set(keys).size, keys.length, `${arch} ${kind} @${level} ${JSON.stringify(flags)}: ${keys.join('; ')}`);
          t.deepEqual(mergeTargets(out), out);
        }
      }
    }
  }
  // The study's: duplicates on the fusion level.
  const s = study('gemmini', 'matmul', 'Registers');
  t.is(s.filter((e) => e.target === 'Registers' && e.type === 'temporal').length, 3);
});

test('fixed B4: EDL on every level at and above the fusion level that has a loop to order', (t) => {
  t.deepEqual(permutedLevels(fixed('gemmini', 'matmul', 'Accumulator')).sort(), ['Accumulator', 'DRAM', 'Scratchpad']);
  t.deepEqual(permutedLevels(fixed('gemmini', 'matmul', 'Registers')).sort(), ['Accumulator', 'DRAM', 'Registers', 'Scratchpad']);
  t.deepEqual(permutedLevels(fixed('pim', 'matmul', 'shared_glb')).sort(), ['DRAM', 'shared_glb']);
  // dummy_buffer and the scratchpad have D=E=L=1: no loop to order.
  t.deepEqual(permutedLevels(fixed('pim', 'matmul', 'scratchpad')).sort(), ['DRAM', 'shared_glb']);
  // With -lf every level above has D=E=L=1: only the fusion level needs the order.
  t.deepEqual(permutedLevels(fixed('gemmini', 'matmul', 'Accumulator', { lFusion: true })), ['Accumulator']);
  // The study: the Scratchpad (between DRAM and the Accumulator) gets none;
  // at PIM's scratchpad the DRAM and shared_glb get none and the scratchpad three.
  t.deepEqual(permutedLevels(study('gemmini', 'matmul', 'Accumulator')).sort(), ['Accumulator', 'DRAM']);
  t.deepEqual(permutedLevels(study('pim', 'matmul', 'scratchpad')), ['scratchpad', 'scratchpad', 'scratchpad']);
  // Otherwise the same rewrite as the study's at the Accumulator.
  const base = baseOf('gemmini', 'matmul');
  const f = targetDeltas(base, fixed('gemmini', 'matmul', 'Accumulator'));
  const s = targetDeltas(base, study('gemmini', 'matmul', 'Accumulator'));
  t.deepEqual(f.added.sort(), s.added.sort());
  t.deepEqual(
    f.modified.sort(),
    s.modified.map((m) => (m.startsWith('Scratchpad temporal') ? canonicalEntry({ target: 'Scratchpad', type: 'temporal', factors: 'D=1 E=1', permutation: 'EDL' }) : m)).sort(),
  );
});

test('fixed B4: cf joins the factors a level already has; a different permutation is replaced', (t) => {
  const base: ConstraintTarget[] = [
    { target: 'Scratchpad', type: 'temporal', factors: 'D=4 L=8', permutation: 'LDE' },
    { target: 'Scratchpad', type: 'spatial', factors: 'D=16 E=1 L=1', split: 0 },
  ];
  const out = fuseTargets(base, { arch: 'gemmini', kind: 'matmul', level: 'Accumulator' });
  t.deepEqual(temporalOf(out, 'Scratchpad'), { target: 'Scratchpad', type: 'temporal', factors: 'L=8 D=1 E=1', permutation: 'EDL' });
  t.deepEqual(out[1], base[1], 'spatial constraints are not touched');
});

test('fixed B5: the matmul keeps its Outputs at the fusion level; the study keeps them nowhere', (t) => {
  for (const [arch, level] of [
    ['gemmini', 'Registers'],
    ['pim', 'scratchpad'],
    ['pim', 'shared_glb'],
  ] as const) {
    const out = mergeTargets(fixed(arch, 'matmul', level));
    t.true(dataspaceOf(out, level)!.keep!.includes('Outputs'), `${arch} @${level}`);
    t.false((dataspaceOf(out, level)!.bypass ?? []).includes('Outputs'));
  }
  for (const [arch, level] of [
    ['gemmini', 'Registers'],
    ['pim', 'scratchpad'],
  ] as const) {
    const s = mergeTargets(study(arch, 'matmul', level));
    const storage = STORAGE_LEVELS[arch].matmul;
    t.true(
      storage.every((l) => (dataspaceOf(s, l)?.bypass ?? []).includes('Outputs')),
      `study ${arch} @${level}: every level bypasses Outputs`,
    );
  }
  // Consequences on the presets: the study's PIM spec is rejected as degenerate; the fixed one
  // is well formed but cannot map (a crossbar cell holds one word: the weight or the output).
  const pim = loadArchitecture('pim');
  const ktq = layer('KTQ').problem;
  t.throws(() => new MapSpace(ktq, pim.arch, fusedConstraints(pim, ktq, { kind: 'matmul', level: 'scratchpad', mode: 'study' }).constraints), {
    message: /stored nowhere/,
  });
  const space = new MapSpace(ktq, pim.arch, fusedConstraints(pim, ktq, { kind: 'matmul', level: 'scratchpad' }).constraints);
  t.is(localSearch(space, prepareModel(ktq, pim.arch, pim.ert), { metrics: ['edp'], effort: 300 }).mapping, null);
});

test('fixed: no dataspace is bypassed by every level, whatever the level and flags', (t) => {
  for (const arch of ARCHS) {
    for (const kind of KINDS) {
      const storage = STORAGE_LEVELS[arch][kind];
      for (const level of FUSION_LEVELS[arch]) {
        for (const flags of ALL_FLAGS) {
          const out = fixed(arch, kind, level, flags);
          for (const d of ['Weights', 'Inputs', 'Outputs']) {
            t.false(
              storage.every((l) => (dataspaceOf(out, l)?.bypass ?? []).includes(d)),
              `${arch} ${kind} @${level} ${JSON.stringify(flags)}: ${d}`,
            );
          }
        }
      }
    }
  }
});

test('fixed B6: the NO holds whole columns for all sweeps where its fused inputs are resident', (t) => {
  // @Accumulator: resident in the Accumulator; E=1, D=1 on DRAM and Scratchpad.
  const acc = fixed('gemmini', 'normop', 'Accumulator');
  t.deepEqual(exactFactors(temporalOf(acc, 'DRAM')), { D: 1, E: 1 });
  t.deepEqual(exactFactors(temporalOf(acc, 'Scratchpad')), { D: 1, E: 1 });
  t.deepEqual(temporalOf(acc, 'Accumulator')?.['maximize_dims'], [['E'], ['L']]);
  // @Registers: resident in Registers_Inputs; E=1, D=1 on everything above it,
  // the Accumulator's maximize_dims keeps only L.
  const reg = fixed('gemmini', 'normop', 'Registers');
  for (const l of ['DRAM', 'Scratchpad', 'Accumulator', 'Registers', 'Registers_Outputs']) t.like(exactFactors(temporalOf(reg, l)), { D: 1, E: 1 }, l);
  t.deepEqual(temporalOf(reg, 'Accumulator')?.['maximize_dims'], [['L']]);
  t.deepEqual(exactFactors(temporalOf(reg, 'Registers_Inputs')), { E: 1024, L: 1 });
  // PIM @scratchpad (IMC_as_buffer in pim-no): resident in Registers_Inputs too.
  const pim = fixed('pim', 'normop', 'scratchpad');
  for (const l of ['DRAM', 'shared_glb', 'IMC_as_buffer', 'Registers', 'Registers_Outputs']) t.like(exactFactors(temporalOf(pim, l)), { D: 1, E: 1 }, l);
  t.deepEqual(dataspaceOf(pim, 'shared_glb'), { target: 'shared_glb', type: 'bypass', keep: ['Outputs'], bypass: ['Weights', 'Inputs'] });
});

function mapNormop(archId: string, id: string, level: string, mode: 'study' | 'fixed') {
  const p = loadArchitecture(archId);
  const problem = layer(id).problem;
  const space = new MapSpace(problem, p.arch, fusedConstraints(p, problem, { kind: 'normop', level, mode }).constraints);
  const ctx = prepareModel(problem, p.arch, p.ert);
  const r = localSearch(space, ctx, { metrics: ['edp'], effort: 500 });
  if (!r.mapping) throw new Error('no mapping');
  const e = evaluateMapping(ctx, r.mapping);
  if (!e.ok) throw new Error(e.error.reason);
  return { p, problem, mapping: r.mapping, evaluation: e.value };
}

test('fixed B6 on the presets: register fusion maps layernorm, not softmax; the study maps softmax with its column split', (t) => {
  for (const [archId, level] of [
    ['gemmini-no', 'Registers'],
    ['pim-no', 'scratchpad'],
  ] as const) {
    const ln = mapNormop(archId, 'layernorm', level, 'fixed');
    const [L, E, D] = ln.problem.bounds;
    t.is(ln.evaluation.summary.cycles, L * E * D);
    const rfi = ln.p.arch.storage.findIndex((s) => s.name === 'Registers_Inputs');
    const e = ln.problem.dimensions.indexOf('E');
    const d = ln.problem.dimensions.indexOf('D');
    for (let i = 0; i < rfi; i++) t.deepEqual([ln.mapping.levels[i].temporal.factors[e], ln.mapping.levels[i].temporal.factors[d]], [1, 1]);

    const sm = layer('softmax').problem;
    const p = loadArchitecture(archId);
    t.throws(() => new MapSpace(sm, p.arch, fusedConstraints(p, sm, { kind: 'normop', level }).constraints), {
      instanceOf: InfeasibleMapspaceError,
      message: /E=4096/,
    });
    // The study: the 4096-long column goes through the 1024-entry input register
    // file in four pieces, none of them stored anywhere above it.
    const st = mapNormop(archId, 'softmax', level, 'study');
    let above = 1;
    for (let i = 0; i < rfi; i++) above *= st.mapping.levels[i].temporal.factors[e];
    t.is(above, 4);
    t.deepEqual(
      st.evaluation.storage.filter((s) => s.dataspaces['Inputs']).map((s) => s.name),
      ['Registers_Inputs'],
    );
  }
});

test('fixed -pwim on a NO: Outputs bypass the study\'s write-back levels only (the Scratchpad keeps them, as in the study)', (t) => {
  const out = fixed('gemmini', 'normop', 'Accumulator', { payWritebackInMatmul: true });
  t.deepEqual(dataspaceOf(out, 'DRAM'), { target: 'DRAM', type: 'bypass', keep: [], bypass: ['Weights', 'Inputs', 'Outputs'] });
  t.deepEqual(dataspaceOf(out, 'Scratchpad'), { target: 'Scratchpad', type: 'bypass', keep: ['Outputs'], bypass: ['Weights', 'Inputs'] });
  const pim = fixed('pim', 'normop', 'scratchpad', { payWritebackInMatmul: true });
  t.deepEqual(dataspaceOf(pim, 'shared_glb')?.keep, []);
});

test('fixed: the fused NOs at the on-chip level map as unfused, without reading their inputs from above', (t) => {
  for (const [archId, level] of [
    ['gemmini-no', 'Accumulator'],
    ['pim-no', 'shared_glb'],
  ] as const) {
    for (const id of ['softmax', 'layernorm']) {
      const f = mapNormop(archId, id, level, 'fixed');
      const [L, E, D] = f.problem.bounds;
      t.is(f.evaluation.summary.cycles, L * E * D);
      t.falsy(f.evaluation.storage[0].dataspaces['Inputs'], 'DRAM reads no inputs');
      // The same constraints as the study's, up to factors the mapper picks anyway.
      const s = mapNormop(archId, id, level, 'study');
      t.is(f.evaluation.summary.energy_pJ, s.evaluation.summary.energy_pJ);
      // And cheaper than the unfused NO.
      const p = loadArchitecture(archId);
      const ctx = prepareModel(f.problem, p.arch, p.ert);
      const r = localSearch(new MapSpace(f.problem, p.arch, presetConstraints(p, f.problem)), ctx, { metrics: ['edp'], effort: 500 });
      const u = evaluateMapping(ctx, r.mapping!);
      if (!u.ok) return t.fail(u.error.reason);
      t.true(f.evaluation.summary.energy_pJ < u.value.summary.energy_pJ);
    }
  }
});
