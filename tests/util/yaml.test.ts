import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UserError } from '../../src/util/errors.ts';
import { mergeYamlDocuments, readYamlFile } from '../../src/util/yaml.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'expt-yaml-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

test('readYamlFile parses a map', (t) => {
  const file = write('ok.yaml', 'problem:\n  instance: {D: 4, E: 8}\n');
  t.deepEqual(readYamlFile(file), { problem: { instance: { D: 4, E: 8 } } });
});

test('a YAML syntax error is a UserError naming the file and line', (t) => {
  const file = write('bad.yaml', 'a: 1\nb: [1, 2\nc: 3\n');
  const error = t.throws(() => readYamlFile(file), { instanceOf: UserError });
  t.is(error?.file, file);
  t.regex(error?.field ?? '', /^line \d+$/);
  t.regex(error?.format() ?? '', new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: line \\d+: YAML syntax error`));
  t.false(error?.format().includes('\n'));
});

test('a duplicate key is a UserError', (t) => {
  const file = write('dup.yaml', 'a: 1\na: 2\n');
  t.throws(() => readYamlFile(file), { instanceOf: UserError });
});

test('a missing file is a UserError', (t) => {
  const error = t.throws(() => readYamlFile(path.join(dir, 'nope.yaml')), { instanceOf: UserError });
  t.regex(error?.message ?? '', /file not found/);
});

test('mergeYamlDocuments unions top-level keys; a later file wins', (t) => {
  const merged = mergeYamlDocuments([
    { architecture: { version: 0.4, a: 1 }, problem: { p: 1 } },
    null,
    { architecture: { b: 2 }, mapping: [] },
  ]);
  t.deepEqual(merged, { architecture: { b: 2 }, problem: { p: 1 }, mapping: [] });
});

test('mergeYamlDocuments rejects a document that is not a map', (t) => {
  const error = t.throws(() => mergeYamlDocuments([{ a: 1 }, [1, 2]], ['a.yaml', 'b.yaml']), { instanceOf: UserError });
  t.is(error?.file, 'b.yaml');
});
