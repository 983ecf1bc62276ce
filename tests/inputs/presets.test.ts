/**
 * The architecture presets in experiments/archs, with energies from the
 * estimator (no hand-typed energy), evaluate the study's own mappings to the
 * study's printed totals: cycles exactly, energy (leakage included) to the
 * printed 0.01 uJ, and each level's leakage to its printed 0.01 pJ. This
 * closes the loop from Accelergy-style estimation to Timeloop-style
 * evaluation without any value taken from the study's totals.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listArchitectures, loadArchitecture } from '../../src/inputs/presets.ts';
import { evaluateMapping, prepareModel } from '../../src/model/evaluate.ts';
import { importTimeloopDocuments, parseMapping } from '../../src/timeloop/tree-import.ts';
import { readYamlFile } from '../../src/util/yaml.ts';
import { goldenCases } from '../helpers/golden.ts';

for (const c of goldenCases().filter((x) => x.category === 'paper')) {
  const archId = c.id.split('-')[2];
  test(`preset '${archId}' reproduces the study's ${c.id.replace('paper-', '')} totals with estimated energies`, (t) => {
    const preset = loadArchitecture(archId);
    const file = join(c.dir, 'input.yaml');
    const doc = readYamlFile(file) as Record<string, unknown>;
    const { problem } = importTimeloopDocuments([{ file, doc }]);
    const mapping = parseMapping(doc['mapping'], problem!, preset.arch, { file, path: 'mapping' });
    const r = evaluateMapping(prepareModel(problem!, preset.arch, preset.ert), mapping);
    if (!r.ok) return t.fail(r.error.reason);
    const study = JSON.parse(readFileSync(join(c.dir, 'expected.json'), 'utf8')).study;
    t.is(r.value.summary.cycles, study.summary.cycles);
    t.true(Math.abs(r.value.summary.energy_pJ / 1e6 - study.summary.energy_uJ) <= 0.005 + 1e-9, `${r.value.summary.energy_pJ / 1e6} uJ vs ${study.summary.energy_uJ}`);
    for (const level of r.value.storage) {
      const printed = study.leakage_energy_pJ_per_level[level.name];
      if (printed === undefined) continue;
      t.true(Math.abs(level.leakage_energy_pJ - printed) <= 0.005 + 1e-6 * printed, `${level.name} leakage ${level.leakage_energy_pJ} vs ${printed}`);
    }
  });
}

test('every preset loads and gets an energy for every component', (t) => {
  for (const id of listArchitectures()) {
    const p = loadArchitecture(id);
    for (const s of p.arch.storage) t.truthy(p.ert.components[s.name], `${id}: ${s.name}`);
    t.truthy(p.ert.components[p.arch.arithmetic.name], `${id}: ${p.arch.arithmetic.name}`);
  }
});
