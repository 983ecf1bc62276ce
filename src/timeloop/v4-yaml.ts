/**
 * Reads timeloopfe v0.4 YAML, whose architecture nodes carry the tags
 * `!Container`, `!Component`, `!Parallel`, `!Hierarchical`, `!Pipelined` and
 * `!Nothing`. The `yaml` package keeps a node's tag; this reader turns each
 * tagged mapping into a plain object with the tag under the symbol
 * {@link V4_TAG} (so the rest of the code sees ordinary objects), and a
 * tagged empty scalar (`- !Nothing`) into `{[V4_TAG]: 'Nothing'}`. Anchors,
 * aliases and `<<` merge keys are resolved.
 */
import { readFileSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { UserError } from '../util/errors.ts';

/** The tag of a v0.4 node, without the `!`. */
export type V4Tag = 'Container' | 'Component' | 'Parallel' | 'Hierarchical' | 'Pipelined' | 'Nothing';

export const V4_TAGS: readonly V4Tag[] = ['Container', 'Component', 'Parallel', 'Hierarchical', 'Pipelined', 'Nothing'];

/** Property of a parsed object holding its v0.4 tag. */
export const V4_TAG: unique symbol = Symbol.for('expt.timeloopfe.tag');

export type Tagged = Record<string, unknown> & { [V4_TAG]?: V4Tag };

/** The v0.4 tag of a parsed node, or undefined. */
export function tagOf(node: unknown): V4Tag | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  return (node as Tagged)[V4_TAG];
}

/** Builds a tagged object (for code that writes v0.4 architectures). */
export function tagged<T extends Record<string, unknown>>(tag: V4Tag, value: T): T & { [V4_TAG]: V4Tag } {
  return Object.assign({}, value, { [V4_TAG]: tag }) as T & { [V4_TAG]: V4Tag };
}

// Registered so the parser does not warn about them; `resolve` keeps the node as is.
const CUSTOM_TAGS = V4_TAGS.flatMap((t) => [
  { tag: `!${t}`, collection: 'map' as const, resolve: (v: unknown) => v },
  { tag: `!${t}`, collection: 'seq' as const, resolve: (v: unknown) => v },
  { tag: `!${t}`, resolve: (v: string) => v },
]);

interface Ctx {
  readonly doc: Document.Parsed;
  readonly file: string | undefined;
  readonly lines: LineCounter;
}

function lineOf(node: unknown, ctx: Ctx): string | undefined {
  const range = (node as { range?: [number, number, number] }).range;
  if (!range) return undefined;
  return `line ${ctx.lines.linePos(range[0]).line}`;
}

function toJs(node: unknown, ctx: Ctx, depth = 0): unknown {
  const { doc, file } = ctx;
  if (depth > 200) throw new UserError('YAML nesting too deep (an alias loop?)', file);
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return toJs(node.resolve(doc), ctx, depth + 1);
  const tagText = (node as { tag?: string }).tag;
  const tag = tagText && tagText.startsWith('!') && !tagText.startsWith('!!') ? (tagText.slice(1) as V4Tag) : undefined;
  if (tag !== undefined && !V4_TAGS.includes(tag)) {
    throw new UserError(`unknown tag '!${tag}' (timeloopfe v0.4 knows ${V4_TAGS.map((t) => `!${t}`).join(', ')})`, file, lineOf(node, ctx));
  }
  if (isMap(node)) {
    const out: Tagged = {};
    const merges: unknown[] = [];
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(toJs(pair.key, ctx, depth + 1));
      if (key === '<<') {
        merges.push(toJs(pair.value, ctx, depth + 1));
        continue;
      }
      out[key] = toJs(pair.value, ctx, depth + 1);
    }
    for (const m of merges) {
      for (const src of Array.isArray(m) ? m : [m]) {
        if (typeof src === 'object' && src !== null && !Array.isArray(src)) {
          for (const [k, v] of Object.entries(src)) if (!(k in out)) out[k] = v;
        }
      }
    }
    if (tag !== undefined) out[V4_TAG] = tag;
    return out;
  }
  if (isSeq(node)) {
    const list = node.items.map((x) => toJs(x, ctx, depth + 1));
    if (tag !== undefined) return { nodes: list, [V4_TAG]: tag };
    return list;
  }
  if (isScalar(node)) {
    if (tag !== undefined) {
      const v = node.value;
      if (v !== null && v !== undefined && v !== '') {
        throw new UserError(`'!${tag}' must tag a mapping (or nothing), got ${JSON.stringify(v)}`, file, lineOf(node, ctx));
      }
      return { [V4_TAG]: tag };
    }
    return node.value;
  }
  return null;
}

/** Parses one YAML text with the v0.4 tags. One document per file, as timeloopfe reads them. */
export function parseV4YamlText(text: string, file?: string): unknown {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true, customTags: CUSTOM_TAGS as never, lineCounter: lines });
  if (!Array.isArray(docs) || docs.length === 0) return null;
  for (const doc of docs) {
    const problem = doc.errors[0];
    if (problem !== undefined) {
      const line = problem.linePos?.[0];
      const message = problem.message.split('\n')[0].replace(/\s+at line \d+, column \d+:?$/, '');
      throw new UserError(`YAML syntax error: ${message}`, file, line ? `line ${line.line}` : undefined);
    }
  }
  if (docs.length > 1) throw new UserError(`expected one YAML document, found ${docs.length} (separated by '---')`, file);
  return toJs(docs[0].contents, { doc: docs[0], file, lines });
}

/** Reads and parses one file with the v0.4 tags. */
export function readV4YamlFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read YAML file: ${code === 'ENOENT' ? 'file not found' : String((error as Error).message)}`, path);
  }
  return parseV4YamlText(text, path);
}
