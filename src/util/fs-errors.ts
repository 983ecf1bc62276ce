/**
 * Errors of the environment (a read-only or full disk, a file where a folder
 * should be) are the user's to fix, not bugs: at the cache, report and
 * output boundaries they become one {@link UserError} line that names the
 * path and says what to do (exit 2). `main` maps any that escape the same
 * way, with a generic hint.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { UserError } from './errors.ts';

/** errno codes that mean "the file system said no", with words for people. */
const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'is a folder, not a file',
  EEXIST: 'already exists',
  ENOTEMPTY: 'the folder is not empty (another process may be writing to it)',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  EIO: 'input/output error',
};

export type ErrnoError = NodeJS.ErrnoException & { code: string };

export function isErrno(error: unknown, ...codes: string[]): error is ErrnoError {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (codes.length === 0 || codes.includes(code));
}

/** Whether `error` is a file-system refusal that {@link environmentError} explains. */
export function isEnvironmentError(error: unknown): error is ErrnoError {
  return isErrno(error) && error.code in REASONS;
}

/** A path as the user can find it: relative to the working directory when inside it. */
export function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith('/') ? rel : path;
}

export type Boundary = 'cache' | 'reports' | 'output' | 'other';

const HINTS: Record<Boundary, Partial<Record<string, string>> & { default: string }> = {
  cache: {
    default: 'make the cache folder writable, or set cacheDir in the config (or EXPT_CACHE_DIR) to a folder that is',
    ENOSPC: 'free some space, or set cacheDir in the config (or EXPT_CACHE_DIR) to a folder on another disk; results finished so far stay in the cache',
    EDQUOT: 'free some space, or set cacheDir in the config (or EXPT_CACHE_DIR) to a folder on another disk; results finished so far stay in the cache',
    ENOTDIR: 'move the file away, or set cacheDir in the config (or EXPT_CACHE_DIR) to a folder',
  },
  reports: {
    default: "make the reports folder writable, or set reportsDir in the config (or EXPT_REPORTS_DIR) to a folder that is; the results stay in the cache: 'expt report' writes the reports again",
    ENOSPC: "free some space, or set reportsDir in the config (or EXPT_REPORTS_DIR) to a folder on another disk; the results stay in the cache: 'expt report' writes the reports again",
    ENOTDIR: "move the file away, or set reportsDir in the config (or EXPT_REPORTS_DIR) to a folder; the results stay in the cache: 'expt report' writes the reports again",
  },
  output: {
    default: 'choose an output path in a writable folder',
    ENOSPC: 'free some space or choose an output path on another disk',
    ENOTDIR: 'a part of the output path is a file: choose another path',
  },
  other: {
    default: 'check the permissions and free space of that folder',
  },
};

/**
 * The one-line error for a file-system refusal at a boundary, or undefined
 * when `error` is not one (a bug, to be reported as such).
 */
export function environmentError(error: unknown, boundary: Boundary, path?: string): UserError | undefined {
  if (error instanceof UserError) return error;
  if (!isEnvironmentError(error)) return undefined;
  // The folder the user named (cacheDir, --out), not the temp file inside it that failed.
  const where = path ?? error.path;
  const hint = HINTS[boundary][error.code] ?? HINTS[boundary].default;
  return new UserError(`${REASONS[error.code]} (${error.code}): ${hint}`, where !== undefined ? shownPath(where) : undefined);
}

/** Runs `fn`; a file-system refusal becomes the boundary's one-line {@link UserError}. */
export function atBoundary<T>(boundary: Boundary, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw environmentError(error, boundary, path) ?? error;
  }
}

/**
 * `mkdir -p` that reports the real reason: Node's recursive mkdir says
 * ENOENT for any failure on the way (a read-only disk, no permission), which
 * once made "read-only cache" read "no such file or directory".
 */
export function makeDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
    let missing = resolve(dir);
    while (!existsSync(dirname(missing)) && dirname(missing) !== missing) missing = dirname(missing);
    // The first folder that does not exist, made alone, fails with the real error.
    mkdirSync(missing);
    mkdirSync(dir, { recursive: true });
  }
}
