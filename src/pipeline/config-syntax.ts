/**
 * Reading the text of an experiments config, keeping the parser's reason and
 * where it is (line and column): cosmiconfig's own YAML/JSON loaders keep
 * neither once their message is cut to one line. Duplicate keys are errors in
 * every format, where the parsers would silently keep the last one (a second
 * experiment of the same name replaces the first).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, type Document } from 'yaml';

// Remembered checks live in expt's own cache folder (node_modules/.cache/expt), per install and
// user: in the shared temp folder another user could mark a text as checked.
const CHECKS_DIR = fileURLToPath(new URL('../../node_modules/.cache/expt/config-checks/', import.meta.url));

/** A syntax error or a duplicate key in a config file, at a 1-based line and column. */
export class ConfigSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(reason);
    this.name = 'ConfigSyntaxError';
  }

  /** `line L, column C: reason`, leaving out what is not known. */
  where(): string {
    const at = this.line === undefined ? '' : this.column === undefined ? `line ${this.line}: ` : `line ${this.line}, column ${this.column}: `;
    return `${at}${this.reason}`;
  }
}

/** The key that starts at `offset` of `text` (a quoted or plain YAML/JSON key), for messages. */
function keyAt(text: string, offset: number): string | undefined {
  const m = /^(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s:,{}[\]]+))/.exec(text.slice(offset));
  return m ? (m[1] ?? m[2] ?? m[3]) : undefined;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/**
 * The first error of a parsed YAML (or JSON) text, or only its first
 * duplicate key; the `yaml` package finds those (`uniqueKeys`) with their
 * position.
 */
function documentError(doc: Document, text: string, onlyDuplicates: boolean): ConfigSyntaxError | undefined {
  const error = onlyDuplicates ? doc.errors.find((e) => e.code === 'DUPLICATE_KEY') : doc.errors[0];
  if (error === undefined) return undefined;
  const pos = error.linePos?.[0];
  if (error.code === 'DUPLICATE_KEY') {
    const key = keyAt(text, error.pos[0]);
    return new ConfigSyntaxError(`duplicate key${key !== undefined ? ` '${key}'` : ''} (each key may appear once in a mapping; the later one would silently replace the first)`, pos?.line, pos?.col);
  }
  // The yaml package's messages end with "at line L, column C:" and an excerpt: keep the sentence.
  const reason = error.message.split('\n')[0].replace(/\s+at line \d+, column \d+:?$/, '');
  return new ConfigSyntaxError(`YAML syntax error: ${reason}`, pos?.line, pos?.col);
}

/** Parses a `.yaml` / `.yml` config (one document; duplicate keys are errors). */
export function parseYamlConfig(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const error = documentError(doc, text, false);
  if (error !== undefined) throw error;
  return doc.toJS({ maxAliasCount: 10_000 });
}

/**
 * Parses a `.json` config: strict JSON (no trailing comma, no comment),
 * then duplicate keys, which JSON.parse silently merges, through the `yaml`
 * package (JSON is YAML 1.2; only its duplicate-key errors are used).
 */
export function parseJsonConfig(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // V8: "Expected ',' or '}' after property value in JSON at position 24" (newer versions add "(line 2 column 3)").
    const message = (error as Error).message;
    const m = /\s+in JSON at position (\d+)(?:\s*\(line \d+ column \d+\))?/.exec(message);
    const reason = message.replace(/\s+in JSON at position \d+(?:\s*\(line \d+ column \d+\))?/, '').replace(/^JSON\.parse:\s*/, '');
    if (m === null) {
      const end = lineColumn(text, text.length);
      throw new ConfigSyntaxError(`JSON syntax error: ${reason}`, end.line);
    }
    const offset = Number(m[1]);
    const { line, column } = lineColumn(text, offset);
    const trailingComma = /,\s*$/.test(text.slice(0, offset)) && /^[}\]]/.test(text.slice(offset));
    throw new ConfigSyntaxError(`JSON syntax error: ${reason}${trailingComma ? ' (a trailing comma before it: JSON allows none)' : ''}`, line, column);
  }
  const duplicate = documentError(parseDocument(text, { uniqueKeys: true, prettyErrors: true }), text, true);
  if (duplicate !== undefined) throw duplicate;
  return value;
}

/**
 * Syntax errors and duplicate keys of a `.ts` / `.mts` / `.mjs` / `.js`
 * config, before it is imported. An object literal with a key written twice
 * is legal JavaScript that silently keeps the last value, so no runtime
 * check can see it; esbuild (tsx's compiler, so always installed) reports it
 * as a `duplicate-object-key` warning with its line. Keys that only collide
 * at run time (a spread, a computed key) are not literal duplicates and pass.
 */
export async function checkScriptConfig(filepath: string, text: string): Promise<void> {
  // esbuild runs as a child process (~0.1 CPU-s a command): a text that passed once is remembered
  // by its content, as tsx remembers what it compiled.
  const passed = join(CHECKS_DIR, createHash('sha256').update(`${loaderOf(filepath)}\0${text}`).digest('hex').slice(0, 40));
  if (existsSync(passed)) return;
  await checkWithEsbuild(filepath, text);
  try {
    mkdirSync(dirname(passed), { recursive: true });
    writeFileSync(passed, '');
  } catch {
    // a read-only temp folder: check again next time
  }
}

function loaderOf(filepath: string): 'ts' | 'js' {
  return /\.m?ts$/.test(filepath) ? 'ts' : 'js';
}

async function checkWithEsbuild(filepath: string, text: string): Promise<void> {
  const { transform } = await import('esbuild');
  const loader = loaderOf(filepath);
  let warnings: { id?: string; text: string; location: { line: number; column: number } | null; notes: { location: { line: number } | null }[] }[];
  try {
    ({ warnings } = await transform(text, { loader, logLevel: 'silent', sourcefile: filepath }));
  } catch (error) {
    const first = (error as { errors?: { text: string; location: { line: number; column: number } | null }[] }).errors?.[0];
    if (first === undefined) throw error;
    throw new ConfigSyntaxError(first.text, first.location?.line, first.location === null ? undefined : first.location.column + 1);
  }
  const duplicate = warnings.find((w) => w.id === 'duplicate-object-key');
  if (duplicate !== undefined) {
    const firstLine = duplicate.notes[0]?.location?.line;
    const key = /"(.*)"/.exec(duplicate.text)?.[1];
    throw new ConfigSyntaxError(
      `duplicate key${key !== undefined ? ` '${key}'` : ''} in an object${firstLine !== undefined ? ` (first at line ${firstLine})` : ''}; the later one would silently replace the first`,
      duplicate.location?.line,
      duplicate.location === null ? undefined : duplicate.location.column + 1,
    );
  }
}

/**
 * The line (and column) of `file` in an error's stack, for an error thrown
 * while a config module runs (`throw new Error(...)` in the config): Node's
 * message names no line, its stack does (`file:///…/experiments.config.mjs:3:7`).
 */
export function lineInStack(error: unknown, fileUrl: string): { line: number; column?: number } | undefined {
  const stack = error instanceof Error ? error.stack : undefined;
  if (stack === undefined) return undefined;
  const escaped = fileUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`${escaped}(?:\\?[^:\\s]*)?:(\\d+)(?::(\\d+))?`).exec(stack);
  if (m === null) return undefined;
  return { line: Number(m[1]), ...(m[2] !== undefined ? { column: Number(m[2]) } : {}) };
}
