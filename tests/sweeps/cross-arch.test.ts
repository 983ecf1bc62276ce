/**
 * The cross-architecture study (src/sweeps/cross-arch.ts): mapper presets,
 * the study's R/S/Q/N constraints added for convolutions in the study's
 * letters, small cells mapping on every architecture, and the study's
 * results table format.
 */
import test from 'ava';
import { loadArchitecture } from '../../src/inputs/presets.ts';
import {
  CROSS_ARCH_ARCHITECTURES,
  CROSS_ARCH_CONVS,
  CROSS_ARCH_GEMMS,
  MAPPER_PRESETS,
  convTargets,
  crossArchCell,
  crossArchConstraints,
  crossArchWorkload,
  runCrossArch,
  type CrossArchWorkload,
} from '../../src/sweeps/cross-arch.ts';
import { cExp2, crossArchTable } from '../../src/sweeps/table.ts';
import { targetList } from '../../src/fusion/targets.ts';
import { operationCount } from '../../src/workload/problem.ts';
import { convProblem } from '../../src/workload/shapes.ts';

test('the study\'s workload lists and mapper presets', (t) => {
  t.deepEqual(CROSS_ARCH_GEMMS, ['MB1', 'MB2', 'MB3', 'MB4', 'MB5', 'MB6', 'Harsh1', 'Harsh2']);
  t.is(CROSS_ARCH_CONVS.length, 17);
  t.is(CROSS_ARCH_CONVS[16], 'XVII');
  t.deepEqual([...CROSS_ARCH_ARCHITECTURES], ['eyeriss', 'simba-right', 'tpu']);
  t.true(MAPPER_PRESETS.TLD.effort! < MAPPER_PRESETS.TLL.effort!);
  t.true(MAPPER_PRESETS.TLE.exhaustive);
  const kqv = crossArchWorkload('KQV');
  t.is(kqv.macs, 12_884_901_888);
  const conv = crossArchWorkload('I');
  t.deepEqual(conv.problem.dimensions, ['R', 'S', 'L', 'Q', 'E', 'D', 'N']);
  t.is(conv.macs, 924_844_032);
});

/** Exact factors of a slot, by letter. */
function exact(archId: string, workload: string, target: string, kind: 'temporal' | 'spatial') {
  const p = loadArchitecture(archId);
  const w = crossArchWorkload(workload);
  const c = crossArchConstraints(p, w.problem);
  const loop = c.levels[p.arch.storage.findIndex((s) => s.name === target)][kind];
  const out: Record<string, number> = {};
  w.problem.dimensions.forEach((d, i) => {
    if (loop.exact[i] !== undefined) out[d] = loop.exact[i]!;
  });
  return { out, prefix: loop.prefix.map((i) => w.problem.dimensions[i]).join('') };
}

test('convolutions in the study\'s letters get the study\'s R/S/Q/N constraints back, per architecture', (t) => {
  // Eyeriss: the columns take only Q and D; the rows S, E and D.
  t.deepEqual(exact('eyeriss', 'I', 'shared_glb', 'spatial'), { out: { R: 1, S: 1, L: 1, E: 1, N: 1 }, prefix: 'NELRSQD' });
  t.deepEqual(exact('eyeriss', 'I', 'inter_PE_spatial', 'spatial').out, { R: 1, L: 1, Q: 1, N: 1 });
  t.deepEqual(exact('eyeriss', 'I', 'weights_spad', 'temporal').out, { S: 1, L: 1, Q: 1, D: 1, N: 1 }, 'E and R loop in the weights spad');
  t.deepEqual(exact('eyeriss', 'I', 'psum_spad', 'temporal').out, { R: 1, S: 1, L: 1, Q: 1, E: 1, N: 1 }, 'only D in the psum spad');
  t.deepEqual(exact('eyeriss', 'I', 'ifmap_spad', 'temporal').out, { R: 1, S: 1, L: 1, Q: 1, E: 1, D: 1, N: 1 });
  // Simba: R, S, Q, N never spread.
  for (const target of ['GlobalBuffer', 'PEInputBuffer', 'PEAccuBuffer']) {
    const { out } = exact('simba-right', 'I', target, 'spatial');
    t.like(out, { R: 1, S: 1, Q: 1, N: 1 }, target);
  }
  // TPU (HEAD): R, S, Q = 1 on both array dimensions and in the registers; N left free.
  t.like(exact('tpu', 'I', 'WeightsFIFO', 'spatial').out, { R: 1, S: 1, Q: 1, E: 1, L: 1 });
  t.false('N' in exact('tpu', 'I', 'WeightsFIFO', 'spatial').out);
  t.like(exact('tpu', 'I', 'Registers', 'temporal').out, { R: 1, S: 1, Q: 1, D: 1, E: 1 });
  // Gemmini and the results-time TPU: nothing added.
  const g = loadArchitecture('gemmini');
  t.deepEqual(convTargets('gemmini', targetList(g.constraints), crossArchWorkload('I').problem), targetList(g.constraints));
  // GEMMs keep the presets' constraints as they are.
  const e = loadArchitecture('eyeriss');
  t.deepEqual(convTargets('eyeriss', targetList(e.constraints), crossArchWorkload('MB6').problem), targetList(e.constraints));
  t.throws(() => convTargets('pim', [], crossArchWorkload('I').problem), { message: /no convolution constraints are known/ });
});

test('small GEMM cells map on every architecture (TLD); the TPU\'s D>=128 leaves MB3 unmappable', (t) => {
  const cells = runCrossArch({ architectures: ['eyeriss', 'simba-right', 'tpu', 'gemmini'], workloads: ['MB6'], mapper: 'TLD' });
  for (const c of cells) {
    t.true(c.ok, `${c.arch}: ${c.reason}`);
    t.is(c.macs, 512 * 256 * 256);
    t.true(c.cycles > 0 && c.energy_uJ > 0);
    t.true(Math.abs(c.edp_J_cycle - c.energy_uJ * 1e-6 * c.cycles) <= 1e-9 * c.edp_J_cycle);
  }
  const eyeriss = cells.find((c) => c.arch === 'eyeriss')!;
  t.true(eyeriss.cycles >= Math.ceil((512 * 256 * 256) / 168), 'at most 168 PEs');
  const tpu = crossArchCell('tpu', 'MB3', 'TLD');
  t.false(tpu.ok);
  t.regex(tpu.reason!, /D=8/);
  const table = crossArchTable([...cells, tpu]);
  const lines = table.split('\n');
  t.is(lines[0], '| Comp | Arch | Mapper | EDP (J*cycle) | Cycles | Energy (uJ) | MSE Runtime (s) |');
  t.regex(lines[2], /^\| MB6 \| eyeriss \| TLD \| \d\.\d\de[+-]\d\d \| \d+ \| \d+\.\d\d \| \d+\.\d{3} \|$/);
  t.regex(lines.at(-1)!, /^\| MB3 \| tpu \| TLD \| N\/A \| N\/A \| N\/A \| /);
  const byEffort = crossArchTable([{ ...cells[0], evaluations: 1234, timeBound: true }, tpu], 'evaluations').split('\n');
  t.is(byEffort[0], '| Comp | Arch | Mapper | EDP (J*cycle) | Cycles | Energy (uJ) | MSE Evaluations |');
  t.regex(byEffort[2], / \| 1234† \|$/);
  t.regex(byEffort[3], / \| n\/a \|$/);
});

test('a small convolution maps on Eyeriss and the results-time TPU with the study\'s letters', (t) => {
  const problem = convProblem('tiny', { C: 4, K: 8, P: 4, Q: 4, R: 3, S: 3, N: 1 }, { naming: 'study' });
  const w: CrossArchWorkload = { id: 'tiny', kind: 'conv', problem, macs: operationCount(problem) };
  for (const arch of ['eyeriss', 'tpu-results']) {
    const c = crossArchCell(arch, w, { ...MAPPER_PRESETS.TLD, effort: 8, restarts: 1 });
    t.true(c.ok, `${arch}: ${c.reason}`);
    t.true(c.cycles >= Math.ceil(w.macs / loadArchitecture(arch).arch.arithmetic.instances));
  }
});

test('C-style %.2e for EDPs', (t) => {
  t.is(cExp2(905_000), '9.05e+05');
  t.is(cExp2(0.0991), '9.91e-02');
  t.is(cExp2(Infinity), 'N/A');
});
