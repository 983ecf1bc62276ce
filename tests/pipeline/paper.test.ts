/**
 * The paper matrix of the repository's experiments.config.ts, expanded in
 * process (nothing runs): task counts, normalization ops on the NO
 * architectures, fusion at DRAM deduplicated with no fusion, fused-pair
 * tasks over the right map tasks; and the config checks of the fusion
 * fields and `noArchitectures` (in temp projects).
 */
import test from 'ava';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadArchitecture, presetConstraints } from '../../src/inputs/presets.ts';
import { FUSION_LEVELS, fusedConstraints } from '../../src/fusion/index.ts';
import { loadConfig } from '../../src/pipeline/config.ts';
import { expandConfig } from '../../src/pipeline/expand.ts';
import type { FusedPairInput } from '../../src/pipeline/kinds/fused-pair.ts';
import { buildGraph } from '../../src/build/graph.ts';
import { hashValue } from '../../src/build/hash.ts';
import { KINDS } from '../../src/pipeline/kinds/index.ts';
import { UserError } from '../../src/util/errors.ts';
import { blockLayers } from '../../src/workload/layers.ts';
import { repoRoot } from '../helpers/golden.ts';

async function expand(cwd: string, names: string[]) {
  const loaded = await loadConfig({ cwd });
  const expansion = expandConfig(loaded, names);
  const kinds = await KINDS.loadAll(expansion.specs.map((s) => s.kind));
  const graph = buildGraph(expansion.specs, (k) => kinds.get(k)!.engine());
  return { loaded, expansion, graph };
}

const MODELS = ['bert-base', 'bert-large', 'gpt2-small'];
const LAYERS = ['KQV', 'KTQ', 'softmax', 'VScores', 'Out', 'layernorm', 'FF1', 'FF2'];
const PAIR_LAYERS = ['KTQ', 'softmax', 'Out', 'layernorm'];

test('the paper matrix: 3 models × 8 layers × gemmini, pim, unfused and at every fusion level; 96 map tasks, 36 fused pairs, 6 joint blocks', async (t) => {
  const { expansion, graph } = await expand(repoRoot, ['paper']);
  const [paper] = expansion.experiments;
  t.is(paper.name, 'paper');
  const cells = paper.cells;
  const unfused = cells.filter((c) => c.meta.fusion === 'none');
  // Every (model, layer, arch) unfused.
  t.is(unfused.length, MODELS.length * LAYERS.length * 2);
  t.deepEqual(new Set(unfused.map((c) => `${c.meta.model}/${c.meta.layer}/${c.meta.arch}`)).size, 48);
  // The pair layers at each architecture's three levels (DRAM, on-chip, innermost).
  const fused = cells.filter((c) => c.meta.fusion !== 'none');
  t.is(fused.length, MODELS.length * PAIR_LAYERS.length * 2 * 3);
  for (const c of fused) {
    t.true(PAIR_LAYERS.includes(String(c.meta.layer)));
    t.true(FUSION_LEVELS[c.meta.arch as 'gemmini' | 'pim'].includes(String(c.meta.fusion)), `${c.task}`);
    t.is(c.meta.fusionMode, 'fixed');
  }
  // Distinct map tasks: the DRAM cells are the unfused tasks.
  const mapTasks = new Set(cells.map((c) => graph.get(c.task)!.id));
  t.is(mapTasks.size, 48 + MODELS.length * PAIR_LAYERS.length * 2 * 2);
  t.is(paper.pairs.length, MODELS.length * 2 * 2 * 3);
  const closure = graph.closure([paper.aggregate]);
  t.deepEqual(
    Object.fromEntries(['map', 'fused-pair', 'joint-block', 'aggregate'].map((k) => [k, closure.order.filter((x) => x.kind === k).length])),
    { map: 96, 'fused-pair': 36, 'joint-block': 6, aggregate: 1 },
  );
  // Joint fusion: one block per (model, architecture), over the eight unfused cells and the fused sides of its two rewrite levels below DRAM.
  t.is(paper.joints.length, MODELS.length * 2);
  for (const j of paper.joints) t.is(graph.get(j.task)!.deps.length, LAYERS.length + PAIR_LAYERS.length * 2, j.task);
  // plan --json's macs: one instance (one head for per-head layers).
  const ktq = cells.find((c) => c.meta.model === 'bert-large' && c.meta.layer === 'KTQ' && c.meta.fusion === 'none')!;
  t.is(ktq.meta.macs, 4096 * 64 * 4096);
  t.is(ktq.meta['perBlock'], 16);
  t.is(ktq.meta['blocks'], 24);
});

test('fusion at DRAM is the unfused task: same key, one task with the DRAM cells as aliases; the rewrite at DRAM leaves the constraints as they are', async (t) => {
  const { expansion, graph } = await expand(repoRoot, ['paper']);
  const cells = expansion.experiments[0].cells;
  const dram = cells.filter((c) => c.meta.fusion === 'DRAM');
  t.is(dram.length, 24);
  for (const c of dram) {
    const none = cells.find((u) => u.meta.fusion === 'none' && u.meta.model === c.meta.model && u.meta.layer === c.meta.layer && u.meta.arch === c.meta.arch)!;
    const task = graph.get(c.task)!;
    t.is(task.id, none.task);
    t.true(task.aliases.includes(c.task));
  }
  // Independently of the expander: the fixed rewrite at DRAM is the identity on every preset.
  const layers = blockLayers('bert-base');
  for (const [arch, id] of [['gemmini', 'gemmini'], ['gemmini', 'gemmini-no'], ['pim', 'pim'], ['pim', 'pim-no']] as const) {
    const preset = loadArchitecture(id);
    for (const layer of layers.filter((l) => (id.endsWith('-no') ? l.kind === 'normop' : l.kind === 'gemm'))) {
      const rewritten = fusedConstraints(preset, layer.problem, { arch, kind: layer.kind, level: 'DRAM' }).constraints;
      t.is(hashValue(rewritten), hashValue(presetConstraints(preset, layer.problem)), `${id} ${layer.id}`);
    }
  }
  // The on-chip levels do change them.
  const onChip = cells.filter((c) => c.meta.fusion === 'Accumulator' || c.meta.fusion === 'shared_glb');
  for (const c of onChip) t.is(graph.get(c.task)!.id, c.task);
});

test('normalization ops run on the NO architectures (gemmini-no, pim-no), matmuls on the array; fused-pair tasks read the fused and unfused map tasks', async (t) => {
  const { expansion, graph } = await expand(repoRoot, ['paper']);
  const [paper] = expansion.experiments;
  for (const c of paper.cells) {
    const task = graph.get(c.task)!;
    const normop = c.meta.layer === 'softmax' || c.meta.layer === 'layernorm';
    const hw = normop ? `${c.meta.arch}-no` : String(c.meta.arch);
    t.is(c.meta['hw'], hw, c.task);
    t.is(task.inputHashes['architecture'].label, `experiments/archs/${hw}.yaml`, c.task);
    t.regex(task.inputHashes['ERT'].label, new RegExp(`experiments/archs/${hw}\\.yaml$`));
    if (c.meta.fusion === 'Accumulator' || c.meta.fusion === 'shared_glb') t.regex(task.inputHashes['constraints'].label, new RegExp(`fused at ${c.meta.fusion} \\(fixed\\)$`));
  }
  for (const p of paper.pairs) {
    const task = graph.get(p.task)!;
    t.is(task.kind, 'fused-pair');
    const input = task.inputs['pair'].value as FusedPairInput;
    t.true([['KTQ', 'softmax'], ['Out', 'layernorm']].some(([m, n]) => input.matmul.layer === m && input.normop.layer === n));
    const cellOf = (id: string) => paper.cells.find((c) => c.task === id)!.meta;
    t.deepEqual([cellOf(input.matmul.task).fusion, cellOf(input.normop.task).fusion], [p.meta.fusion, p.meta.fusion]);
    t.deepEqual([cellOf(input.matmul.unfused).fusion, cellOf(input.normop.unfused).fusion], ['none', 'none']);
    t.is(input.perBlock, input.matmul.layer === 'KTQ' ? (p.meta.model === 'bert-large' ? 16 : 12) : 1);
    // Its dependencies are those map tasks (after deduplication).
    const deps = new Set([input.matmul.task, input.normop.task, input.matmul.unfused, input.normop.unfused].map((id) => graph.get(id)!.id));
    t.deepEqual(new Set(Object.keys(task.depKeys)), deps);
  }
});

// ---------------------------------------------------------------------------
// Config checks of the fusion fields and noArchitectures, in temp projects.

const temps: string[] = [];
test.after.always(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

function project(config: unknown, archs = ['gemmini', 'gemmini-no', 'eyeriss']): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'expt-paper-'));
  temps.push(dir);
  mkdirSync(path.join(dir, 'experiments', 'archs'), { recursive: true });
  for (const a of archs) {
    for (const ext of ['.yaml', '.energy.csv']) {
      const from = path.join(repoRoot, 'experiments', 'archs', `${a}${ext}`);
      if (existsSync(from)) copyFileSync(from, path.join(dir, 'experiments', 'archs', `${a}${ext}`));
    }
  }
  writeFileSync(path.join(dir, 'experiments.config.json'), JSON.stringify(config));
  return dir;
}

const exp = (extra: Record<string, unknown>) => ({ experiments: { x: { models: ['bert-base'], layers: ['KTQ', 'softmax'], architectures: ['gemmini'], ...extra } } });

async function errorOf(config: unknown, archs?: string[]): Promise<string> {
  try {
    await expand(project(config, archs), []);
  } catch (error) {
    if (error instanceof UserError) return error.format();
    throw error;
  }
  return '(no error)';
}

const bad: [string, unknown, string, string[]?][] = [
  ['a level no architecture of the experiment has', exp({ architectures: ['eyeriss'], fusion: ['none', 'Accumulator'] }), "experiments.config.json: experiments.x.fusion[1]: 'Accumulator' is not a fusion level of eyeriss (these architectures have no fusion levels: use none, or joint)"],
  ['a PIM level on gemmini', exp({ fusion: ['shared_glb'] }), "experiments.config.json: experiments.x.fusion[0]: 'shared_glb' is not a fusion level of gemmini (levels: none, DRAM, Accumulator, Registers; or joint)"],
  ['a pair in the wrong order', exp({ fusion: ['Accumulator'], fusedPairs: [['softmax', 'KTQ']] }), "experiments.config.json: experiments.x.fusedPairs[0][0]: 'softmax' is a normalization op; a fused pair is [matmul, normalization op]"],
  ['a pair whose layer is not in the matrix', exp({ fusion: ['Accumulator'], fusedPairs: [['Out', 'layernorm']] }), "experiments.config.json: experiments.x.fusedPairs[0][0]: layer 'Out' of the fused pair is not in the experiment's layers"],
  ['an unknown fusion mode', exp({ fusionMode: 'studdy' }), 'experiments.config.json: experiments.x.fusionMode: expected one of fixed, study, got the string "studdy"'],
  ['a flag that is not a boolean', exp({ noEFusion: 'yes' }), 'experiments.config.json: experiments.x.noEFusion: expected true or false, got the string "yes"'],
  ['an unknown NO architecture', { noArchitectures: { gemmini: 'gemini-no' }, ...exp({}) }, "experiments.config.json: noArchitectures.gemmini: unknown architecture 'gemini-no' (did you mean 'gemmini-no'?); known architectures: eyeriss, gemmini, gemmini-no"],
  ['the default NO architecture missing', exp({}), "experiments.config.json: experiments.x.layers: the normalization ops on 'gemmini' run on 'gemmini-no' (the default noArchitectures), which is not an architecture here; add experiments/archs/gemmini-no.yaml or set noArchitectures.gemmini", ['gemmini']],
];

for (const [name, config, error, archs] of bad) {
  test(`config: ${name} → one line naming the field`, async (t) => {
    t.is(await errorOf(config, archs), error);
  });
}

test('noArchitectures maps an architecture to where its normalization ops run (default gemmini → gemmini-no); unfused cells come along with fusion levels', async (t) => {
  const dflt = await expand(project(exp({ fusion: ['Accumulator'] })), []);
  const hw = (e: typeof dflt) => Object.fromEntries(e.expansion.experiments[0].cells.filter((c) => c.meta.fusion === 'none').map((c) => [c.meta.layer, c.meta['hw']]));
  t.deepEqual(hw(dflt), { KTQ: 'gemmini', softmax: 'gemmini-no' });
  // 'none' is implied: the fused pair is compared with the unfused cells.
  t.deepEqual(dflt.expansion.experiments[0].cells.map((c) => `${c.meta.layer}@${c.meta.fusion}`), ['KTQ@none', 'KTQ@Accumulator', 'softmax@none', 'softmax@Accumulator']);
  const self = await expand(project({ noArchitectures: { gemmini: 'gemmini' }, ...exp({}) }), []);
  t.deepEqual(hw(self), { KTQ: 'gemmini', softmax: 'gemmini' });
  // An architecture without a NO variant runs them itself.
  const eyeriss = await expand(project(exp({ architectures: ['eyeriss'] })), []);
  t.deepEqual(hw(eyeriss), { KTQ: 'eyeriss', softmax: 'eyeriss' });
});
