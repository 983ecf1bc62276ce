/**
 * A convolution's search ends on its effort, not on a clock: the lean model
 * scores sliding windows through the closed form, so the cross-architecture
 * study's convolutions need no time budget, and what the search reports is
 * what the general nest walk computes for the mapping it returns.
 */
import test from 'ava';
import { loadArchitecture } from '../../src/inputs/presets.ts';
import { evaluateMapping, prepareModel } from '../../src/model/evaluate.ts';
import { crossArchConstraints, crossArchWorkload, MAPPER_PRESETS } from '../../src/sweeps/cross-arch.ts';
import { mapOnPreset } from '../../src/sweeps/hwdse.ts';

for (const [arch, id] of [
  ['eyeriss', 'IV'],
  ['simba', 'III'],
] as const) {
  test(`${arch} × conv ${id} with the short block (TLD): ends on its effort, deterministic, and exact under the general walk`, (t) => {
    const preset = loadArchitecture(arch);
    const w = crossArchWorkload(id);
    const constraints = crossArchConstraints(preset, w.problem);
    const first = mapOnPreset(preset, w.problem, MAPPER_PRESETS.TLD, constraints);
    t.true(first.ok, first.reason);
    t.false(first.stoppedByBudget);
    const again = mapOnPreset(preset, w.problem, MAPPER_PRESETS.TLD, constraints);
    t.deepEqual(again.mapping, first.mapping);
    // The study's layer: K·C·P·Q·R·S MACs.
    const s = w.problem.bounds;
    t.is(first.evaluation!.summary.computes, s.reduce((p, b) => p * b, 1));
    const general = prepareModel(w.problem, preset.arch, preset.ert, { analysis: 'general' });
    const walked = evaluateMapping(general, first.mapping!);
    t.true(walked.ok);
    if (walked.ok) t.deepEqual(walked.value, first.evaluation);
  });
}

test('a budget that cuts a convolution search is reported as such', (t) => {
  const preset = loadArchitecture('eyeriss');
  const w = crossArchWorkload('I');
  const constraints = crossArchConstraints(preset, w.problem);
  const cut = mapOnPreset(preset, w.problem, { ...MAPPER_PRESETS.TLL, budgetMs: 1 }, constraints);
  t.true(cut.stoppedByBudget);
});
