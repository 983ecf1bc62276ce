/**
 * The closed-form analysis against the general nest walk on random
 * convolutions: strides and dilations 1–3, windows 1–7, random loop orders,
 * fanouts and bypasses, on every golden architecture. The walk is pinned to
 * Timeloop by the golden cases; this pins the closed form to the walk on
 * every count it reports (tile sizes, access histograms with hops, link
 * transfers), mapping by mapping.
 */
import test from 'ava';
import { join } from 'node:path';
import { analyzeNest } from '../../src/model/nest-analysis.ts';
import { analyzeInClosedForm } from '../../src/model/fast-analysis.ts';
import { buildLoopNest } from '../../src/model/loop-nest.ts';
import { randomMapping } from '../../src/mapping/random-mapping.ts';
import { importTimeloopDocuments } from '../../src/timeloop/tree-import.ts';
import { Random } from '../../src/util/random.ts';
import { readYamlFile } from '../../src/util/yaml.ts';
import { convProblem } from '../../src/workload/shapes.ts';
import type { Architecture } from '../../src/arch/architecture.ts';
import type { Problem } from '../../src/workload/problem.ts';
import { goldenCases } from '../helpers/golden.ts';

const architectures: { id: string; arch: Architecture }[] = [];
for (const c of goldenCases()) {
  const file = join(c.dir, 'input.yaml');
  const { architecture } = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
  // The 128×128 PIM arrays are covered by the GEMM differential; here they would only slow the walk.
  if (architecture && !c.id.startsWith('pim-128')) architectures.push({ id: c.id, arch: architecture });
}

/** Sizes small enough for the walk (it is exponential in the number of loops), windows up to 7. */
function randomConv(rng: Random) {
  const pick = (xs: readonly number[]) => xs[rng.int(xs.length)];
  return convProblem('random-conv', {
    R: 1 + rng.int(7),
    S: pick([1, 1, 2, 3, 5]),
    P: pick([1, 2, 3, 4, 6]),
    Q: pick([1, 2, 3, 4]),
    C: pick([1, 2, 3, 4]),
    K: pick([1, 2, 4, 6]),
    N: pick([1, 1, 2]),
    Wstride: 1 + rng.int(3),
    Hstride: 1 + rng.int(3),
    Wdilation: 1 + rng.int(3),
    Hdilation: 1 + rng.int(3),
  });
}

/**
 * Any affine projection Timeloop accepts: 2–4 dimensions, dataspaces of 1–3
 * ranks, each a sum of 1–3 terms with coefficients 1–3, a dimension may
 * appear in several ranks of one dataspace.
 */
function randomAffine(rng: Random): Problem {
  const nd = 2 + rng.int(3);
  const names = ['A', 'B', 'C', 'D'].slice(0, nd);
  const bounds = names.map(() => [1, 2, 3, 4, 5, 6][rng.int(6)]);
  const dataspaces = ['X', 'Y', 'Z'].map((name, t) => ({
    name,
    readWrite: t === 2,
    projection: Array.from({ length: 1 + rng.int(3) }, () =>
      Array.from({ length: 1 + rng.int(3) }, () => ({ dimension: rng.int(nd), coefficient: 1 + rng.int(3) })),
    ),
  }));
  return { name: 'random-affine', dimensions: names, bounds, coefficients: {}, dataspaces };
}

const CHUNKS = 8;
const PER_CHUNK = 2500;
const AFFINE_CHUNKS = 4;
const AFFINE_PER_CHUNK = 5000;

for (let chunk = 0; chunk < AFFINE_CHUNKS; chunk++) {
  test(`closed form = nest walk on ${AFFINE_PER_CHUNK} random affine problems and mappings (chunk ${chunk + 1}/${AFFINE_CHUNKS})`, (t) => {
    const rng = new Random(777 + chunk);
    for (let k = 0; k < AFFINE_PER_CHUNK; k++) {
      const { arch } = architectures[rng.int(architectures.length)];
      const problem = randomAffine(rng);
      const mapping = randomMapping(problem, arch, rng, { spatialBias: 0.2 + 0.5 * rng.next() });
      const nest = buildLoopNest(problem, arch, mapping);
      const linkTransfers = rng.next() < 0.9;
      const walk = analyzeNest(problem, nest, { linkTransfers });
      const closed = analyzeInClosedForm(problem, nest, { linkTransfers });
      if (JSON.stringify(closed) !== JSON.stringify(walk)) {
        t.deepEqual(closed, walk, `mapping #${k} of chunk ${chunk}: ${JSON.stringify({ problem, mapping })}`);
        return;
      }
    }
    t.pass();
  });
}

for (let chunk = 0; chunk < CHUNKS; chunk++) {
  test(`closed form = nest walk on ${PER_CHUNK} random convolution mappings (chunk ${chunk + 1}/${CHUNKS})`, (t) => {
    const rng = new Random(20261206 + chunk);
    let spatial = 0;
    let links = 0;
    for (let k = 0; k < PER_CHUNK; k++) {
      const { arch } = architectures[rng.int(architectures.length)];
      const problem = randomConv(rng);
      const mapping = randomMapping(problem, arch, rng, { spatialBias: 0.2 + 0.5 * rng.next(), bypassProbability: 0.3 });
      const nest = buildLoopNest(problem, arch, mapping);
      const linkTransfers = rng.next() < 0.9;
      const walk = analyzeNest(problem, nest, { linkTransfers });
      const closed = analyzeInClosedForm(problem, nest, { linkTransfers });
      if (nest.loops.some((l) => l.space !== 0)) spatial++;
      if (walk.tiles.some((ts) => ts.some((x) => x.linkTransfers > 0))) links++;
      // deepEqual reports the first difference; stop there so one bug does not print thousands.
      const same = JSON.stringify(closed) === JSON.stringify(walk);
      if (!same) {
        t.deepEqual(closed, walk, `mapping #${k} of chunk ${chunk}: ${JSON.stringify({ problem: problem.bounds, coefficients: problem.coefficients, mapping })}`);
        return;
      }
    }
    t.pass();
    // Guards that the sample exercises what it claims to.
    t.true(spatial > PER_CHUNK / 2, `${spatial} mappings with a spatial fanout`);
    t.true(links > 0, `${links} mappings with link transfers`);
    t.log(`${spatial} with a fanout, ${links} with link transfers`);
  });
}
