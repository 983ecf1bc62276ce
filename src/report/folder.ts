/**
 * The reports folder: which files in it expt wrote, and how they are
 * replaced.
 *
 * `.expt-reports.json` in the folder lists every file expt wrote there and
 * which writer owns it (`report`: expt run / expt report; `fidelity`: expt
 * check). Only listed files are ever replaced or removed: a stale report of
 * an experiment that is gone, `expt clean`. A file of the same name that is
 * not listed (someone else's index.md in a shared folder) is never
 * overwritten: that is an error naming it. A folder from before the
 * manifest whose every file is a report name expt uses (with index.md and
 * layers.csv among them) is taken as expt's.
 *
 * A writer's files are built whole first, in a staging folder inside the
 * reports folder (same file system), and only then renamed into place one
 * by one; the manifest lists old and new files while they are swapped, so
 * an interrupted swap leaves nothing of expt's unlisted.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pidAlive } from '../build/claims.ts';
import { UserError } from '../util/errors.ts';
import { atBoundary, isErrno, makeDir, shownPath } from '../util/fs-errors.ts';

export const REPORTS_MANIFEST = '.expt-reports.json';
const MANIFEST_FORMAT = 'expt-reports-v1';

/** Who wrote a report file: `report` (expt run / report) or `fidelity` (expt check). */
export type ReportGroup = 'report' | 'fidelity';

interface ReportsManifest {
  format: typeof MANIFEST_FORMAT;
  /** Path relative to the folder (with `/`) → writer. */
  files: Record<string, ReportGroup>;
}

/** Names expt gives its reports: how a folder from before the manifest is recognised. */
const REPORT_NAME = /^(index\.md|layers\.csv|models\.(csv|md)|fusion\.(csv|md)|fidelity\.(csv|md)|(hwdse|cross-arch)-[^/]+\.(md|csv)|charts\/[^/]+\.svg)$/;
const STAGING = /^\.expt-staging-(\d+)-[0-9a-f]+$/;

export interface ReportsFolder {
  state: 'missing' | 'managed' | 'legacy' | 'unmanaged';
  /** Files expt wrote (relative path → writer). */
  owned: Map<string, ReportGroup>;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Files under `dir` (relative, `/`-separated), one level of subfolders deep, without expt's hidden files. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === REPORTS_MANIFEST || STAGING.test(name)) continue;
    const p = join(dir, name);
    if (isDir(p)) {
      for (const sub of readdirSync(p)) out.push(`${name}/${sub}${isDir(join(p, sub)) ? '/' : ''}`);
    } else out.push(name);
  }
  return out;
}

/** What expt owns in the reports folder. */
export function inspectReports(dir: string): ReportsFolder {
  return atBoundary('reports', dir, () => {
    if (!existsSync(dir)) return { state: 'missing', owned: new Map() };
    if (!isDir(dir)) throw new UserError("the reports folder is a file: move it away, or set reportsDir in the config (or EXPT_REPORTS_DIR) to a folder", shownPath(dir));
    let manifest: ReportsManifest | undefined;
    try {
      const m = JSON.parse(readFileSync(join(dir, REPORTS_MANIFEST), 'utf8')) as ReportsManifest;
      if (m.format === MANIFEST_FORMAT && typeof m.files === 'object' && m.files !== null) manifest = m;
    } catch {
      manifest = undefined;
    }
    if (manifest) {
      const owned = new Map<string, ReportGroup>();
      for (const [f, g] of Object.entries(manifest.files)) if (!f.split('/').includes('..') && (g === 'report' || g === 'fidelity')) owned.set(f, g);
      return { state: 'managed', owned };
    }
    const files = listFiles(dir);
    const legacy = files.length > 0 && files.every((f) => REPORT_NAME.test(f)) && files.includes('index.md') && files.includes('layers.csv');
    if (!legacy) return { state: files.length === 0 ? 'missing' : 'unmanaged', owned: new Map() };
    return { state: 'legacy', owned: new Map(files.map((f) => [f, f.startsWith('fidelity.') ? 'fidelity' : 'report'])) };
  });
}

function writeManifest(dir: string, owned: ReadonlyMap<string, ReportGroup>): void {
  const files = Object.fromEntries([...owned].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const text = JSON.stringify({ format: MANIFEST_FORMAT, files } satisfies ReportsManifest, null, 1) + '\n';
  const tmp = join(dir, `${REPORTS_MANIFEST}.tmp-${process.pid}`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, join(dir, REPORTS_MANIFEST));
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Staging folders left by a killed writer. */
function removeDeadStaging(dir: string): void {
  for (const name of readdirSync(dir)) {
    const m = STAGING.exec(name);
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/**
 * Replaces `group`'s files in the reports folder with `files` (relative
 * path → text): all are written to a staging folder first, then renamed
 * into place; the group's files not in `files` are removed. Returns the
 * absolute paths written, in the order given.
 */
export function commitReports(dir: string, group: ReportGroup, files: ReadonlyMap<string, string>): string[] {
  const folder = inspectReports(dir);
  for (const rel of files.keys()) {
    if (folder.owned.has(rel)) continue;
    if (existsSync(join(dir, rel))) {
      throw new UserError(
        `exists and was not written by expt (${REPORTS_MANIFEST} does not list it): move it away, or set reportsDir in the config (or EXPT_REPORTS_DIR) to a folder of its own`,
        shownPath(join(dir, rel)),
      );
    }
  }
  return atBoundary('reports', dir, () => {
    makeDir(dir);
    removeDeadStaging(dir);
    const stage = join(dir, `.expt-staging-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      for (const [rel, text] of files) {
        makeDir(dirname(join(stage, rel)));
        writeFileSync(join(stage, rel), text);
      }
      const stale = [...folder.owned].filter(([rel, g]) => g === group && !files.has(rel)).map(([rel]) => rel);
      const during = new Map(folder.owned);
      for (const rel of files.keys()) during.set(rel, group);
      writeManifest(dir, during);
      for (const rel of files.keys()) {
        makeDir(dirname(join(dir, rel)));
        renameSync(join(stage, rel), join(dir, rel));
      }
      for (const rel of stale) {
        rmSync(join(dir, rel), { force: true });
        during.delete(rel);
      }
      writeManifest(dir, during);
    } finally {
      try {
        rmSync(stage, { recursive: true, force: true });
      } catch {
        // a leftover the next write removes
      }
    }
    return [...files.keys()].map((rel) => join(dir, rel));
  });
}

export interface ReportsCleanOutcome {
  removed: number;
  removedDir: boolean;
  /** Files left because expt did not write them. */
  kept: string[];
}

/** Removes the files expt wrote (and the folder when nothing else is in it). */
export function cleanReports(dir: string): ReportsCleanOutcome {
  const folder = inspectReports(dir);
  const out: ReportsCleanOutcome = { removed: 0, removedDir: false, kept: [] };
  if (!existsSync(dir)) return out;
  return atBoundary('reports', dir, () => {
    for (const rel of folder.owned.keys()) {
      try {
        rmSync(join(dir, rel));
        out.removed++;
      } catch (error) {
        if (!isErrno(error, 'ENOENT')) throw error;
      }
    }
    removeDeadStaging(dir);
    const subdirs = new Set([...folder.owned.keys()].filter((r) => r.includes('/')).map((r) => r.slice(0, r.indexOf('/'))));
    for (const s of subdirs) {
      try {
        rmdirSync(join(dir, s));
      } catch {
        // not empty: someone else's files are in it
      }
    }
    if (folder.state === 'managed' || folder.state === 'legacy') rmSync(join(dir, REPORTS_MANIFEST), { force: true });
    out.kept = listFiles(dir).map((f) => join(dir, f));
    if (out.kept.length === 0) {
      // Only expt's staging folders of live writers could be left: then the folder stays.
      try {
        rmdirSync(dir);
        out.removedDir = true;
      } catch {
        // not empty
      }
    }
    return out;
  });
}
