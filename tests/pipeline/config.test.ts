/**
 * experiments.config.*: the .ts/.mjs/.json/.yaml variants load to the same
 * plan (same keys); malformed configs give one line naming the file and the
 * field, exit code 2, no stack trace.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { repoRoot } from '../helpers/golden.ts';
import { cleanupTempDirs, expt, gridExperiment, makeProject, planJson } from './fixture.ts';

test.after.always(cleanupTempDirs);

const grid = () => gridExperiment(300, ['KQV'], ['gemmini']);

test('.ts (defineConfig), .mjs, .json and .yaml configs load to the same tasks and keys', async (t) => {
  const config = { experiments: { grid: grid() } };
  const variants: [string, string][] = [
    ['experiments.config.ts', `import { defineConfig } from ${JSON.stringify(path.join(repoRoot, 'src', 'index.ts'))};\nexport default defineConfig(${JSON.stringify(config, null, 2)});\n`],
    ['experiments.config.mjs', `export default ${JSON.stringify(config)};\n`],
    ['experiments.config.json', JSON.stringify(config, null, 2)],
    ['experiments.config.yaml', `# the same config in YAML\n${stringifyYaml(config)}`],
  ];
  const keys: string[][] = [];
  for (const [name, text] of variants) {
    const dir = makeProject();
    writeFileSync(path.join(dir, name), text);
    const plan = await planJson(dir);
    keys.push(plan.map((p) => `${p.id} ${p.key}`));
  }
  t.is(keys[0].length, 2);
  for (const k of keys.slice(1)) t.deepEqual(k, keys[0]);
});

test('a .ts config that imports a file of its own sees that file edited (the bundled config is not reused)', async (t) => {
  const dir = makeProject();
  const index = JSON.stringify(path.join(repoRoot, 'src', 'index.ts'));
  writeFileSync(path.join(dir, 'experiments.config.ts'), `import { defineConfig } from ${index};\nimport { grid } from './grid.ts';\nexport default defineConfig({ experiments: { grid } });\n`);
  const writeGrid = (layers: string[]) => writeFileSync(path.join(dir, 'grid.ts'), `export const grid = ${JSON.stringify(gridExperiment(300, layers, ['gemmini']))};\n`);
  writeGrid(['KQV']);
  const layers = async () => (await planJson(dir)).filter((p) => p.kind === 'map').map((p) => p.layer);
  t.deepEqual(await layers(), ['KQV']);
  writeGrid(['VScores']);
  t.deepEqual(await layers(), ['VScores']);
});

test("the repository's experiments.config.ts (import { defineConfig } from 'expt') plans the quick experiment", async (t) => {
  const plan = await planJson(repoRoot, 'quick');
  const maps = plan.filter((p) => p.kind === 'map');
  t.is(maps.length, 4);
  // TLD and TLL are one task; on gemmini it is also the paper matrix's unfused cell (same preset, same inputs).
  t.deepEqual(maps.map((p) => [p.id, ...p.aliases].filter((id) => id.startsWith('map:quick/')).map((id) => id.split('/').at(-1))), [['TLD', 'TLL'], ['TLD', 'TLL'], ['TLD', 'TLL'], ['TLD', 'TLL']]);
  t.deepEqual(maps.map((p) => p.id.startsWith('map:paper/')), maps.map((p) => p.arch === 'gemmini'));
  t.deepEqual([...new Set(maps.map((p) => `${p.layer}/${p.arch}`))].sort(), ['KQV/eyeriss', 'KQV/gemmini', 'VScores/eyeriss', 'VScores/gemmini']);
});

const archs = { gemmini: { files: ['archs/gemmini.yaml'] }, eyeriss: { files: ['archs/eyeriss.yaml'] } };
const matrix = (extra: Record<string, unknown> = {}) => ({ models: ['bert-base'], layers: ['KQV'], architectures: ['gemmini'], mapper: { effort: 300 }, ...extra });

const malformed: { name: string; file?: string; config: unknown | string; error: string; beside?: Record<string, string> }[] = [
  { name: 'missing experiments', config: { architectures: archs }, error: 'experiments: missing required field (expected an object of named experiments)' },
  {
    name: 'wrong type: files is a string',
    config: { experiments: { quick: { jobs: [{ files: 'archs/gemmini.yaml' }] } } },
    error: 'experiments.quick.jobs[0].files: expected a list of file paths, got the string "archs/gemmini.yaml"',
  },
  {
    name: 'unknown architecture',
    config: { architectures: archs, experiments: { paper: matrix({ architectures: ['gemmini', 'tpu'] }) } },
    error: "experiments.paper.architectures[1]: unknown architecture 'tpu'; known architectures: gemmini, eyeriss",
  },
  {
    name: 'unknown layer',
    config: { architectures: archs, experiments: { paper: matrix({ layers: ['KQV', 'Softmax'] }) } },
    error: "experiments.paper.layers[1]: unknown layer 'Softmax' (did you mean 'softmax'?); known layers: KQV, KTQ, scale, softmax, VScores, Out, residual1, layernorm, FF1, GELU, FF2, residual2, layernorm2",
  },
  {
    name: 'negative size',
    config: { architectures: archs, experiments: { paper: matrix({ seqLength: -512 }) } },
    error: 'experiments.paper.seqLength: expected a positive whole number, got the number -512',
  },
  {
    name: 'unknown model',
    config: { architectures: archs, experiments: { paper: matrix({ models: ['bert-base', 'bert-huge'] }) } },
    error: "experiments.paper.models[1]: unknown model 'bert-huge'",
  },
  { name: 'wrong type: effort', config: { experiments: { quick: { ...grid(), mapper: { effort: 'lots' } } } }, error: 'experiments.quick.mapper.effort: expected a positive whole number, got the string "lots"' },
  { name: 'misspelled field', config: { architectures: archs, experiments: { paper: { modles: ['bert-base'], architectures: ['gemmini'] } } }, error: "experiments.paper.modles: unknown field 'modles' (did you mean 'models'?)" },
  { name: 'missing file', config: { experiments: { quick: { jobs: [{ files: ['archs/gemmini.yaml', 'problems/KQX.yaml'] }] } } }, error: 'experiments.quick.jobs[0].files[1]: file not found: problems/KQX.yaml (paths are relative to the config file)' },
  { name: 'unknown objective', config: { mapper: { objective: ['edpp'] }, experiments: { quick: grid() } }, error: 'mapper.objective[0]: expected one of edp, energy, delay, got the string "edpp"' },
  // HW-DSE sweeps and the cross-architecture study.
  { name: 'sweep: the old sweeps list', config: { experiments: { dse: { sweeps: [{ architecture: 'gemmini', parameters: { pe_rows: [16] } }] } } }, error: "experiments.dse.sweeps: unknown field 'sweeps' (did you mean 'sweep'?)" },
  { name: 'sweep: unknown architecture', config: { experiments: { dse: { sweep: { architecture: 'eyeriss', configs: 'json' } } } }, error: 'experiments.dse.sweep.architecture: expected one of \'gemmini\', \'pim\', got the string "eyeriss"' },
  { name: 'sweep: missing configs', config: { experiments: { dse: { sweep: { architecture: 'gemmini' } } } }, error: 'experiments.dse.sweep.configs: missing required field' },
  { name: 'sweep: unknown config list', config: { experiments: { dse: { sweep: { architecture: 'gemmini', configs: '2024-05-09' } } } }, error: "experiments.dse.sweep.configs: expected 'hardcoded', 'json', '2024-05-08' or a hw_configs JSON file, got the string \"2024-05-09\" (no such file" },
  { name: 'sweep: PIM has no 2024-05-08 table', config: { experiments: { dse: { sweep: { architecture: 'pim', configs: '2024-05-08' } } } }, error: "experiments.dse.sweep.configs: the 2024-05-08 HW-DSE table is Gemmini's" },
  { name: 'sweep: inline config without a key', config: { experiments: { dse: { sweep: { architecture: 'gemmini', configs: [{ scratchpad_size: 524288, accumulator_size: 16384, scratchpad_bandwidth: 16, accumulator_bandwidth: 4, pe_rows: 16, pe_cols: 16, dataflow: 'WS' }] } } } }, error: "experiments.dse.sweep.configs[0]: error in config 0: missing key 'rf_size'" },
  { name: 'sweep: inline config with a negative size', config: { experiments: { dse: { sweep: { architecture: 'gemmini', configs: [{ scratchpad_size: 524288, accumulator_size: 16384, scratchpad_bandwidth: 16, accumulator_bandwidth: 4, pe_rows: -16, pe_cols: 16, dataflow: 'WS', rf_size: 1024 }] } } } }, error: 'experiments.dse.sweep.configs[0].pe_rows: pe_rows must be a positive whole number, got -16' },
  { name: 'sweep: constraints is mode', config: { experiments: { dse: { sweep: { architecture: 'gemmini', configs: 'json', constraints: 'study' } } } }, error: "experiments.dse.sweep.constraints: unknown field 'constraints': the constraints of the dataflows are chosen with `mode: 'fixed' | 'study'`" },
  { name: 'sweep: bad mode', config: { experiments: { dse: { sweep: { architecture: 'gemmini', configs: 'json', mode: 'Study' } } } }, error: 'experiments.dse.sweep.mode: expected one of \'fixed\', \'study\', got the string "Study"' },
  { name: 'sweep: unknown layer', config: { experiments: { dse: { sweep: { architecture: 'gemmini', configs: 'json', layers: ['KTQ', 'Softmax'] } } } }, error: "experiments.dse.sweep.layers[1]: unknown layer 'Softmax' (did you mean 'softmax'?)" },
  { name: 'sweep: mapper effort', config: { experiments: { dse: { sweep: { architecture: 'gemmini', configs: 'json', mapper: { effort: 0 } } } } }, error: 'experiments.dse.sweep.mapper.effort: expected a positive whole number, got the number 0' },
  { name: 'sweep: and a matrix', config: { architectures: archs, experiments: { dse: { sweep: { architecture: 'gemmini', configs: 'json' }, models: ['bert-base'], architectures: ['gemmini'] } } }, error: 'experiments.dse.models: an experiment with `sweep` is only that' },
  { name: 'sweep: unknown model', config: { experiments: { dse: { sweep: { architecture: 'gemmini', configs: 'json', model: 'bert-huge' } } } }, error: "experiments.dse.sweep.model: unknown model 'bert-huge'" },
  { name: 'crossArch: unknown workload', config: { architectures: archs, experiments: { xa: { crossArch: { architectures: ['gemmini'], workloads: ['MB6', 'MB7'] } } } }, error: "experiments.xa.crossArch.workloads[1]: unknown workload 'MB7' (did you mean 'MB1'?)" },
  { name: 'crossArch: unknown mapper preset', config: { architectures: archs, experiments: { xa: { crossArch: { architectures: ['gemmini'], workloads: ['gemms'], mapper: 'TLX' } } } }, error: 'experiments.xa.crossArch.mapper: expected one of \'TLD\', \'TLL\', \'TLE\', got the string "TLX"' },
  { name: 'crossArch: unknown architecture', config: { architectures: archs, experiments: { xa: { crossArch: { architectures: ['gemmini', 'tpu'], workloads: ['MB6'] } } } }, error: "experiments.xa.crossArch.architectures[1]: unknown architecture 'tpu'" },
  { name: 'models without architectures', config: { experiments: { paper: { models: ['bert-base'] } } }, error: 'experiments.paper.architectures: missing required field (expected a list of architecture names next to models)' },
  { name: 'unknown default experiment', config: { default: ['paper'], experiments: { quick: grid() } }, error: "default[0]: unknown experiment 'paper' (experiments: quick)" },
  { name: 'experiment with nothing to run', config: { experiments: { empty: { description: 'todo' } } }, error: 'experiments.empty: the experiment has nothing to run' },
  { name: 'not an object', file: 'experiments.config.mjs', config: 'export default 42;\n', error: 'expected the config object (export default defineConfig({ experiments: { ... } })), got the number 42' },
  { name: 'YAML syntax error', file: 'experiments.config.yaml', config: 'experiments:\n  quick: {jobs: [\n', error: 'cannot load the config' },
  // Columns count from 1, as editors do (the '}' is the 46th character).
  { name: 'TypeScript syntax error', file: 'experiments.config.ts', config: 'export default { experiments: { a: { jobs: [ } };\n', error: 'cannot load the config: line 1, column 46: Unexpected "}"' },
  { name: 'a config that throws', file: 'experiments.config.mjs', config: 'throw new Error("boom");\nexport default {};\n', error: 'cannot load the config: boom' },
  // Syntax errors keep the parser's reason, line and column (issue 13: they printed "YAML Error in :").
  { name: 'a tab in a YAML config', file: 'experiments.config.yaml', config: 'experiments:\n\tquick: {}\n', error: 'cannot load the config: line 2, column 1: YAML syntax error: Tabs are not allowed as indentation' },
  { name: 'an unclosed [ in a YAML config', file: 'experiments.config.yaml', config: 'experiments:\n  quick: {jobs: [\n', error: 'cannot load the config: line 3, column 1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]' },
  { name: 'a trailing comma in a JSON config', config: '{\n  "experiments": {\n    "quick": {"jobs": []},\n  }\n}\n', error: 'cannot load the config: line 4, column 3: JSON syntax error: Expected double-quoted property name (a trailing comma before it: JSON allows none)' },
  { name: 'an .mjs syntax error', file: 'experiments.config.mjs', config: 'export default {\n  experiments: { a: { jobs: [ } },\n};\n', error: 'cannot load the config: line 2, column 31: Unexpected "}"' },
  { name: 'an .mjs config that throws on line 2', file: 'experiments.config.mjs', config: 'const x = 1;\nthrow new Error("boom");\nexport default {};\n', error: 'cannot load the config: boom (at line 2, column 7)' },
  // Duplicate keys would silently keep the last.
  { name: 'a duplicate experiment in a JSON config', config: '{\n  "experiments": {\n    "quick": {"jobs": []},\n    "quick": {"models": []}\n  }\n}\n', error: "cannot load the config: line 4, column 5: duplicate key 'quick' (each key may appear once in a mapping; the later one would silently replace the first)" },
  { name: 'a duplicate experiment in a YAML config', file: 'experiments.config.yaml', config: 'experiments:\n  quick: {jobs: []}\n  quick: {models: []}\n', error: "cannot load the config: line 3, column 3: duplicate key 'quick' (each key may appear once in a mapping; the later one would silently replace the first)" },
  { name: 'a duplicate experiment in a .ts config', file: 'experiments.config.ts', config: "export default {\n  experiments: {\n    quick: { jobs: [] },\n    'quick': { models: [] },\n  },\n};\n", error: "cannot load the config: line 4, column 5: duplicate key 'quick' in an object (first at line 3); the later one would silently replace the first" },
  { name: 'a duplicate field in an .mjs config', file: 'experiments.config.mjs', config: 'export default {\n  experiments: { quick: { models: ["bert-base"], architectures: ["gemmini"], models: ["bert-large"] } },\n};\n', error: "cannot load the config: line 2, column 78: duplicate key 'models' in an object (first at line 2)" },
  // Two config files in one folder: one would be silently ignored.
  { name: 'a .ts and a .yaml config in one folder', file: 'experiments.config.ts', config: `export default ${JSON.stringify({ experiments: { quick: grid() } })};\n`, beside: { 'experiments.config.yaml': 'experiments: {}\n' }, error: 'another config file is in the same folder: experiments.config.yaml; expt reads only one' },
  { name: 'modelsDir is not a folder', config: { modelsDir: 'my-models', experiments: { quick: grid() } }, error: 'modelsDir: folder not found: my-models (paths are relative to the config file)' },
];

malformed.forEach((c, i) => {
  test(`malformed config: ${c.name} → one line naming the field, exit 2, no stack`, async (t) => {
    const dir = makeProject();
    const file = c.file ?? 'experiments.config.json';
    writeFileSync(path.join(dir, file), typeof c.config === 'string' ? c.config : JSON.stringify(c.config, null, 2));
    for (const [name, text] of Object.entries(c.beside ?? {})) writeFileSync(path.join(dir, name), text);
    // `run` loads the config exactly as `plan` does: check it on a few cases only.
    for (const command of i < 3 ? [['plan'], ['run']] : [['plan']]) {
      const r = await expt(dir, ...command);
      t.is(r.code, 2, r.stderr);
      t.is(r.stdout, '');
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      t.is(lines.length, 1, r.stderr);
      t.true(lines[0].startsWith(`expt: ${file}: `), lines[0]);
      t.true(lines[0].includes(c.error), `${lines[0]}\n  does not contain\n${c.error}`);
      t.notRegex(r.stderr, /\bat .*:\d+:\d+/);
    }
  });
});
