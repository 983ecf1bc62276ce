/**
 * A convolution's search ends on its effort, not on a clock: the lean model
 * scores sliding windows through the closed form, so the cross-architecture
 * study's convolutions need no time budget, and what the search reports is
 * what the general nest walk computes for the mapping it returns. A search
 * a budget does cut is marked wherever its result is read.
 */
import test from 'ava';
import { loadArchitecture } from '../../src/inputs/presets.ts';
import { evaluateMapping, prepareModel } from '../../src/model/evaluate.ts';
import { crossArchConstraints, crossArchWorkload, MAPPER_PRESETS } from '../../src/sweeps/cross-arch.ts';
import { mapOnPreset } from '../../src/sweeps/hwdse.ts';
import { mapSettings } from '../../src/mapper/settings.ts';
import { runMapTask, showMapResult } from '../../src/pipeline/kinds/map-run.ts';
import { isInfeasible } from '../../src/pipeline/kinds/map.ts';
import { layerRow, STOPPED_BY_BUDGET } from '../../src/pipeline/kinds/aggregate.ts';
import type { RunRequest } from '../../src/build/task.ts';

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

test('a map task its budget cut says so in its result, in expt show and in the reason column of layers.csv; one that ran to its effort does not', (t) => {
  const preset = loadArchitecture('eyeriss');
  const w = crossArchWorkload('IV');
  const inputs = { problem: w.problem, architecture: preset.arch, ERT: preset.ert, constraints: crossArchConstraints(preset, w.problem) };
  const request = (mapper: ReturnType<typeof mapSettings>) => ({ inputs: { ...inputs, mapper }, deps: [] }) as unknown as RunRequest;
  const meta = { experiment: 'x', layer: 'IV', arch: 'eyeriss' };
  const cut = runMapTask(request(mapSettings({ effort: 1_000_000, budgetMs: 1 })));
  t.false(isInfeasible(cut));
  if (isInfeasible(cut)) return;
  t.true(cut.search.stopped_by_budget);
  t.is(layerRow(meta, { id: 'map:x', key: 'k' }, cut).reason, STOPPED_BY_BUDGET);
  t.regex(showMapResult(request(mapSettings({})), cut), /STOPPED BY ITS TIME BUDGET/);
  const full = runMapTask(request(mapSettings({ effort: 200 })));
  if (isInfeasible(full)) return t.fail(full.infeasible);
  t.false(full.search.stopped_by_budget);
  t.is(layerRow(meta, { id: 'map:x', key: 'k' }, full).reason, '');
  t.notRegex(showMapResult(request(mapSettings({})), full), /BUDGET/);
});
