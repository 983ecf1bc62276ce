/**
 * On the Gemmini reference runs the exhaustive search (which visits the
 * whole constrained map space, so its result is the optimum under the model)
 * and the default local search must agree within 1% EDP, and the exhaustive
 * optimum can be no worse than the local search's result.
 */
import test from 'ava';
import { join } from 'node:path';
import { readMapperJob } from '../../src/inputs/mapper-job.ts';
import { MapSpace } from '../../src/mapper/mapspace.ts';
import { exhaustiveSearch, localSearch } from '../../src/mapper/search.ts';
import { prepareModel } from '../../src/model/evaluate.ts';
import { goldenCases } from '../helpers/golden.ts';

for (const c of goldenCases().filter((x) => x.category === 'paper' && x.id.includes('gemmini'))) {
  test(`${c.id}: exhaustive optimum and local search agree within 1%`, (t) => {
    const job = readMapperJob([join(c.dir, 'mapper-input.yaml')]);
    const space = new MapSpace(job.problem, job.arch, job.constraints);
    const ctx = prepareModel(job.problem, job.arch, job.ert);
    const ex = exhaustiveSearch(space, ctx, { metrics: job.metrics });
    const ls = localSearch(space, ctx, { metrics: job.metrics, effort: 10_000 });
    t.true(ex.stats.complete);
    const exEdp = ex.energy * ex.cycles;
    const lsEdp = ls.energy * ls.cycles;
    t.log(`exhaustive ${(exEdp * 1e-12).toExponential(5)} (${ex.stats.evaluated} mappings), local ${(lsEdp * 1e-12).toExponential(5)} (${ls.stats.evaluated})`);
    t.true(exEdp <= lsEdp * (1 + 1e-12));
    t.true(lsEdp <= exEdp * 1.01);
  });
}
