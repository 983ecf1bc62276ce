/**
 * YAML helpers for Timeloop-style input files.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments, YAMLParseError } from 'yaml';
import { UserError } from './errors.ts';

/**
 * Reads and parses one YAML file. A file with several `---` documents is
 * rejected (Timeloop reads one document per file). I/O and syntax errors
 * become a {@link UserError} naming the file and, for syntax errors, the line.
 * An empty file parses to `null`.
 */
export function readYamlFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : String((error as Error).message);
    throw new UserError(`cannot read YAML file: ${reason}`, path);
  }
  return parseYamlText(text, path);
}

/** Parses YAML text; `file` only serves the error messages. */
export function parseYamlText(text: string, file?: string): unknown {
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  if (!Array.isArray(docs)) return null; // an empty stream
  if (docs.length === 0) return null;
  for (const doc of docs) {
    const problem = doc.errors[0];
    if (problem !== undefined) throw yamlError(problem, file);
  }
  if (docs.length > 1) {
    throw new UserError(`expected one YAML document, found ${docs.length} (separated by '---')`, file);
  }
  return docs[0].toJS({ maxAliasCount: 10_000 });
}

function yamlError(error: YAMLParseError, file: string | undefined): UserError {
  const line = error.linePos?.[0];
  const where = line !== undefined ? `line ${line.line}` : undefined;
  // The yaml package's messages end with "at line L, column C:" plus a code excerpt; keep the first sentence.
  const message = error.message.split('\n')[0].replace(/\s+at line \d+, column \d+:?$/, '');
  return new UserError(`YAML syntax error: ${message}`, file, where);
}

/** A plain object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Merges the top-level maps of several Timeloop input files, in order, the
 * way Timeloop combines the files on its command line: the top-level keys
 * are unioned, and when two files define the same key the later file wins
 * (its value replaces the earlier one; maps are NOT merged below the top
 * level). `null`/empty documents are skipped. A document that is not a map
 * is a {@link UserError}. The result is a fresh object; inputs are not
 * modified.
 */
export function mergeYamlDocuments(docs: unknown[], files?: readonly string[]): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  docs.forEach((doc, i) => {
    if (doc === null || doc === undefined) return;
    if (!isPlainObject(doc)) {
      throw new UserError(`expected a map of top-level keys, found ${Array.isArray(doc) ? 'a list' : typeof doc}`, files?.[i]);
    }
    for (const [key, value] of Object.entries(doc)) merged[key] = value;
  });
  return merged;
}
