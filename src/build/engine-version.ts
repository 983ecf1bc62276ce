/**
 * Engine versions derived from the code: a result is only as current as the
 * code that computed it, so a kind's engine version is the package version
 * plus a digest of every file its task can run or read. Those files are
 * found by walking the imports of the module the kind names as its entry
 * (`codeVersion(import.meta.url)`), never from a hand-kept list: lists
 * drift (the map kind's once missed util/random.ts and workload/problem.ts,
 * the aggregate kind's workload/layers.ts, so editing them left stale
 * results counted as cached). Editing the model or the mapper makes the
 * affected tasks stale, and `expt plan` says so.
 *
 * What the walk follows, transitively, from the entry modules (files of this
 * repository only: packages and `node:` builtins are not digested, their
 * versions are the lockfile's business):
 *   - `import … from '…'`, `import '…'`, `export … from '…'`; not
 *     `import type` / `export type` nor an import whose every binding is
 *     marked `type`: TypeScript erases those (this project does not set
 *     verbatimModuleSyntax), so they load no code and cannot change a
 *     result. An import whose bindings are only used as types is erased too
 *     but followed: the walk errs on the side of staleness.
 *   - `import('…')` with a literal: a lazy import runs on some path, so it is
 *     followed — except `import(/* engine-version: variant *\/ '…')`, the
 *     lazy import by which a kind picks the module that runs one of its
 *     engines (kinds/map.ts → map-run.ts or map-timeloop.ts). That module is
 *     an entry of its own engine's version, so neither engine digests the
 *     other's code, and the kinds that import map.ts for its result types
 *     digest neither. A computed `import(x)` (launch.mjs loading the bundle
 *     of these same sources, the config loader) is not followed.
 *   - `new URL('…', import.meta.url)`: how a module names a file it reads or
 *     runs. A code file (a worker bootstrap) is walked; any other file, or
 *     every file under a folder (`data/energy/`, read by arch/energy/data.ts),
 *     is digested. Not digested: package.json (its version is the prefix),
 *     folders at or above the code (src/, bin/, the repository root: bases
 *     for paths, not data) and anything under node_modules/ (expt's caches). A computed first argument is an error, since the
 *     walk could not tell what is read: name the folder with a literal.
 *   - `startEntry('<name>')` (the worker bootstraps, see bin/launch.mjs): the
 *     module launch.mjs's ENTRIES table names for <name>.
 * Files read through paths that come from arguments or the config are task
 * inputs, hashed into the keys, not engine code.
 *
 * Why a scanner of our own rather than a parser: `engine()` is synchronous
 * and runs on every `expt plan` / `run`. esbuild (a dependency) reports the
 * exact inputs of a bundle but only asynchronously or by spawning a process
 * per synchronous call (tens of ms each), and the TypeScript compiler is a
 * development dependency that takes longer to load than the whole walk. The
 * scanner first blanks comments and the insides of strings, templates and
 * regular expressions with a small lexer, so the patterns above can only
 * match code. The lexer's one guess is the usual one: whether a `/` starts a
 * regular expression is told by the token before it (an operator or a
 * keyword such as `return`: yes; a name, a literal or `)`: no — so
 * `if (x) /re/.test(y)` would be misread; our code never writes that).
 * tests/pipeline/engine-version.test.ts checks the scanner against the
 * TypeScript compiler's parse of every module of src/ and bin/, so a module
 * it misreads fails the tests rather than a version. The scan of a module
 * stops after the statement of the last place a reference can start
 * (usually its last import), and everything is read once per process: all
 * kinds' versions take ~20 ms (~45 files read, scanned and hashed).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 } from './hash.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// This module defines versions and runs no task: digesting it would make
// every cached result stale on an edit of the walk's comments.
const SELF = fileURLToPath(import.meta.url);

let pkgVersion: string | undefined;
function packageVersion(): string {
  if (pkgVersion === undefined) {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version?: string };
    pkgVersion = pkg.version ?? '0.0.0';
  }
  return pkgVersion;
}

// ---------------------------------------------------------------- scanner

// After these words a `/` starts a regular expression, not a division…
const KEYWORDS_BEFORE_EXPRESSION = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);
// …and after these punctuators ('}' ends a block more often than an object literal).
const PUNCTUATORS_BEFORE_EXPRESSION = '(,=:[!&|?{};+-*%<>~^}';

// The lexer's tokens: a comment, a string, a template up to its end or its
// first `${`, a `/` (a regular expression or a division), and, inside a
// template's `${…}`, braces. Each is matched whole by the regular
// expression engine: the lexer runs once per process, mostly before the
// JavaScript engine has optimized it, so it does as little per token as it can.
const TOKEN = /\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$)|'(?:[^'\\\n]|\\.)*'?|"(?:[^"\\\n]|\\.)*"?|`(?:[^`\\$]|\\[\s\S]|\$(?!\{))*(?:`|\$\{|$)|\//g;
const TOKEN_IN_SUBSTITUTION = /\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$)|'(?:[^'\\\n]|\\.)*'?|"(?:[^"\\\n]|\\.)*"?|`(?:[^`\\$]|\\[\s\S]|\$(?!\{))*(?:`|\$\{|$)|\/|[{}]/g;
const TEMPLATE_REST = /(?:[^`\\$]|\\[\s\S]|\$(?!\{))*(?:`|\$\{|$)/y;
const REGEX_LITERAL = /\/(?:[^/\\[\n]|\\.|\[(?:[^\]\\\n]|\\.)*\])+\/[\w$]*/y;
const WORD_BEFORE = /[\w$]+$/;

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 9 || code === 13;
}

/**
 * The source with comments and the insides of string, template and regular
 * expression literals replaced by spaces (offsets kept): quotes and the code
 * of `${…}` stay. Only up to the end of the statement at `last` (the first
 * `;` of code after it): nothing after it is needed.
 */
function lex(text: string, last: number): string {
  let n = text.length;
  const blanks: number[] = []; // from, to, from, to…
  // The brace depth at which each open template substitution ends.
  const open: number[] = [];
  let depth = 0;
  // Where the last comment or literal ended, and whether a `/` right after it would start a regular expression.
  let tokenEnd = 0;
  let expressionAfterToken = true;

  // May a `/` at `at` start a regular expression? Decided by the code before it (back to the last token).
  const regexAllowed = (at: number): boolean => {
    let k = at - 1;
    while (k >= tokenEnd && isSpace(text.charCodeAt(k))) k--;
    if (k < tokenEnd) return expressionAfterToken;
    const word = WORD_BEFORE.exec(text.slice(Math.max(tokenEnd, k - 15), k + 1));
    return word ? KEYWORDS_BEFORE_EXPRESSION.has(word[0]) : PUNCTUATORS_BEFORE_EXPRESSION.includes(text[k]!);
  };

  // A template's text from `from` (its opening '`' or a substitution's '}') to its end or next `${`.
  const templateText = (from: number, end: number) => {
    if (text.endsWith('${', end)) {
      blanks.push(from + 1, end - 2);
      open.push(depth);
      expressionAfterToken = true;
    } else {
      blanks.push(from + 1, end - 1);
      expressionAfterToken = false;
    }
  };

  let i = 0;
  while (i < n) {
    const re = open.length > 0 ? TOKEN_IN_SUBSTITUTION : TOKEN;
    re.lastIndex = i;
    const m = re.exec(text);
    if (m === null) break;
    const at = m.index;
    const semicolon = text.indexOf(';', Math.max(i, last));
    if (semicolon >= 0 && semicolon < at) {
      // [i, at) is code, so this `;` ends the statement at `last`.
      n = semicolon + 1;
      break;
    }
    const tok = m[0];
    let end = at + tok.length;
    const c = tok[0];
    if (c === '/' && (tok[1] === '/' || tok[1] === '*')) {
      blanks.push(at, end);
      // A comment is white space: what follows it is judged by what came before it.
      if (at > tokenEnd) expressionAfterToken = regexAllowed(at);
    } else if (c === "'" || c === '"') {
      blanks.push(at + 1, end - 1);
      expressionAfterToken = false;
    } else if (c === '`') {
      templateText(at, end);
    } else if (c === '/') {
      REGEX_LITERAL.lastIndex = at;
      const r = regexAllowed(at) ? REGEX_LITERAL.exec(text) : null;
      if (r === null) {
        i = end; // a division: code
        continue;
      }
      end = at + r[0].length;
      blanks.push(at + 1, end);
      expressionAfterToken = false;
    } else if (c === '{') {
      depth++;
      i = end;
      continue;
    } else if (open[open.length - 1] !== depth) {
      depth--;
      i = end;
      continue;
    } else {
      // The `}` closing a substitution: the template goes on.
      open.pop();
      TEMPLATE_REST.lastIndex = end;
      end += TEMPLATE_REST.exec(text)![0].length;
      templateText(at, end);
    }
    tokenEnd = i = end;
  }
  const pieces: string[] = [];
  let copied = 0;
  for (let b = 0; b < blanks.length; b += 2) {
    const from = blanks[b]!;
    const to = Math.min(blanks[b + 1]!, n);
    if (to <= from) continue;
    pieces.push(text.slice(copied, from), ' '.repeat(to - from));
    copied = to;
  }
  pieces.push(text.slice(copied, n));
  return pieces.join('');
}

/** One reference of a module, as written. */
export interface ModuleReference {
  type: 'import' | 'dynamic' | 'url' | 'entry';
  specifier: string;
  /** A dynamic import marked `engine-version: variant`: not followed. */
  variant?: boolean;
}

// The words a reference starts with; each form is then matched where the word is.
const KEYWORD = /\b(?:import|export|new|startEntry)\b/g;
const STATIC_FROM = /(?:import|export)\s+([\w$\s{},*]*?)\bfrom\s*['"]/y;
const SIDE_EFFECT = /import\s*['"]/y;
const DYNAMIC = /import\s*\(\s*['"`]/y;
const NEW_URL = /new\s+URL\s*\(\s*/y;
const START_ENTRY = /startEntry\s*\(\s*['"]/y;
const VARIANT_MARK = /engine-version:\s*variant\b/;

/** `import type …`, `export type …`, or braces whose every binding is `type`: erased by TypeScript. */
function typeOnly(clause: string): boolean {
  const c = clause.trim();
  if (/^type\s+[\w${*]/.test(c)) return true;
  const braces = /^\{([^}]*)\}$/.exec(c);
  if (!braces) return false;
  const names = braces[1]!.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return names.length > 0 && names.every((s) => /^type\s/.test(s));
}

// The words after which a reference may be (`new URL(…, import.meta.url)`
// has an `import` too), each with what must follow it.
const CANDIDATES: [string, RegExp][] = [
  ['import', /(?![\w$])/y],
  ['export', /\s*(?:type\s*)?[{*]/y],
  ['startEntry', /\s*\(/y],
];

/**
 * Where the last reference may start, searched back from the end of the raw
 * text (comments included, so this is a superset): the lexer stops after
 * that statement, which in most modules is the last import, near the top.
 */
function lastCandidate(text: string): number {
  let best = -1;
  for (const [word, follows] of CANDIDATES) {
    for (let at = text.lastIndexOf(word); at > best; at = at > 0 ? text.lastIndexOf(word, at - 1) : -1) {
      const before = at > 0 ? text.charCodeAt(at - 1) : 32;
      if ((before >= 48 && before <= 57) || (before >= 65 && before <= 90) || (before >= 97 && before <= 122) || before === 95 || before === 36) continue;
      follows.lastIndex = at + word.length;
      if (follows.test(text)) {
        best = at;
        break;
      }
    }
  }
  return best;
}

function matchAt(re: RegExp, code: string, at: number): RegExpExecArray | null {
  re.lastIndex = at;
  return re.exec(code);
}

/**
 * The references of a module's text that the walk can follow (type-only
 * imports left out). Throws when a module names a file relative to itself
 * with a computed path.
 */
export function scanModule(text: string, file = '<module>'): ModuleReference[] {
  const last = lastCandidate(text);
  if (last < 0) return [];
  const code = lex(text, last);
  const refs: ModuleReference[] = [];
  // The literal whose opening quote is at `q` (its insides are blank in `code`, so the next quote closes it).
  const literal = (q: number): { value: string; computed: boolean; end: number } => {
    const close = code.indexOf(code[q]!, q + 1);
    const end = close < 0 ? code.length : close;
    // A template's substitutions are code, not blanks.
    return { value: text.slice(q + 1, end), computed: code[q] === '`' && code.slice(q + 1, end).trim() !== '', end: end + 1 };
  };
  const quoted = (m: RegExpExecArray) => literal(m.index + m[0].length - 1);
  for (const k of code.matchAll(KEYWORD)) {
    const at = k.index;
    if (at > 0 && code[at - 1] === '.') continue; // a property
    let m: RegExpExecArray | null;
    switch (code[at]) {
      case 'i':
      case 'e':
        if ((m = matchAt(STATIC_FROM, code, at))) {
          if (!typeOnly(m[1]!)) refs.push({ type: 'import', specifier: quoted(m).value });
        } else if ((m = matchAt(SIDE_EFFECT, code, at))) refs.push({ type: 'import', specifier: quoted(m).value });
        else if ((m = matchAt(DYNAMIC, code, at))) {
          const lit = quoted(m);
          if (!lit.computed) refs.push({ type: 'dynamic', specifier: lit.value, ...(VARIANT_MARK.test(text.slice(at, m.index + m[0].length)) ? { variant: true } : {}) });
        }
        break;
      case 's':
        if ((m = matchAt(START_ENTRY, code, at))) refs.push({ type: 'entry', specifier: quoted(m).value });
        break;
      case 'n':
        if ((m = matchAt(NEW_URL, code, at))) {
          const from = at + m[0].length;
          if (code[from] === "'" || code[from] === '"' || code[from] === '`') {
            const lit = literal(from);
            if (!lit.computed && /^\s*,\s*import\.meta\.url\s*\)/.test(code.slice(lit.end, lit.end + 40))) {
              refs.push({ type: 'url', specifier: lit.value });
              break;
            }
          }
          // Not a literal: an error only when it is resolved against this module.
          let level = 1;
          let j = from;
          while (j < code.length && level > 0) {
            if (code[j] === '(') level++;
            else if (code[j] === ')') level--;
            j++;
          }
          if (/,\s*import\.meta\.url\s*\)$/.test(code.slice(from, j))) {
            const line = text.slice(0, at).split('\n').length;
            throw new Error(`${file}:${line}: new URL(…, import.meta.url) with a computed path: engine versions cannot tell which files this module reads; name the file or folder with a string literal (see src/build/engine-version.ts)`);
          }
        }
        break;
    }
  }
  return refs;
}

// ------------------------------------------------------------------- walk

const CODE_FILE = /\.(ts|mts|js|mjs|cjs)$/;

interface Scanned {
  /** Its path in the repository ('src/…'). */
  rel: string;
  /** sha256 of the module's bytes. */
  digest: string;
  /** Modules to walk (absolute paths). */
  modules: string[];
  /** Data files to digest (absolute paths). */
  data: string[];
}

/** The files that make up the engines of one checkout (the running one, or a copy in the tests). */
export class CodeGraph {
  private readonly scanned = new Map<string, Scanned>();
  private readonly dataDigests = new Map<string, string>();
  private readonly closures = new Map<string, { files: readonly string[]; digests: readonly string[] }>();
  private launchEntries: Record<string, string> | undefined;
  readonly root: string;
  private readonly skip: string;

  /** `root`: the repository folder; its copy of this module is not digested. */
  constructor(root: string = ROOT) {
    this.root = resolve(root);
    this.skip = join(this.root, relative(ROOT, SELF));
  }

  /** The repository-relative paths of every file digested for these entry modules (absolute paths), sorted. */
  files(entries: readonly string[]): readonly string[] {
    return this.closure(entries).files;
  }

  /** `<package version>+<digest>` of the files of these entry modules. */
  version(entries: readonly string[]): string {
    const { files, digests } = this.closure(entries);
    const parts = files.map((f, i) => `${f}\0${digests[i]}`);
    return `${packageVersion()}+${sha256(parts.join('\n')).slice(0, 12)}`;
  }

  private closure(entries: readonly string[]): { files: readonly string[]; digests: readonly string[] } {
    const id = [...entries].sort().join('\0');
    let c = this.closures.get(id);
    if (c === undefined) {
      const digests = new Map<string, string>(); // repository-relative path → sha256
      const queue = [...entries];
      const seen = new Set<string>();
      while (queue.length > 0) {
        const file = queue.pop()!;
        if (seen.has(file) || file === this.skip) continue;
        seen.add(file);
        const s = this.scan(file);
        digests.set(s.rel, s.digest);
        for (const d of s.data) digests.set(this.rel(d), this.dataDigest(d));
        for (const m of s.modules) if (!seen.has(m)) queue.push(m);
      }
      const files = [...digests.keys()].sort();
      c = { files, digests: files.map((f) => digests.get(f)!) };
      this.closures.set(id, c);
    }
    return c;
  }

  private rel(file: string): string {
    const rel = this.inside(file) ? file.slice(this.root.length + 1) : relative(this.root, file);
    return sep === '/' ? rel : rel.split(sep).join('/');
  }

  private dataDigest(file: string): string {
    let d = this.dataDigests.get(file);
    if (d === undefined) {
      d = sha256(readFileSync(file));
      this.dataDigests.set(file, d);
    }
    return d;
  }

  private scan(file: string): Scanned {
    let s = this.scanned.get(file);
    if (s !== undefined) return s;
    const bytes = readFileSync(file);
    const here = this.rel(file);
    s = { rel: here, digest: sha256(bytes), modules: [], data: [] };
    const dir = dirname(file);
    // Read as latin1, one character per byte: decoding UTF-8 costs more than
    // the scan (Node 20, ~15 ms for our sources), and the bytes of UTF-8's
    // multi-byte characters (≥ 0x80) are never a quote, slash, brace or line
    // break, so the scan sees the same code. Specifiers are decoded back.
    for (const r of scanModule(bytes.toString('latin1'), here)) {
      const ref = /[^\x00-\x7f]/.test(r.specifier) ? { ...r, specifier: Buffer.from(r.specifier, 'latin1').toString('utf8') } : r;
      if (ref.variant) continue;
      if (ref.type === 'entry') {
        const target = this.launchEntry(ref.specifier, here);
        s.modules.push(target);
        continue;
      }
      if (!ref.specifier.startsWith('.') && !ref.specifier.startsWith('/')) continue; // a package or a builtin
      const target = join(dir, ref.specifier);
      if (!this.inside(target) || target.includes(`${sep}node_modules${sep}`)) continue;
      if (ref.type !== 'url') {
        if (!this.scanned.has(target) && !existsSync(target)) throw new Error(`${here}: cannot find the module '${ref.specifier}' (engine versions)`);
        s.modules.push(target);
      } else this.addUrl(resolve(target), s); // without a trailing separator
    }
    this.scanned.set(file, s);
    return s;
  }

  /** A file or folder named by `new URL('…', import.meta.url)`. */
  private addUrl(target: string, s: Scanned): void {
    // expt's own caches (node_modules/.cache/expt: bundles, remembered config checks) are not inputs.
    if (target.startsWith(join(this.root, 'node_modules') + sep)) return;
    if (!existsSync(target)) return; // an optional file, checked for before reading
    if (statSync(target).isDirectory()) {
      // A base for paths to code (the root, src/, bin/ or a folder in them), not data.
      for (const code of ['src', 'bin']) {
        const c = join(this.root, code);
        if (c === target || c.startsWith(target + sep) || target.startsWith(c + sep)) return;
      }
      listFiles(target, s.data);
    } else if (CODE_FILE.test(target)) s.modules.push(target);
    else if (target !== join(this.root, 'package.json')) s.data.push(target);
  }

  private inside(path: string): boolean {
    return path.startsWith(this.root + sep);
  }

  /** The module bin/launch.mjs starts for `startEntry(name)`. */
  private launchEntry(name: string, from: string): string {
    if (this.launchEntries === undefined) {
      const text = readFileSync(join(this.root, 'bin', 'launch.mjs'), 'utf8');
      const table = /const ENTRIES = \{([^}]*)\}/.exec(text)?.[1] ?? '';
      this.launchEntries = {};
      for (const m of table.matchAll(/(?:'([^']+)'|([\w$]+))\s*:\s*'([^']+)'/g)) this.launchEntries[m[1] ?? m[2]!] = m[3]!;
    }
    const rel = this.launchEntries[name];
    if (rel === undefined) throw new Error(`${from}: startEntry('${name}') is not in bin/launch.mjs's ENTRIES (engine versions)`);
    return join(this.root, rel);
  }
}

function listFiles(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) listFiles(p, out);
    else out.push(p);
  }
}

let running: CodeGraph | undefined;
const memo = new Map<string, string>();
const filesByVersion = new Map<string, readonly string[]>();

/** The entry modules as absolute paths: `from` (a module's `import.meta.url`) and specifiers relative to it. */
function entryPaths(from: string, more: readonly string[]): string[] {
  return [fileURLToPath(from), ...more.map((m) => fileURLToPath(new URL(m, from)))];
}

/**
 * The version of the engine whose code starts at the calling module
 * (`codeVersion(import.meta.url)`) and, for a kind that runs one of several
 * modules, at those (`codeVersion(import.meta.url, './map-run.ts')`):
 * `<package version>+<digest of the files they reach>`, computed once per
 * process.
 *
 * `EXPT_ENGINE_VERSION=<label>` replaces the digest: to keep using a cache
 * across source edits known not to change results (comments, refactors),
 * and in the tests, which must not see other edits of the working tree.
 */
export function codeVersion(from: string, ...more: string[]): string {
  const pinned = process.env['EXPT_ENGINE_VERSION'];
  if (pinned !== undefined && pinned !== '') return `${packageVersion()}+${pinned}`;
  const id = [from, ...more].join('\0');
  let version = memo.get(id);
  if (version === undefined) {
    running ??= new CodeGraph();
    const entries = entryPaths(from, more);
    version = running.version(entries);
    memo.set(id, version);
    filesByVersion.set(version, running.files(entries));
  }
  return version;
}

/** The repository-relative files `codeVersion(from, ...more)` digests (for tests and debugging). */
export function codeFiles(from: string, ...more: string[]): readonly string[] {
  running ??= new CodeGraph();
  return running.files(entryPaths(from, more));
}

/** The files digested into a version `codeVersion` returned in this process (not a pinned one). */
export function filesOfVersion(version: string): readonly string[] | undefined {
  return filesByVersion.get(version);
}
