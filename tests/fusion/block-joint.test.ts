/**
 * Whole Transformer blocks fused jointly (src/fusion/block-study.ts): for
 * BERT-base, BERT-large and GPT-2 small on Gemmini and PIM (the NOs on
 * gemmini-no / pim-no), the joint EDP of the block is at most the block
 * with every layer alone and the block under each of the study's rewrite
 * levels; every layer of the joint mapping, evaluated alone, gives what
 * the joint result reports; and where timeloop-model is installed it
 * agrees with every fused layer of one block.
 */
import test from 'ava';
import { loadArchitecture } from '../../src/inputs/presets.ts';
import { evaluateMapping, prepareModel } from '../../src/model/evaluate.ts';
import { studyBlock } from '../../src/fusion/block-study.ts';
import { evaluateWithTimeloop } from '../../src/timeloop/external.ts';
import { compareEvaluations } from '../../src/timeloop/fidelity.ts';
import { findTimeloopModel } from '../helpers/oracle-fuzz.ts';

const edp = (p: { energy: number; cycles: number }) => p.energy * p.cycles * 1e-12;
const presets = Object.fromEntries(['gemmini', 'gemmini-no', 'pim', 'pim-no'].map((id) => [id, loadArchitecture(id)]));

for (const model of ['bert-base', 'bert-large', 'gpt2-small']) {
  for (const arch of ['gemmini', 'pim']) {
    test(`${model} on ${arch}: the joint block is at most the block alone and under every study rewrite level, and its layers re-evaluate to it`, (t) => {
      const s = studyBlock(model, { main: presets[arch], no: presets[`${arch}-no`] });
      const joint = edp(s.joint.best);
      t.true(joint <= edp(s.alone) * (1 + 1e-12), `joint ${joint} > alone ${edp(s.alone)}`);
      for (const r of s.rewrites) t.true(joint <= edp(r.point) * (1 + 1e-12), `joint ${joint} > rewrite at ${r.level} ${edp(r.point)}`);
      // The groups cover the block in order.
      let next = 0;
      for (const g of s.joint.best.groups) {
        t.is(g.first, next);
        t.is(g.mappings.length, g.last - g.first + 1);
        next = g.last + 1;
      }
      t.is(next, s.cascade.layers.length);
      let energy = 0;
      let cycles = 0;
      for (const g of s.joint.best.groups) {
        g.mappings.forEach((m, k) => {
          const layer = s.cascade.layers[g.first + k];
          const r = evaluateMapping(prepareModel(layer.problem, layer.arch, layer.ert), m);
          t.true(r.ok, layer.id);
          if (!r.ok) return;
          energy += (layer.count ?? 1) * r.value.summary.energy_pJ;
          cycles += (layer.count ?? 1) * r.value.summary.cycles;
        });
      }
      t.true(Math.abs(energy - s.joint.best.energy) <= 1e-9 * energy, `${energy} vs ${s.joint.best.energy}`);
      t.is(cycles, s.joint.best.cycles);
      const fused = s.joint.best.groups.filter((g) => g.level !== null);
      t.log(
        `joint ${joint.toExponential(4)} (${fused.map((g) => `${s.cascade.layers[g.first].id}…${s.cascade.layers[g.last].id}@${g.level}`).join(', ') || 'nothing fused'}), alone ${edp(s.alone).toExponential(4)}, ` +
          s.rewrites.map((r) => `${r.level} ${edp(r.point).toExponential(4)}`).join(', '),
      );
    });
  }
}

const real = findTimeloopModel();
if (!real) {
  test.skip('timeloop-model not installed: the fused layers of a joint block are not checked against it', () => {});
} else {
  test('timeloop-model agrees with every layer of the joint BERT-base block on Gemmini (counts and cycles)', async (t) => {
    const s = studyBlock('bert-base', { main: presets['gemmini'], no: presets['gemmini-no'] });
    t.true(s.joint.best.groups.some((g) => g.level !== null));
    for (const g of s.joint.best.groups) {
      for (let k = 0; k < g.mappings.length; k++) {
        const layer = s.cascade.layers[g.first + k];
        const ours = evaluateMapping(prepareModel(layer.problem, layer.arch, layer.ert), g.mappings[k]);
        if (!ours.ok) {
          t.fail(layer.id);
          continue;
        }
        const { evaluation } = await evaluateWithTimeloop({ architecture: layer.arch, problem: layer.problem, mapping: g.mappings[k], ert: layer.ert }, { bin: real });
        const c = compareEvaluations(ours.value, evaluation);
        t.true(c.countsEqual, `${layer.id}: ${c.rows.flatMap((x) => x.differences).join('; ')}`);
        t.is(c.cyclesRatio, 1, layer.id);
      }
    }
  });
}
