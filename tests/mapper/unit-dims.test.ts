/**
 * A GEMM written in a convolution's form, with size-1 dimensions inside its
 * projections (as the study's 8-dimension layer files are), evaluates to the
 * same numbers as the plain GEMM, and once those unit terms are dropped the
 * mapper finds the same optimum on it.
 */
import test from 'ava';
import { join } from 'node:path';
import { addConstraints, unconstrained } from '../../src/mapper/constraints.ts';
import { MapSpace } from '../../src/mapper/mapspace.ts';
import { localSearch } from '../../src/mapper/search.ts';
import { evaluateMapping, prepareModel } from '../../src/model/evaluate.ts';
import { importTimeloopDocuments } from '../../src/timeloop/tree-import.ts';
import { readYamlFile } from '../../src/util/yaml.ts';
import { isAxisAligned, withoutUnitTerms, type Problem } from '../../src/workload/problem.ts';
import { goldenDir } from '../helpers/golden.ts';

const file = join(goldenDir, 'paper-VScores-gemmini-TLD', 'mapper-input.yaml');
const input = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
const gemm = input.problem!;
const arch = input.architecture!;
const ert = input.ert!;

/** D, E, L plus a unit dimension R that appears in every tensor (Inputs: E + R, like a 1-wide window). */
const convForm: Problem = {
  ...gemm,
  name: 'gemm-as-conv',
  dimensions: [...gemm.dimensions, 'R'],
  bounds: [...gemm.bounds, 1],
  dataspaces: gemm.dataspaces.map((ds) => ({
    ...ds,
    projection: [
      ...ds.projection.map((rank) => (ds.name === 'Inputs' && rank[0].dimension === 1 ? [...rank, { dimension: 3, coefficient: 1 }] : rank)),
      [{ dimension: 3, coefficient: 1 }],
    ],
  })),
};

test('unit terms make the problem non-axis-aligned; dropping them restores it', (t) => {
  t.false(isAxisAligned(convForm));
  t.true(isAxisAligned(withoutUnitTerms(convForm)));
});

test('the mapper reaches the same EDP on the convolution form as on the GEMM', (t) => {
  const run = (problem: Problem) => {
    const c = unconstrained(problem, arch);
    addConstraints(c, input.raw['mapspace_constraints'].value, problem, arch, { file, path: 'mapspace_constraints' });
    const ctx = prepareModel(problem, arch, ert);
    const r = localSearch(new MapSpace(problem, arch, c), ctx, { metrics: ['edp'], effort: 3000 });
    t.truthy(r.mapping);
    return { r, ctx };
  };
  const plain = run(gemm).r;
  const simplified = withoutUnitTerms(convForm);
  const { r } = run(simplified);
  t.is(r.energy * r.cycles, plain.energy * plain.cycles);
  // The simplified problem's mapping evaluates identically on the original convolution form (general model).
  const a = evaluateMapping(prepareModel(simplified, arch, ert), r.mapping!);
  const b = evaluateMapping(prepareModel(convForm, arch, ert), r.mapping!);
  t.true(a.ok && b.ok);
  if (a.ok && b.ok) {
    t.is(b.value.summary.cycles, a.value.summary.cycles);
    t.true(Math.abs(b.value.summary.energy_pJ - a.value.summary.energy_pJ) <= 1e-9 * a.value.summary.energy_pJ);
    t.deepEqual(
      b.value.storage.map((s) => Object.values(s.dataspaces).map((d) => [d.reads, d.fills, d.updates, d.utilized_capacity])),
      a.value.storage.map((s) => Object.values(s.dataspaces).map((d) => [d.reads, d.fills, d.updates, d.utilized_capacity])),
    );
  }
});
