/**
 * Every layer of every model, pinned to study-facts §2.1–2.3: shapes in the
 * D/E/L convention, MACs and tensor sizes (Weights/Inputs/Outputs element
 * counts), multiplicities and per-model totals. Where the facts print a
 * number it is written here literally; otherwise it is computed in this
 * file from the facts' size variables and layer formulas, never by calling
 * the code under test.
 */
import test from 'ava';
import { dataspaceSize } from '../../src/workload/problem.ts';
import { blockLayers, FUSION_PAIRS, modelLayers, STUDY_LAYER_IDS, type LayerInstance } from '../../src/workload/layers.ts';
import { UserError } from '../../src/util/errors.ts';

/** Size variables (study-facts §2.2: the study's two sets, the public GPT-2 table; blocks are public knowledge). */
const MODELS: Record<string, { E: number; S: number; H: number; FF: number; EH: number; blocks: number }> = {
  'bert-base': { E: 768, S: 512, H: 12, FF: 3072, EH: 64, blocks: 12 },
  'bert-large': { E: 1024, S: 4096, H: 16, FF: 4096, EH: 64, blocks: 24 },
  'bert-large-s512': { E: 1024, S: 512, H: 16, FF: 4096, EH: 64, blocks: 24 },
  'gpt2-small': { E: 768, S: 1024, H: 12, FF: 3072, EH: 64, blocks: 12 },
  'gpt2-medium': { E: 1024, S: 1024, H: 16, FF: 4096, EH: 64, blocks: 24 },
  'gpt2-large': { E: 1280, S: 1024, H: 20, FF: 5120, EH: 64, blocks: 36 },
  'gpt2-xl': { E: 1600, S: 1024, H: 25, FF: 6400, EH: 64, blocks: 48 },
};

interface Expect {
  kind: 'gemm' | 'normop';
  D: number;
  E: number;
  L: number;
  perHead: boolean;
}

/** study-facts §2.1 table (E inner, D weight/output rows, L columns) and §2.3 (normops: D sweeps). */
function expectedLayers(v: { E: number; S: number; H: number; FF: number; EH: number }, softmaxSweeps = 2): Record<string, Expect> {
  return {
    KQV: { kind: 'gemm', E: v.E, D: 3 * v.E, L: v.S, perHead: false },
    KTQ: { kind: 'gemm', E: v.EH, D: v.S, L: v.S, perHead: true },
    softmax: { kind: 'normop', E: v.S, D: softmaxSweeps, L: v.S, perHead: true },
    VScores: { kind: 'gemm', E: v.S, D: v.EH, L: v.S, perHead: true },
    Out: { kind: 'gemm', E: v.E, D: v.E, L: v.S, perHead: false },
    layernorm: { kind: 'normop', E: v.E, D: 3, L: v.S, perHead: false },
    FF1: { kind: 'gemm', E: v.E, D: v.FF, L: v.S, perHead: false },
    FF2: { kind: 'gemm', E: v.FF, D: v.E, L: v.S, perHead: false },
  };
}

function bound(l: LayerInstance, d: string): number {
  return l.problem.bounds[l.problem.dimensions.indexOf(d)];
}

function sizes(l: LayerInstance): [number, number, number] {
  const p = l.problem;
  const of = (n: string) => dataspaceSize(p, p.dataspaces.find((d) => d.name === n)!);
  return [of('Weights'), of('Inputs'), of('Outputs')];
}

test('the default block is the study\'s eight layers, in block order', (t) => {
  t.deepEqual(
    blockLayers('bert-large').map((l) => l.id),
    ['KQV', 'KTQ', 'softmax', 'VScores', 'Out', 'layernorm', 'FF1', 'FF2'],
  );
  t.deepEqual([...STUDY_LAYER_IDS], ['KQV', 'KTQ', 'softmax', 'VScores', 'Out', 'layernorm', 'FF1', 'FF2']);
});

for (const [id, v] of Object.entries(MODELS)) {
  test(`${id}: every layer's shape, MACs, tensor sizes and multiplicity`, (t) => {
    const layers = blockLayers(id);
    const expected = expectedLayers(v);
    t.deepEqual(layers.map((l) => l.id).sort(), Object.keys(expected).sort());
    for (const l of layers) {
      const e = expected[l.id];
      t.is(l.kind, e.kind, l.id);
      t.is(l.problem.name, l.id);
      if (e.kind === 'gemm') {
        t.deepEqual(l.problem.dimensions, ['D', 'E', 'L'], l.id);
        t.deepEqual(sizes(l), [e.D * e.E, e.E * e.L, e.D * e.L], `${l.id} W/I/O`);
      } else {
        t.deepEqual(l.problem.dimensions, ['L', 'E', 'D'], l.id);
        t.deepEqual(sizes(l), [e.D, e.E * e.L, e.E * e.L], `${l.id} W/I/O`);
      }
      t.is(bound(l, 'D'), e.D, `${l.id} D`);
      t.is(bound(l, 'E'), e.E, `${l.id} E`);
      t.is(bound(l, 'L'), e.L, `${l.id} L`);
      t.is(l.macs, e.D * e.E * e.L, `${l.id} MACs`);
      t.is(l.perHead, e.perHead, l.id);
      t.is(l.perBlock, e.perHead ? v.H : 1, `${l.id} per block`);
      t.is(l.blocks, v.blocks, `${l.id} blocks`);
      t.is(l.count, (e.perHead ? v.H : 1) * v.blocks, `${l.id} count`);
      t.is(l.totalMacs, e.D * e.E * e.L * (e.perHead ? v.H : 1) * v.blocks, `${l.id} total`);
      t.false(l.optional);
    }
  });

  test(`${id}: per-block and per-model totals`, (t) => {
    const w = modelLayers(id);
    // Σ matmul MACs of a block: S·(3E·E + E·E + E·FF + FF·E) + H·(S·EH·S + EH·S·S)
    const gemmBlock = v.S * (3 * v.E * v.E + v.E * v.E + 2 * v.E * v.FF) + v.H * 2 * v.S * v.S * v.EH;
    // softmax: H × S·S·2; layernorm: S·E·3
    const normBlock = v.H * v.S * v.S * 2 + v.S * v.E * 3;
    t.deepEqual(w.perBlock, { gemmMacs: gemmBlock, normOps: normBlock });
    t.deepEqual(w.total, { gemmMacs: gemmBlock * v.blocks, normOps: normBlock * v.blocks });
    t.is(w.model.id, id);
  });
}

// study-facts §2.2, "[derived] Workload sizes": the printed numbers.
test('BERT-base numbers printed by the facts', (t) => {
  const by = Object.fromEntries(blockLayers('bert-base').map((l) => [l.id, l]));
  t.is(by.KQV.macs, 905_969_664);
  t.is(by.KTQ.macs, 16_777_216);
  t.is(by.KTQ.macs * by.KTQ.perBlock, 201_326_592);
  t.is(by.VScores.macs, 16_777_216);
  t.is(by.VScores.perBlock, 12);
  t.is(by.Out.macs, 301_989_888);
  t.is(by.FF1.macs, 1_207_959_552);
  t.is(by.FF2.macs, 1_207_959_552);
  t.is(by.softmax.macs, 524_288);
  t.is(by.softmax.macs * by.softmax.perBlock, 6_291_456);
  t.is(by.layernorm.macs, 1_179_648);
  t.is(modelLayers('bert-base').perBlock.gemmMacs, 4_026_531_840);
});

test('BERT-large numbers printed by the facts', (t) => {
  const by = Object.fromEntries(blockLayers('bert-large').map((l) => [l.id, l]));
  t.is(by.KQV.macs, 12_884_901_888);
  t.deepEqual(sizes(by.KQV), [3_145_728, 4_194_304, 12_582_912]);
  t.is(by.KTQ.macs, 1_073_741_824);
  t.is(by.KTQ.macs * by.KTQ.perBlock, 17_179_869_184);
  t.deepEqual(sizes(by.KTQ), [262_144, 262_144, 16_777_216]);
  t.is(by.VScores.macs, 1_073_741_824);
  t.is(by.VScores.perBlock, 16);
  t.deepEqual(sizes(by.VScores), [262_144, 16_777_216, 262_144]);
  t.is(by.Out.macs, 4_294_967_296);
  t.deepEqual(sizes(by.Out), [1_048_576, 4_194_304, 4_194_304]);
  t.is(by.FF1.macs, 17_179_869_184);
  t.deepEqual(sizes(by.FF1), [4_194_304, 4_194_304, 16_777_216]);
  t.is(by.FF2.macs, 17_179_869_184);
  t.deepEqual(sizes(by.FF2), [4_194_304, 16_777_216, 4_194_304]);
  t.is(by.softmax.macs, 33_554_432);
  t.is(by.softmax.macs * by.softmax.perBlock, 536_870_912);
  t.deepEqual(sizes(by.softmax).slice(1), [16_777_216, 16_777_216]);
  t.is(by.layernorm.macs, 12_582_912);
  t.deepEqual(sizes(by.layernorm).slice(1), [4_194_304, 4_194_304]);
  t.is(modelLayers('bert-large').perBlock.gemmMacs, 85_899_345_920);
  // The committed stats files: KQV Computes = 12884901888, VScores (one head) 1073741824.
});

test('the HW-DSE cycle identity: KTQ + VScores + softmax of BERT-large at 256 MACs/cycle and 1 NO op/cycle', (t) => {
  // study-facts §7.2 (hwdse table): 671,088,768 = 16 × (4,194,304 + 4,194,304 + 33,554,432 + 8)
  const by = Object.fromEntries(blockLayers('bert-large').map((l) => [l.id, l]));
  t.is(by.KTQ.macs / 256, 4_194_304);
  t.is(by.VScores.macs / 256, 4_194_304);
  t.is(by.softmax.macs, 33_554_432);
  t.is(by.KTQ.perBlock * (by.KTQ.macs / 256 + by.VScores.macs / 256 + by.softmax.macs + 8), 671_088_768);
});

test('softmax with max subtraction sweeps 3 times; layernorm always 3', (t) => {
  const v = MODELS['bert-base'];
  const layers = blockLayers('bert-base', { maxSubtraction: true });
  const sm = layers.find((l) => l.id === 'softmax')!;
  t.is(bound(sm, 'D'), 3);
  t.is(sm.macs, v.S * v.S * 3);
  t.is(bound(layers.find((l) => l.id === 'layernorm')!, 'D'), 3);
  t.is(bound(blockLayers('bert-base').find((l) => l.id === 'softmax')!, 'D'), 2);
});

test('sequence-length override', (t) => {
  const v = { ...MODELS['bert-large'], S: 512 };
  const layers = blockLayers('bert-large', { seqLength: 512 });
  const expected = expectedLayers(v);
  for (const l of layers) {
    t.is(bound(l, 'D'), expected[l.id].D, l.id);
    t.is(bound(l, 'E'), expected[l.id].E, l.id);
    t.is(bound(l, 'L'), expected[l.id].L, l.id);
  }
  // = the standard BERT-large preset
  t.deepEqual(layers.map((l) => l.problem), blockLayers('bert-large-s512').map((l) => l.problem));
  t.is(modelLayers('bert-large', { seqLength: 512 }).model.seqLength, 512);
});

test('batch: token-wise layers get B·S columns, per-head layers B·H instances of the one-sequence shape', (t) => {
  const v = MODELS['gpt2-small'];
  const B = 4;
  const layers = blockLayers('gpt2-small', { batch: B });
  const one = expectedLayers(v);
  for (const l of layers) {
    const e = one[l.id];
    if (e.perHead) {
      t.is(bound(l, 'L'), v.S, l.id);
      t.is(l.perBlock, B * v.H, l.id);
    } else {
      t.is(bound(l, 'L'), B * v.S, l.id);
      t.is(l.perBlock, 1, l.id);
    }
    t.is(bound(l, 'D'), e.D, l.id);
    t.is(bound(l, 'E'), e.E, l.id);
  }
  const w = modelLayers('gpt2-small', { batch: B });
  t.is(w.perBlock.gemmMacs, B * (v.S * (3 * v.E * v.E + v.E * v.E + 2 * v.E * v.FF) + v.H * 2 * v.S * v.S * v.EH));
});

test('optional layers are off by default and follow the study\'s normalization-op modelling', (t) => {
  t.false(blockLayers('bert-base').some((l) => l.optional));
  const v = MODELS['bert-base'];
  const all = blockLayers('bert-base', { layers: 'all' });
  t.deepEqual(all.map((l) => l.id), ['KQV', 'KTQ', 'scale', 'softmax', 'VScores', 'Out', 'residual1', 'layernorm', 'FF1', 'GELU', 'FF2', 'residual2', 'layernorm2']);
  const by = Object.fromEntries(all.map((l) => [l.id, l]));
  const expect = (id: string, D: number, E: number, L: number, perBlock: number) => {
    const l = by[id];
    t.true(l.optional, id);
    t.is(l.kind, 'normop', id);
    t.deepEqual(l.problem.dimensions, ['L', 'E', 'D'], id);
    t.deepEqual([bound(l, 'D'), bound(l, 'E'), bound(l, 'L')], [D, E, L], id);
    t.is(l.perBlock, perBlock, id);
    t.deepEqual(sizes(l), [D, E * L, E * L], id);
  };
  expect('scale', 1, v.S, v.S, v.H);
  expect('residual1', 1, v.E, v.S, 1);
  expect('GELU', 1, v.FF, v.S, 1);
  expect('residual2', 1, v.E, v.S, 1);
  expect('layernorm2', 3, v.E, v.S, 1);
  // Selecting by name, in any order, returns block order.
  t.deepEqual(blockLayers('bert-base', { layers: ['GELU', 'KQV', 'layernorm2'] }).map((l) => l.id), ['KQV', 'GELU', 'layernorm2']);
});

test('an unknown or repeated layer name is a UserError naming the file and field', (t) => {
  const origin = { file: 'experiments/study.yaml', field: 'experiments[2]' };
  let e = t.throws(() => blockLayers('bert-base', { layers: ['KQV', 'Softmax'], origin }), { instanceOf: UserError });
  t.is(e?.file, 'experiments/study.yaml');
  t.is(e?.field, 'experiments[2].layers[1]');
  t.regex(e?.message ?? '', /unknown layer 'Softmax' \(did you mean 'softmax'\?\)/);
  e = t.throws(() => blockLayers('bert-base', { layers: ['KQV', 'KQV'], origin }), { instanceOf: UserError });
  t.is(e?.field, 'experiments[2].layers[1]');
  e = t.throws(() => blockLayers('bert-huge', { origin }), { instanceOf: UserError });
  t.is(e?.field, 'experiments[2].model');
  t.regex(e?.message ?? '', /unknown model 'bert-huge'/);
  e = t.throws(() => blockLayers('bert-base', { seqLength: -512, origin }), { instanceOf: UserError });
  t.is(e?.field, 'experiments[2].seq_length');
  e = t.throws(() => blockLayers('bert-base', { batch: 0, origin }), { instanceOf: UserError });
  t.is(e?.field, 'experiments[2].batch');
});

test("the study's fusion pairs: KTQ → softmax, Out → layernorm", (t) => {
  // study-facts §3.1: fusable = [softmax, layernorm, KTQ, Out]; pairs KTQ → softmax and Out → layernorm.
  t.deepEqual(FUSION_PAIRS.map((p) => [...p]), [
    ['KTQ', 'softmax'],
    ['Out', 'layernorm'],
  ]);
});
