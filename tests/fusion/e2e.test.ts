/**
 * End to end: BERT-large's KTQ → softmax fused at the Gemmini Accumulator.
 * The matmul, mapped by the local search under the rewritten gemmini
 * constraints, writes no Outputs to DRAM (DRAM bypasses them; the output
 * columns stay in the Accumulator); the softmax, mapped under the rewritten
 * gemmini-no constraints, reads no Inputs from DRAM (nor from the
 * Scratchpad). The pair costs the sum of the two energies; -pwim moves the
 * write-back from the NO to the matmul and leaves the pair's total as it is.
 */
import test from 'ava';
import { loadArchitecture, presetConstraints } from '../../src/inputs/presets.ts';
import { fusedConstraints, fusedPairCost, type FusionFlags, type FusionMode } from '../../src/fusion/index.ts';
import { MapSpace } from '../../src/mapper/mapspace.ts';
import type { MapspaceConstraints } from '../../src/mapper/constraints.ts';
import { localSearch } from '../../src/mapper/search.ts';
import { evaluateMapping, prepareModel } from '../../src/model/evaluate.ts';
import type { Evaluation } from '../../src/model/result.ts';
import { blockLayers } from '../../src/workload/layers.ts';

const layers = blockLayers('bert-large');
const ktq = layers.find((l) => l.id === 'KTQ')!;
const softmax = layers.find((l) => l.id === 'softmax')!;

function map(archId: string, id: 'KTQ' | 'softmax', constraints: (p: ReturnType<typeof loadArchitecture>) => MapspaceConstraints): Evaluation {
  const p = loadArchitecture(archId);
  const problem = (id === 'KTQ' ? ktq : softmax).problem;
  const ctx = prepareModel(problem, p.arch, p.ert);
  const r = localSearch(new MapSpace(problem, p.arch, constraints(p)), ctx, { metrics: ['edp'], effort: 2000 });
  if (!r.mapping) throw new Error(`${id} on ${archId}: no mapping`);
  const e = evaluateMapping(ctx, r.mapping);
  if (!e.ok) throw new Error(e.error.reason);
  return e.value;
}

function fusedPair(flags: FusionFlags = {}, mode: FusionMode = 'fixed') {
  const matmul = map('gemmini', 'KTQ', (p) => fusedConstraints(p, ktq.problem, { kind: ktq.kind, level: 'Accumulator', flags, mode }).constraints);
  const normop = map('gemmini-no', 'softmax', (p) => fusedConstraints(p, softmax.problem, { kind: softmax.kind, level: 'Accumulator', flags, mode }).constraints);
  return { matmul, normop };
}

const level = (e: Evaluation, name: string) => e.storage.find((s) => s.name === name)!;

for (const mode of ['fixed', 'study'] as const) {
  test(`KTQ → softmax fused at the Accumulator (${mode}): the matmul writes no Outputs to DRAM, the NO reads no Inputs from DRAM`, (t) => {
    const { matmul, normop } = fusedPair({}, mode);
    t.is(matmul.summary.computes, 4096 * 64 * 4096);
    t.deepEqual(Object.keys(level(matmul, 'DRAM').dataspaces).sort(), ['Inputs', 'Weights']);
    t.is(level(matmul, 'Accumulator').dataspaces['Outputs'].updates > 0, true);
    t.deepEqual(Object.keys(level(normop, 'DRAM').dataspaces), ['Outputs']);
    t.deepEqual(Object.keys(level(normop, 'Scratchpad').dataspaces), ['Outputs']);
    t.is(level(normop, 'Accumulator').dataspaces['Inputs'].fills, 0, 'the inputs are the matmul\'s outputs, already there');
    t.is(normop.summary.cycles, 4096 * 4096 * 2);
    // The NO pays the write-back once: its DRAM updates are the 4096 × 4096 scores.
    t.is(level(normop, 'DRAM').dataspaces['Outputs'].updates, 4096 * 4096);
  });
}

test('fused pair cost: energies add up; cycles are only bounded; cheaper than the unfused pair', (t) => {
  const { matmul, normop } = fusedPair();
  const pair = fusedPairCost(matmul, normop);
  t.is(pair.energy_pJ, matmul.summary.energy_pJ + normop.summary.energy_pJ);
  t.is(pair.matmul_energy_pJ, matmul.summary.energy_pJ);
  t.is(pair.normop_energy_pJ, normop.summary.energy_pJ);
  const sum = (r: Readonly<Record<string, number>>) => Object.values(r).reduce((a, b) => a + b, 0);
  t.true(Math.abs(sum(pair.energy_by_component_pJ.matmul) - matmul.summary.energy_pJ) <= 1e-9 * matmul.summary.energy_pJ);
  t.true(Math.abs(sum(pair.energy_by_component_pJ.normop) - normop.summary.energy_pJ) <= 1e-9 * normop.summary.energy_pJ);
  t.deepEqual(pair.cycles, { sequential: matmul.summary.cycles + normop.summary.cycles, overlapped: Math.max(matmul.summary.cycles, normop.summary.cycles) });
  t.false(pair.cyclesValid);
  const heads = fusedPairCost(matmul, normop, { count: ktq.perBlock });
  t.is(heads.count, 16);
  t.is(heads.energy_pJ, pair.energy_pJ * 16);
  t.is(heads.cycles.sequential, pair.cycles.sequential * 16);

  const unfused = fusedPairCost(
    map('gemmini', 'KTQ', (p) => presetConstraints(p, ktq.problem)),
    map('gemmini-no', 'softmax', (p) => presetConstraints(p, softmax.problem)),
  );
  t.log(`KTQ+softmax per head: fused ${(pair.energy_pJ / 1e6).toFixed(1)} uJ, unfused ${(unfused.energy_pJ / 1e6).toFixed(1)} uJ`);
  t.true(pair.energy_pJ < unfused.energy_pJ);
});

test('-pwim moves the write-back from the NO to the matmul; the pair total stays', (t) => {
  const d = fusedPair();
  const w = fusedPair({ payWritebackInMatmul: true });
  t.truthy(level(w.matmul, 'DRAM').dataspaces['Outputs']);
  t.deepEqual(Object.keys(level(w.normop, 'DRAM').dataspaces), []);
  const a = fusedPairCost(d.matmul, d.normop).energy_pJ;
  const b = fusedPairCost(w.matmul, w.normop).energy_pJ;
  t.true(Math.abs(a - b) <= 1e-9 * a, `${a} vs ${b}`);
});
