/**
 * Numbers outside their domain (src/util/domains.ts) in architectures (tree
 * format, timeloopfe v0.4, presets), ERTs, energy-override CSVs and problems,
 * through the real CLI: exit code 2 and one line naming the file, the field
 * and what is expected, where they used to give wrong numbers with exit 0
 * (issue 13: a negative bandwidth gave negative cycles, a zero one Infinity,
 * a typo in an override CSV was ignored, L = 7·2^53 was rounded).
 */
import test from 'ava';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { goldenDir, repoRoot } from '../helpers/golden.ts';
import { cleanupTempDirs, expt, makeProject, type Run } from '../pipeline/fixture.ts';

test.after.always(cleanupTempDirs);

/** `text` with `from` replaced by `to`; the test data must contain `from`. */
function edit(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to);
  if (out === text) throw new Error(`test data: '${String(from)}' not found`);
  return out;
}

function oneLineError(t: { is: (a: unknown, b: unknown, m?: string) => void; true: (a: boolean, m?: string) => void; notRegex: (a: string, r: RegExp) => void }, r: Run, expected: string): void {
  t.is(r.code, 2, r.stderr);
  t.is(r.stdout, '');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  t.is(lines.length, 1, r.stderr);
  t.true(lines[0].startsWith('expt: '), lines[0]);
  t.true(lines[0].includes(expected), `${lines[0]}\n  does not contain\n${expected}`);
  t.notRegex(r.stderr, /\bat .*:\d+:\d+/);
}

// ---------------------------------------------------------------------------
// expt eval on a golden tree-format input (architecture, problem, mapping, ERT).

const GEMM = readFileSync(path.join(goldenDir, 'gemm-001', 'input.yaml'), 'utf8');
const DRAM_ATTRIBUTES = 'attributes: {datawidth: 16, width: 256, read_bandwidth: 4, write_bandwidth: 0.5}';

const evalCases: { name: string; input: string; error: string }[] = [
  {
    name: 'a negative DRAM bandwidth (was "-22 cycles")',
    input: edit(GEMM, DRAM_ATTRIBUTES, 'attributes: {datawidth: 16, width: 256, read_bandwidth: -4, write_bandwidth: 0.5}'),
    error: 'input.yaml: architecture.subtree[0].local[0].attributes.read_bandwidth: expected a number > 0, got -4',
  },
  {
    name: 'a zero DRAM bandwidth (was Cycles: Infinity, EDP: NaN)',
    input: edit(GEMM, DRAM_ATTRIBUTES, 'attributes: {datawidth: 16, width: 256, read_bandwidth: 4, write_bandwidth: 0}'),
    error: 'input.yaml: architecture.subtree[0].local[0].attributes.write_bandwidth: expected a number > 0, got 0',
  },
  {
    name: 'a negative depth',
    input: edit(GEMM, 'depth: 30', 'depth: -30'),
    error: 'input.yaml: architecture.subtree[0].local[1].attributes.depth: expected a whole number >= 0, got -30',
  },
  {
    name: 'a fractional datawidth',
    input: edit(GEMM, 'datawidth: 8\n            width: 24', 'datawidth: 7.5\n            width: 24'),
    error: 'input.yaml: architecture.subtree[0].local[1].attributes.datawidth: expected a positive whole number, got 7.5',
  },
  {
    name: 'meshY 0 (was "meshX Infinity")',
    input: edit(GEMM, 'depth: 9, instances: 4, meshX: 2', 'depth: 9, instances: 4, meshY: 0'),
    error: 'input.yaml: architecture.subtree[0].local[2].attributes.meshY: expected a positive whole number, got 0',
  },
  {
    name: 'a meshX that does not divide the instances',
    input: edit(GEMM, 'depth: 9, instances: 4, meshX: 2', 'depth: 9, instances: 4, meshX: 3'),
    error: 'input.yaml: architecture.subtree[0].local[2].attributes.meshX: meshX 3 does not divide the 4 instances',
  },
  {
    name: 'a negative ERT energy',
    input: edit(GEMM, '{name: "read", energy: 286.924}', '{name: "read", energy: -286.924}'),
    error: 'input.yaml: ERT.tables[0].actions[0].energy: expected a number >= 0, got -286.924',
  },
  {
    name: 'a dimension above 2^53 (L = 7·2^53, was rounded)',
    input: edit(GEMM, 'instance: {D: 6, E: 7, L: 7}', `instance: {D: 6, E: 7, L: ${(7n * 2n ** 53n).toString()}}`),
    error: 'input.yaml: problem.instance.L: expected a positive whole number (at most 2^53 - 1 = 9007199254740991: larger whole numbers are not exact)',
  },
  {
    name: 'an operation count above 2^53',
    input: edit(GEMM, 'instance: {D: 6, E: 7, L: 7}', `instance: {D: ${2 ** 20}, E: ${2 ** 20}, L: ${2 ** 20}}`),
    error: 'input.yaml: problem.instance: the operation count D × E × L = 1048576 × 1048576 × 1048576 ≈ 1.153e+18 exceeds 2^53 - 1',
  },
];

for (const c of evalCases) {
  test(`expt eval: ${c.name} → exit 2, one line naming the file, the field and what is expected`, async (t) => {
    const dir = makeProject('expt-domains-');
    writeFileSync(path.join(dir, 'input.yaml'), c.input);
    oneLineError(t, await expt(dir, 'eval', 'input.yaml'), c.error);
  });
}

test('expt eval: the unedited input still evaluates (the baseline of the cases above)', async (t) => {
  const dir = makeProject('expt-domains-');
  writeFileSync(path.join(dir, 'input.yaml'), GEMM);
  const r = await expt(dir, 'eval', 'input.yaml');
  t.is(r.code, 0, r.stderr);
});

test('expt eval: a timeloopfe v0.4 attribute expression outside its domain names the node it is on', async (t) => {
  const dir = makeProject('expt-domains-');
  const fe = path.join(repoRoot, 'tests', 'fixtures', 'timeloopfe');
  const arch = readFileSync(path.join(fe, 'gemmini.yaml'), 'utf8');
  writeFileSync(path.join(dir, 'gemmini.yaml'), edit(arch, '      read_bandwidth: 16\n', '      read_bandwidth: 16 - 32\n'));
  copyFileSync(path.join(fe, 'variables.yaml'), path.join(dir, 'variables.yaml'));
  oneLineError(t, await expt(dir, 'eval', 'gemmini.yaml', 'variables.yaml'), 'gemmini.yaml: architecture.nodes[3].attributes.read_bandwidth: expected a number > 0, got -16 (from "16 - 32")');
});

// ---------------------------------------------------------------------------
// Presets (experiments/archs/<name>.yaml) and their energy-override CSVs, through expt plan.

const PRESET = readFileSync(path.join(repoRoot, 'experiments', 'archs', 'gemmini.yaml'), 'utf8');

/** A project whose experiment maps KQV on the gemmini preset, with the preset (and CSV) given. */
function presetProject(yaml: string, csv?: string): string {
  const dir = makeProject('expt-domains-');
  const archs = path.join(dir, 'experiments', 'archs');
  mkdirSync(archs, { recursive: true });
  writeFileSync(path.join(archs, 'gemmini.yaml'), yaml);
  if (csv !== undefined) writeFileSync(path.join(archs, 'gemmini.energy.csv'), csv);
  const config = { experiments: { x: { models: ['bert-base'], layers: ['KQV'], architectures: ['gemmini'], mapper: { effort: 100 } } } };
  writeFileSync(path.join(dir, 'experiments.config.json'), JSON.stringify(config, null, 2));
  return dir;
}

const presetCases: { name: string; yaml?: string; csv?: string; error: string }[] = [
  {
    name: 'read_bandwidth: -16 in gemmini.yaml (was 3,538,948 cycles instead of 3,649,540)',
    yaml: edit(PRESET, /read_bandwidth: 16/, 'read_bandwidth: -16'),
    error: 'experiments/archs/gemmini.yaml: architecture.subtree[0].subtree[0].local[0].attributes.read_bandwidth: expected a number > 0, got -16',
  },
  {
    name: 'PERows[0..-1] (was "meshX 0.0625")',
    yaml: edit(PRESET, 'PERows[0..15]', 'PERows[0..-1]'),
    error: "experiments/archs/gemmini.yaml: architecture.subtree[0].subtree[0].subtree[0].name: expected a name or a range such as PE[0..15] (whole numbers, first <= last), got 'PERows[0..-1]'",
  },
  {
    name: 'meshY: 0 (was "meshX Infinity")',
    yaml: edit(PRESET, /meshY: 16\n/, 'meshY: 0\n'),
    error: 'experiments/archs/gemmini.yaml: architecture.subtree[0].subtree[0].subtree[0].local[0].attributes.meshY: expected a positive whole number, got 0',
  },
  {
    name: 'an override of an action the component does not have (DRAM,raed,600; was ignored)',
    csv: 'component,action,energy_pJ\nDRAM,raed,600\n',
    error: "experiments/archs/gemmini.energy.csv: line 2: action: component 'DRAM' has no action 'raed' (its actions: read, write, update, leak)",
  },
  {
    name: 'an override of an unknown component (was blamed on gemmini.yaml)',
    csv: '# hand-typed energies\ncomponent,action,energy_pJ\nDRAMM,read,600\n',
    error: "experiments/archs/gemmini.energy.csv: line 3: component: no component 'DRAMM' in the architecture (components: DRAM, Scratchpad, Accumulator, Registers, MAC)",
  },
  {
    name: 'a wrong CSV header (was "row 2")',
    csv: 'component,action,energy\nDRAM,read,600\n',
    error: "experiments/archs/gemmini.energy.csv: line 1: expected the header component,action,energy_pJ, got 'component,action,energy'",
  },
  {
    name: 'a negative override energy',
    csv: 'component,action,energy_pJ\nDRAM,read,600\nDRAM,write,-1\n',
    error: 'experiments/archs/gemmini.energy.csv: line 3: energy_pJ: expected a number >= 0, got -1',
  },
  {
    name: 'an override given twice',
    csv: 'component,action,energy_pJ\nDRAM,read,600\nDRAM,read,500\n',
    error: 'experiments/archs/gemmini.energy.csv: line 3: DRAM,read is already given on line 2',
  },
];

for (const c of presetCases) {
  test(`preset: ${c.name} → exit 2, one line naming the file, the field and what is expected`, async (t) => {
    const dir = presetProject(c.yaml ?? PRESET, c.csv);
    oneLineError(t, await expt(dir, 'plan'), c.error);
  });
}

test('preset: a valid override (and one Timeloop looks up, random_read) is accepted and changes the task key', async (t) => {
  const plain = await expt(presetProject(PRESET), 'plan', '--json');
  const overridden = await expt(presetProject(PRESET, 'component,action,energy_pJ\nDRAM,read,600\nDRAM,random_read,601\n'), 'plan', '--json');
  t.is(plain.code, 0, plain.stderr);
  t.is(overridden.code, 0, overridden.stderr);
  const keys = (r: Run) => (JSON.parse(r.stdout) as { key: string }[]).map((p) => p.key);
  t.notDeepEqual(keys(plain), keys(overridden));
});

// ---------------------------------------------------------------------------
// Model definitions (experiments/models/*.yaml): sizes and the layers they give.

function modelProject(model: string): string {
  const dir = presetProject(PRESET);
  mkdirSync(path.join(dir, 'experiments', 'models'));
  writeFileSync(path.join(dir, 'experiments', 'models', 'huge.yaml'), model);
  const config = { experiments: { x: { models: ['huge'], layers: ['KQV'], architectures: ['gemmini'], mapper: { effort: 100 } } } };
  writeFileSync(path.join(dir, 'experiments.config.json'), JSON.stringify(config, null, 2));
  return dir;
}

test('model: a size above 2^53 names the model file and the field', async (t) => {
  const dir = modelProject('id: huge\nembedding: 1024\nheads: 16\nff_dim: 4096\nseq_length: 100000000000000000000\nblocks: 2\n');
  oneLineError(t, await expt(dir, 'plan'), 'experiments/models/huge.yaml: seq_length: expected a positive whole number (at most 2^53 - 1');
});

test('model: sizes whose layer has an operation count above 2^53 name the experiment, the layer and the model', async (t) => {
  const dir = modelProject('id: huge\nembedding: 1048576\nheads: 16\nff_dim: 4096\nseq_length: 1073741824\nblocks: 2\n');
  oneLineError(t, await expt(dir, 'plan'), "experiments.config.json: experiments.x: layer KQV of model 'huge': the operation count D × E × L = 3145728 × 1048576 × 1073741824");
});

test('a name with control bytes from a bad input is shown escaped, not sent to the terminal', async (t) => {
  const dir = presetProject(PRESET, 'component,action,energy_pJ\nDR\u001b[2JAM\u0007,read,600\n');
  const r = await expt(dir, 'plan');
  oneLineError(t, r, "line 2: component: no component 'DR\\x1b[2JAM\\x07' in the architecture");
  t.notRegex(r.stderr, /[\u0000-\u0009\u000b-\u001f]/);
});
