/**
 * The golden `paper-*` cases (tests/fixtures/golden/README.md)
 * carry the study's BERT-large KQV (D=3072 E=1024 L=4096) and VScores (one
 * head, D=64 E=4096 L=4096) problems: our layer builders must give the very
 * same Problem objects.
 */
import test from 'ava';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { importTimeloopDocuments } from '../../src/timeloop/tree-import.ts';
import { readYamlFile } from '../../src/util/yaml.ts';
import { blockLayers } from '../../src/workload/layers.ts';
import { goldenDir } from '../helpers/golden.ts';

const papers = readdirSync(goldenDir).filter((d) => d.startsWith('paper-'));

test('the paper cases are present', (t) => {
  t.true(papers.includes('paper-KQV-gemmini-TLD'));
  t.true(papers.includes('paper-VScores-gemmini-TLD'));
});

for (const id of papers) {
  test(`${id}: our BERT-large layer equals the golden problem`, (t) => {
    const layerId = id.split('-')[1];
    const file = join(goldenDir, id, 'input.yaml');
    const { problem } = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
    const layer = blockLayers('bert-large').find((l) => l.id === layerId);
    if (!layer) return t.fail(`no layer ${layerId}`);
    t.deepEqual(layer.problem, problem);
    t.deepEqual(problem?.bounds, layerId === 'KQV' ? [3072, 1024, 4096] : [64, 4096, 4096]);
  });
}
