/**
 * Files a command writes where the user says (`--emit-timeloop FILE`,
 * `--out DIR`): checked before the long work (a search), so that a path
 * that cannot be written is said at once rather than after the result is
 * computed and thrown away; then written whole (temp file + rename).
 */
import { accessSync, constants, existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from './errors.ts';
import { atBoundary, makeDir } from './fs-errors.ts';

/** The nearest existing folder at or above `path`; throws if a file is in the way. */
function existingFolder(path: string, option: string, shown: string): string {
  let dir = resolve(path);
  while (!existsSync(dir)) dir = dirname(dir);
  if (!statSync(dir).isDirectory()) throw new UserError(`${option}: ${dir} is a file, not a folder: choose another path`, shown);
  return dir;
}

/** Throws a one-line error now if `file` could not be written later (a folder, a file in the path, read-only). */
export function checkOutputFile(file: string, option: string): void {
  atBoundary('output', file, () => {
    const abs = resolve(file);
    if (existsSync(abs) && statSync(abs).isDirectory()) throw new UserError(`${option} names a folder: give a file name`, file);
    accessSync(existingFolder(dirname(abs), option, file), constants.W_OK);
  });
}

/** Writes `file` whole, creating its folder. */
export function writeOutputFile(file: string, text: string): void {
  atBoundary('output', file, () => {
    makeDir(dirname(resolve(file)));
    const tmp = `${file}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, text);
      renameSync(tmp, file);
    } finally {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // nothing was written
      }
    }
  });
}

/** Throws a one-line error now if `dir` cannot be a new or empty output folder. */
export function checkOutputFolder(dir: string, option: string): void {
  atBoundary('output', dir, () => {
    const abs = resolve(dir);
    if (existsSync(abs)) {
      if (!statSync(abs).isDirectory()) throw new UserError(`${option} is a file, not a folder: name a new or empty folder`, dir);
      if (readdirSync(abs).length > 0) throw new UserError(`${option}: the output folder is not empty`, dir);
      accessSync(abs, constants.W_OK);
      return;
    }
    accessSync(existingFolder(dirname(abs), option, dir), constants.W_OK);
  });
}
