/**
 * The normalization-op architectures (experiments/archs/gemmini-no.yaml,
 * pim-no.yaml; study-facts §2.3, §4.2): they load with zero-cost register
 * files and MAC from their .energy.csv, and the mapper, under their own
 * constraints, maps BERT-large's softmax and layernorm at one operation per
 * cycle: NO cycles = L·E·D, the term the study's HW-DSE cycle identity
 * 671,088,768 = 16 × (2 × 4,194,304 + 33,554,432 + 8) carries for softmax
 * (study-facts §7.2, §1.4).
 */
import test from 'ava';
import { loadArchitecture, presetConstraints } from '../../src/inputs/presets.ts';
import { MapSpace } from '../../src/mapper/mapspace.ts';
import { localSearch } from '../../src/mapper/search.ts';
import { evaluateMapping, prepareModel } from '../../src/model/evaluate.ts';
import { blockLayers } from '../../src/workload/layers.ts';

const layers = blockLayers('bert-large');
const layer = (id: string) => layers.find((l) => l.id === id)!;

for (const archId of ['gemmini-no', 'pim-no']) {
  test(`${archId}: register files and MAC cost nothing; the other levels are estimated`, (t) => {
    const p = loadArchitecture(archId);
    t.truthy(p.energyFile);
    for (const name of ['Registers', 'Registers_Outputs', 'Registers_Inputs', 'MAC']) {
      const actions = p.ert.components[name];
      t.truthy(actions, name);
      t.true(actions.length > 0 && actions.every((a) => a.energy === 0), `${name}: ${JSON.stringify(actions)}`);
    }
    t.is(p.arch.arithmetic.instances, 1, 'no spatial fanout');
    t.deepEqual(
      p.arch.storage.map((s) => s.instances),
      p.arch.storage.map(() => 1),
    );
    const onChip = archId === 'gemmini-no' ? 'Accumulator' : 'shared_glb';
    t.true(p.ert.components[onChip].find((a) => a.name === 'read')!.energy > 0);
    t.true(p.ert.components['DRAM'].find((a) => a.name === 'read')!.energy > 0);
    t.deepEqual(
      p.arch.storage.slice(-3).map((s) => [s.name, s.sizeWords]),
      [
        ['Registers', 3],
        ['Registers_Outputs', 1024],
        ['Registers_Inputs', 1024],
      ],
    );
  });

  for (const id of ['softmax', 'layernorm'] as const) {
    test(`${archId}: BERT-large ${id} maps at one operation per cycle (cycles = L·E·D)`, (t) => {
      const p = loadArchitecture(archId);
      const l = layer(id);
      const [L, E, D] = l.problem.bounds;
      const constraints = presetConstraints(p, l.problem);
      const space = new MapSpace(l.problem, p.arch, constraints);
      const ctx = prepareModel(l.problem, p.arch, p.ert);
      const r = localSearch(space, ctx, { metrics: ['edp'], effort: 500 });
      t.truthy(r.mapping);
      const e = evaluateMapping(ctx, r.mapping!);
      if (!e.ok) return t.fail(e.error.reason);
      const s = e.value.summary;
      t.is(s.computes, L * E * D);
      t.is(s.cycles, L * E * D);
      t.is(s.utilization, 1);
      // As modelled, a NO costs only its memory traffic: register files and MAC are free.
      t.is(e.value.arithmetic.energy_pJ, 0);
      for (const level of e.value.storage.filter((x) => x.name.startsWith('Registers'))) t.is(level.energy_pJ, 0, level.name);
      t.true(s.energy_pJ > 0);
      // The register files hold what the study fixes: E = 1024 inputs, one column.
      const rfi = e.value.storage.find((x) => x.name === 'Registers_Inputs')!;
      t.is(rfi.dataspaces['Inputs'].utilized_capacity, 1024);
      if (id === 'softmax') {
        t.is(L * E * D, 33_554_432);
        // The HW-DSE identity (16 heads of KTQ, VScores at 4,194,304 + 4 cycles each, and softmax).
        t.is(16 * (2 * 4_194_304 + s.cycles + 8), 671_088_768);
      } else {
        t.is(L * E * D, 12_582_912);
      }
    });
  }
}
