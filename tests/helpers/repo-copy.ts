/**
 * A copy of the repository in a temp folder, for tests that edit expt's own
 * sources: `node_modules` is a real folder of links to the real packages, so
 * the bundles the copy's starts make (node_modules/.cache/expt) stay in the
 * copy and go with it. The caller removes the folder.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from './golden.ts';

export function copyRepository(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  for (const entry of ['bin', 'src', 'data', 'experiments', 'package.json', 'experiments.config.ts']) cpSync(path.join(repoRoot, entry), path.join(dir, entry), { recursive: true });
  mkdirSync(path.join(dir, 'node_modules'));
  for (const pkg of readdirSync(path.join(repoRoot, 'node_modules'))) {
    if (pkg !== '.cache') symlinkSync(path.join(repoRoot, 'node_modules', pkg), path.join(dir, 'node_modules', pkg));
  }
  return dir;
}
