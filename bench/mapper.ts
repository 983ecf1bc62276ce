/**
 * `npm run bench -- mapper [--no-exhaustive] [--no-imperfect]`: the study's eight reference
 * mapper runs (tests/fixtures/golden/paper-*): per case, the default local search
 * and the exhaustive search on one core — wall time, EDP, the ratio to the
 * better of Timeloop's mapper and the study's run, the ratio between the two
 * searches, and the time until the search first matched Timeloop's EDP.
 * Timeloop's own wall time on this machine (mapper-expected.json) is the
 * baseline the speedup is measured against. Then the same local search with
 * imperfect factors (`expt map --imperfect`): its wall time and its EDP over
 * the perfect-factor search's, measured in the same run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMapperJob } from '../src/inputs/mapper-job.ts';
import { MapSpace } from '../src/mapper/mapspace.ts';
import { exhaustiveSearch, localSearch } from '../src/mapper/search.ts';
import { prepareModel } from '../src/model/evaluate.ts';
import { goldenCases } from '../tests/helpers/golden.ts';

export function main(argv: string[]): number {
  const withExhaustive = !argv.includes('--no-exhaustive');
  const withImperfect = !argv.includes('--no-imperfect');
  let worstRatio = 0;
  let totalLocal = 0;
  let totalTimeloop = 0;
  for (const c of goldenCases().filter((x) => x.category === 'paper')) {
    const expected = JSON.parse(readFileSync(join(c.dir, 'mapper-expected.json'), 'utf8'));
    const target = Math.min(expected.best.edp_J_cycle, expected.study.edp_J_cycle_dynamic_only);
    const job = readMapperJob([join(c.dir, 'mapper-input.yaml')]);
    const t0 = performance.now();
    const space = new MapSpace(job.problem, job.arch, job.constraints);
    const ctx = prepareModel(job.problem, job.arch, job.ert);
    const ls = localSearch(space, ctx, { metrics: job.metrics, effort: 10_000, targetEdp: expected.best.edp_J_cycle });
    const localS = (performance.now() - t0) / 1000;
    const lsEdp = ls.energy * 1e-12 * ls.cycles;
    const id = c.id.replace(/-/g, '_');
    console.log(`${id}_local_wall_s: ${localS.toFixed(3)}`);
    console.log(`${id}_local_edp_J_cycle: ${lsEdp.toExponential(5)}`);
    console.log(`${id}_local_over_target_edp: ${(lsEdp / target).toFixed(4)}`);
    console.log(`${id}_timeloop_wall_s: ${expected.wall_time_s}`);
    console.log(`${id}_speedup_over_timeloop: ${(expected.wall_time_s / localS).toFixed(1)}`);
    console.log(`${id}_time_to_timeloop_edp_s: ${ls.stats.reachedTargetMs === null ? 'never' : (ls.stats.reachedTargetMs / 1000).toFixed(3)}`);
    worstRatio = Math.max(worstRatio, lsEdp / target);
    totalLocal += localS;
    totalTimeloop += expected.wall_time_s;
    if (withExhaustive) {
      const t1 = performance.now();
      const ex = exhaustiveSearch(space, ctx, { metrics: job.metrics });
      const exS = (performance.now() - t1) / 1000;
      const exEdp = ex.energy * 1e-12 * ex.cycles;
      console.log(`${id}_exhaustive_wall_s: ${exS.toFixed(3)}`);
      console.log(`${id}_exhaustive_mappings: ${ex.stats.evaluated}`);
      console.log(`${id}_local_over_exhaustive_edp: ${(lsEdp / exEdp).toFixed(6)}`);
    }
    if (withImperfect) {
      const t2 = performance.now();
      const imperfectSpace = new MapSpace(job.problem, job.arch, job.constraints, { imperfect: 'spatial' });
      const im = localSearch(imperfectSpace, ctx, { metrics: job.metrics, effort: 10_000 });
      const imS = (performance.now() - t2) / 1000;
      const imEdp = im.energy * 1e-12 * im.cycles;
      console.log(`${id}_imperfect_wall_s: ${imS.toFixed(3)}`);
      console.log(`${id}_imperfect_edp_J_cycle: ${imEdp.toExponential(5)}`);
      console.log(`${id}_imperfect_over_local_edp: ${(imEdp / lsEdp).toFixed(4)}`);
      console.log(`${id}_imperfect_over_target_edp: ${(imEdp / target).toFixed(4)}`);
    }
  }
  console.log(`worst_local_over_target_edp: ${worstRatio.toFixed(4)}`);
  console.log(`total_local_wall_s: ${totalLocal.toFixed(3)}`);
  console.log(`total_timeloop_wall_s: ${totalTimeloop.toFixed(1)}`);
  return 0;
}
