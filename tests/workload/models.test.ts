/**
 * Model definitions: the presets (study-facts §2.2 variables and the public
 * GPT-2 table), the shipped YAML in experiments/models/, and the errors of
 * bad definitions.
 */
import test from 'ava';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UserError } from '../../src/util/errors.ts';
import {
  findModel,
  modelCatalog,
  MODEL_PRESETS,
  modelToData,
  parseModel,
  withOverrides,
} from '../../src/workload/models.ts';
import { loadModelDir, loadModelFile } from '../../src/inputs/models.ts';
import { repoRoot } from '../helpers/golden.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'expt-models-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

test('the presets: ids and size variables', (t) => {
  const rows = MODEL_PRESETS.map((m) => [m.id, m.embedding, m.heads, m.headDim, m.ffDim, m.seqLength, m.blocks, m.batch]);
  t.deepEqual(rows, [
    ['bert-base', 768, 12, 64, 3072, 512, 12, 1],
    ['bert-large', 1024, 16, 64, 4096, 4096, 24, 1],
    ['bert-large-s512', 1024, 16, 64, 4096, 512, 24, 1],
    ['gpt2-small', 768, 12, 64, 3072, 1024, 12, 1],
    ['gpt2-medium', 1024, 16, 64, 4096, 1024, 24, 1],
    ['gpt2-large', 1280, 20, 64, 5120, 1024, 36, 1],
    ['gpt2-xl', 1600, 25, 64, 6400, 1024, 48, 1],
  ]);
});

test('every preset passes its own validation and round-trips through YAML data', (t) => {
  for (const m of MODEL_PRESETS) t.deepEqual(parseModel(modelToData(m)), m);
});

test('experiments/models/*.yaml define exactly the presets', (t) => {
  const models = loadModelDir(path.join(repoRoot, 'experiments', 'models'));
  const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
  t.deepEqual([...models].sort(byId), [...MODEL_PRESETS].sort(byId));
});

test('a file may hold a list of models; head_dim defaults to embedding / heads; camelCase keys work', (t) => {
  const file = write('list.yaml', [
    'models:',
    '  - {id: tiny, embedding: 128, heads: 2, ff_dim: 512, seq_length: 64, blocks: 2}',
    '  - {id: odd, embedding: 100, heads: 3, headDim: 32, ffDim: 400, seqLength: 16, blocks: 1, batch: 8}',
  ].join('\n'));
  const [a, b] = loadModelFile(file);
  t.is(a.headDim, 64);
  t.is(a.name, 'tiny');
  t.is(a.batch, 1);
  t.is(b.headDim, 32);
  t.is(b.batch, 8);
});

test('overrides and the catalog', (t) => {
  const large = findModel('bert-large');
  t.is(withOverrides(large, {}), large);
  t.deepEqual(withOverrides(large, { seqLength: 512, batch: 2 }), { ...large, seqLength: 512, batch: 2 });
  const mine = { ...large, seqLength: 2048 };
  const catalog = modelCatalog([mine, { ...large, id: 'mine' }]);
  t.is(findModel('bert-large', catalog).seqLength, 2048);
  t.is(catalog.length, MODEL_PRESETS.length + 1);
  const e = t.throws(() => findModel('bert-xxl', catalog, { file: 'e.yaml', field: 'model' }), { instanceOf: UserError });
  t.is(e?.format(), `e.yaml: model: unknown model 'bert-xxl' (known: ${catalog.map((m) => m.id).join(', ')})`);
});

function fails(t: import('ava').ExecutionContext, text: string, field: string, message: RegExp, name = 'bad.yaml') {
  const file = write(name, text);
  const e = t.throws(() => loadModelFile(file), { instanceOf: UserError });
  t.is(e?.file, file);
  t.is(e?.field ?? '', field);
  t.regex(e?.message ?? '', message);
}

const OK = 'id: m\nembedding: 64\nheads: 4\nff_dim: 256\nseq_length: 32\nblocks: 2\n';

test('a negative size names the file and field', (t) => {
  fails(t, OK.replace('heads: 4', 'heads: -4'), 'heads', /positive whole number, got -4/);
  fails(t, OK.replace('blocks: 2', 'blocks: 0'), 'blocks', /positive whole number, got 0/);
  fails(t, OK.replace('seq_length: 32', 'seq_length: 3.5'), 'seq_length', /positive whole number/);
  fails(t, OK.replace('ff_dim: 256', 'ff_dim: "256"'), 'ff_dim', /positive whole number/);
});

test('a missing field names the file and field', (t) => {
  fails(t, OK.replace('ff_dim: 256\n', ''), 'ff_dim', /missing required field 'ff_dim'/);
  fails(t, OK.replace('id: m\n', ''), 'id', /missing required field 'id'/);
  fails(t, `models:\n  - {id: a, embedding: 64, heads: 4, ff_dim: 256, seq_length: 32, blocks: 2}\n  - {id: b, embedding: 64, heads: 4, ff_dim: 256, blocks: 2}\n`, 'models[1].seq_length', /missing/);
});

test('an unknown field, a bad id, indivisible heads, duplicates and empty files are errors', (t) => {
  fails(t, OK + 'hidden: 3\n', 'hidden', /unknown field 'hidden'/);
  fails(t, OK.replace('id: m', 'id: "has space"'), 'id', /not a valid id/);
  fails(t, OK.replace('embedding: 64', 'embedding: 66'), 'heads', /not divisible by 4 heads; give head_dim/);
  fails(t, OK + 'ffDim: 256\n', 'ffDim', /repeats the field 'ff_dim'/);
  fails(t, `models:\n  - {${OK.trim().split('\n').join(', ')}}\n  - {${OK.trim().split('\n').join(', ')}}\n`, 'models[1].id', /defined twice/);
  fails(t, 'models: {id: m}\n', 'models', /expected a list/);
  fails(t, '', '', /empty/);
  fails(t, '- 1\n- 2\n', '', /expected a model definition/);
  const sub = path.join(dir, 'two');
  write('two/a.yaml', OK);
  write('two/b.yaml', OK);
  const e = t.throws(() => loadModelDir(sub), { instanceOf: UserError });
  t.is(e?.file, path.join(sub, 'b.yaml'));
  t.regex(e?.message ?? '', /already defined in .*a\.yaml/);
});
