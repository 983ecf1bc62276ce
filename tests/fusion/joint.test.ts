/**
 * The joint fusion search (src/fusion/joint.ts) on cascades small enough to
 * enumerate: two chained matmuls on Gemmini, and matmul → softmax → matmul
 * with the softmax on gemmini-no. Its best mapping and its energy–cycles
 * front must be what a brute force over every combination of the layers'
 * mappings and every fusion choice gives (the Pareto pruning and the
 * dynamic program lose nothing); each layer of the result, evaluated alone,
 * gives the numbers the result reports; and where timeloop-model is
 * installed, it agrees with every fused layer.
 */
import test from 'ava';
import { loadArchitecture, presetConstraints } from '../../src/inputs/presets.ts';
import { constraintsFor } from '../../src/mapper/constraints.ts';
import { evaluateMapping, prepareModel } from '../../src/model/evaluate.ts';
import { chainCascade, wholeDimensions, type Cascade, type CascadeLayer } from '../../src/fusion/cascade.ts';
import {
  capacityViolation,
  consumerViolation,
  fusionLevels,
  levelIndex,
  loopsAbove,
  physicalLevel,
  producerViolation,
} from '../../src/fusion/fused.ts';
import { enumerateRole, jointSearch, paretoCandidates, paretoPoints, type CascadePoint } from '../../src/fusion/joint.ts';
import { evaluateWithTimeloop } from '../../src/timeloop/external.ts';
import { compareEvaluations } from '../../src/timeloop/fidelity.ts';
import { gemmProblem, normOpProblem } from '../../src/workload/shapes.ts';
import type { Problem } from '../../src/workload/problem.ts';
import type { Mapping } from '../../src/mapping/mapping.ts';
import { findTimeloopModel } from '../helpers/oracle-fuzz.ts';

const gemmini = loadArchitecture('gemmini');
const gemminiNo = loadArchitecture('gemmini-no');

function matmul(id: string, problem: Problem): CascadeLayer {
  return { id, problem, arch: gemmini.arch, ert: gemmini.ert, constraints: presetConstraints(gemmini, problem) };
}

/** gemmini-no's constraints (the study's constraints_NOs.yaml) with its Registers_Inputs factor sized to the column. */
function softmax(id: string, problem: Problem, column: number): CascadeLayer {
  const targets = [
    { target: 'DRAM', type: 'bypass', keep: ['Inputs', 'Outputs'], bypass: ['Weights'] },
    { target: 'Scratchpad', type: 'bypass', keep: ['Inputs', 'Outputs'], bypass: ['Weights'] },
    { target: 'Accumulator', type: 'bypass', keep: ['Inputs'], bypass: ['Weights', 'Outputs'] },
    { target: 'Registers', type: 'bypass', keep: ['Weights'], bypass: ['Inputs', 'Outputs'] },
    { target: 'Registers', type: 'temporal', factors: 'D=1 E=1 L=1' },
    { target: 'Registers_Outputs', type: 'bypass', keep: ['Outputs'], bypass: ['Weights', 'Inputs'] },
    { target: 'Registers_Outputs', type: 'temporal', factors: 'D=1 E=1 L=1' },
    { target: 'Registers_Inputs', type: 'bypass', keep: ['Inputs'], bypass: ['Weights', 'Outputs'] },
    { target: 'Registers_Inputs', type: 'temporal', factors: `E=${column} L=1`, permutation: 'EDL' },
  ];
  const constraints = constraintsFor(problem, gemminiNo.arch, [{ value: { targets }, file: 'joint.test.ts', path: 'mapspace_constraints' }], 'joint.test.ts');
  return { id, problem, arch: gemminiNo.arch, ert: gemminiNo.ert, constraints, whole: wholeDimensions({ kind: 'normop', problem }) };
}

const twoMatmuls = chainCascade('two matmuls', [matmul('A', gemmProblem('A', { D: 64, E: 32, L: 64 })), matmul('B', gemmProblem('B', { D: 32, E: 64, L: 64 }))]);
/** The same on a Gemmini with a 4 KiB Scratchpad and 64-word accumulator rows, where the shared capacity binds (unfused mappings stay feasible). */
const small = { ...gemmini.arch, storage: gemmini.arch.storage.map((s) => (s.name === 'Scratchpad' ? { ...s, sizeWords: 4096 } : s.name === 'Accumulator' ? { ...s, sizeWords: 64 } : s)) };
const twoMatmulsSmall = chainCascade(
  'two matmuls, small buffers',
  twoMatmuls.layers.map((l) => ({ ...l, arch: small })),
);
const withSoftmax = chainCascade('matmul-softmax-matmul', [
  matmul('A', gemmProblem('A', { D: 32, E: 32, L: 32 })),
  softmax('S', normOpProblem('S', { L: 32, E: 32, D: 2 }), 32),
  matmul('B', gemmProblem('B', { D: 32, E: 32, L: 32 })),
]);

const edp = (p: { energy: number; cycles: number }) => p.energy * p.cycles * 1e-12;

/**
 * Every fusion choice (a level or none per link, consecutive fused links at
 * one level) and every combination of the layers' mappings in their roles,
 * checked with the rules alone: the producer's fused loops equal the
 * consumer's loops over the shared tensor, and the group fits.
 */
function bruteForce(cascade: Cascade): CascadePoint[] {
  const n = cascade.layers.length;
  const points: CascadePoint[] = [];
  const choices: (string | null)[][] = [[]];
  for (const link of cascade.links) {
    const options = [null, ...fusionLevels(cascade, link)];
    const next: (string | null)[][] = [];
    for (const c of choices) for (const o of options) next.push([...c, o]);
    choices.splice(0, choices.length, ...next);
  }
  const cache = new Map<string, ReturnType<typeof enumerateRole>>();
  for (const choice of choices) {
    if (choice.some((x, k) => k > 0 && x !== null && choice[k - 1] !== null && x !== choice[k - 1])) continue;
    const lists = cascade.layers.map((_, g) => {
      const role = { input: g > 0 ? choice[g - 1] : null, output: g < n - 1 ? choice[g] : null };
      const key = `${g}|${role.input}|${role.output}`;
      if (!cache.has(key)) cache.set(key, enumerateRole(cascade, g, role));
      return cache.get(key)!;
    });
    const picked: Mapping[] = [];
    const rec = (g: number, energy: number, cycles: number) => {
      if (g === n) {
        // Groups: runs of fused links.
        let first = 0;
        for (let k = 0; k < n; k++) {
          if (k < n - 1 && choice[k] !== null) continue;
          if (k > first) {
            const links = cascade.links.slice(first, k);
            const group = Array.from({ length: k - first + 1 }, (_, j) => first + j);
            if (capacityViolation(cascade, group, links, choice[first]!, picked) !== null) return;
          }
          first = k + 1;
        }
        points.push({ energy, cycles, groups: [] });
        return;
      }
      for (const c of lists[g]) {
        if (g > 0 && choice[g - 1] !== null) {
          const x = choice[g - 1]!;
          const link = cascade.links[g - 1];
          const producerLoops = loopsAbove(picked[g - 1], levelIndex(cascade.layers[g - 1].arch, x)).filter((l) => !l.spatial);
          const toConsumer = new Map(link.ranks.map(([p, q]) => [p, q]));
          const consumer = cascade.layers[g];
          const overTensor = loopsAbove(c.mapping, levelIndex(consumer.arch, x)).filter(
            (l) => !l.spatial && consumer.problem.dataspaces[link.consumerDataspace].projection.some((r) => r.some((term) => term.dimension === l.dim)),
          );
          const same =
            producerLoops.length === overTensor.length &&
            producerLoops.every((l, k) => l.level === overTensor[k].level && toConsumer.get(l.dim) === overTensor[k].dim && l.factor === overTensor[k].factor);
          if (!same) continue;
        }
        picked[g] = c.mapping;
        rec(g + 1, energy + c.energy, cycles + c.cycles);
      }
    };
    rec(0, 0, 0);
  }
  return points;
}

for (const cascade of [twoMatmuls, twoMatmulsSmall, withSoftmax]) {
  test(`${cascade.name}: the joint search's best and front are the brute force's`, (t) => {
    const joint = jointSearch(cascade);
    const all = bruteForce(cascade);
    const bestEdp = all.reduce((m, p) => Math.min(m, edp(p)), Infinity);
    t.true(Math.abs(edp(joint.best) - bestEdp) <= 1e-12 * bestEdp, `joint ${edp(joint.best)} vs brute force ${bestEdp}`);
    const front = paretoPoints(all).map((p) => [p.energy, p.cycles]);
    const jointFront = joint.front.map((p) => [p.energy, p.cycles]);
    t.is(jointFront.length, front.length);
    jointFront.forEach(([e, c], k) => {
      t.true(Math.abs(e - front[k][0]) <= 1e-9 * e);
      t.is(c, front[k][1]);
    });
    // Fusing keeps the shared tensors out of DRAM: here it beats every unfused mapping.
    t.true(edp(joint.best) < edp(joint.unfused));
    t.true(joint.best.groups.some((g) => g.level !== null));
    t.log(`${all.length} valid cascade mappings; best EDP ${edp(joint.best).toExponential(4)} (${joint.best.groups.map((g) => `${g.first}-${g.last}@${g.level ?? 'alone'}`).join(', ')}), unfused ${edp(joint.unfused).toExponential(4)}`);
  });
}

test('the pruning keeps a candidate that reserves less, even when another costs less energy and cycles', (t) => {
  const a = { energy: 1, cycles: 1, use: [10, 0] };
  const b = { energy: 2, cycles: 2, use: [5, 0] };
  const c = { energy: 3, cycles: 3, use: [10, 1] };
  t.deepEqual(paretoCandidates([a, b, c]), [a, b]);
  t.deepEqual(paretoCandidates([c, b, a]), [b, a]);
});

test('each layer of a joint fused mapping, evaluated alone, gives what the joint result reports; the fused tensors stay at their level', (t) => {
  const joint = jointSearch(withSoftmax);
  let energy = 0;
  let cycles = 0;
  for (const group of joint.best.groups) {
    group.mappings.forEach((m, k) => {
      const g = group.first + k;
      const layer = withSoftmax.layers[g];
      const r = evaluateMapping(prepareModel(layer.problem, layer.arch, layer.ert), m);
      t.true(r.ok);
      if (!r.ok) return;
      energy += r.value.summary.energy_pJ;
      cycles += r.value.summary.cycles;
      if (group.level === null) return;
      const x = levelIndex(layer.arch, group.level);
      if (g < group.last) t.is(producerViolation(withSoftmax, withSoftmax.links[g], m, x), null);
      if (g > group.first) t.is(consumerViolation(withSoftmax, withSoftmax.links[g - 1], m, x), null);
    });
  }
  t.true(Math.abs(energy - joint.best.energy) <= 1e-9 * energy);
  t.is(cycles, joint.best.cycles);
});

test('fusion rules: a producer loop over its reduction above the level, or a consumer loop over the tensor inside another, is refused', (t) => {
  const link = twoMatmuls.links[0];
  const [a] = enumerateRole(twoMatmuls, 0, { input: null, output: 'Scratchpad' });
  const x = levelIndex(gemmini.arch, 'Scratchpad');
  t.is(producerViolation(twoMatmuls, link, a.mapping, x), null);
  // E (index 1) is A's reduction: a DRAM loop over it leaves partial sums at the Scratchpad.
  const reducing = structuredClone(a.mapping) as { levels: { temporal: { factors: number[]; residuals: number[] } }[] } & Mapping;
  const spE = reducing.levels.findIndex((l, i) => i > 0 && l.temporal.factors[1] % 2 === 0);
  t.true(spE > 0);
  reducing.levels[spE].temporal.factors[1] /= 2;
  reducing.levels[spE].temporal.residuals[1] /= 2;
  reducing.levels[0].temporal.factors[1] *= 2;
  reducing.levels[0].temporal.residuals[1] *= 2;
  t.regex(producerViolation(twoMatmuls, link, reducing, x) ?? '', /loop over E above the fusion level/);
  // The consumer keeping the shared tensor (its Inputs) in DRAM is not fused.
  const [b] = enumerateRole(twoMatmuls, 1, { input: null, output: null });
  t.regex(consumerViolation(twoMatmuls, link, b.mapping, x) ?? '', /must keep Inputs at level 1 and not above/);
});

test('a fused loop never splits a softmax column: its second sweep needs the first over the whole column', (t) => {
  t.deepEqual(withSoftmax.layers[1].whole, [withSoftmax.layers[1].problem.dimensions.indexOf('E')]);
  for (const level of ['Scratchpad', 'Accumulator']) {
    const x = levelIndex(gemminiNo.arch, level);
    for (const role of [{ input: level, output: null }, { input: null, output: level }]) {
      for (const c of enumerateRole(withSoftmax, 1, role)) {
        t.false(loopsAbove(c.mapping, x).some((l) => !l.spatial && l.dim === withSoftmax.layers[1].problem.dimensions.indexOf('E')), `${level}: ${c.inKey}|${c.outKey}`);
      }
    }
  }
});

test("the study's NO architectures share Gemmini's DRAM, Scratchpad and Accumulator, not its PE registers", (t) => {
  t.deepEqual(fusionLevels(withSoftmax, withSoftmax.links[0]), ['Scratchpad', 'Accumulator']);
  t.is(physicalLevel(gemmini.arch, levelIndex(gemmini.arch, 'Accumulator')), physicalLevel(gemminiNo.arch, levelIndex(gemminiNo.arch, 'Accumulator')));
  t.not(physicalLevel(gemmini.arch, levelIndex(gemmini.arch, 'Registers')), physicalLevel(gemminiNo.arch, levelIndex(gemminiNo.arch, 'Registers')));
});

const real = findTimeloopModel();
if (!real) {
  test.skip('timeloop-model not installed: the fused layers are not checked against it', () => {});
} else {
  test('timeloop-model agrees with every layer of the joint fused mapping (counts and cycles)', async (t) => {
    const joint = jointSearch(withSoftmax);
    for (const group of joint.best.groups) {
      for (let k = 0; k < group.mappings.length; k++) {
        const layer = withSoftmax.layers[group.first + k];
        const ours = evaluateMapping(prepareModel(layer.problem, layer.arch, layer.ert), group.mappings[k]);
        t.true(ours.ok);
        if (!ours.ok) continue;
        const { evaluation } = await evaluateWithTimeloop({ architecture: layer.arch, problem: layer.problem, mapping: group.mappings[k], ert: layer.ert }, { bin: real });
        const c = compareEvaluations(ours.value, evaluation);
        t.true(c.countsEqual, `${layer.id}: ${c.rows.flatMap((x) => x.differences).join('; ')}`);
        t.is(c.cyclesRatio, 1);
      }
    }
  });
}
