/**
 * `npm run bench -- fusion [model] [arch]`: joint fusion of a whole block
 * (src/fusion/block-study.ts) and of two chained matmuls, on one core.
 *
 * - `fused_block_s`: a BERT-large block (default) on gemmini: every layer
 *   mapped alone, the study's rewrite levels, and the joint search seeded
 *   with both; `joint_search_s` is the joint search's part, and
 *   `layers_alone_s` the mapper alone on the block's layers in the same run
 *   (the baseline the ratio is against).
 * - `chained_matmul_s`: two chained 4096 × 1024 × 1024 matmuls (M × K × N:
 *   A[4096][1024]·W1[1024][1024], then ·W2[1024][1024]) on gemmini.
 * EDPs and energies are the model's, J·cycle and pJ.
 */
import { loadArchitecture, presetConstraints } from '../src/inputs/presets.ts';
import { studyBlock } from '../src/fusion/block-study.ts';
import { chainCascade } from '../src/fusion/cascade.ts';
import { jointSearch } from '../src/fusion/joint.ts';
import { mapOne } from '../src/mapper/job.ts';
import { mapSettings } from '../src/mapper/settings.ts';
import { gemmProblem } from '../src/workload/shapes.ts';

export function main(args: string[]): number {
  const model = args[0] ?? 'bert-large';
  const arch = args[1] ?? 'gemmini';
  const main = loadArchitecture(arch);
  const no = loadArchitecture(`${arch}-no`);
  const edp = (p: { energy: number; cycles: number }) => p.energy * p.cycles * 1e-12;

  const t0 = performance.now();
  const s = studyBlock(model, { main, no });
  const blockS = (performance.now() - t0) / 1000;
  // The same joint search again, timed alone (its seeds from the run above).
  const t1 = performance.now();
  jointSearch(s.cascade, { seeds: s.alone.groups.map((g) => ({ layer: g.first, role: { input: null, output: null }, mapping: g.mappings[0] })) });
  const jointS = (performance.now() - t1) / 1000;
  const t2 = performance.now();
  for (const l of s.cascade.layers) mapOne({ problem: l.problem, arch: l.arch, ert: l.ert, constraints: l.constraints, settings: mapSettings({}) });
  const aloneS = (performance.now() - t2) / 1000;
  console.log(`case: ${model} block on ${arch} (${s.cascade.layers.map((l) => l.id).join(', ')})`);
  console.log(`fused_block_s: ${blockS.toFixed(3)}`);
  console.log(`joint_search_s: ${jointS.toFixed(3)}`);
  console.log(`layers_alone_s: ${aloneS.toFixed(3)}`);
  console.log(`joint_search_over_layers_alone_time: ${(jointS / aloneS).toFixed(2)}`);
  console.log(`block_alone_edp_J_cycle: ${edp(s.alone).toExponential(5)}`);
  for (const r of s.rewrites) console.log(`block_rewrite_${r.level}_edp_J_cycle: ${edp(r.point).toExponential(5)}`);
  console.log(`block_joint_edp_J_cycle: ${edp(s.joint.best).toExponential(5)}`);
  console.log(`block_joint_over_alone_edp: ${(edp(s.joint.best) / edp(s.alone)).toFixed(4)}`);
  console.log(`block_joint_over_alone_energy: ${(s.joint.best.energy / s.alone.energy).toFixed(4)}`);
  const ids = s.cascade.layers.map((l) => l.id);
  console.log(`block_joint_groups: ${s.joint.best.groups.map((g) => `${ids[g.first]}${g.last > g.first ? `-${ids[g.last]}` : ''}@${g.level ?? 'alone'}`).join(' ')}`);
  console.log(`block_joint_front_points: ${s.joint.front.length}`);

  const layer = (p: ReturnType<typeof gemmProblem>) => ({ id: p.name, problem: p, arch: main.arch, ert: main.ert, constraints: presetConstraints(main, p) });
  // Gemmini's GEMM is Out[D][L] += W[D][E]·In[E][L]: the 4096 rows are L.
  const cascade = chainCascade('chained matmuls', [layer(gemmProblem('MM1', { D: 1024, E: 1024, L: 4096 })), layer(gemmProblem('MM2', { D: 1024, E: 1024, L: 4096 }))]);
  const t3 = performance.now();
  const seeds = cascade.layers.map((l, g) => {
    const o = mapOne({ problem: l.problem, arch: l.arch, ert: l.ert, constraints: l.constraints, settings: mapSettings({}) });
    if (o.status !== 'mapped') throw new Error(`${l.id}: ${o.status}`);
    return { layer: g, role: { input: null, output: null }, mapping: o.mapping };
  });
  const r = jointSearch(cascade, { seeds });
  const chainS = (performance.now() - t3) / 1000;
  console.log(`chained_matmul_s: ${chainS.toFixed(3)}`);
  console.log(`chained_matmul_alone_edp_J_cycle: ${edp(r.unfused).toExponential(5)}`);
  console.log(`chained_matmul_joint_edp_J_cycle: ${edp(r.best).toExponential(5)}`);
  console.log(`chained_matmul_joint_over_alone_energy: ${(r.best.energy / r.unfused.energy).toFixed(4)}`);
  console.log(`chained_matmul_fused: ${r.best.groups.some((g) => g.level !== null)}`);
  return 0;
}
