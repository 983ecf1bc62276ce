/**
 * Timeloop export (src/timeloop/export.ts, `expt export`): the v3.0.3 and v4
 * flavours, round trips (export → import gives the same domain objects) for
 * every golden input, every architecture preset and the study's v0.4
 * fixtures, and, with Timeloop installed, the real timeloop-model on each
 * golden input's v3 export reproducing its stats.txt byte for byte.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { evaluateMapping, prepareModel } from '../../src/model/evaluate.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import pLimit from 'p-limit';
import { listArchitectures, loadArchitecture } from '../../src/inputs/presets.ts';
import { estimateArchitecture } from '../../src/arch/energy/index.ts';
import type { Architecture } from '../../src/arch/architecture.ts';
import { exportDocument, exportYaml, writeExport, type ExportTask } from '../../src/timeloop/export.ts';
import { runTimeloopModel } from '../../src/timeloop/external.ts';
import { importTimeloopDocuments } from '../../src/timeloop/tree-import.ts';
import { readV4Files } from '../../src/timeloop/v4-import.ts';
import { hyphenated, V3_HYPHENATED_ATTRIBUTES } from '../../src/timeloop/v3-keys.ts';
import { parseYamlText, readYamlFile } from '../../src/util/yaml.ts';
import { goldenCases } from '../helpers/golden.ts';
import { findTimeloopModel } from '../helpers/oracle-fuzz.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'tests', 'fixtures', 'timeloopfe');

function loadGolden(dir: string): ExportTask {
  const file = join(dir, 'input.yaml');
  const i = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
  return { architecture: i.architecture!, problem: i.problem, mapping: i.mapping, ert: i.ert };
}

function reimport(text: string) {
  return importTimeloopDocuments([{ file: '<export>', doc: parseYamlText(text, '<export>') }]);
}

test('the v3 flavour hyphenates exactly the keys v3.0.3 needs; v4 keeps underscores', (t) => {
  const c = goldenCases().find((x) => /multiple_buffering/.test(readFileSync(join(x.dir, 'input.yaml'), 'utf8')))!;
  const task = { ...loadGolden(c.dir), mapper: { optimization_metrics: ['edp'], num_threads: 2, algorithm: 'linear_pruned', victory_condition: 10 } };
  const v3 = exportYaml(task, 'v3').text;
  const v4 = exportYaml(task, 'v4').text;
  for (const key of ['data-spaces', 'read-write', 'multiple-buffering', 'optimization-metrics', 'num-threads', 'victory-condition']) {
    t.regex(v3, new RegExp(`\\b${key}:`), key);
    t.notRegex(v4, new RegExp(`\\b${key}:`), key);
  }
  t.regex(v3, /algorithm: "linear-pruned"/);
  t.regex(v4, /algorithm: "linear_pruned"/);
  // Keys v3.0.3 reads only with underscores stay as they are.
  for (const key of ['read_bandwidth', 'write_bandwidth', 'datawidth', 'block_size']) if (v4.includes(`${key}:`)) t.regex(v3, new RegExp(`\\b${key}:`), key);
  t.is(v3.replace(/data-spaces|read-write|multiple-buffering/g, (k) => k.replace(/-/g, '_')).replace(/\n\s*mapper:[\s\S]*?(?=\n\S)/, ''), v4.replace(/\n\s*mapper:[\s\S]*?(?=\n\S)/, ''));
});

test('the v3 flavour writes cluster-size, the spelling v3.0.3 reads; both flavours re-import to the same cluster size', (t) => {
  const preset = loadArchitecture('simba');
  const task: ExportTask = { architecture: preset.arch, ert: preset.ert };
  const v3 = exportYaml(task, 'v3').text;
  const v4 = exportYaml(task, 'v4').text;
  t.regex(v3, /\bcluster-size: 64\b/);
  t.notRegex(v3, /\bcluster_size:/);
  t.regex(v4, /\bcluster_size: 64\b/);
  t.notRegex(v4, /\bcluster-size:/);
  for (const text of [v3, v4]) {
    const regs = reimport(text).architecture!.storage.find((s) => s.name === 'PEWeightRegs')!;
    t.deepEqual([regs.clusterSize, regs.blockSize, regs.sizeWords], [64, 1, 1]);
  }
});

/** The v3 flavour hyphenates some raw attributes (`multiple-buffering`, `cluster-size`...); the parsed fields are the same. */
function underscoreAttributes<T>(arch: T): T {
  let json = JSON.stringify(arch);
  for (const key of V3_HYPHENATED_ATTRIBUTES) json = json.replaceAll(`"${hyphenated(key)}":`, `"${key}":`);
  return JSON.parse(json) as T;
}

for (const c of goldenCases()) {
  test(`export round trip, both flavours: ${c.id}`, (t) => {
    const task = loadGolden(c.dir);
    for (const flavour of ['v3', 'v4'] as const) {
      const back = reimport(exportYaml(task, flavour).text);
      t.deepEqual(flavour === 'v3' ? underscoreAttributes(back.architecture) : back.architecture, task.architecture, flavour);
      if (flavour === 'v3') t.deepEqual(back.architecture!.storage.map((s) => s.multipleBuffering), task.architecture.storage.map((s) => s.multipleBuffering));
      t.deepEqual(back.problem, task.problem, flavour);
      t.deepEqual(back.mapping, task.mapping, flavour);
      t.deepEqual(back.ert, task.ert, flavour);
    }
  });
}

/**
 * Timeloop builds a network only from its exact class, so a network class
 * such as DAC_SimpleMulticast (the PIM preset's) is exported as class
 * SimpleMulticast + subclass DAC_SimpleMulticast, and re-imports that way.
 */
function withTimeloopNetworkClasses(arch: Architecture): Architecture {
  return {
    ...arch,
    networks: arch.networks.map((n) => {
      const base = ['XY_NoC', 'Legacy', 'ReductionTree', 'SimpleMulticast'].find((c) => n.className.includes(c))!;
      return base === n.className ? n : { ...n, className: base, attributes: { ...n.attributes, subclass: n.attributes['subclass'] ?? n.className } };
    }),
  };
}

for (const id of listArchitectures()) {
  test(`export round trip of the preset ${id}: architecture, constraints, ERT`, (t) => {
    const preset = loadArchitecture(id);
    const targets = (preset.constraints as { targets: unknown[] }).targets;
    const task: ExportTask = { architecture: preset.arch, ert: preset.ert, constraints: { targets } };
    for (const flavour of ['v3', 'v4'] as const) {
      const { text } = exportYaml(task, flavour);
      const imported = reimport(text);
      const back = { ...imported, architecture: flavour === 'v3' ? underscoreAttributes(imported.architecture) : imported.architecture };
      t.deepEqual(back.architecture, withTimeloopNetworkClasses(preset.arch), flavour);
      if (id !== 'pim') t.deepEqual(back.architecture, preset.arch, flavour);
      else t.deepEqual(estimateArchitecture(back.architecture!, { overrides: preset.overrides }).ert, preset.ert, 'the same energies');
      t.deepEqual(back.ert, preset.ert, flavour);
      t.deepEqual((back.raw['mapspace_constraints']!.value as { targets: unknown[] }).targets, targets, flavour);
      t.is(back.problem, undefined);
    }
  });
}

const FIXTURES: Readonly<Record<string, readonly string[]>> = {
  gemmini: ['gemmini.yaml', 'gemmini-constraints.yaml', 'mapper.yaml'],
  eyeriss: ['eyeriss.yaml'],
  simba: ['simba.yaml'],
  tpu: ['tpu.yaml'],
  pim: ['pim.yaml', 'pim-constraints.yaml'],
};

for (const [id, files] of Object.entries(FIXTURES)) {
  test(`export round trip of the v0.4 study fixture ${id}`, (t) => {
    const input = readV4Files([join(FIX, 'variables.yaml'), ...files.map((f) => join(FIX, f))], { dimensions: ['D', 'E', 'L'] });
    const task: ExportTask = { architecture: input.architecture, constraints: input.constraints, mapper: input.mapper };
    const back = reimport(exportYaml(task, 'v4').text);
    t.deepEqual(back.architecture, input.architecture);
    t.deepEqual((back.raw['mapspace_constraints']!.value as { targets: unknown[] }).targets, input.constraints.targets);
    if (input.mapper) t.deepEqual(back.raw['mapper']!.value, input.mapper);
  });
}

test('maximize_dims is resolved into factors for Timeloop when the problem is known', (t) => {
  const golden = loadGolden(goldenCases().find((c) => c.id === 'normop-001')!.dir);
  const problem = { ...golden.problem!, bounds: [4096, 4096, 1] };
  const input = readV4Files([join(FIX, 'variables.yaml'), join(FIX, 'gemmini-nos.yaml')], { dimensions: problem.dimensions });
  const { doc, notes } = exportDocument({ architecture: input.architecture, problem, constraints: input.constraints }, 'v3');
  const targets = (doc['mapspace_constraints'] as { targets: Record<string, unknown>[] }).targets;
  t.deepEqual(
    targets.find((x) => x['target'] === 'Accumulator' && x['type'] === 'temporal'),
    { target: 'Accumulator', type: 'temporal', permutation: 'EDL', factors: 'E=4 L=16' },
  );
  t.deepEqual(notes, ['Accumulator (temporal): maximize_dims resolved to E=4 L=16']);
  const without = exportDocument({ architecture: input.architecture, constraints: input.constraints }, 'v3');
  t.regex(without.notes.join('\n'), /maximize_dims kept as written/);
});

test('writeExport writes both flavours, the ERT and a README', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'expt-export-'));
  try {
    const preset = loadArchitecture('gemmini');
    const { files } = writeExport({ architecture: preset.arch, ert: preset.ert }, dir, 'gemmini', 'gemmini preset');
    t.deepEqual(files, ['v3/gemmini.yaml', 'v4/gemmini.yaml', 'gemmini.ERT.yaml', 'README.txt']);
    t.deepEqual(importTimeloopDocuments([{ file: 'e', doc: readYamlFile(join(dir, 'gemmini.ERT.yaml')) }]).ert, preset.ert);
    t.regex(readFileSync(join(dir, 'README.txt'), 'utf8'), /timeloop-mapper \.\.\/v3\/gemmini\.yaml/);
    t.regex(readFileSync(join(dir, 'v3', 'gemmini.yaml'), 'utf8'), /^# gemmini preset\n# Timeloop v3\.0\.3/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function expt(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'expt.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('expt export: v0.4 files, a preset, and the errors', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'expt-export-cli-'));
  try {
    const a = expt('export', join(FIX, 'variables.yaml'), join(FIX, 'simba.yaml'), '--out', join(dir, 'simba'), '--dimensions', 'D,E,L');
    t.is(a.code, 0, a.stderr);
    t.deepEqual(readdirSync(join(dir, 'simba')).sort(), ['README.txt', 'simba.ERT.yaml', 'v3', 'v4']);
    const back = importTimeloopDocuments([{ file: 'x', doc: readYamlFile(join(dir, 'simba', 'v3', 'simba.yaml')) }]);
    t.deepEqual(back.architecture!.storage.map((s) => s.name), ['DRAM', 'GlobalBuffer', 'PEInputBuffer', 'PEWeightBuffer', 'PEAccuBuffer', 'PEWeightRegs']);
    t.regex(a.stdout, /wrote .*v3\/simba\.yaml/);
    const b = expt('export', '--arch', 'eyeriss', '--out', join(dir, 'eyeriss'));
    t.is(b.code, 0, b.stderr);
    t.true(existsSync(join(dir, 'eyeriss', 'v4', 'eyeriss.yaml')));
    const c = expt('export', '--arch', 'eyeriss', '--out', join(dir, 'eyeriss'));
    t.is(c.code, 2);
    t.regex(c.stderr, /the output folder is not empty/);
    const d = expt('export', join(FIX, 'simba.yaml'));
    t.is(d.code, 2);
    t.regex(d.stderr, /--out DIR is required/);
    const e = expt('export', '--arch', 'nope', '--out', join(dir, 'x'));
    t.is(e.code, 2);
    t.regex(e.stderr, /unknown architecture 'nope'/);
    // --map: expt's best mapping goes into a timeloop-model input.
    const problem = join(dir, 'gemm.yaml');
    writeFileSync(
      problem,
      'problem:\n  shape:\n    name: gemm\n    dimensions: [D, E, L]\n    data_spaces:\n      - {name: Weights, projection: [[[D]], [[E]]]}\n      - {name: Inputs, projection: [[[E]], [[L]]]}\n      - {name: Outputs, projection: [[[D]], [[L]]], read_write: true}\n  instance: {D: 256, E: 128, L: 512}\n',
    );
    const f = expt('export', '--map', '--budget', '1s', '--arch', 'gemmini', problem, '--out', join(dir, 'mapped'));
    t.is(f.code, 0, f.stderr);
    t.regex(f.stdout, /note: mapped by expt \(edp; \d+ candidates/);
    const mapped = importTimeloopDocuments([{ file: 'm', doc: readYamlFile(join(dir, 'mapped', 'v3', 'gemmini.yaml')) }]);
    t.truthy(mapped.mapping);
    const ev = evaluateMapping(prepareModel(mapped.problem!, mapped.architecture!, mapped.ert!), mapped.mapping!);
    t.true(ev.ok);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const bin = findTimeloopModel();
if (!bin) {
  test.skip('timeloop-model not installed: byte-for-byte reproduction of the golden stats.txt from the v3 export skipped', () => {});
} else {
  const limit = pLimit(2);
  // The 128x128 PIM arrays take Timeloop longest (link transfers over 16384 instances): queue them first.
  const cases = goldenCases().sort((a, b) => Number(b.id.startsWith('pim-128')) - Number(a.id.startsWith('pim-128')));
  for (const c of cases) {
    test(`timeloop-model on the v3 export reproduces stats.txt byte for byte: ${c.id}`, async (t) => {
      t.timeout(900_000);
      const task = loadGolden(c.dir);
      const run = await limit(() => runTimeloopModel(task, { bin, keepDir: true, timeoutMs: 840_000 }));
      try {
        t.is(run.error, null);
        t.is(readFileSync(join(run.dir, 'timeloop-model.stats.txt'), 'utf8'), readFileSync(join(c.dir, 'stats.txt'), 'utf8'));
      } finally {
        rmSync(run.dir, { recursive: true, force: true });
      }
    });
  }
}
