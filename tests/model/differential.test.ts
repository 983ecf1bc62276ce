/**
 * Random mappings on every golden case (GEMMs, normalization ops and
 * convolutions): the general nest walk, the closed-form analysis and the lean cost model
 * must agree exactly (whole evaluations deep-equal; energy and cycles
 * bit-identical; the same mappings rejected). The golden cases pin the
 * general walk to Timeloop; this pins the fast paths to the general walk on
 * mappings nobody hand-picked.
 */
import test from 'ava';
import { join } from 'node:path';
import { evaluateMapping, prepareModel } from '../../src/model/evaluate.ts';
import { FastCostModel } from '../../src/model/fast-cost.ts';
import { perturbMapping, randomMapping } from '../../src/mapping/random-mapping.ts';
import type { Mapping } from '../../src/mapping/mapping.ts';
import { importTimeloopDocuments } from '../../src/timeloop/tree-import.ts';
import { Random } from '../../src/util/random.ts';
import { readYamlFile } from '../../src/util/yaml.ts';
import { goldenCases } from '../helpers/golden.ts';

const PER_CASE = 12;

for (const c of goldenCases()) {
  const file = join(c.dir, 'input.yaml');
  const input = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
  const { problem, architecture: arch, ert } = input;
  if (!problem || !arch || !ert) continue;
  // The 128×128 PIM arrays cost ~1 s per general evaluation: sample fewer.
  const samples = c.id.startsWith('pim-128') ? 2 : PER_CASE;
  test(`random mappings on ${c.id}'s architecture: general = closed form = lean`, (t) => {
    const general = prepareModel(problem, arch, ert, { analysis: 'general' });
    const closed = prepareModel(problem, arch, ert, { analysis: 'closed-form' });
    const fast = new FastCostModel(closed);
    const rng = new Random(20251125 + c.id.length * 7919 + c.id.charCodeAt(c.id.length - 1));
    let valid = 0;
    // Half the samples are uniformly random (mostly invalid on small buffers),
    // half a random walk from the case's own mapping (mostly valid).
    const perfect = (m: Mapping) => m.levels.every((l) => l.temporal.factors.every((f, d) => f === l.temporal.residuals[d]) && (l.spatial?.factors.every((f, d) => f === l.spatial?.residuals[d]) ?? true));
    let walk: Mapping | undefined = input.mapping && perfect(input.mapping) ? input.mapping : undefined;
    for (let k = 0; k < 2 * samples; k++) {
      const mapping = k % 2 === 0 || walk === undefined ? randomMapping(problem, arch, rng) : perturbMapping(walk, rng);
      const a = evaluateMapping(general, mapping);
      const b = evaluateMapping(closed, mapping);
      t.deepEqual(b, a, `mapping #${k}`);
      const ok = fast.evaluate(mapping);
      t.is(ok, a.ok, `mapping #${k}: lean says ${fast.invalidReason}`);
      if (a.ok) {
        valid++;
        if (k % 2 === 1) walk = mapping;
        t.is(fast.energy, a.value.summary.energy_pJ, `mapping #${k} energy`);
        t.is(fast.cycles, a.value.summary.cycles, `mapping #${k} cycles`);
      }
    }
    t.log(`${valid}/${2 * samples} sampled mappings valid`);
  });
}
