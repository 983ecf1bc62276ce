/**
 * The study's other workloads, pinned to study-facts §1.5 (MAESTRO-BLAS and
 * Harsh GEMMs) and §2.4 (the convolution table, with its printed MAC
 * column). Tensor sizes are computed here from the table's values.
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UserError } from '../../src/util/errors.ts';
import { dataspaceSize, type Problem } from '../../src/workload/problem.ts';
import {
  CONV_WORKLOADS,
  CROSS_ARCH_CONV_IDS,
  GEMM_WORKLOADS,
  loadWorkloadFile,
  workload,
  workloadGroup,
  WORKLOAD_SPECS,
} from '../../src/workload/benchmarks.ts';

/** study-facts §1.5 `layer_dims`: name, D, E, L. */
const GEMMS: [string, number, number, number][] = [
  ['MB1', 8192, 8192, 8192],
  ['MB2', 1024, 8192, 1024],
  ['MB3', 8, 8192, 8],
  ['MB4', 8, 1024, 8192],
  ['MB5', 8192, 1024, 8],
  ['MB6', 512, 256, 256],
  ['Harsh1', 4000, 6032, 12000],
  ['Harsh2', 7000, 1440, 4224],
];

/**
 * study-facts §2.4: file, E(C), D(M), L(P), Q, R, S, Hstride, Wstride, Hdil, Wdil, N, MACs [derived].
 * resnetL5 is not a row of the table: "resnetL1+ (= resnetL5, XV values)".
 */
const CONVS: [string, number, number, number, number, number, number, number, number, number, number, number, number][] = [
  ['I', 128, 256, 56, 56, 3, 3, 1, 1, 1, 1, 1, 924_844_032],
  ['II', 512, 512, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1_849_688_064],
  ['III', 3, 64, 112, 112, 7, 7, 2, 2, 1, 1, 1, 118_013_952],
  ['IV', 64, 64, 56, 56, 3, 3, 1, 1, 1, 1, 1, 115_605_504],
  ['V', 128, 128, 28, 28, 3, 3, 1, 1, 1, 1, 1, 115_605_504],
  ['VI', 256, 256, 14, 14, 3, 3, 1, 1, 1, 1, 1, 115_605_504],
  ['VII', 256, 512, 7, 7, 3, 3, 2, 2, 1, 1, 1, 57_802_752],
  ['VIII', 64, 256, 56, 56, 1, 1, 1, 1, 1, 1, 1, 51_380_224],
  ['IX', 3, 64, 112, 112, 3, 3, 2, 2, 1, 1, 1, 21_676_032],
  ['X', 72, 72, 28, 28, 3, 3, 2, 2, 1, 1, 1, 36_578_304],
  ['XI', 576, 576, 7, 7, 5, 5, 1, 1, 1, 1, 1, 406_425_600],
  ['XII', 24, 88, 28, 28, 1, 1, 1, 1, 1, 1, 1, 1_655_808],
  ['XIII', 16, 16, 224, 224, 3, 3, 3, 3, 4, 4, 1, 115_605_504],
  ['XIV', 128, 128, 112, 112, 9, 9, 4, 4, 3, 3, 1, 16_647_192_576],
  ['XV', 256, 256, 56, 56, 3, 3, 2, 2, 3, 3, 1, 1_849_688_064],
  ['XVI', 128, 256, 32, 32, 4, 4, 1, 1, 1, 1, 1, 536_870_912],
  ['XVII', 576, 576, 7, 7, 5, 5, 1, 1, 1, 1, 1, 406_425_600],
  ['XVIII', 256, 256, 14, 14, 3, 3, 1, 1, 1, 1, 64, 7_398_752_256],
  ['XIX', 72, 72, 28, 28, 3, 3, 2, 2, 1, 1, 128, 4_682_022_912],
  ['XX', 256, 256, 56, 56, 5, 5, 2, 2, 3, 3, 32, 164_416_716_800],
  ['resnetL0', 3, 64, 112, 112, 7, 7, 2, 2, 1, 1, 1, 118_013_952],
  ['resnetL1', 64, 64, 56, 56, 3, 3, 1, 1, 1, 1, 1, 115_605_504],
  ['resnetL1+', 256, 256, 56, 56, 3, 3, 2, 2, 3, 3, 1, 1_849_688_064],
  ['resnetL5', 256, 256, 56, 56, 3, 3, 2, 2, 3, 3, 1, 1_849_688_064],
  ['resnetL3+', 128, 128, 112, 112, 9, 9, 4, 1, 3, 1, 1, 16_647_192_576],
  ['resnetL6', 128, 128, 28, 28, 3, 3, 1, 1, 1, 1, 1, 115_605_504],
  ['resnetL7', 64, 128, 28, 28, 1, 1, 2, 2, 1, 1, 1, 6_422_528],
  ['resnetL10', 128, 128, 14, 14, 3, 3, 2, 2, 1, 1, 1, 28_901_376],
  ['resnetL11', 256, 256, 14, 14, 3, 3, 1, 1, 1, 1, 1, 115_605_504],
  ['resnetL12', 128, 256, 14, 14, 1, 1, 2, 2, 1, 1, 1, 6_422_528],
  ['resnetL15', 256, 512, 7, 7, 3, 3, 2, 2, 1, 1, 1, 57_802_752],
  ['resnetL16', 512, 512, 7, 7, 3, 3, 1, 1, 1, 1, 1, 115_605_504],
  ['resnetL17', 256, 512, 7, 7, 1, 1, 2, 2, 1, 1, 1, 6_422_528],
  ['resnetL20', 512, 1000, 1, 1, 1, 1, 1, 1, 1, 1, 1, 512_000],
  ['vggL0', 3, 64, 224, 224, 3, 3, 1, 1, 1, 1, 1, 86_704_128],
  ['vggL1', 64, 64, 224, 224, 3, 3, 1, 1, 1, 1, 1, 1_849_688_064],
  ['vggL2', 64, 128, 112, 112, 3, 3, 1, 1, 1, 1, 1, 924_844_032],
  ['vggL3', 128, 128, 112, 112, 3, 3, 1, 1, 1, 1, 1, 1_849_688_064],
  ['vggL3+', 128, 128, 112, 112, 9, 9, 1, 1, 1, 1, 1, 16_647_192_576],
  ['vggL4', 128, 256, 56, 56, 3, 3, 1, 1, 1, 1, 1, 924_844_032],
  ['vggL5', 256, 256, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1_849_688_064],
  ['vggL7', 256, 512, 28, 28, 3, 3, 1, 1, 1, 1, 1, 924_844_032],
  ['vggL8', 512, 512, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1_849_688_064],
  ['vggL10', 512, 512, 14, 14, 3, 3, 1, 1, 1, 1, 1, 462_422_016],
  // vggL13: the facts print 250088 (a typo, "VGG FC6 has 25088") and 1,024,360,448 MACs; see the test below.
  ['vggL13', 25088, 4096, 1, 1, 1, 1, 1, 1, 1, 1, 1, 25088 * 4096],
  ['vggL14', 4096, 4096, 1, 1, 1, 1, 1, 1, 1, 1, 1, 16_777_216],
  ['vggL15', 4096, 1000, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4_096_000],
];

function tensorSizes(p: Problem): number[] {
  return ['Weights', 'Inputs', 'Outputs'].map((n) => dataspaceSize(p, p.dataspaces.find((d) => d.name === n)!));
}

test('the catalog holds exactly the study\'s workloads', (t) => {
  t.deepEqual(GEMM_WORKLOADS.map((w) => w.id), GEMMS.map((g) => g[0]));
  t.deepEqual(CONV_WORKLOADS.map((w) => w.id).sort(), CONVS.map((c) => c[0]).sort());
  // run.py -c (study-facts §1.2): vggL range(16) minus 6, 9, 11, 12, plus vggL3+; resnetL range(21)
  // minus 2, 3, 4, 8, 9, 13, 14, 18, 19, plus resnetL1+, resnetL3+.
  const vgg = [...Array(16).keys()].filter((i) => ![6, 9, 11, 12].includes(i)).map((i) => `vggL${i}`).concat('vggL3+');
  const resnet = [...Array(21).keys()].filter((i) => ![2, 3, 4, 8, 9, 13, 14, 18, 19].includes(i)).map((i) => `resnetL${i}`).concat('resnetL1+', 'resnetL3+');
  t.deepEqual(workloadGroup('vgg').map((w) => w.id).sort(), vgg.sort());
  t.deepEqual(workloadGroup('resnet').map((w) => w.id).sort(), resnet.sort());
  const roman = ['I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX', 'X', 'XI', 'XII', 'XIII', 'XIV', 'XV', 'XVI', 'XVII', 'XVIII', 'XIX', 'XX'];
  t.deepEqual(workloadGroup('conv').map((w) => w.id), roman);
  // run_experiments_across_archs.py -c runs I–XVII
  t.deepEqual([...CROSS_ARCH_CONV_IDS], roman.slice(0, 17));
  t.is(new Set(WORKLOAD_SPECS.map((w) => w.id)).size, WORKLOAD_SPECS.length);
});

for (const [id, D, E, L] of GEMMS) {
  test(`${id}: D ${D}, E ${E}, L ${L}`, (t) => {
    const w = workload(id);
    t.is(w.kind, 'gemm');
    t.is(w.problem.name, id);
    t.deepEqual(w.problem.dimensions, ['D', 'E', 'L']);
    t.deepEqual(w.problem.bounds, [D, E, L]);
    t.is(w.macs, D * E * L);
    t.deepEqual(tensorSizes(w.problem), [D * E, E * L, D * L]);
  });
}

for (const [id, C, K, P, Q, R, S, Hs, Ws, Hd, Wd, N, macs] of CONVS) {
  test(`${id}: shape, MACs and tensor sizes`, (t) => {
    const w = workload(id);
    t.is(w.kind, 'conv');
    const p = w.problem;
    t.is(p.name, id);
    t.deepEqual(p.dimensions, ['R', 'S', 'P', 'Q', 'C', 'K', 'N']);
    t.deepEqual(p.bounds, [R, S, P, Q, C, K, N]);
    t.deepEqual(p.coefficients, { Wstride: Ws, Hstride: Hs, Wdilation: Wd, Hdilation: Hd });
    t.is(w.macs, macs);
    t.is(macs, R * S * P * Q * C * K * N);
    // Inputs[N][C][R·Wdilation + P·Wstride][S·Hdilation + Q·Hstride]
    const width = (P - 1) * Ws + (R - 1) * Wd + 1;
    const height = (Q - 1) * Hs + (S - 1) * Hd + 1;
    t.deepEqual(tensorSizes(p), [C * K * R * S, N * C * width * height, N * K * P * Q]);
    // The study's letters: E = C, D = K (M), L = P.
    const s = workload(id, { naming: 'study' }).problem;
    t.deepEqual(s.dimensions, ['R', 'S', 'L', 'Q', 'E', 'D', 'N']);
    t.deepEqual(s.bounds, p.bounds);
    t.deepEqual(tensorSizes(s), tensorSizes(p));
  });
}

test('vggL13: the 250088 typo is fixed to 25088 and noted', (t) => {
  const w = workload('vggL13');
  t.is(w.problem.bounds[w.problem.dimensions.indexOf('C')], 25088);
  t.is(w.macs, 102_760_448);
  t.regex(w.note ?? '', /250088/);
  // What the study would have run: 1,024,360,448 MACs (study-facts §2.4, §8 B16), 10x too many.
  t.is(250088 * 4096, 1_024_360_448);
});

test('an unknown workload id is a UserError', (t) => {
  const e = t.throws(() => workload('MB7', {}, undefined, { file: 'x.yaml', field: 'workloads[3]' }), { instanceOf: UserError });
  t.is(e?.file, 'x.yaml');
  t.is(e?.field, 'workloads[3]');
  t.regex(e?.message ?? '', /unknown workload 'MB7'/);
});

const dir = mkdtempSync(path.join(tmpdir(), 'expt-workloads-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test('user workloads from YAML', (t) => {
  const file = path.join(dir, 'w.yaml');
  writeFileSync(file, 'workloads:\n  - {id: g, kind: gemm, D: 2, E: 3, L: 4}\n  - {id: c, kind: conv, R: 3, S: 3, P: 8, Q: 8, C: 4, K: 5, Wstride: 2}\n');
  const [g, c] = loadWorkloadFile(file);
  const wg = workload('g', {}, [g]);
  t.deepEqual(wg.problem.bounds, [2, 3, 4]);
  t.is(wg.group, 'user');
  const wc = workload('c', {}, [c]);
  t.deepEqual(wc.problem.bounds, [3, 3, 8, 8, 4, 5, 1]);
  t.deepEqual(wc.problem.coefficients, { Wstride: 2, Hstride: 1, Wdilation: 1, Hdilation: 1 });
});

test('bad user workloads are UserErrors naming the file and field', (t) => {
  const cases: [string, string, RegExp][] = [
    ['{id: g, kind: gemm, D: -2, E: 3, L: 4}', 'workloads[0].D', /positive whole number, got -2/],
    ['{id: g, kind: gemm, D: 2, L: 4}', 'workloads[0].E', /missing required field 'E'/],
    ['{id: g, kind: gemm, D: 2, E: 3, L: 4, R: 1}', 'workloads[0].R', /unknown field 'R'/],
    ['{id: g, kind: matmul, D: 2, E: 3, L: 4}', 'workloads[0].kind', /unknown kind/],
    ['{kind: gemm, D: 2, E: 3, L: 4}', 'workloads[0].id', /missing required field 'id'/],
    ['{id: c, kind: conv, R: 3, S: 3, P: 8, Q: 8, C: 4}', 'workloads[0].K', /missing required field 'K'/],
    ['{id: c, kind: conv, R: 3, S: 3, P: 8, Q: 8, C: 4, K: 2, Hdilation: 0}', 'workloads[0].Hdilation', /positive whole number/],
  ];
  cases.forEach(([row, field, message], i) => {
    const file = path.join(dir, `bad${i}.yaml`);
    writeFileSync(file, `workloads:\n  - ${row}\n`);
    const e = t.throws(() => loadWorkloadFile(file), { instanceOf: UserError });
    t.is(e?.file, file, row);
    t.is(e?.field, field, row);
    t.regex(e?.message ?? '', message, row);
  });
  const file = path.join(dir, 'dup.yaml');
  writeFileSync(file, 'workloads:\n  - {id: g, kind: gemm, D: 2, E: 3, L: 4}\n  - {id: g, kind: gemm, D: 2, E: 3, L: 4}\n');
  const e = t.throws(() => loadWorkloadFile(file), { instanceOf: UserError });
  t.is(e?.field, 'workloads[1].id');
});
