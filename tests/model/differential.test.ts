/**
 * Random mappings on every golden architecture with an axis-aligned problem:
 * the general nest walk, the closed-form analysis and the lean cost model
 * must agree exactly (whole evaluations deep-equal; energy and cycles
 * bit-identical; the same mappings rejected). The golden cases pin the
 * general walk to Timeloop; this pins the fast paths to the general walk on
 * mappings nobody hand-picked.
 */
import test from 'ava';
import { join } from 'node:path';
import { evaluateMapping, prepareModel } from '../../src/model/evaluate.ts';
import { FastCostModel } from '../../src/model/fast-cost.ts';
import { randomMapping } from '../../src/mapping/random-mapping.ts';
import { importTimeloopDocuments } from '../../src/timeloop/tree-import.ts';
import { Random } from '../../src/util/random.ts';
import { readYamlFile } from '../../src/util/yaml.ts';
import { isAxisAligned } from '../../src/workload/problem.ts';
import { goldenCases } from '../helpers/golden.ts';

const PER_CASE = 12;

for (const c of goldenCases()) {
  const file = join(c.dir, 'input.yaml');
  const input = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
  const { problem, architecture: arch, ert } = input;
  if (!problem || !arch || !ert || !isAxisAligned(problem)) continue;
  // The 128×128 PIM arrays cost ~1 s per general evaluation: sample fewer.
  const samples = c.id.startsWith('pim-128') ? 2 : PER_CASE;
  test(`random mappings on ${c.id}'s architecture: general = closed form = lean`, (t) => {
    const general = prepareModel(problem, arch, ert, { analysis: 'general' });
    const closed = prepareModel(problem, arch, ert, { analysis: 'closed-form' });
    const fast = new FastCostModel(closed);
    const rng = new Random(20251125 + c.id.length * 7919 + c.id.charCodeAt(c.id.length - 1));
    let valid = 0;
    for (let k = 0; k < samples; k++) {
      const mapping = randomMapping(problem, arch, rng);
      const a = evaluateMapping(general, mapping);
      const b = evaluateMapping(closed, mapping);
      t.deepEqual(b, a, `mapping #${k}`);
      const ok = fast.evaluate(mapping);
      t.is(ok, a.ok, `mapping #${k}: lean says ${fast.invalidReason}`);
      if (a.ok) {
        valid++;
        t.is(fast.energy, a.value.summary.energy_pJ, `mapping #${k} energy`);
        t.is(fast.cycles, a.value.summary.cycles, `mapping #${k} cycles`);
      }
    }
    t.log(`${valid}/${samples} random mappings valid`);
  });
}
