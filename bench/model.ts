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
 * the general nest walk (the path convolutions take).
 */
import { join } from 'node:path';
import { prepareModel, evaluateMapping } from '../src/model/evaluate.ts';
import { FastCostModel } from '../src/model/fast-cost.ts';
import { perturbMapping } from '../src/mapping/random-mapping.ts';
import type { Mapping } from '../src/mapping/mapping.ts';
import { importTimeloopDocuments } from '../src/timeloop/tree-import.ts';
import { Random } from '../src/util/random.ts';
import { readYamlFile } from '../src/util/yaml.ts';
import { goldenDir } from '../tests/helpers/golden.ts';

function rate(seconds: number, pool: readonly Mapping[], evaluate: (m: Mapping) => void): number {
  // Warm up the JIT, then time whole passes over the pool.
  for (let i = 0; i < Math.min(2000, pool.length * 10); i++) evaluate(pool[i % pool.length]);
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
  const pool: Mapping[] = [mapping];
  const rng = new Random(7);
  let current = mapping;
  for (let tried = 0; pool.length < 200 && tried < 100_000; tried++) {
    const m = perturbMapping(current, rng);
    if (evaluateMapping(closed, m).ok) {
      pool.push(m);
      current = m;
    }
  }

  const lean = new FastCostModel(closed);
  let sink = 0;
  const leanRate = rate(seconds, pool, (m) => {
    if (lean.evaluate(m)) sink += lean.cycles;
  });
  const fullRate = rate(seconds, pool, (m) => {
    const r = evaluateMapping(closed, m);
    if (r.ok) sink += r.value.summary.cycles;
  });
  const generalRate = rate(seconds, pool.slice(0, 20), (m) => {
    const r = evaluateMapping(general, m);
    if (r.ok) sink += r.value.summary.cycles;
  });
  if (sink === 0) throw new Error('no mapping evaluated');

  console.log(`case: gemmini-kqv-reference (BERT-large KQV on the Gemmini-like 16x16 array), ${pool.length} valid mappings`);
  console.log(`model_evals_per_s: ${Math.round(leanRate)}`);
  console.log(`model_full_evals_per_s: ${Math.round(fullRate)}`);
  console.log(`model_general_evals_per_s: ${Math.round(generalRate)}`);
  console.log(`lean_over_full_ratio: ${(leanRate / fullRate).toFixed(2)}`);
  console.log(`lean_over_general_ratio: ${(leanRate / generalRate).toFixed(1)}`);
  return 0;
}
