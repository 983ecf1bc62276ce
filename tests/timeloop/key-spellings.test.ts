/**
 * The keys Timeloop v3.0.3 reads only hyphenated (src/timeloop/v3-keys.ts)
 * mean the same to expt in both spellings, one test per key: golden case
 * gemm-001 with the key added to its RF (4 instances, 2 used, keeps Weights
 * and Inputs, bypasses Outputs) imports to the same architecture and
 * evaluation whichever spelling is used; the key's effect is checked against
 * numbers derived from the case's expected.json by Timeloop's rule; and the
 * v3 export writes the hyphenated spelling, the v4 export the underscore one.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Architecture, StorageLevel } from '../../src/arch/architecture.ts';
import { evaluateMapping, prepareModel } from '../../src/model/evaluate.ts';
import type { Evaluation, EvaluationOutcome } from '../../src/model/result.ts';
import { exportYaml } from '../../src/timeloop/export.ts';
import { importTimeloopDocuments, type TimeloopInput } from '../../src/timeloop/tree-import.ts';
import { hyphenated, V3_HYPHENATED_ATTRIBUTES } from '../../src/timeloop/v3-keys.ts';
import { parseYamlText } from '../../src/util/yaml.ts';
import { goldenDir } from '../helpers/golden.ts';

type Obj = Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Expected = any;

const CASE = join(goldenDir, 'gemm-001');
const expected: Expected = JSON.parse(readFileSync(join(CASE, 'expected.json'), 'utf8'));
const expRf: Expected = expected.storage.find((s: Expected) => s.name === 'RF');

/** gemm-001's input with `key: value` added to the attributes of component `component`. */
function docWith(component: string, key: string, value: unknown, edit?: (doc: Obj) => void): Obj {
  const doc = parse(readFileSync(join(CASE, 'input.yaml'), 'utf8')) as Obj;
  const local = (((doc['architecture'] as Obj)['subtree'] as Obj[])[0]['local'] as Obj[]).find((c) => c['name'] === component)!;
  (local['attributes'] as Obj)[key] = value;
  edit?.(doc);
  return doc;
}

function run(doc: Obj): { input: TimeloopInput; outcome: EvaluationOutcome } {
  const input = importTimeloopDocuments([{ file: 'gemm-001/input.yaml', doc }]);
  return { input, outcome: evaluateMapping(prepareModel(input.problem!, input.architecture!, input.ert!), input.mapping!) };
}

/** The architecture without its raw attributes (where the spellings differ by design). */
function fields(a: Architecture): unknown {
  const strip = <T extends { attributes: unknown }>(x: T) => ({ ...x, attributes: null });
  return { ...a, storage: a.storage.map(strip), arithmetic: strip(a.arithmetic), networks: a.networks.map(strip) };
}

function valid(outcome: EvaluationOutcome): Evaluation {
  if (!outcome.ok) throw new Error(`invalid: ${JSON.stringify(outcome.error)}`);
  return outcome.value;
}

const rel = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

interface KeyCase {
  component: string;
  value: unknown;
  edit?: (doc: Obj) => void;
  /** The key's effect, from the case's oracle numbers and Timeloop's rule. */
  check: (t: import('ava').ExecutionContext, level: StorageLevel | undefined, arch: Architecture, outcome: EvaluationOutcome) => void;
}

/** Keys with no effect on any count, energy or cycle in v3.0.3 (ports and banks feed only its PAT SRAM model, which ignores them; the others are area or network word widths). */
const sameAsGolden: KeyCase['check'] = (t, _level, _arch, outcome) => {
  const ev = valid(outcome);
  t.is(ev.summary.cycles, expected.summary.cycles);
  t.true(rel(ev.summary.energy_pJ, expected.summary.energy_pJ));
};

const utilized = (name: string): number => expRf.dataspaces[name].utilized_instances;
const rfCapacity = Object.values<Expected>(expRf.dataspaces).reduce((s, d) => s + d.utilized_capacity, 0);

const KEYS: Readonly<Record<string, KeyCase>> = {
  word_bits: {
    // v3.0.3 looks up word-bits before datawidth: 8-bit words in the 32-bit width make 4-word blocks.
    component: 'RF',
    value: 8,
    check: (t, level) => t.deepEqual([level!.wordBits, level!.blockSize, level!.sizeWords], [8, 4, 9 * 4]),
  },
  cluster_size: {
    component: 'RF',
    value: 2,
    edit: (doc) => ((((doc['architecture'] as Obj)['subtree'] as Obj[])[0]['local'] as Obj[])[2]['attributes'] as Obj)['width'] = 64,
    check: (t, level, _arch, outcome) => {
      t.deepEqual([level!.clusterSize, level!.blockSize, level!.sizeWords], [2, 2, 18]);
      // 2 utilized of 4 instances = 2 clusters: one instance per cluster, energies unchanged.
      const rf = valid(outcome).storage.find((s) => s.name === 'RF')!;
      for (const name of ['Weights', 'Inputs']) {
        t.is(rf.dataspaces[name]!.utilized_clusters, Math.min(utilized(name), 4 / 2));
        t.true(rel(rf.dataspaces[name]!.energy_pJ, expRf.dataspaces[name].energy_pJ));
      }
    },
  },
  multiple_buffering: {
    component: 'RF',
    value: 2,
    check: (t, level, _arch, outcome) => {
      t.is(level!.multipleBuffering, 2);
      // Usable capacity floor(18 / 2) = 9 words against the tiles of the oracle's run.
      t.is(outcome.ok, rfCapacity <= 9, `tiles ${rfCapacity} words`);
    },
  },
  min_utilization: {
    component: 'RF',
    value: 0.99,
    check: (t, level, _arch, outcome) => {
      t.is(level!.minUtilization, 0.99);
      t.is(outcome.ok, rfCapacity >= 0.99 * 18, `tiles ${rfCapacity} words`);
    },
  },
  vector_access_energy: {
    // The user energy replaces the ERT: the RF needs no table at all.
    component: 'RF',
    value: 3.5,
    edit: (doc) => {
      const ert = doc['ERT'] as Obj;
      ert['tables'] = (ert['tables'] as Obj[]).filter((x) => !String(x['name']).endsWith('.RF'));
    },
    check: (t, level, _arch, outcome) => {
      t.is(level!.vectorAccessEnergy, 3.5);
      const ev = valid(outcome);
      const rf = ev.storage.find((s) => s.name === 'RF')!;
      let want = 0;
      for (const [name, d] of Object.entries<Expected>(expRf.dataspaces)) {
        const b = expRf.block_size;
        const e = (Math.ceil(d.reads / b) + Math.ceil(d.fills / b) + Math.ceil(d.updates / b)) * 3.5 * d.utilized_instances;
        t.true(rel(rf.dataspaces[name]!.energy_pJ, e), name);
        want += e;
      }
      t.true(rel(ev.summary.energy_pJ, expected.summary.energy_pJ - expRf.energy_pJ + want));
    },
  },
  addr_gen_energy: {
    component: 'RF',
    value: 0.25,
    check: (t, level, _arch, outcome) => {
      t.is(level!.addressGenerationEnergy, 0.25);
      const ev = valid(outcome);
      const rf = ev.storage.find((s) => s.name === 'RF')!;
      let added = 0;
      for (const [name, d] of Object.entries<Expected>(expRf.dataspaces)) {
        // Per cluster (one instance per cluster here), on the oracle's address generations.
        const e = d.address_generations * 0.25 * d.utilized_clusters;
        t.true(rel(rf.dataspaces[name]!.addr_gen_energy_pJ, e), name);
        added += e;
      }
      t.true(rel(rf.energy_pJ, expRf.energy_pJ + added));
      t.true(rel(ev.summary.energy_pJ, expected.summary.energy_pJ + added));
    },
  },
  num_ports: { component: 'RF', value: 2, check: sameAsGolden },
  num_banks: { component: 'RF', value: 4, check: sameAsGolden },
  cluster_area: { component: 'RF', value: 100, check: sameAsGolden },
  network_word_bits: { component: 'GLB', value: 16, check: sameAsGolden },
  network_type: { component: 'GLB', value: '1:N', check: sameAsGolden },
  tile_width: { component: 'GLB', value: 2, check: sameAsGolden },
  router_energy: { component: 'GLB', value: 1.5, check: sameAsGolden },
  wire_energy: { component: 'GLB', value: 0.5, check: sameAsGolden },
  energy_per_hop: { component: 'GLB', value: 0.25, check: sameAsGolden },
  adder_energy: { component: 'GLB', value: 0.5, check: sameAsGolden },
};

test('every key v3.0.3 reads only hyphenated has a test here', (t) => {
  t.deepEqual(Object.keys(KEYS).sort(), [...V3_HYPHENATED_ATTRIBUTES].sort());
});

for (const [key, k] of Object.entries(KEYS)) {
  test(`${key} and ${hyphenated(key)} are one key`, (t) => {
    const a = run(docWith(k.component, key, k.value, k.edit));
    const b = run(docWith(k.component, hyphenated(key), k.value, k.edit));
    t.deepEqual(fields(a.input.architecture!), fields(b.input.architecture!));
    t.deepEqual(a.outcome, b.outcome);
    const arch = a.input.architecture!;
    k.check(t, arch.storage.find((s) => s.name === k.component), arch, a.outcome);
    // Exported, the key is spelled for the version that reads the file, and means the same.
    const task = { architecture: arch, problem: a.input.problem, mapping: a.input.mapping, ert: a.input.ert };
    for (const [flavour, spelled, other] of [
      ['v3', hyphenated(key), key],
      ['v4', key, hyphenated(key)],
    ] as const) {
      const text = exportYaml(task, flavour).text;
      t.regex(text, new RegExp(`[\\s{,]${spelled}:`), `${flavour} writes ${spelled}`);
      t.notRegex(text, new RegExp(`[\\s{,]${other}:`), `${flavour} does not write ${other}`);
      const back = importTimeloopDocuments([{ file: 'export', doc: parseYamlText(text, 'export') }]);
      t.deepEqual(fields(back.architecture!), fields(arch), flavour);
    }
  });
}

test('the problem keys data_spaces and read_write: both spellings give the same problem', (t) => {
  const text = readFileSync(join(CASE, 'input.yaml'), 'utf8');
  const a = importTimeloopDocuments([{ file: 'a', doc: parse(text) }]);
  const b = importTimeloopDocuments([{ file: 'b', doc: parse(text.replace(/\bdata_spaces:/g, 'data-spaces:').replace(/\bread_write:/g, 'read-write:')) }]);
  t.deepEqual(b.problem, a.problem);
  t.true(a.problem!.dataspaces.some((d) => d.readWrite));
});

test('two spellings of one key that disagree are an error', (t) => {
  const doc = docWith('RF', 'min_utilization', 0.5);
  const rf = (((doc['architecture'] as Obj)['subtree'] as Obj[])[0]['local'] as Obj[])[2]['attributes'] as Obj;
  rf['min-utilization'] = 0.25;
  t.throws(() => run(doc), { message: /'min_utilization: 0.5' and 'min-utilization: 0.25' are one key in two spellings and disagree/ });
});
