/**
 * The nest walk groups a fanout's instances by the translation of their
 * delta (one cached pattern per fanout shape) instead of building every
 * instance's point set; on random imperfect mappings (residuals on temporal
 * and spatial loops, convolutions and GEMMs, every golden architecture) it
 * must give exactly what the per-instance walk gives, which the golden
 * cases pin to Timeloop. The walk's memo (a subtree replayed from a
 * recording) must give exactly what the plain walk gives, on those
 * mappings and on deeper ones over the presets.
 */
import test from 'ava';
import { join } from 'node:path';
import { analyzeNest, walkMemoReplays } from '../../src/model/nest-analysis.ts';
import { loadArchitecture } from '../../src/inputs/presets.ts';
import { TIME } from '../../src/model/loop-nest.ts';
import { buildLoopNest } from '../../src/model/loop-nest.ts';
import { randomMapping } from '../../src/mapping/random-mapping.ts';
import type { Mapping } from '../../src/mapping/mapping.ts';
import { residualsOf } from '../../src/mapper/mapspace.ts';
import { importTimeloopDocuments } from '../../src/timeloop/tree-import.ts';
import { Random } from '../../src/util/random.ts';
import { readYamlFile } from '../../src/util/yaml.ts';
import { convProblem, gemmProblem } from '../../src/workload/shapes.ts';
import type { Problem } from '../../src/workload/problem.ts';
import type { Architecture } from '../../src/arch/architecture.ts';
import { goldenCases } from '../helpers/golden.ts';

const architectures: Architecture[] = [];
for (const c of goldenCases()) {
  const file = join(c.dir, 'input.yaml');
  const { architecture } = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
  if (architecture && !c.id.startsWith('pim-128')) architectures.push(architecture);
}

function randomProblem(rng: Random): Problem {
  const pick = (xs: readonly number[]) => xs[rng.int(xs.length)];
  if (rng.next() < 0.5) return gemmProblem('random-gemm', { D: pick([3, 5, 6, 7, 10]), E: pick([2, 5, 6, 9]), L: pick([3, 4, 7, 12]) });
  return convProblem('random-conv', {
    R: 1 + rng.int(5),
    S: pick([1, 2, 3]),
    P: pick([2, 3, 5, 6]),
    Q: pick([1, 3, 5]),
    C: pick([1, 3, 5]),
    K: pick([2, 5, 6]),
    N: 1,
    Wstride: 1 + rng.int(3),
    Hstride: 1 + rng.int(2),
    Wdilation: 1 + rng.int(2),
    Hdilation: 1,
  });
}

/** Grows one loop's factor of some dimensions past the bound and sets the (factor, residual) chain Timeloop reads. */
function makeImperfect(problem: Problem, mapping: Mapping, rng: Random): Mapping {
  const levels = mapping.levels.map((lm) => ({
    ...lm,
    temporal: { ...lm.temporal, factors: lm.temporal.factors.slice(), residuals: lm.temporal.residuals.slice() },
    spatial: lm.spatial ? { ...lm.spatial, factors: lm.spatial.factors.slice(), residuals: lm.spatial.residuals.slice() } : null,
  }));
  // Loop slots outermost first: each level's temporal loops, then its spatial ones.
  const slots = levels.flatMap((lm) => [lm.temporal, ...(lm.spatial ? [lm.spatial] : [])]);
  problem.bounds.forEach((n, d) => {
    if (n < 2 || rng.next() < 0.4) return;
    const factors = slots.map((s) => s.factors[d]);
    const s = rng.int(slots.length);
    factors[s] += 1 + rng.int(2);
    const residuals = residualsOf(n, factors);
    if (residuals === null) return;
    slots.forEach((slot, i) => {
      slot.factors[d] = factors[i];
      slot.residuals[d] = residuals[i];
    });
  });
  return { levels };
}

const CHUNKS = 8;
const PER_CHUNK = 2500;

for (let chunk = 0; chunk < CHUNKS; chunk++) {
  test(`fanouts by translation = per-instance walk on ${PER_CHUNK} random imperfect mappings (chunk ${chunk + 1}/${CHUNKS})`, (t) => {
    const rng = new Random(4242 + chunk);
    const replaysBefore = walkMemoReplays();
    let imperfect = 0;
    let imperfectSpatial = 0;
    let links = 0;
    for (let k = 0; k < PER_CHUNK; k++) {
      const arch = architectures[rng.int(architectures.length)];
      const problem = randomProblem(rng);
      const mapping = makeImperfect(problem, randomMapping(problem, arch, rng, { spatialBias: 0.5 }), rng);
      const nest = buildLoopNest(problem, arch, mapping);
      if (nest.imperfect) imperfect++;
      if (nest.loops.some((l) => l.space !== 0 && l.end !== l.residualEnd)) imperfectSpatial++;
      const linkTransfers = rng.next() < 0.9;
      let reference;
      try {
        reference = analyzeNest(problem, nest, { linkTransfers, instances: 'enumerate' });
      } catch (e) {
        // The per-instance walk refuses some residual fanouts; so must the other.
        t.throws(() => analyzeNest(problem, nest, { linkTransfers }), { message: (e as Error).message });
        continue;
      }
      const fast = analyzeNest(problem, nest, { linkTransfers });
      const plain = analyzeNest(problem, nest, { linkTransfers, memo: false });
      if (JSON.stringify(plain) !== JSON.stringify(reference)) {
        t.deepEqual(plain, reference, `plain walk, mapping #${k}: ${JSON.stringify({ bounds: problem.bounds, coefficients: problem.coefficients, mapping })}`);
        return;
      }
      if (reference.tiles.some((ts) => ts.some((x) => x.linkTransfers > 0))) links++;
      if (JSON.stringify(fast) !== JSON.stringify(reference)) {
        t.deepEqual(fast, reference, `mapping #${k}: ${JSON.stringify({ bounds: problem.bounds, coefficients: problem.coefficients, mapping })}`);
        return;
      }
    }
    t.true(imperfect > PER_CHUNK / 2, `${imperfect} imperfect`);
    t.true(imperfectSpatial > PER_CHUNK / 10, `${imperfectSpatial} with an imperfect spatial loop`);
    t.log(`${imperfect} imperfect, ${imperfectSpatial} with an imperfect spatial loop, ${links} with link transfers, ${walkMemoReplays() - replaysBefore} subtree calls replayed`);
  });
}

test("the walk's memo (subtrees replayed from a recording) = the plain walk on random imperfect mappings of GEMMs and convolutions on every preset", (t) => {
  const presets = ['gemmini', 'eyeriss', 'simba', 'tpu', 'pim'].map((id) => loadArchitecture(id).arch);
  const rng = new Random(777);
  const before = walkMemoReplays();
  let compared = 0;
  for (let k = 0; compared < 1000 && k < 20000; k++) {
    const arch = presets[k % presets.length];
    const pick = (xs: readonly number[]) => xs[rng.int(xs.length)];
    const problem =
      rng.next() < 0.6
        ? gemmProblem('memo-gemm', { D: pick([24, 40, 64, 96]), E: pick([16, 36, 48]), L: pick([12, 30, 64]) })
        : convProblem('memo-conv', { R: pick([1, 3]), S: pick([1, 3]), P: pick([7, 14]), Q: pick([7, 10]), C: pick([3, 8, 16]), K: pick([8, 16, 24]), N: 1, Wstride: 1 + rng.int(2), Hstride: 1, Wdilation: 1, Hdilation: 1 });
    const mapping = makeImperfect(problem, randomMapping(problem, arch, rng, { spatialBias: 0.5 }), rng);
    let nest;
    try {
      nest = buildLoopNest(problem, arch, mapping);
    } catch {
      continue;
    }
    // The plain walk costs up to 4^(temporal loops): keep it to what it finishes quickly.
    const temporal = nest.loops.filter((l) => l.space === TIME && l.end > 1).length;
    // The memo is for imperfect nests (a perfect one walks two iterations a loop).
    if (!nest.imperfect || temporal < 3 || temporal > 7) continue;
    const linkTransfers = rng.next() < 0.9;
    let plain;
    try {
      plain = analyzeNest(problem, nest, { linkTransfers, memo: false });
    } catch (e) {
      t.throws(() => analyzeNest(problem, nest, { linkTransfers }), { message: (e as Error).message });
      continue;
    }
    const memo = analyzeNest(problem, nest, { linkTransfers });
    compared++;
    if (JSON.stringify(memo) !== JSON.stringify(plain)) {
      t.deepEqual(memo, plain, `mapping #${k}: ${JSON.stringify({ bounds: problem.bounds, coefficients: problem.coefficients, mapping })}`);
      return;
    }
  }
  const replays = walkMemoReplays() - before;
  t.is(compared, 1000);
  t.true(replays > 10 * compared, `${replays} replays`);
  t.log(`${compared} mappings, ${replays} subtree calls replayed`);
});
