/**
 * `npm run bench -- model`: how many mappings per second the model evaluates
 * on the Gemmini-like array with BERT-large KQV (D=3072, E=1024, L=4096;
 * study-facts §7.1), on one core.
 *
 * The workload is a fixed pool of 200 valid mappings (the published one and
 * a seeded random walk through its valid neighbours), evaluated round-robin, so the figure is not
 * one mapping's cached best case. Three engines are measured in the same run:
 * the lean cost model the mapper uses (energy, cycles, validity), the full
 * evaluation with the closed-form analysis (every per-level statistic), and
 * the general nest walk (the path imperfect factorizations take).
 *
 * `*_fallbacks` counts the lean model's evaluations that had to take the
 * general walk instead (imperfect factors, or a fanout histogram too wide
 * for its arrays): 0 means every figure above is the closed form's.
 *
 * Then the same three on a convolution with a sliding window: the study's
 * conv III (ResNet's 7×7 stride-2 first layer) on the Eyeriss preset, 200
 * valid mappings from a short search and a random walk around its result.
 *
 * Last, exact evaluations of imperfect mappings (the general walk, which
 * `--imperfect` uses to score its best candidates): BERT-large KQV on the
 * `pim` preset with the 128 × 128 crossbar's D columns split 119 + a
 * residual, every temporal split of the rest. The first evaluation finds
 * the instance caches empty and groups the 16,384 instances; the others
 * reuse them, as a search's later candidates do.
 *
 * And the walk's memo on a deep nest: BERT-large FF1 on the `simba` preset
 * (six levels, three fanouts), imperfect mappings around the perfect
 * search's best, the walk with its memo against the plain walk (each with
 * the instance caches warm).
 */
import { join } from 'node:path';
import { prepareModel, evaluateMapping } from '../src/model/evaluate.ts';
import { analyzeNest, clearInstanceCaches } from '../src/model/nest-analysis.ts';
import { buildLoopNest } from '../src/model/loop-nest.ts';
import type { Problem } from '../src/workload/problem.ts';
import { blockLayers } from '../src/workload/layers.ts';
import { FastCostModel } from '../src/model/fast-cost.ts';
import { perturbMapping } from '../src/mapping/random-mapping.ts';
import type { Mapping } from '../src/mapping/mapping.ts';
import { importTimeloopDocuments } from '../src/timeloop/tree-import.ts';
import { Random } from '../src/util/random.ts';
import { readYamlFile } from '../src/util/yaml.ts';
import { goldenDir } from '../tests/helpers/golden.ts';
import { loadArchitecture, presetConstraints } from '../src/inputs/presets.ts';
import { MapSpace } from '../src/mapper/mapspace.ts';
import { localSearch } from '../src/mapper/search.ts';
import { workload } from '../src/workload/benchmarks.ts';
import { MAPPER_DEFAULTS } from '../src/mapper/settings.ts';
import type { ModelContext } from '../src/model/evaluate.ts';

function rate(seconds: number, pool: readonly Mapping[], evaluate: (m: Mapping) => void, warmup = 2000): number {
  // Warm up the JIT, then time whole passes over the pool.
  for (let i = 0; i < Math.min(warmup, pool.length * 10); i++) evaluate(pool[i % pool.length]);
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < seconds * 1000) {
    for (let i = 0; i < pool.length; i++) evaluate(pool[i]);
    n += pool.length;
    now = performance.now();
  }
  return n / ((now - start) / 1000);
}

export function main(argv: string[]): number {
  const seconds = Number(argv[0] ?? 3);
  const file = join(goldenDir, 'gemmini-kqv-reference', 'input.yaml');
  const input = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
  const { problem, architecture: arch, ert, mapping } = input;
  if (!problem || !arch || !ert || !mapping) throw new Error(`${file}: incomplete input`);
  const closed = prepareModel(problem, arch, ert, { analysis: 'closed-form' });
  const general = prepareModel(problem, arch, ert, { analysis: 'general' });

  // A random walk from the published mapping through valid neighbours.
  const pool = walkPool(closed, mapping, 200);
  const r = rates(seconds, closed, general, pool, pool.slice(0, 20));
  console.log(`case: gemmini-kqv-reference (BERT-large KQV on the Gemmini-like 16x16 array), ${pool.length} valid mappings`);
  console.log(`model_evals_per_s: ${Math.round(r.lean)}`);
  console.log(`model_full_evals_per_s: ${Math.round(r.full)}`);
  console.log(`model_general_evals_per_s: ${Math.round(r.general)}`);
  console.log(`lean_over_full_ratio: ${(r.lean / r.full).toFixed(2)}`);
  console.log(`lean_over_general_ratio: ${(r.lean / r.general).toFixed(1)}`);
  console.log(`model_lean_fallbacks: ${r.fallbacks}`);
  convFigures(seconds);
  imperfectFigures();
  memoFigures();
  return 0;
}

/** Evaluations per second of the lean model, the full closed-form evaluation and the general walk, measured in one run. */
function rates(seconds: number, closed: ModelContext, general: ModelContext, pool: readonly Mapping[], generalPool: readonly Mapping[]): { lean: number; full: number; general: number; fallbacks: number } {
  const lean = new FastCostModel(closed);
  let sink = 0;
  const out = {
    lean: rate(seconds, pool, (m) => {
      if (lean.evaluate(m)) sink += lean.cycles;
    }),
    full: rate(seconds, pool, (m) => {
      const r = evaluateMapping(closed, m);
      if (r.ok) sink += r.value.summary.cycles;
    }),
    general: rate(
      seconds,
      generalPool,
      (m) => {
        const r = evaluateMapping(general, m);
        if (r.ok) sink += r.value.summary.cycles;
      },
      generalPool.length * 2,
    ),
  };
  if (sink === 0) throw new Error('no mapping evaluated');
  return { ...out, fallbacks: lean.fallbacks };
}

/** A pool of `size` valid mappings: `start` and a seeded random walk through valid neighbours. */
function walkPool(ctx: ModelContext, start: Mapping, size: number): Mapping[] {
  const pool: Mapping[] = [start];
  const rng = new Random(7);
  let current = start;
  for (let tried = 0; pool.length < size && tried < 200_000; tried++) {
    const m = perturbMapping(current, rng);
    if (evaluateMapping(ctx, m).ok) {
      pool.push(m);
      current = m;
    }
  }
  return pool;
}

function convFigures(seconds: number): void {
  const preset = loadArchitecture('eyeriss');
  const { problem } = workload('III', { naming: 'study' });
  const closed = prepareModel(problem, preset.arch, preset.ert, { analysis: 'closed-form' });
  const general = prepareModel(problem, preset.arch, preset.ert, { analysis: 'general' });
  const space = new MapSpace(problem, preset.arch, presetConstraints(preset, problem));
  const found = localSearch(space, closed, { metrics: MAPPER_DEFAULTS.metrics, effort: 2000, seed: 1 });
  if (found.mapping === null) throw new Error('conv III on eyeriss: no valid mapping found to start from');
  const pool = walkPool(closed, found.mapping, 200);
  const r = rates(seconds, closed, general, pool, pool.slice(0, 5));
  console.log(`case: conv III (C=3 K=64 P=Q=112 R=S=7, stride 2) on the eyeriss preset, ${pool.length} valid mappings`);
  console.log(`model_conv_evals_per_s: ${Math.round(r.lean)}`);
  console.log(`model_conv_full_evals_per_s: ${Math.round(r.full)}`);
  console.log(`model_conv_general_evals_per_s: ${r.general.toFixed(1)}`);
  console.log(`conv_lean_over_general_ratio: ${(r.lean / r.general).toFixed(0)}`);
  console.log(`model_conv_lean_fallbacks: ${r.fallbacks}`);
}

/** `mapping` with dimension d split as allocation a of the imperfect map space. */
function withSplit(space: MapSpace, mapping: Mapping, d: number, a: number): Mapping {
  const alloc = space.allocations[d][a];
  const residuals = space.residuals[d][a] ?? alloc;
  const levels = mapping.levels.map((lm) => ({
    ...lm,
    temporal: { ...lm.temporal, factors: lm.temporal.factors.slice(), residuals: lm.temporal.residuals.slice() },
    spatial: lm.spatial ? { ...lm.spatial, factors: lm.spatial.factors.slice(), residuals: lm.spatial.residuals.slice() } : null,
  }));
  space.slots.forEach((slot, s) => {
    const target = slot.spatial ? levels[slot.level].spatial! : levels[slot.level].temporal;
    target.factors[d] = alloc[s];
    target.residuals[d] = residuals[s];
  });
  return { levels };
}

function memoFigures(): void {
  const preset = loadArchitecture('simba');
  const problem: Problem = blockLayers('bert-large').find((l) => l.id === 'FF1')!.problem;
  const ctx = prepareModel(problem, preset.arch, preset.ert);
  const constraints = presetConstraints(preset, problem);
  const perfect = localSearch(new MapSpace(problem, preset.arch, constraints), ctx, { metrics: MAPPER_DEFAULTS.metrics, effort: 2000, seed: 1 });
  if (perfect.mapping === null) throw new Error('FF1 on simba: no perfect mapping to start from');
  const space = new MapSpace(problem, preset.arch, constraints, { imperfect: 'spatial' });
  const nests: ReturnType<typeof buildLoopNest>[] = [];
  const rng = new Random(11);
  for (let tried = 0; nests.length < 12 && tried < 10_000; tried++) {
    const d = rng.int(problem.dimensions.length);
    const a = rng.int(space.allocations[d].length);
    if (space.residuals[d][a] === null) continue;
    const nest = buildLoopNest(problem, preset.arch, withSplit(space, perfect.mapping, d, a));
    if (nest.imperfect) nests.push(nest);
  }
  const time = (memo: boolean) => {
    for (const nest of nests) analyzeNest(problem, nest, { linkTransfers: ctx.linkTransfers, memo });
    const t = performance.now();
    for (const nest of nests) analyzeNest(problem, nest, { linkTransfers: ctx.linkTransfers, memo });
    return (performance.now() - t) / nests.length;
  };
  const plain = time(false);
  const memo = time(true);
  console.log(`case: BERT-large FF1 on the simba preset, ${nests.length} imperfect mappings around the perfect search's best (general walk)`);
  console.log(`model_walk_plain_ms: ${plain.toFixed(1)}`);
  console.log(`model_walk_memo_ms: ${memo.toFixed(1)}`);
  console.log(`walk_plain_over_memo_ratio: ${(plain / memo).toFixed(1)}`);
}

function imperfectFigures(): void {
  const preset = loadArchitecture('pim');
  const problem = blockLayers('bert-large').find((l) => l.id === 'KQV')!.problem;
  const ctx = prepareModel(problem, preset.arch, preset.ert);
  const constraints = presetConstraints(preset, problem);
  const perfect = localSearch(new MapSpace(problem, preset.arch, constraints), ctx, { metrics: MAPPER_DEFAULTS.metrics, effort: 2000, seed: 1 });
  if (perfect.mapping === null) throw new Error('KQV on pim: no perfect mapping to start from');
  const space = new MapSpace(problem, preset.arch, constraints, { imperfect: 'spatial' });
  const d = problem.dimensions.indexOf('D');
  const spatialSlot = space.slots.findIndex((slot, s) => slot.spatial && space.allocations[d].some((a) => a[s] === 119));
  const pool: Mapping[] = [];
  space.allocations[d].forEach((alloc, a) => {
    if (space.residuals[d][a] === null || alloc[spatialSlot] !== 119) return;
    const m = withSplit(space, perfect.mapping!, d, a);
    if (evaluateMapping(ctx, m).ok) pool.push(m);
  });
  if (pool.length < 2) throw new Error(`KQV on pim: ${pool.length} valid imperfect mappings with 119 D columns`);
  clearInstanceCaches();
  let t = performance.now();
  evaluateMapping(ctx, pool[0]);
  const first = performance.now() - t;
  t = performance.now();
  for (const m of pool.slice(1)) evaluateMapping(ctx, m);
  const next = (performance.now() - t) / (pool.length - 1);
  console.log(`case: BERT-large KQV on the pim preset, D over the 128x128 crossbar as 119 + residual, ${pool.length} valid imperfect mappings (general walk)`);
  console.log(`model_imperfect_first_ms: ${first.toFixed(1)}`);
  console.log(`model_imperfect_next_ms: ${next.toFixed(1)}`);
  console.log(`imperfect_first_over_next_ratio: ${(first / next).toFixed(1)}`);
}
