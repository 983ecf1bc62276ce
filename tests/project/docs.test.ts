/**
 * The documentation keeps up with the code: README.md stays a short front
 * page, docs/architecture.md describes every folder under src/, and
 * docs/commands.md documents exactly the commands the CLI has (one heading
 * `## expt <name>` each, compared with the command table of
 * src/cli/commands.ts). Every relative link of README.md and docs/*.md
 * points at a file that exists, and a link to a heading (`page.md#anchor`)
 * at a heading that exists.
 */
import test from 'ava';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commands, findCommand } from '../../src/cli/commands.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const docsDir = join(repoRoot, 'docs');
const README_MAX_LINES = 150;

const read = (file: string) => readFileSync(file, 'utf8');

/** README.md and every docs/*.md. */
function pages(): string[] {
  const docs = readdirSync(docsDir)
    .filter((n) => n.endsWith('.md'))
    .sort()
    .map((n) => join(docsDir, n));
  return [join(repoRoot, 'README.md'), ...docs];
}

/** The lines of a Markdown text outside fenced code blocks (code lines become empty, so numbers stay). */
function proseLines(text: string): string[] {
  let fence: string | undefined;
  return text.split('\n').map((line) => {
    const open = /^\s*(```+|~~~+)/.exec(line);
    if (open) {
      if (fence === undefined) fence = open[1][0];
      else if (open[1][0] === fence) fence = undefined;
      return '';
    }
    return fence === undefined ? line : '';
  });
}

/**
 * Command lines written as code: the lines of fenced code blocks (without
 * their `#` and `//` comments) and inline code spans.
 */
function commandLines(text: string): string[] {
  const out: string[] = [];
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const open = /^\s*(```+|~~~+)/.exec(line);
    if (open) {
      if (fence === undefined) fence = open[1][0];
      else if (open[1][0] === fence) fence = undefined;
      continue;
    }
    if (fence !== undefined) out.push(line.replace(/(^|\s)(#|\/\/)(\s.*)?$/, ''));
    else for (const m of line.matchAll(/(`+)(.+?)\1/g)) out.push(m[2]);
  }
  return out;
}

interface Heading {
  level: number;
  text: string;
}

function headings(text: string): Heading[] {
  const out: Heading[] = [];
  for (const line of proseLines(text)) {
    const m = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (m) out.push({ level: m[1].length, text: m[2] });
  }
  return out;
}

/** GitHub's anchor of a heading: inline markup dropped, lower case, punctuation and symbols removed, spaces → hyphens. */
function slug(heading: string): string {
  const plain = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
  return plain
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a page, a repeated heading numbered as GitHub numbers it (`-1`, `-2`). */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const h of headings(read(file))) {
    const base = slug(h.text);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

interface Link {
  page: string;
  line: number;
  target: string;
}

/** Relative links (no scheme), outside code. */
function relativeLinks(page: string): Link[] {
  const out: Link[] = [];
  proseLines(read(page)).forEach((raw, i) => {
    const line = raw.replace(/(`+).+?\1/g, '');
    for (const m of line.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      out.push({ page, line: i + 1, target });
    }
  });
  return out;
}

const where = (l: Link) => `${relative(repoRoot, l.page)}:${l.line}: ${l.target}`;

test(`README.md has at most ${README_MAX_LINES} lines`, (t) => {
  const lines = read(join(repoRoot, 'README.md')).replace(/\n$/, '').split('\n').length;
  t.true(lines <= README_MAX_LINES, `README.md has ${lines} lines; move details to docs/ (README_MAX_LINES = ${README_MAX_LINES})`);
});

test('docs/architecture.md describes every folder under src/ (a heading or a table row naming src/<folder>/)', (t) => {
  const folders = readdirSync(join(repoRoot, 'src'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  t.true(folders.length >= 10, `expected expt's source folders, found ${folders.join(', ')}`);
  const entries = proseLines(read(join(docsDir, 'architecture.md'))).filter((l) => /^#{1,6}\s/.test(l) || /^\s*\|/.test(l));
  const missing = folders.filter((f) => !entries.some((l) => l.includes(`src/${f}/`)));
  t.deepEqual(missing, [], `folders under src/ without an entry (a heading or table row naming src/<folder>/) in docs/architecture.md: ${missing.join(', ')}`);
});

test("docs/commands.md has one '## expt <name>' heading per command of the CLI, and no other", (t) => {
  const documented = headings(read(join(docsDir, 'commands.md')))
    .filter((h) => h.level === 2)
    .map((h) => /^`?expt ([^\s`]+)`?$/.exec(h.text)?.[1])
    .filter((n): n is string => n !== undefined);
  const actual = commands.map((c) => c.name);
  t.true(actual.length >= 10, `expected the CLI's commands, found ${actual.join(', ')}`);
  const unknown = documented.filter((n) => !actual.includes(n));
  const undocumented = actual.filter((n) => !documented.includes(n));
  const twice = documented.filter((n, i) => documented.indexOf(n) !== i);
  t.deepEqual(unknown, [], `documented in docs/commands.md but not a command of the CLI (src/cli/commands.ts): ${unknown.join(', ')}`);
  t.deepEqual(undocumented, [], `commands of the CLI without a '## expt <name>' heading in docs/commands.md: ${undocumented.join(', ')}`);
  t.deepEqual(twice, [], `documented twice in docs/commands.md: ${twice.join(', ')}`);
});

test('every `expt <command>` written as code in README.md and docs/ is a command of the CLI', (t) => {
  const bad: string[] = [];
  for (const page of pages()) {
    for (const code of commandLines(read(page))) {
      // `expt <name>` where a command starts: at the start, after npx, a pipe, `;`, `&&` or `(`.
      for (const m of code.matchAll(/(?:^|npx |[|;&(]\s*)expt ([a-z_][a-z0-9_-]*)/g)) {
        if (findCommand(m[1]) === undefined) bad.push(`${relative(repoRoot, page)}: expt ${m[1]}`);
      }
    }
  }
  t.deepEqual(bad, []);
});

test('every relative link in README.md and docs/*.md points at a file that exists', (t) => {
  const links = pages().flatMap(relativeLinks);
  t.true(links.length > 20, `expected the pages' links, found ${links.length}`);
  const broken = links.filter((l) => {
    const path = l.target.split('#')[0];
    return path !== '' && !existsSync(resolve(dirname(l.page), decodeURIComponent(path)));
  });
  t.deepEqual(broken.map(where), []);
});

test('every link to a heading (page.md#anchor, #anchor) in README.md and docs/*.md points at a heading that exists', (t) => {
  const bad: string[] = [];
  for (const l of pages().flatMap(relativeLinks)) {
    const [path, anchor] = l.target.split('#');
    if (anchor === undefined || anchor === '') continue;
    const file = path === '' ? l.page : resolve(dirname(l.page), decodeURIComponent(path));
    if (!file.endsWith('.md') || !existsSync(file) || !statSync(file).isFile()) continue;
    if (!anchors(file).has(decodeURIComponent(anchor))) bad.push(where(l));
  }
  t.deepEqual(bad, []);
});
