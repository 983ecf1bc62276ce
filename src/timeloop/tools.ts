/**
 * Where the real Timeloop is and which build it is, without loading the
 * runner (zx, the stats parser): the pipeline needs the engine id of a
 * Timeloop engine to key its tasks even when nothing runs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { UserError } from '../util/errors.ts';

export interface TimeloopTools {
  readonly model: string;
  /** `timeloop-mapper` next to the model program, if present. */
  readonly mapper: string | null;
  /** A `lib/` folder next to `bin/`, put on LD_LIBRARY_PATH. */
  readonly libDir: string | null;
}

const INSTALL =
  'install Timeloop (https://github.com/NVlabs/timeloop; e.g. build v3.0.3 with scons and put timeloop-model and timeloop-mapper on PATH), ' +
  'or name its folder with --timeloop-bin or EXPT_TIMELOOP_MODEL=/path/to/timeloop-model';

export const INSTALL_HINT = `${INSTALL.replace(', or name', ', name')}, or use the embedded engine (--engine embedded)`;

/** For `expt check`, which compares with Timeloop and so has no embedded alternative to offer. */
export const CHECK_INSTALL_HINT = `${INSTALL} (expt check compares expt with Timeloop, so it needs Timeloop; without it, expt run and expt eval use the embedded engine)`;

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function toolsAt(model: string): TimeloopTools {
  const dir = dirname(model);
  const mapper = join(dir, 'timeloop-mapper');
  const lib = resolve(dir, '..', 'lib');
  return { model, mapper: isFile(mapper) ? mapper : null, libDir: existsSync(lib) ? lib : null };
}

/** Finds Timeloop, or null. `bin` is a folder holding timeloop-model, or the program itself. */
export function findTimeloop(bin?: string): TimeloopTools | null {
  if (bin !== undefined && bin !== '') {
    const p = isFile(bin) ? bin : join(bin, 'timeloop-model');
    return isFile(p) ? toolsAt(resolve(p)) : null;
  }
  const forced = process.env['EXPT_TIMELOOP_MODEL'];
  if (forced !== undefined && forced !== '') return forced === 'none' || !isFile(forced) ? null : toolsAt(resolve(forced));
  for (const d of (process.env['PATH'] ?? '').split(delimiter).filter(Boolean)) {
    const p = join(d, 'timeloop-model');
    if (isFile(p)) return toolsAt(resolve(p));
  }
  return null;
}

/** {@link findTimeloop}, or a {@link UserError} that says how to install it or to use the embedded engine. */
export function requireTimeloop(bin?: string, program: 'timeloop-model' | 'timeloop-mapper' = 'timeloop-model', hint: string = INSTALL_HINT): TimeloopTools {
  const tools = findTimeloop(bin);
  if (!tools) {
    const where = bin ? `at '${bin}'` : process.env['EXPT_TIMELOOP_MODEL'] ? `at EXPT_TIMELOOP_MODEL='${process.env['EXPT_TIMELOOP_MODEL']}'` : 'on PATH';
    throw new UserError(`${program} not found ${where}: ${hint}`);
  }
  if (program === 'timeloop-mapper' && !tools.mapper) {
    throw new UserError(`timeloop-mapper not found next to ${tools.model}: ${hint}`);
  }
  return tools;
}

const hashMemo = new Map<string, string>();

function fileDigest(path: string): string {
  const st = statSync(path);
  const key = `${path}\0${st.size}\0${st.mtimeMs}`;
  const hit = hashMemo.get(key);
  if (hit) return hit;
  const digest = createHash('sha256').update(readFileSync(path)).digest('hex');
  hashMemo.set(key, digest);
  return digest;
}

/** `timeloop-model@sha256:<12 hex>` of the program and its libraries (Timeloop prints no version). */
export function engineId(tools: TimeloopTools, program: 'timeloop-model' | 'timeloop-mapper' = 'timeloop-model'): string {
  const exe = program === 'timeloop-mapper' ? tools.mapper : tools.model;
  if (!exe) throw new UserError(`${program} not found next to ${tools.model}: ${INSTALL_HINT}`);
  const h = createHash('sha256').update(fileDigest(exe));
  const lib = tools.libDir ? join(tools.libDir, `lib${program}.so`) : null;
  if (lib && isFile(lib)) h.update(fileDigest(lib));
  return `${program}@sha256:${h.digest('hex').slice(0, 12)}`;
}
