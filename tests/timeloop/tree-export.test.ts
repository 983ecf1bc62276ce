/**
 * Tree-format export: for every golden case, import input.yaml → export →
 * import again gives deep-equal domain objects (problem, architecture,
 * mapping, ERT), and the re-imported input evaluates to the same Evaluation.
 * Plus the exporter's handling of domain objects built or edited in code.
 */
import test from 'ava';
import { join } from 'node:path';
import { importTimeloopDocuments } from '../../src/timeloop/tree-import.ts';
import {
  architectureToTimeloop,
  ertToTimeloop,
  mappingToTimeloop,
  problemToTimeloop,
  toTimeloopYaml,
} from '../../src/timeloop/tree-export.ts';
import { evaluateMapping, prepareModel } from '../../src/model/evaluate.ts';
import { parseYamlText, readYamlFile } from '../../src/util/yaml.ts';
import type { Architecture, StorageLevel } from '../../src/arch/architecture.ts';
import { goldenCases } from '../helpers/golden.ts';

function load(file: string) {
  const input = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
  if (!input.architecture || !input.problem || !input.mapping || !input.ert) throw new Error(`${file}: incomplete input`);
  return { architecture: input.architecture, problem: input.problem, mapping: input.mapping, ert: input.ert };
}

function reimport(text: string) {
  const input = importTimeloopDocuments([{ file: '<exported>', doc: parseYamlText(text, '<exported>') }]);
  return input;
}

for (const c of goldenCases()) {
  test(`export round trip: ${c.id}`, (t) => {
    const a = load(join(c.dir, 'input.yaml'));
    const text = toTimeloopYaml(a, `round trip of ${c.id}`);
    t.true(text.startsWith(`# round trip of ${c.id}\n`));
    const b = reimport(text);
    t.deepEqual(b.problem, a.problem);
    t.deepEqual(b.architecture, a.architecture);
    t.deepEqual(b.mapping, a.mapping);
    t.deepEqual(b.ert, a.ert);
    const ea = evaluateMapping(prepareModel(a.problem, a.architecture, a.ert), a.mapping);
    const eb = evaluateMapping(prepareModel(b.problem!, b.architecture!, b.ert!), b.mapping!);
    t.true(ea.ok);
    t.deepEqual(eb, ea);
  });
}

const gemm = () => load(join(goldenCases().find((c) => c.id === 'gemm-001')!.dir, 'input.yaml'));

test('export writes every dimension in the factors, residuals as X=a,b, permutations innermost first', (t) => {
  const { problem, architecture, mapping } = gemm();
  const levels = mapping.levels.map((l) => ({ ...l }));
  levels[0] = { ...levels[0], temporal: { ...levels[0].temporal, factors: [1, 4, 1], residuals: [1, 3, 1] } };
  const directives = mappingToTimeloop({ levels }, problem, architecture);
  t.deepEqual(directives[0], { target: 'DRAM', type: 'temporal', factors: 'D=1 E=4,3 L=1', permutation: 'EDL' });
  t.deepEqual(directives[1], { target: 'DRAM', type: 'bypass', keep: ['Weights', 'Inputs', 'Outputs'], bypass: [] });
  const spatial = directives.filter((d) => d['type'] === 'spatial');
  t.deepEqual(spatial.map((d) => [d['target'], d['factors'], d['permutation'], d['split']]), [
    ['GLB', 'D=2 E=1 L=1', 'DEL', 1],
    ['RF', 'D=3 E=1 L=1', 'DLE', 2],
  ]);
});

test('export rejects spatial factors on a level without a fanout', (t) => {
  const { problem, architecture, mapping } = gemm();
  const levels = mapping.levels.map((l) => ({ ...l }));
  levels[0] = { ...levels[0], spatial: { factors: [2, 1, 1], residuals: [2, 1, 1], permutation: [0, 1, 2], split: 3 } };
  t.throws(() => mappingToTimeloop({ levels }, problem, architecture), { message: /no fanout/ });
});

test('export writes attributes for fields that the raw attributes do not give', (t) => {
  const { architecture, problem, mapping, ert } = gemm();
  // The RF (4 instances): a cluster size must divide the instances.
  const rf = architecture.storage[2];
  const edited: StorageLevel = {
    ...rf,
    sizeWords: 96,
    blockSize: 2,
    clusterSize: 4,
    wordBits: 8,
    readBandwidth: 3,
    multipleBuffering: 2,
    networkDrainLatency: 5,
    vectorAccessEnergy: 2.5,
    addressGenerationEnergy: 0.5,
  };
  const arch: Architecture = { ...architecture, storage: [architecture.storage[0], architecture.storage[1], edited] };
  const exported = architectureToTimeloop(arch);
  const back = importTimeloopDocuments([{ file: 'x', doc: parseYamlText(toTimeloopYaml({ architecture: arch, problem, mapping, ert })) }]);
  const level = back.architecture!.storage[2];
  for (const k of ['sizeWords', 'blockSize', 'clusterSize', 'wordBits', 'readBandwidth', 'writeBandwidth', 'multipleBuffering', 'networkFillLatency', 'networkDrainLatency', 'vectorAccessEnergy', 'addressGenerationEnergy', 'instances', 'meshX', 'meshY'] as const) {
    t.is(level[k], edited[k], k);
  }
  const attrs = JSON.stringify(exported);
  t.regex(attrs, /"width":64/); // 8 bits × block 2 × cluster 4
  t.regex(attrs, /"entries":96/);
});

test('export builds subtree nodes for tree-style instance counts and keeps explicit instances', (t) => {
  const { architecture } = gemm();
  // gemm-001 is flat: every replicated component has `instances`; one node.
  const flat = architectureToTimeloop(architecture) as { subtree: { subtree?: unknown }[] };
  t.is(flat.subtree.length, 1);
  t.is(flat.subtree[0].subtree, undefined);
  // Drop the explicit counts: the exporter must rebuild them with nodes.
  const strip = <T extends { attributes: Readonly<Record<string, unknown>> }>(c: T): T => {
    const { instances: _i, ...rest } = c.attributes as Record<string, unknown>;
    return { ...c, attributes: rest };
  };
  const tree: Architecture = { ...architecture, storage: architecture.storage.map(strip), arithmetic: strip(architecture.arithmetic) };
  const back = importTimeloopDocuments([{ file: 'x', doc: { architecture: architectureToTimeloop(tree) } }]).architecture!;
  t.deepEqual(back.storage.map((s) => [s.instances, s.meshX, s.meshY]), tree.storage.map((s) => [s.instances, s.meshX, s.meshY]));
  t.deepEqual([back.arithmetic.instances, back.arithmetic.meshX], [64, 8]);
  t.deepEqual(back.storage.map((s) => s.attributes), tree.storage.map((s) => s.attributes));
});

test('export names unnamed coefficients and keeps ERT arguments', (t) => {
  const { problem } = gemm();
  const p = {
    ...problem,
    dataspaces: problem.dataspaces.map((d, i) => (i === 1 ? { ...d, projection: [[{ dimension: 1, coefficient: 2 }, { dimension: 2, coefficient: 1 }]] } : d)),
  };
  const out = problemToTimeloop(p) as { shape: { coefficients: { name: string }[] }; instance: Record<string, number> };
  t.deepEqual(out.shape.coefficients, [{ name: 'coef0', default: 1 }]);
  t.is(out.instance['coef0'], 2);
  const back = importTimeloopDocuments([{ file: 'x', doc: { problem: out } }]).problem!;
  t.is(back.dataspaces[1].projection[0][0].coefficient, 2);
  const ert = ertToTimeloop({ components: { N: [{ name: 'transfer', arguments: { num_destinations: 4 }, energy: 1.5 }] } });
  t.deepEqual(ert, { version: 0.4, tables: [{ name: 'N', actions: [{ name: 'transfer', arguments: { num_destinations: 4 }, energy: 1.5 }] }] });
});
