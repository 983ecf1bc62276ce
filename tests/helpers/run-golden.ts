// Dev aid: evaluates every golden case and prints the differences (not a test).
import { join } from 'node:path';
import { readYamlFile } from '../../src/util/yaml.ts';
import { importTimeloopDocuments } from '../../src/timeloop/tree-import.ts';
import { prepareModel, evaluateMapping } from '../../src/model/evaluate.ts';
import { goldenCases, readExpected, compareWithExpected } from './golden.ts';

const only = process.argv[2];
let pass = 0;
let total = 0;
for (const c of goldenCases()) {
  if (only && !c.id.includes(only)) continue;
  total++;
  const file = join(c.dir, 'input.yaml');
  try {
    const input = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
    const analysis = (process.env.ANALYSIS ?? 'auto') as 'auto' | 'general' | 'closed-form';
    if (analysis === 'closed-form' && (c.category === 'conv' || c.category === 'imperfect')) continue;
    const ctx = prepareModel(input.problem!, input.architecture!, input.ert!, { analysis });
    const out = evaluateMapping(ctx, input.mapping!);
    if (!out.ok) {
      console.log(`${c.id}: INVALID ${JSON.stringify(out.error)}`);
      continue;
    }
    const diffs = compareWithExpected(out.value, readExpected(c), { networks: process.env.NETWORKS === '1' });
    if (diffs.length === 0) pass++;
    else console.log(`${c.id}: ${diffs.length} diffs\n  ${diffs.slice(0, 8).join('\n  ')}`);
  } catch (e) {
    console.log(`${c.id}: ERROR ${(e as Error).stack}`);
  }
}
console.log(`${pass} / ${total} exact`);
