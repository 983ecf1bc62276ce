/**
 * Engine versions from the code (src/build/engine-version.ts): a kind's
 * version digests the files its entry module reaches through its imports,
 * plus the data files they name, so an edit of a file the old hand-kept
 * lists missed (util/random.ts, workload/problem.ts for the map kind,
 * workload/layers.ts for the aggregate kind) makes the affected tasks stale,
 * and an edit of a file no kind reaches does not.
 *
 * The engine version is not pinned here (the pipeline tests pin it through
 * EXPT_ENGINE_VERSION so as not to see other edits of the working tree):
 * edits are made in temp copies of the repository.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { CodeGraph, codeFiles, filesOfVersion, scanModule } from '../../src/build/engine-version.ts';
import { embeddedMapEngine, timeloopMapEngine } from '../../src/pipeline/kinds/map.ts';
import { kind as aggregateKind } from '../../src/pipeline/kinds/aggregate.ts';
import { kind as crossArchKind } from '../../src/pipeline/kinds/cross-arch.ts';
import { kind as fusedPairKind } from '../../src/pipeline/kinds/fused-pair.ts';
import { kind as hwdseKind } from '../../src/pipeline/kinds/hwdse.ts';
import type { PlanJson } from '../../src/build/plan.ts';
import { repoRoot } from '../helpers/golden.ts';
import { copyRepository as copyRepositoryTo } from '../helpers/repo-copy.ts';

delete process.env['EXPT_ENGINE_VERSION'];

const temps: string[] = [];
test.after.always(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** A copy of the repository (see helpers/repo-copy.ts), removed after the tests. */
function copyRepository(): string {
  const dir = copyRepositoryTo('expt-engine-version-');
  temps.push(dir);
  return dir;
}

const src = (...parts: string[]) => path.join(repoRoot, 'src', ...parts);
const url = (...parts: string[]) => pathToFileURL(src(...parts)).href;

// ------------------------------------------------------------ the scanner

/** The references the TypeScript compiler sees, in scanModule's terms. */
function oracle(text: string, fileName: string): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, /\.m?ts$/.test(fileName) ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const out: string[] = [];
  const literal = (e: ts.Node | undefined) => (e !== undefined && (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) ? e.text : undefined);
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause;
      const erased = c !== undefined && (c.isTypeOnly || (c.name === undefined && c.namedBindings !== undefined && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!erased) out.push(`import ${literal(node.moduleSpecifier)}`);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) {
      const c = node.exportClause;
      const erased = node.isTypeOnly || (c !== undefined && ts.isNamedExports(c) && c.elements.length > 0 && c.elements.every((e) => e.isTypeOnly));
      if (!erased) out.push(`import ${literal(node.moduleSpecifier)}`);
    } else if (ts.isCallExpression(node)) {
      const arg = node.arguments[0];
      const value = literal(arg);
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword && value !== undefined) {
        // The comments between `(` and the specifier.
        const variant = /engine-version:\s*variant\b/.test(text.slice(node.arguments.pos, arg!.getStart(sf)));
        out.push(`dynamic ${value}${variant ? ' variant' : ''}`);
      } else if (ts.isIdentifier(node.expression) && node.expression.text === 'startEntry' && value !== undefined) out.push(`entry ${value}`);
    } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'URL' && node.arguments?.length === 2) {
      const value = literal(node.arguments[0]);
      if (value !== undefined && node.arguments[1]!.getText(sf) === 'import.meta.url') out.push(`url ${value}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out.sort();
}

const scanned = (text: string, file = 'x.ts') => scanModule(text, file).map((r) => `${r.type} ${r.specifier}${r.variant ? ' variant' : ''}`).sort();

function moduleFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) moduleFiles(p, out);
    else if (/\.(ts|mts|js|mjs)$/.test(e.name) && !/\.d\.m?ts$/.test(e.name)) out.push(p);
  }
  return out;
}

test('the scanner finds the same references as the TypeScript compiler in every module of src/ and bin/', (t) => {
  const files = [...moduleFiles(path.join(repoRoot, 'src')), ...moduleFiles(path.join(repoRoot, 'bin'))];
  t.true(files.length > 100);
  let references = 0;
  for (const file of files) {
    const bytes = readFileSync(file);
    const expected = oracle(bytes.toString('utf8'), file);
    references += expected.length;
    // Scanned as CodeGraph reads it: latin1, one character per byte.
    t.deepEqual(scanned(bytes.toString('latin1'), file), expected, path.relative(repoRoot, file));
  }
  t.true(references > 500);
});

test('the scanner skips comments, strings, templates, regular expressions, properties and type-only imports, and follows what TypeScript loads', (t) => {
  const cases = [
    "// import './commented.ts'\n/* import('./block.ts') */\nconst s = \"import './in-string.ts'\";\nconst t = `import('./in-template.ts') ${x}`;\nimport './real.ts';\n",
    "const re = /['\"]import '.\\/in-regex.ts'/g;\nconst d = a / b; import './after-division.ts';\nconst c = /\\/* not a comment */ .test(s); import './after-regex.ts';\n" +
      "const q = /'/; import './after-quote-regex.ts'; const r = '';\nconst k = /\\/*/; import './after-star-regex.ts'; // */\nreturn /a/.test(x) / 2; import './after-return-regex.ts';\n",
    "import type { A } from './type-only.ts';\nimport { type B, type C } from './all-types.ts';\nimport { type D, e } from './mixed.ts';\nimport type from './default-named-type.ts';\nexport type { F } from './export-type.ts';\nexport { g } from './export-value.ts';\nexport * from './star.ts';\nexport * as ns from './star-as.ts';\n",
    "const m = await import(/* engine-version: variant */ './variant.ts');\nconst n = await import('./lazy.ts');\nconst o = await import(name);\nobj.import('./property.ts');\n",
    "const u = new URL('../data/', import.meta.url);\nconst v = new URL('x', base);\nconst w = `${`nested ${await import('./nested.ts')}`} ${{ a: 1 }.a}`;\nimport './after-template.ts';\n",
    "import {\n  a, // a comment with a 'quote\n  b,\n} from './multi-line.ts';\nif (x) y = z / 2 / w;\nconst s = 'it\\'s'; import './after-escape.ts';\n",
  ];
  for (const text of cases) t.deepEqual(scanned(text), oracle(text, 'x.ts'), text);
  t.deepEqual(scanned(cases[0]!), ['import ./real.ts']);
  t.deepEqual(scanned(cases[1]!), ['import ./after-division.ts', 'import ./after-quote-regex.ts', 'import ./after-regex.ts', 'import ./after-return-regex.ts', 'import ./after-star-regex.ts']);
  t.deepEqual(scanned(cases[2]!), ['import ./default-named-type.ts', 'import ./export-value.ts', 'import ./mixed.ts', 'import ./star-as.ts', 'import ./star.ts']);
  t.deepEqual(scanned(cases[3]!), ['dynamic ./lazy.ts', 'dynamic ./variant.ts variant']);
});

test('a module that names a file relative to itself with a computed path is an error, not a silent miss', (t) => {
  t.throws(() => scanModule('const f = (p) => readFileSync(new URL(`../../data/${p}`, import.meta.url));\n', 'src/x.ts'), { message: /^src\/x\.ts:1: new URL\(…, import\.meta\.url\) with a computed path/ });
  t.throws(() => scanModule('\nconst u = new URL(name, import.meta.url);\n', 'src/y.ts'), { message: /^src\/y\.ts:2: / });
  t.deepEqual(scanModule('const u = new URL(name, base);\n'), []);
});

// ------------------------------------------------------ the kinds' versions

/** A fake timeloop-mapper (the timeloop engine's id needs one; its adapter version is what is checked). */
function fakeTimeloop(): string {
  const dir = tempDir('expt-fake-tl-');
  for (const p of ['timeloop-model', 'timeloop-mapper']) {
    writeFileSync(path.join(dir, p), `#!/bin/sh\nexit 1\n`);
    chmodSync(path.join(dir, p), 0o755);
  }
  return dir;
}

function kindFiles() {
  const files = (version: string) => {
    const f = filesOfVersion(version);
    if (f === undefined) throw new Error(`not a computed version: ${version}`);
    return f;
  };
  const adapter = /; expt adapter (\S+)$/.exec(timeloopMapEngine(fakeTimeloop()).version)![1]!;
  return {
    map: files(embeddedMapEngine().version),
    timeloop: files(adapter),
    aggregate: files(aggregateKind.engine().version),
    'fused-pair': files(fusedPairKind.engine().version),
    hwdse: files(hwdseKind.engine().version),
    'cross-arch': files(crossArchKind.engine().version),
  };
}

test("each kind's version digests the files its entry reaches, including those the old lists missed", (t) => {
  const k = kindFiles();
  for (const f of ['src/pipeline/kinds/map.ts', 'src/pipeline/kinds/map-run.ts', 'src/util/random.ts', 'src/workload/problem.ts', 'src/model/evaluate.ts', 'src/mapper/search.ts']) t.true(k.map.includes(f), `map: ${f}`);
  // The embedded engine does not digest the Timeloop adapter, nor the adapter the embedded model.
  for (const f of ['src/pipeline/kinds/map-timeloop.ts', 'src/timeloop/external.ts']) t.false(k.map.includes(f), `map: ${f}`);
  for (const f of ['src/pipeline/kinds/map.ts', 'src/pipeline/kinds/map-timeloop.ts', 'src/timeloop/external.ts', 'src/timeloop/export.ts', 'src/timeloop/stats-parser.ts', 'src/timeloop/tools.ts']) t.true(k.timeloop.includes(f), `timeloop: ${f}`);
  for (const f of ['src/pipeline/kinds/map-run.ts', 'src/model/evaluate.ts', 'src/mapper/search.ts']) t.false(k.timeloop.includes(f), `timeloop: ${f}`);
  for (const f of ['src/pipeline/kinds/aggregate.ts', 'src/workload/layers.ts']) t.true(k.aggregate.includes(f), `aggregate: ${f}`);
  t.false(k.aggregate.includes('src/model/evaluate.ts'), 'the aggregate kind imports map.ts for its result types, not the map engines');
  t.true(k['fused-pair'].includes('src/fusion/cost.ts'));
  for (const f of ['src/pipeline/kinds/aggregate.ts', 'src/sweeps/aggregate.ts', 'src/sweeps/table.ts']) t.true(k.hwdse.includes(f), `hwdse: ${f}`);
  for (const f of ['src/pipeline/kinds/aggregate.ts', 'src/sweeps/table.ts']) t.true(k['cross-arch'].includes(f), `cross-arch: ${f}`);
  // The module that computes versions runs no task.
  for (const files of Object.values(k)) t.false(files.includes('src/build/engine-version.ts'));
});

test('every lazy import marked `engine-version: variant` is the entry of some engine version', (t) => {
  const all = new Set(Object.values(kindFiles()).flat());
  let marked = 0;
  for (const file of moduleFiles(path.join(repoRoot, 'src'))) {
    for (const ref of scanModule(readFileSync(file, 'utf8'), file)) {
      if (!ref.variant) continue;
      marked++;
      const target = path.relative(repoRoot, path.resolve(path.dirname(file), ref.specifier)).split(path.sep).join('/');
      t.true(all.has(target), `${path.relative(repoRoot, file)} → ${ref.specifier}`);
    }
  }
  t.true(marked >= 2);
});

test('data named relative to a module is digested with it; worker bootstraps are followed to the module they start', (t) => {
  const energy = codeFiles(url('arch', 'energy', 'index.ts'));
  t.true(energy.includes('src/arch/energy/data.ts'));
  for (const f of ['data/energy/pim-tables/SRAM.csv', 'data/energy/sram_cacti_raw.csv', 'data/energy/aladdin/aladdin_adder.csv']) t.true(energy.includes(f), f);
  t.false(energy.some((f) => f === 'package.json' || f.startsWith('experiments/')));
  const search = codeFiles(url('mapper', 'parallel.ts'));
  for (const f of ['src/mapper/search-worker.mjs', 'bin/launch.mjs', 'src/mapper/search-worker.ts', 'src/mapper/search.ts']) t.true(search.includes(f), f);
  // Bases for paths (launch.mjs's repository root) are not data.
  t.false(search.some((f) => f === 'package.json' || f === 'README.md' || f.startsWith('tests/') || f.startsWith('node_modules/')));
});

test('the version follows the content of a transitively imported file: workload/problem.ts for the map kind, workload/layers.ts for the aggregate kind', (t) => {
  // The entries embeddedMapEngine() and the aggregate kind declare (checked against them below).
  const mapEntries = (root: string) => [path.join(root, 'src/pipeline/kinds/map.ts'), path.join(root, 'src/pipeline/kinds/map-run.ts')];
  const aggregateEntries = (root: string) => [path.join(root, 'src/pipeline/kinds/aggregate.ts')];
  const k = kindFiles();
  t.deepEqual(new CodeGraph(repoRoot).files(mapEntries(repoRoot)), k.map);
  t.deepEqual(new CodeGraph(repoRoot).files(aggregateEntries(repoRoot)), k.aggregate);

  const copy = tempDir('expt-engine-version-unit-');
  for (const entry of ['bin', 'src', 'data', 'package.json']) cpSync(path.join(repoRoot, entry), path.join(copy, entry), { recursive: true });
  // A fresh graph per state: a graph remembers what it read, as a process does.
  const versions = () => {
    const g = new CodeGraph(copy);
    return { map: g.version(mapEntries(copy)), aggregate: g.version(aggregateEntries(copy)), energy: g.version([path.join(copy, 'src/arch/energy/index.ts')]) };
  };
  const before = versions();
  t.deepEqual(versions(), before, 'the same files, the same versions');

  appendFileSync(path.join(copy, 'src/workload/problem.ts'), '\n// edited\n');
  const problem = versions();
  t.not(problem.map, before.map, 'workload/problem.ts is part of the map engine');
  t.not(problem.aggregate, before.aggregate, 'and of the aggregate kind (through workload/layers.ts)');

  appendFileSync(path.join(copy, 'src/workload/layers.ts'), '\n// edited\n');
  const layers = versions();
  t.not(layers.aggregate, problem.aggregate, 'workload/layers.ts is part of the aggregate kind');
  t.is(layers.map, problem.map, 'but not of the map engine');

  appendFileSync(path.join(copy, 'src/cli/gc.ts'), '\n// edited\n');
  t.deepEqual(versions(), layers, 'cli/gc.ts is part of no engine');

  appendFileSync(path.join(copy, 'data/energy/pim-tables/SRAM.csv'), '\n');
  const data = versions();
  t.not(data.energy, layers.energy, 'a data file read by arch/energy/data.ts');
  t.is(data.map, layers.map);
});

// ------------------------------------------------------ end to end: expt plan

function expt(dir: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(dir, 'bin', 'expt.js'), ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20, env }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

test('expt plan: an edit of a file the map kind reaches only transitively makes the map tasks stale, saying the engine changed; an edit no kind reaches leaves them cached', async (t) => {
  const dir = copyRepository();
  const { EXPT_ENGINE_VERSION: _pinned, ...inherited } = process.env;
  const env = { ...inherited, CI: '1', EXPT_CACHE_DIR: path.join(dir, 'cache'), EXPT_REPORTS_DIR: path.join(dir, 'reports') };
  const run = await expt(dir, ['run', 'quick'], env);
  t.is(run.code, 0, run.stderr);
  const plan = async () => {
    const r = await expt(dir, ['plan', 'quick', '--json'], env);
    t.is(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as PlanJson[];
  };
  const states = (rows: PlanJson[], kind: string) => rows.filter((r) => r.kind === kind).map((r) => r.state);
  const edit = (file: string) => {
    const p = path.join(dir, file);
    const text = readFileSync(p, 'utf8');
    appendFileSync(p, '\n// an edit\n');
    return () => writeFileSync(p, text);
  };

  const fresh = await plan();
  t.true(states(fresh, 'map').length >= 4); // the eight jobs, identical TLD/TLL tasks merged
  t.true(fresh.every((r) => r.state === 'cached'), 'all cached after the run');

  // util/random.ts: imported by the mapper's search, never by map.ts or map-run.ts directly.
  const restoreRandom = edit('src/util/random.ts');
  const random = await plan();
  for (const r of random.filter((r) => r.kind === 'map')) {
    t.is(r.state, 'will run', r.id);
    t.regex(r.reason, /^engine expt-builtin-mapper changed \(0\.1\.0\+[0-9a-f]{12} → 0\.1\.0\+[0-9a-f]{12}\)$/, r.id);
  }
  t.true(states(random, 'aggregate').every((s) => s === 'will run'));
  restoreRandom();
  t.true((await plan()).every((r) => r.state === 'cached'), 'the same content: the same version again');

  // workload/layers.ts: the aggregate kind's, not the map engine's.
  const restoreLayers = edit('src/workload/layers.ts');
  const layers = await plan();
  t.true(states(layers, 'map').every((s) => s === 'cached'));
  const aggregates = layers.filter((r) => r.kind === 'aggregate');
  t.true(aggregates.length > 0);
  for (const r of aggregates) {
    t.is(r.state, 'will run', r.id);
    t.regex(r.reason, /^engine expt-aggregate changed \(/, r.id);
  }
  restoreLayers();

  // cli/gc.ts: no kind reaches it.
  t.false(Object.values(kindFiles()).flat().includes('src/cli/gc.ts'));
  edit('src/cli/gc.ts');
  const gc = await plan();
  t.true(gc.length === fresh.length && gc.every((r) => r.state === 'cached'), 'an edit outside every engine leaves the results cached');
});
