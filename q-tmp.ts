import { loadArchitecture, presetConstraints } from './src/inputs/presets.ts';
import { mapOne } from './src/mapper/job.ts';
import { mapSettings } from './src/mapper/settings.ts';
import { gemmProblem } from './src/workload/shapes.ts';
import { prepareModel, evaluateMapping } from './src/model/evaluate.ts';
const cases: [string, ReturnType<typeof gemmProblem>][] = [
  ['tpu', gemmProblem('KQV', { D: 3072, E: 1024, L: 4096 })],
  ['pim', gemmProblem('KQV', { D: 3072, E: 1024, L: 4096 })],
  ['pim', gemmProblem('VScores', { D: 64, E: 4096, L: 4096 })],
];
for (const [arch, problem] of cases) for (const imperfect of ['off', 'spatial'] as const) {
  const preset = loadArchitecture(arch);
  const t0 = performance.now();
  const out = mapOne({ problem, arch: preset.arch, ert: preset.ert, constraints: presetConstraints(preset, problem), settings: mapSettings({ imperfect }) });
  const s = (performance.now() - t0) / 1000;
  if (out.status !== 'mapped') { console.log(arch, problem.name, imperfect, out.status); continue; }
  const general = prepareModel(problem, preset.arch, preset.ert, { analysis: 'general' });
  const g = evaluateMapping(general, out.mapping);
  const same = g.ok && JSON.stringify(g.value) === JSON.stringify(out.evaluation);
  const imp = out.mapping.levels.some((l) => l.temporal.factors.some((f, d) => f !== l.temporal.residuals[d]) || (l.spatial?.factors.some((f, d) => f !== l.spatial!.residuals[d]) ?? false));
  console.log(arch, problem.name, imperfect, 'edp', out.evaluation.summary.edp_J_cycle.toExponential(4), 'util', out.evaluation.summary.utilization.toFixed(3), s.toFixed(1) + 's', 'imperfect mapping', imp, 'walk-identical', same, 'stopped', out.search.stats.stoppedByBudget, out.search.warnings.slice(-1));
}
