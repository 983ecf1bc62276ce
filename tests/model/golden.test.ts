/**
 * Differential test against Timeloop v3.0.3: every golden case in
 * tests/fixtures/golden is evaluated from its input.yaml and compared field by
 * field with the oracle's expected.json (counts and cycles exactly, energies
 * to 1e-6 relative, networks included).
 *
 * A case that is known not to match goes into KNOWN_FAILURES with the reason;
 * it then runs as `test.failing` (reported, never skipped silently), and ava
 * flags it as soon as it starts to pass.
 */
import test from 'ava';
import { join } from 'node:path';
import { evaluateMapping, prepareModel, type AnalysisChoice } from '../../src/model/evaluate.ts';
import { FastCostModel } from '../../src/model/fast-cost.ts';
import { buildLoopNest } from '../../src/model/loop-nest.ts';
import { canAnalyzeInClosedForm } from '../../src/model/fast-analysis.ts';
import { importTimeloopDocuments } from '../../src/timeloop/tree-import.ts';
import { readYamlFile } from '../../src/util/yaml.ts';
import { compareWithExpected, goldenCases, readExpected, type GoldenCase } from '../helpers/golden.ts';

/** Case id → why it does not match yet. Empty: all cases match. */
const KNOWN_FAILURES: Record<string, string> = {};

function load(c: GoldenCase) {
  const file = join(c.dir, 'input.yaml');
  const input = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
  if (!input.architecture || !input.problem || !input.mapping || !input.ert) {
    throw new Error(`${file}: input lacks one of architecture, problem, mapping, ERT`);
  }
  return { problem: input.problem, arch: input.architecture, mapping: input.mapping, ert: input.ert };
}

function differencesWith(c: GoldenCase, analysis: AnalysisChoice): string[] {
  const { problem, arch, mapping, ert } = load(c);
  const outcome = evaluateMapping(prepareModel(problem, arch, ert, { analysis }), mapping);
  if (!outcome.ok) return [`invalid mapping: ${JSON.stringify(outcome.error)}`];
  return compareWithExpected(outcome.value, readExpected(c), { networks: true });
}

function differences(c: GoldenCase): string[] {
  const file = join(c.dir, 'input.yaml');
  const input = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
  if (!input.architecture || !input.problem || !input.mapping || !input.ert) {
    return [`${file}: input lacks one of architecture, problem, mapping, ERT`];
  }
  const ctx = prepareModel(input.problem, input.architecture, input.ert);
  const outcome = evaluateMapping(ctx, input.mapping);
  if (!outcome.ok) return [`invalid mapping: ${JSON.stringify(outcome.error)}`];
  return compareWithExpected(outcome.value, readExpected(c), { networks: true });
}

const cases = goldenCases();

test('the golden folder has cases', (t) => {
  t.true(cases.length >= 96, `found ${cases.length} cases`);
  for (const id of Object.keys(KNOWN_FAILURES)) {
    t.true(cases.some((c) => c.id === id), `KNOWN_FAILURES lists '${id}', which is not a golden case`);
  }
});

for (const c of cases) {
  const reason = KNOWN_FAILURES[c.id];
  if (reason === undefined) {
    test(`golden ${c.id}`, (t) => {
      t.deepEqual(differences(c), []);
    });
  } else {
    test.failing(`golden ${c.id} (known failure: ${reason})`, (t) => {
      t.deepEqual(differences(c), []);
    });
  }
}

// The general nest walk must reproduce every case on its own, and the closed
// form (plus the mapper's lean cost model) every case it applies to.
for (const c of cases) {
  if (KNOWN_FAILURES[c.id] !== undefined) continue;
  test(`golden ${c.id} through the general nest analysis`, (t) => {
    t.deepEqual(differencesWith(c, 'general'), []);
  });
  const { problem, arch, mapping, ert } = load(c);
  if (!canAnalyzeInClosedForm(problem, buildLoopNest(problem, arch, mapping))) continue;
  test(`golden ${c.id} through the closed-form analysis and the lean cost model`, (t) => {
    t.deepEqual(differencesWith(c, 'closed-form'), []);
    const exp = readExpected(c);
    const fast = new FastCostModel(prepareModel(problem, arch, ert, { analysis: 'closed-form' }));
    t.true(fast.evaluate(mapping), fast.invalidReason);
    t.is(fast.cycles, exp.summary.cycles);
    t.true(Math.abs(fast.energy - exp.summary.energy_pJ) <= 1e-6 * exp.summary.energy_pJ, `${fast.energy} vs ${exp.summary.energy_pJ}`);
  });
}
