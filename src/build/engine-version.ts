/**
 * Engine versions derived from the engine's sources: a result is only as
 * current as the code that computed it, so a kind's version is the package
 * version plus a digest of the source files it runs. Editing the model or
 * the mapper makes the affected tasks stale (and `expt plan` says so).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 } from './hash.ts';

const SRC = fileURLToPath(new URL('../', import.meta.url));

let pkgVersion: string | undefined;
function packageVersion(): string {
  if (pkgVersion === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    pkgVersion = pkg.version ?? '0.0.0';
  }
  return pkgVersion;
}

function listFiles(path: string, out: string[]): void {
  const st = statSync(path);
  if (st.isFile()) {
    if (/\.(ts|mjs|js)$/.test(path)) out.push(path);
    return;
  }
  for (const name of readdirSync(path).sort()) listFiles(join(path, name), out);
}

const memo = new Map<string, string>();

/**
 * `<package version>+<digest>` of the given paths under src/ (files or
 * folders, e.g. 'model', 'mapper', 'pipeline/kinds/map.ts').
 *
 * `EXPT_ENGINE_VERSION=<label>` replaces the digest: to keep using a cache
 * across source edits known not to change results (comments, refactors),
 * and in the tests, which must not see other edits of the working tree.
 */
export function sourceVersion(paths: readonly string[]): string {
  const pinned = process.env['EXPT_ENGINE_VERSION'];
  if (pinned !== undefined && pinned !== '') return `${packageVersion()}+${pinned}`;
  const id = paths.join('|');
  const hit = memo.get(id);
  if (hit) return hit;
  const files: string[] = [];
  for (const p of paths) listFiles(join(SRC, p), files);
  const parts = files.map((f) => `${f.slice(SRC.length)}\0${sha256(readFileSync(f))}`);
  const version = `${packageVersion()}+${sha256(parts.join('\n')).slice(0, 12)}`;
  memo.set(id, version);
  return version;
}
