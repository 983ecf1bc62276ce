/**
 * The cache and reports folders are where expt writes and deletes: each must
 * be a folder of its own. A `cacheDir` / `reportsDir` (config fields, or
 * EXPT_CACHE_DIR / EXPT_REPORTS_DIR) naming the project folder, a folder
 * above it, the home folder or `/` is refused before anything is written or
 * removed (`reportsDir: '.'` once made `expt clean` delete a whole project).
 */
import { homedir } from 'node:os';
import { parse, resolve, sep } from 'node:path';
import { UserError } from '../util/errors.ts';

/** What the check reads of a loaded config: the folders as resolved, and as the config gave them. */
export interface OwnDirsConfig {
  /** The project folder (where the config is). */
  root: string;
  cacheDir: string;
  reportsDir: string;
  displayFile: string;
  config: { cacheDir?: string; reportsDir?: string };
}

type Field = 'cacheDir' | 'reportsDir';

const ENV: Record<Field, string> = { cacheDir: 'EXPT_CACHE_DIR', reportsDir: 'EXPT_REPORTS_DIR' };
const DEFAULT: Record<Field, string> = { cacheDir: 'cache', reportsDir: 'reports' };

function origin(loaded: OwnDirsConfig, field: Field): string {
  const env = process.env[ENV[field]];
  if (env) return `${ENV[field]}=${env}`;
  const value = loaded.config[field];
  return value !== undefined ? `${field} '${value}' in ${loaded.displayFile}` : `the default ${field} '${DEFAULT[field]}'`;
}

/** Why `dir` cannot be a folder of expt's own, or undefined when it can. */
function problem(dir: string, root: string): string | undefined {
  const d = resolve(dir);
  const r = resolve(root);
  if (parse(d).root === d) return 'is the root of the file system';
  if (d === resolve(homedir())) return 'is your home folder';
  if (d === r) return 'is the project folder (where the config is)';
  if (r.startsWith(d + sep)) return 'is a folder above the project';
  return undefined;
}

/** Throws a one-line error if the cache or reports folder is not a folder of its own. */
export function checkOwnDirs(loaded: OwnDirsConfig): void {
  for (const field of ['cacheDir', 'reportsDir'] as const) {
    const why = problem(loaded[field], loaded.root);
    if (why !== undefined) {
      throw new UserError(
        `${origin(loaded, field)} ${why}: expt writes and deletes its ${field === 'cacheDir' ? 'cache' : 'reports'} there, so it must be a folder of its own, such as '${DEFAULT[field]}'`,
      );
    }
  }
  if (resolve(loaded.cacheDir) === resolve(loaded.reportsDir)) {
    throw new UserError(`${origin(loaded, 'cacheDir')} and ${origin(loaded, 'reportsDir')} are the same folder: give each a folder of its own, such as 'cache' and 'reports'`);
  }
}
