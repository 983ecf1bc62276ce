// How expt's TypeScript sources are started without a build step.
//
// tsx compiles each module on the fly, but every process (and every worker
// thread) that registers it pays ~0.4 CPU-s for its loader thread, and each
// of the ~250 modules of `expt run` then costs a round trip to that thread. A
// warm `expt run` or a run waiting for another's results is mostly that cost.
// So the first start bundles the entry points with esbuild (one file each,
// plus shared chunks) under node_modules/.cache/expt/, named by a digest of
// what the bundle is made from; later starts import that bundle with plain
// Node. Any edit of src/ (or of this file, package.json, tsconfig.json, the
// esbuild version or the Node major) gives another digest, hence a fresh
// bundle: a bundle is never stale. When the bundle cannot be built or read (read-only
// install, no esbuild), the start goes through tsx as before.
//
// `import.meta.url` is replaced in each bundled module by the URL of its own
// source file, so paths resolved relative to a module (data/, package.json,
// the worker bootstraps) mean the same bundled or not.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SRC = join(ROOT, 'src');
const CACHE = join(ROOT, 'node_modules', '.cache', 'expt');

/** The entry points, by name: what each process or worker thread starts. */
const ENTRIES = {
  main: 'src/cli/main.ts',
  worker: 'src/pipeline/worker.ts',
  'search-worker': 'src/mapper/search-worker.ts',
};

// Bundles unused for this long are removed when a new one is written (each
// start that uses a bundle touches its folder): long enough that no process
// still running loads its lazy chunks from them.
const KEEP_MS = 7 * 24 * 3600 * 1000;

function sourceFiles(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else out.push(p);
  }
  return out;
}

function esbuildVersion() {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** Digest of everything a bundle is made from, or undefined when esbuild is missing. */
function bundleDigest() {
  const version = esbuildVersion();
  if (version === undefined) return undefined;
  const h = createHash('sha256');
  // The bundle targets the Node major (target: nodeNN); esbuild reads tsconfig.json for .ts files.
  h.update(`${process.versions.node.split('.')[0]}\0${version}\0${ROOT}\0`);
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  h.update(readFileSync(join(ROOT, 'package.json')));
  if (existsSync(join(ROOT, 'tsconfig.json'))) h.update(readFileSync(join(ROOT, 'tsconfig.json')));
  for (const f of sourceFiles(SRC, [])) {
    h.update(`\0${f.slice(SRC.length)}\0`);
    h.update(readFileSync(f));
  }
  return h.digest('hex').slice(0, 16);
}

/** Replaces `import.meta.url`/`dirname`/`filename` by the values of the module's own source file. */
export function importMetaPlugin() {
  return {
    name: 'expt-import-meta',
    setup(build) {
      build.onLoad({ filter: /\.(ts|mts|js|mjs)$/ }, (args) => {
        // Packages keep their own import.meta (they are external to expt's bundle anyway).
        if (args.path.startsWith(join(ROOT, 'node_modules', ''))) return undefined;
        const text = readFileSync(args.path, 'utf8');
        const contents = text
          .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
          .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
          .replaceAll('import.meta.filename', JSON.stringify(args.path));
        return { contents, loader: /\.m?ts$/.test(args.path) ? 'ts' : 'js' };
      });
    },
  };
}

async function buildBundle(folder) {
  const { build } = await import('esbuild');
  const tmp = `${folder}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  try {
    await build({
      entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, rel]) => [name, join(ROOT, rel)])),
      outdir: tmp,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: `node${process.versions.node.split('.')[0]}`,
      packages: 'external',
      // Chunks keep the CLI's lazy imports lazy (a command loads only its own
      // code and packages); a running process may load a chunk late, hence the
      // week before an old bundle is pruned.
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      sourcemap: 'linked',
      sourcesContent: false,
      logLevel: 'silent',
      plugins: [importMetaPlugin()],
    });
    try {
      renameSync(tmp, folder);
    } catch {
      // Another process wrote the same bundle first: it is identical.
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
  prune(folder);
}

function prune(keep) {
  const now = Date.now();
  for (const name of readdirSync(CACHE)) {
    const p = join(CACHE, name);
    if (p === keep || !/^bundle-[0-9a-f]{16}(\.tmp-\d+-\d+)?$/.test(name)) continue;
    try {
      if (now - statSync(p).mtimeMs > KEEP_MS) rmSync(p, { recursive: true, force: true });
    } catch {
      // gone already, or not ours to remove
    }
  }
}

/** The bundle folder for the sources as they are now, built if missing; undefined when unavailable. */
async function bundleFolder() {
  if (process.env.EXPT_NO_BUNDLE === '1') return undefined;
  try {
    const digest = bundleDigest();
    if (digest === undefined) return undefined;
    const folder = join(CACHE, `bundle-${digest}`);
    if (existsSync(join(folder, 'main.mjs'))) {
      // In use: not to be pruned (see KEEP_MS). A read-only install keeps its bundles anyway.
      try {
        const now = new Date();
        utimesSync(folder, now, now);
      } catch {
        // not ours to touch
      }
    } else {
      mkdirSync(CACHE, { recursive: true });
      await buildBundle(folder);
    }
    // Another process's rename may have failed in a way that left nothing: start through tsx then.
    return existsSync(join(folder, 'main.mjs')) ? folder : undefined;
  } catch {
    return undefined;
  }
}

async function viaTsx(name) {
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(join(ROOT, ENTRIES[name])).href);
}

/**
 * Imports an entry point (`main`, `worker`, `search-worker`) and returns its
 * module. The main entry picks the bundle and passes its folder to the worker
 * threads it starts (through their copy of the environment), so that every
 * thread of a process runs the same code.
 */
export async function startEntry(name) {
  if (name === 'main') {
    const folder = await bundleFolder();
    if (folder !== undefined) {
      process.env.EXPT_BUNDLE_DIR = folder;
      return import(pathToFileURL(join(folder, 'main.mjs')).href);
    }
    delete process.env.EXPT_BUNDLE_DIR;
    return viaTsx(name);
  }
  const folder = process.env.EXPT_BUNDLE_DIR;
  if (!folder) return viaTsx(name);
  // A thread running other code than its process (the sources through tsx, edited since) could
  // store results under the process's engine versions: fail instead.
  if (!existsSync(join(folder, `${name}.mjs`))) throw new Error(`expt's bundle ${folder} is gone (removed while this process ran): start expt again`);
  return import(pathToFileURL(join(folder, `${name}.mjs`)).href);
}
