/**
 * Reports of a small paper-style matrix, through the real CLI: BERT-base at
 * a short sequence length, KQV and the two fused pairs on Gemmini (the NOs
 * on gemmini-no), unfused and fused at DRAM, the Accumulator and Registers.
 * The numbers of fusion.csv and models.csv are checked against sums
 * computed here from the cached map results; infeasible fused cells are
 * rows with their reason, and do not fail the run; an infeasible unfused
 * cell does (exit 1).
 */
import test from 'ava';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { repoRoot } from '../helpers/golden.ts';
import { expt, planJson, runJson, type PlanRow } from '../pipeline/fixture.ts';

const temps: string[] = [];
test.after.always(() => {
  if (process.env['EXPT_TEST_KEEP_TMP']) return;
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

function project(experiments: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'expt-reports-'));
  temps.push(dir);
  mkdirSync(path.join(dir, 'experiments', 'archs'), { recursive: true });
  for (const a of ['gemmini', 'gemmini-no', 'tpu']) {
    for (const ext of ['.yaml', '.energy.csv']) {
      const from = path.join(repoRoot, 'experiments', 'archs', `${a}${ext}`);
      if (existsSync(from)) copyFileSync(from, path.join(dir, 'experiments', 'archs', `${a}${ext}`));
    }
  }
  writeFileSync(path.join(dir, 'experiments.config.mjs'), `export default ${JSON.stringify({ experiments }, null, 2)};\n`);
  return dir;
}

const mini = {
  description: 'BERT-base (S 64): KQV and the fused pairs on gemmini',
  models: ['bert-base'],
  seqLength: 64,
  layers: ['KQV', 'KTQ', 'softmax', 'Out', 'layernorm'],
  architectures: ['gemmini'],
  fusion: ['none', 'DRAM', 'Accumulator', 'Registers'],
  fusedPairs: [
    ['KTQ', 'softmax'],
    ['Out', 'layernorm'],
  ],
  mapper: { effort: 300 },
};

type Row = Record<string, string>;
const csv = (dir: string, file: string): Row[] => parseCsv(readFileSync(path.join(dir, 'reports', file), 'utf8'), { columns: true }) as Row[];
const header = (dir: string, file: string) => readFileSync(path.join(dir, 'reports', file), 'utf8').split('\n')[0].split(',');

interface Cached {
  infeasible?: string;
  evaluation?: { summary: { energy_pJ: number; cycles: number } };
}

/** Map results straight from cache/map/<key>/result.json, by cell (`layer@fusion`). */
function cachedResults(dir: string, plan: PlanRow[]): Map<string, Cached> {
  const out = new Map<string, Cached>();
  for (const p of plan.filter((x) => x.kind === 'map')) {
    const result = JSON.parse(readFileSync(path.join(dir, 'cache', 'map', p.key, 'result.json'), 'utf8')) as Cached;
    for (const id of [p.id, ...p.aliases]) {
      const [layer, , fusion] = id.split('/').slice(2);
      out.set(`${layer}@${fusion}`, result);
    }
  }
  return out;
}

const close = (t: { true: (v: boolean, m?: string) => void }, actual: string, expected: number, what: string) =>
  t.true(Math.abs(Number(actual) - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);

test('fused pairs and model totals: the report numbers are the sums of the cached map results; infeasible fused cells are rows with their reason', async (t) => {
  const dir = project({ mini });
  const { run, summary } = await runJson(dir);
  t.is(run.code, 0, run.stderr);
  t.is(summary.failed, 0);
  const infeasible = (summary as unknown as { infeasible: { expected: number; unexpected: unknown[] } }).infeasible;
  t.true(infeasible.expected >= 1, 'KTQ fused at Registers has no mapping');
  t.deepEqual(infeasible.unexpected, []);
  t.regex(run.stderr, /fused tasks? ha(s|ve) no valid mapping \(expected at some fusion levels/);

  const plan = await planJson(dir);
  t.true(plan.every((p) => p.state === 'cached'));
  const results = cachedResults(dir, plan);
  const energy = (cell: string) => results.get(cell)!.evaluation!.summary.energy_pJ;
  const cycles = (cell: string) => results.get(cell)!.evaluation!.summary.cycles;
  const ok = (cell: string) => results.get(cell)!.infeasible === undefined;

  // layers.csv: one row per cell (5 unfused + 4 pair layers × 3 levels), the required columns first.
  const layersHeader = header(dir, 'layers.csv');
  for (const c of ['experiment', 'model', 'layer', 'arch', 'fusion', 'macs', 'energy_pJ', 'cycles', 'utilization', 'edp_J_cycle']) t.true(layersHeader.includes(c), c);
  const layers = csv(dir, 'layers.csv');
  t.is(layers.length, 5 + 4 * 3);
  for (const r of layers) {
    const cell = `${r['layer']}@${r['fusion']}`;
    t.is(r['hw'], r['layer'] === 'softmax' || r['layer'] === 'layernorm' ? 'gemmini-no' : 'gemmini');
    if (ok(cell)) {
      t.is(r['status'], 'ok');
      close(t, r['energy_pJ'], energy(cell), cell);
    } else {
      t.is(r['status'], 'infeasible');
      t.is(r['reason'], results.get(cell)!.infeasible!);
      t.is(r['energy_pJ'], '');
    }
  }
  const ktqRegisters = layers.find((r) => r['layer'] === 'KTQ' && r['fusion'] === 'Registers')!;
  t.is(ktqRegisters['status'], 'infeasible');
  t.regex(ktqRegisters['reason']!, /^no split of dimension D=64 over the loops satisfies the constraints/);

  // fusion.csv: fused = matmul + NO at the level, unfused = the two unfused, savings.
  t.deepEqual(header(dir, 'fusion.csv').slice(0, 15), ['experiment', 'model', 'arch', 'pair', 'fusion', 'fusion_mode', 'fusion_flags', 'per_block', 'blocks', 'status', 'reason', 'unfused_energy_pJ', 'fused_energy_pJ', 'savings_pJ', 'savings_pct']);
  const fusion = csv(dir, 'fusion.csv');
  t.deepEqual(
    fusion.map((r) => `${r['pair']}@${r['fusion']}`),
    ['KTQ→softmax@DRAM', 'KTQ→softmax@Accumulator', 'KTQ→softmax@Registers', 'Out→layernorm@DRAM', 'Out→layernorm@Accumulator', 'Out→layernorm@Registers'],
  );
  for (const r of fusion) {
    const [m, n] = [r['pair'].split('→')[0], r['pair'].split('→')[1]];
    const level = r['fusion'];
    const unfused = energy(`${m}@none`) + energy(`${n}@none`);
    close(t, r['unfused_energy_pJ'], unfused, `${r['pair']} unfused`);
    t.is(r['per_block'], m === 'KTQ' ? '12' : '1');
    t.is(r['blocks'], '12');
    if (ok(`${m}@${level}`) && ok(`${n}@${level}`)) {
      const fused = energy(`${m}@${level}`) + energy(`${n}@${level}`);
      t.is(r['status'], 'ok');
      close(t, r['fused_energy_pJ'], fused, `${r['pair']}@${level} fused`);
      close(t, r['fused_matmul_energy_pJ'], energy(`${m}@${level}`), 'matmul side');
      close(t, r['fused_normop_energy_pJ'], energy(`${n}@${level}`), 'NO side');
      close(t, r['savings_pct'], (100 * (unfused - fused)) / unfused, 'savings %');
      close(t, r['model_savings_pJ'], (unfused - fused) * Number(r['per_block']) * 12, 'model savings');
      close(t, r['fused_cycles_sequential'], cycles(`${m}@${level}`) + cycles(`${n}@${level}`), 'cycles (sequential bound)');
      if (level === 'DRAM') t.is(Number(r['savings_pJ']), 0);
    } else {
      t.is(r['status'], 'infeasible');
      t.regex(r['reason'], new RegExp(`^(${m}|${n}) fused at ${level}: `));
      t.is(r['fused_energy_pJ'], '');
    }
  }
  const ktqAcc = fusion.find((r) => r['pair'] === 'KTQ→softmax' && r['fusion'] === 'Accumulator')!;
  t.is(ktqAcc.status, 'ok');
  t.true(Number(ktqAcc['savings_pct']) > 0, 'fusing KTQ → softmax at the Accumulator saves energy');
  t.is(fusion.find((r) => r['pair'] === 'KTQ→softmax' && r['fusion'] === 'Registers')!.status, 'infeasible');

  // models.csv: per block Σ energy × instances per block (12 heads for KTQ, softmax), × 12 blocks.
  const models = csv(dir, 'models.csv');
  t.deepEqual(models.map((r) => r['fusion']), ['none', 'DRAM', 'Accumulator', 'Registers']);
  const perBlock: Record<string, number> = { KQV: 1, KTQ: 12, softmax: 12, Out: 1, layernorm: 1 };
  const pairs = [['KTQ', 'softmax'], ['Out', 'layernorm']];
  for (const r of models) {
    const level = r['fusion'];
    let block = 0;
    let fusedPairs = 0;
    for (const layer of Object.keys(perBlock)) {
      const pair = pairs.find((p) => p.includes(layer));
      const fused = level !== 'none' && pair !== undefined && pair.every((l) => ok(`${l}@${level}`));
      if (fused && layer === pair![0]) fusedPairs++;
      block += energy(`${layer}@${fused ? level : 'none'}`) * perBlock[layer];
    }
    if (level !== 'none' && fusedPairs === 0) {
      t.is(r['status'], 'infeasible', level);
      t.is(r['model_energy_pJ'], '');
      t.regex(r['reason'], /KTQ→softmax unfused \(KTQ at Registers: /);
      continue;
    }
    t.is(r['status'], level === 'none' || fusedPairs === 2 ? 'ok' : 'partial', level);
    close(t, r['block_energy_pJ'], block, `${level} block energy`);
    close(t, r['model_energy_pJ'], block * 12, `${level} model energy`);
  }
  // Unfused = fused at DRAM.
  t.is(models[0]['model_energy_pJ'], models[1]['model_energy_pJ']);

  // Markdown, charts, index.
  const index = readFileSync(path.join(dir, 'reports', 'index.md'), 'utf8');
  for (const link of ['layers.csv', 'models.md', 'models.csv', 'fusion.md', 'fusion.csv', 'charts/mini-energy-by-layer.svg', 'charts/mini-fusion-savings.svg']) t.true(index.includes(`](${link})`), link);
  t.regex(index, /\| mini \| complete \| 17 \|/);
  for (const chart of ['mini-energy-by-layer.svg', 'mini-fusion-savings.svg']) {
    const svg = readFileSync(path.join(dir, 'reports', 'charts', chart), 'utf8');
    t.regex(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>\n<title>/);
    t.true(svg.trimEnd().endsWith('</svg>'));
  }
  t.regex(readFileSync(path.join(dir, 'reports', 'fusion.md'), 'utf8'), /\| bert-base \| gemmini \| KTQ→softmax \| Registers \(fixed\) \| [\d.e+]+ \| infeasible: KTQ fused at Registers: no split of dimension D=64/);
  t.regex(readFileSync(path.join(dir, 'reports', 'models.md'), 'utf8'), /\| bert-base \| gemmini \| Accumulator \(fixed\) \| [\d.e+]+ \(partial: Out→layernorm unfused/);

  // Warm: nothing runs, same reports.
  const before = readFileSync(path.join(dir, 'reports', 'fusion.csv'), 'utf8');
  const warm = await runJson(dir);
  t.is(warm.run.code, 0);
  t.deepEqual([warm.summary.ran, warm.summary.failed], [0, 0]);
  t.is(readFileSync(path.join(dir, 'reports', 'fusion.csv'), 'utf8'), before);
  // show on a fused pair and an infeasible map task.
  const show = await expt(dir, 'show', 'pair:mini/bert-base/KTQ+softmax/gemmini/Accumulator');
  t.regex(show.stdout, /Fused pair KTQ → softmax at Accumulator \(fixed\), 12 per block, 12 blocks/);
  t.regex((await expt(dir, 'show', 'map:mini/bert-base/KTQ/gemmini/Registers')).stdout, /Infeasible: no split of dimension D=64/);
});

test('an unfused cell without a valid mapping is an error: exit 1, named with its reason, and still a row of the report', async (t) => {
  // KTQ's E is the head size, 64; the TPU preset wants 128 to 256 of E across its Accumulator's fanout.
  const dir = project({ odd: { models: ['bert-base'], layers: ['KTQ'], architectures: ['tpu'], mapper: { effort: 300 } } });
  const { run, summary } = await runJson(dir);
  t.is(run.code, 1);
  t.is(summary.failed, 0);
  const infeasible = (summary as unknown as { infeasible: { expected: number; unexpected: { id: string; reason: string }[] } }).infeasible;
  t.is(infeasible.expected, 0);
  t.deepEqual(infeasible.unexpected.map((u) => u.id), ['map:odd/bert-base/KTQ/tpu/none']);
  t.regex(infeasible.unexpected[0].reason, /^no split of dimension E=64 over the loops satisfies the constraints \(.*Accumulator \(spatial\) >=128,<=256/);
  t.regex(run.stderr, /expt run: map:odd\/bert-base\/KTQ\/tpu\/none has no valid mapping: no split of dimension E=64/);
  const rows = csv(dir, 'layers.csv');
  t.deepEqual(rows.map((r) => [r['layer'], r['status']]), [['KTQ', 'infeasible']]);
  // Cached like any result: the rerun runs nothing and says it again.
  const again = await runJson(dir);
  t.is(again.run.code, 1);
  t.is(again.summary.ran, 0);
});
