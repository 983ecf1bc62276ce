/**
 * The shape builders produce the same Problem objects as Timeloop's YAML
 * reader (src/timeloop/tree-import.ts), for the golden vectors' three shapes.
 */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { importTimeloopDocuments, parseProblem } from '../../src/timeloop/tree-import.ts';
import { UserError } from '../../src/util/errors.ts';
import { readYamlFile } from '../../src/util/yaml.ts';
import { dataspaceSize, type Problem } from '../../src/workload/problem.ts';
import {
  buildProblem,
  CNN_LAYER_SHAPE,
  convProblem,
  gemmProblem,
  GEMM_SHAPE,
  normOpProblem,
  STUDY_CONV_SHAPE,
} from '../../src/workload/shapes.ts';
import { goldenDir } from '../helpers/golden.ts';

function goldenProblem(caseId: string): Problem {
  const file = join(goldenDir, caseId, 'input.yaml');
  const { problem } = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
  if (!problem) throw new Error(`${caseId} has no problem`);
  return problem;
}

const cases = readdirSync(goldenDir).filter((d) => /^(gemm|normop|conv)-\d+$/.test(d));

test('golden cases of every shape are present', (t) => {
  t.true(cases.some((c) => c.startsWith('gemm-')));
  t.true(cases.some((c) => c.startsWith('normop-')));
  t.true(cases.some((c) => c.startsWith('conv-')));
});

for (const id of cases) {
  test(`builder equals the parsed problem of golden ${id}`, (t) => {
    const p = goldenProblem(id);
    const size = (d: string) => p.bounds[p.dimensions.indexOf(d)];
    let built: Problem;
    if (id.startsWith('gemm-')) built = gemmProblem(p.name, { D: size('D'), E: size('E'), L: size('L') });
    else if (id.startsWith('normop-')) built = normOpProblem(p.name, { L: size('L'), E: size('E'), D: size('D') });
    else {
      const c = p.coefficients;
      built = convProblem(p.name, {
        R: size('R'), S: size('S'), P: size('P'), Q: size('Q'), C: size('C'), K: size('K'), N: size('N'),
        Wstride: c['Wstride'], Hstride: c['Hstride'], Wdilation: c['Wdilation'], Hdilation: c['Hdilation'],
      });
    }
    t.deepEqual(built, p);
  });
}

test("convProblem equals tree-import's built-in `shape: cnn_layer`", (t) => {
  const instance = { R: 3, S: 5, P: 7, Q: 9, C: 2, K: 4, N: 2, Wstride: 2, Hstride: 3, Wdilation: 1, Hdilation: 2 };
  const parsed = parseProblem({ shape: 'cnn_layer', instance }, { file: 'x.yaml', path: 'problem' });
  t.deepEqual(convProblem('cnn_layer', instance), parsed);
  t.deepEqual(buildProblem(CNN_LAYER_SHAPE, instance), parsed);
});

test('study naming renames P, C, K to L, E, D and keeps everything else', (t) => {
  const sizes = { R: 3, S: 3, P: 10, Q: 12, C: 4, K: 6, N: 1, Wstride: 2, Hstride: 1, Wdilation: 1, Hdilation: 3 };
  const a = convProblem('x', sizes);
  const b = convProblem('x', sizes, { naming: 'study' });
  t.deepEqual(b.dimensions, ['R', 'S', 'L', 'Q', 'E', 'D', 'N']);
  t.deepEqual(STUDY_CONV_SHAPE.dimensions, ['R', 'S', 'L', 'Q', 'E', 'D', 'N']);
  t.deepEqual(b.bounds, a.bounds);
  t.deepEqual(b.dataspaces, a.dataspaces);
  t.deepEqual(b.coefficients, a.coefficients);
  // Inputs: N·C·((P-1)·Wstride + (R-1)·Wdilation + 1)·((Q-1)·Hstride + (S-1)·Hdilation + 1)
  t.is(dataspaceSize(b, b.dataspaces[1]), 1 * 4 * (9 * 2 + 2 * 1 + 1) * (11 * 1 + 2 * 3 + 1));
});

test('a bad size is a UserError naming the file and the dimension', (t) => {
  const origin = { file: 'w.yaml', field: 'workloads[0]' };
  let e = t.throws(() => gemmProblem('g', { D: -4, E: 2, L: 2 }, origin), { instanceOf: UserError });
  t.is(e?.file, 'w.yaml');
  t.is(e?.field, 'workloads[0].D');
  e = t.throws(() => gemmProblem('g', { D: 4, E: 2.5, L: 2 }, origin), { instanceOf: UserError });
  t.is(e?.field, 'workloads[0].E');
  e = t.throws(() => buildProblem(GEMM_SHAPE, { D: 4, E: 2 }, { origin }), { instanceOf: UserError });
  t.regex(e?.message ?? '', /no size for dimension 'L'/);
  e = t.throws(() => buildProblem(GEMM_SHAPE, { D: 4, E: 2, L: 1, X: 3 }, { origin }), { instanceOf: UserError });
  t.is(e?.field, 'workloads[0].X');
  e = t.throws(() => convProblem('c', { R: 1, S: 1, P: 1, Q: 1, C: 1, K: 1, N: 1, Wstride: 0 }, { origin }), { instanceOf: UserError });
  t.is(e?.field, 'workloads[0].Wstride');
});
