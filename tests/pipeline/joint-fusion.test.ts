/**
 * `fusion: [..., 'joint']` end to end, through the real CLI in a temp
 * project: BERT-base on gemmini, unfused, at the study's Accumulator level
 * and jointly. The joint-block task depends on the experiment's own map
 * tasks, the reports compare the three, the joint block is at most the
 * others, a second run computes nothing, `expt show` prints the fused
 * loop nests side by side, and `expt check` compares each fused layer with
 * timeloop-model where it is installed.
 */
import test from 'ava';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { repoRoot } from '../helpers/golden.ts';
import { findTimeloopModel } from '../helpers/oracle-fuzz.ts';
import { cleanupTempDirs, expt, makeProject, readText, writeConfig } from './fixture.ts';

test.after.always(cleanupTempDirs);

test("fusion: ['none', 'Accumulator', 'joint'] on gemmini: a joint-block task over the experiment's cells; reports alone vs rewrite vs joint; warm run computes nothing", async (t) => {
  const dir = makeProject('expt-joint-');
  // The presets, as a clone has them.
  mkdirSync(path.join(dir, 'experiments', 'archs'), { recursive: true });
  for (const a of ['gemmini', 'gemmini-no']) {
    for (const ext of ['.yaml', '.energy.csv']) {
      const from = path.join(repoRoot, 'experiments', 'archs', `${a}${ext}`);
      if (existsSync(from)) copyFileSync(from, path.join(dir, 'experiments', 'archs', `${a}${ext}`));
    }
  }
  writeConfig(dir, {
    block: { models: ['bert-base'], layers: ['KQV', 'KTQ', 'softmax', 'VScores', 'Out', 'layernorm', 'FF1', 'FF2'], architectures: ['gemmini'], fusion: ['none', 'Accumulator', 'joint'] },
  });
  const plan = await expt(dir, 'plan', '--json');
  t.is(plan.code, 0, plan.stderr);
  const rows = JSON.parse(plan.stdout) as { id: string; kind: string; deps: string[] }[];
  const joint = rows.filter((r) => r.kind === 'joint-block');
  t.is(joint.length, 1);
  t.is(joint[0].id, 'joint:block/bert-base/block/gemmini/joint');
  // Its dependencies: the eight unfused cells and the four fused sides at the Accumulator.
  t.is(joint[0].deps.length, 12);

  const run = await expt(dir, 'run');
  t.is(run.code, 0, run.stderr);
  const csv = parseCsv(readText(dir, 'reports/fusion-joint.csv'), { columns: true }) as Record<string, string>[];
  t.deepEqual(
    csv.map((r) => `${r['method']}@${r['level']}`),
    ['alone@none', 'rewrite@Accumulator', 'joint@joint'],
  );
  const edp = (method: string) => Number(csv.find((r) => r['method'] === method)!['block_edp_J_cycle']);
  t.true(edp('joint') <= edp('alone'));
  t.true(edp('joint') <= edp('rewrite'));
  t.not(csv.find((r) => r['method'] === 'joint')!['fused'], '', 'BERT-base on gemmini gains by fusing');
  // The alone row is the experiment's own model total at fusion none.
  const models = parseCsv(readText(dir, 'reports/models.csv'), { columns: true }) as Record<string, string>[];
  const none = models.find((m) => m['fusion'] === 'none')!;
  t.true(Math.abs(Number(none['block_energy_pJ']) - Number(csv[0]['block_energy_pJ'])) <= 1e-9 * Number(none['block_energy_pJ']));
  t.is(Number(none['block_cycles']), Number(csv[0]['block_cycles']));
  t.regex(readText(dir, 'reports/fusion-joint.md'), /\| bert-base \| gemmini \| joint \|/);
  t.regex(readText(dir, 'reports/index.md'), /fusion-joint\.md/);
  t.true(readText(dir, 'reports/fusion-joint-front.csv').split('\n').length > 2);
  t.regex(readText(dir, 'reports/charts/block-fusion-joint.svg'), /<svg/);
  t.regex(readText(dir, 'reports/charts/block-fusion-joint-front.svg'), /<svg[\s\S]*bert-base \/ gemmini/);

  const warm = await expt(dir, 'run');
  t.is(warm.code, 0, warm.stderr);
  t.regex(warm.stdout + warm.stderr, /0 ran/);

  const show = await expt(dir, 'show', 'joint:block/bert-base/block/gemmini/joint');
  t.is(show.code, 0, show.stderr);
  t.regex(show.stdout, /Fused group \S+ at \S+ \(loop nests outer to inner, side by side\)/);
  t.regex(show.stdout, /study rewrite @ Accumulator/);

  // expt check: each fused layer of the joint block against timeloop-model, where it is installed.
  const model = findTimeloopModel();
  if (model === null) {
    t.log('timeloop-model not installed: expt check of the joint block skipped');
    return;
  }
  const check = await expt(dir, 'check', '--only', 'fusion=joint', '--timeloop-bin', path.dirname(model), '--json');
  t.is(check.code, 0, check.stderr);
  const j = JSON.parse(check.stdout) as { totals: { joint_layers?: number }; rows: { id: string; status: string; counts_equal: boolean; cycles_ratio: number }[] };
  const fusedRows = j.rows.filter((r) => r.id.startsWith('joint:'));
  t.true(fusedRows.length >= 2);
  t.is(j.totals.joint_layers, fusedRows.length);
  for (const r of fusedRows) {
    t.is(r.status, 'compared', r.id);
    t.true(r.counts_equal, r.id);
    t.is(r.cycles_ratio, 1, r.id);
  }
});
