/**
 * Loading a TypeScript config without tsx: the config and the files
 * it imports are bundled with esbuild into one ES module, imported from a
 * `data:` URL. Registering tsx costs every command ~0.4 CPU-s (a loader
 * thread), more than the rest of a warm `expt run`.
 *
 * `import … from 'expt'` is this package's own entry (src/index.ts), bundled
 * in. A config that imports a package other than Node's own cannot be
 * imported from a `data:` URL (nothing to resolve the package from): for it
 * the caller falls back to tsx.
 *
 * Bundles are remembered in expt's own cache folder (node_modules/.cache/expt,
 * beside the start-up bundles: a code cache per install and user, not the
 * shared temp folder, where another user could plant code) by the config's
 * path and text, each with the digests of the files that went into it, and
 * reused only while those files are unchanged.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importMetaPlugin } from '../../bin/launch.mjs';

const PACKAGE_ENTRY = fileURLToPath(new URL('../index.ts', import.meta.url));
const MEMO_DIR = fileURLToPath(new URL('../../node_modules/.cache/expt/config-bundles/', import.meta.url));

interface Remembered {
  /** Absolute path → sha256 of each file bundled. */
  inputs: Record<string, string>;
  code: string;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function memoPath(filepath: string, text: string): string {
  return join(MEMO_DIR, sha256(`${PACKAGE_ENTRY}\0${filepath}\0${text}`).slice(0, 40) + '.json');
}

function stillValid(entry: Remembered, filepath: string): boolean {
  try {
    if (!Object.hasOwn(entry.inputs, filepath)) return false;
    return Object.entries(entry.inputs).every(([file, digest]) => sha256(readFileSync(file)) === digest);
  } catch {
    return false;
  }
}

async function bundle(filepath: string): Promise<Remembered | undefined> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [filepath],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    packages: 'external',
    logLevel: 'silent',
    plugins: [
      {
        name: 'expt-self',
        setup(b) {
          b.onResolve({ filter: /^expt$/ }, () => ({ path: PACKAGE_ENTRY }));
        },
      },
      importMetaPlugin(),
    ],
  });
  const output = Object.values(result.metafile.outputs)[0];
  if (output === undefined || output.imports.some((i) => i.external && !i.path.startsWith('node:'))) return undefined;
  const inputs: Record<string, string> = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    const file = isAbsolute(input) ? input : resolve(input);
    inputs[file] = sha256(readFileSync(file));
  }
  return { inputs, code: result.outputFiles[0].text };
}

/**
 * The config's module as a `data:` URL to import, or undefined when it
 * needs tsx (it imports another package, or esbuild is not there).
 */
export async function bundledConfigUrl(filepath: string, text: string): Promise<string | undefined> {
  const memo = memoPath(filepath, text);
  let entry: Remembered | undefined;
  try {
    const hit = JSON.parse(readFileSync(memo, 'utf8')) as Remembered;
    if (stillValid(hit, filepath)) entry = hit;
  } catch {
    // not remembered yet
  }
  if (entry === undefined) {
    try {
      entry = await bundle(filepath);
    } catch {
      // A syntax error was reported by the check before this; anything else: tsx says it better.
      return undefined;
    }
    if (entry === undefined) return undefined;
    const tmp = `${memo}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(memo), { recursive: true });
      writeFileSync(tmp, JSON.stringify(entry));
      renameSync(tmp, memo);
    } catch {
      // a read-only or full temp folder: bundle again next time
      rmSync(tmp, { force: true });
    }
  }
  return `data:text/javascript;base64,${Buffer.from(entry.code).toString('base64')}`;
}
