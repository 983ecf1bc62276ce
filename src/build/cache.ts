/**
 * Content-addressed result cache.
 *
 * Layout (under the cache root, `cache/` by default):
 *
 *   <kind>/<key>/result.json     the task's result (JSON)
 *   <kind>/<key>/manifest.json   what produced it: task id, engine, per-input
 *                                hashes and labels, dependency keys, the
 *                                sha256 of result.json, timestamps
 *   <kind>/<key>/files/          optional: files kept with the result (an
 *                                external engine's input, stdout/stderr, logs)
 *   tasks/<hash of task id>.json the last key seen for each task id with its
 *                                input hashes (what `expt plan` diffs against
 *                                to say which input changed)
 *   .tmp/                        entries being written
 *   .sessions/                   the expansion memo (session-memo.ts)
 *   .claims/                     who is computing what right now (claims.ts)
 *   .slurm/                      Slurm submissions: tasks, job ids, element
 *                                status and logs (src/slurm/job-folder.ts)
 *   .expt-cache                  the marker: this folder is expt's cache
 *                                (hidden, like the rest of the bookkeeping:
 *                                what lists the cache sees kinds only)
 *
 * expt deletes only what it made: `clean` and `gc` act on a folder with the
 * marker, or on one made before the marker existed whose every name is one
 * of the layout above (it gets the marker then); they remove those names
 * only, never a file someone else put there. A folder with other files and
 * no marker is refused, for writing as well (a `cacheDir` pointing at a
 * project folder must not become "expt's").
 *
 * An entry is written into a fresh directory under `.tmp/` (result first,
 * manifest last) and renamed into place, so `<kind>/<key>/` either does not
 * exist or is complete. Readers still verify it: a missing file, bad JSON, a
 * manifest for another key or a result whose sha256 differs from the
 * manifest's makes the entry corrupt, which callers treat as a miss. When two
 * processes store the same key, the first complete entry stays and the
 * second writer drops its copy; a corrupt entry in the way is moved aside.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sha256 } from './hash.ts';
import { Claims, pidAlive } from './claims.ts';
import { UserError } from '../util/errors.ts';
import { atBoundary, environmentError, isErrno, makeDir, shownPath } from '../util/fs-errors.ts';

export const CACHE_FORMAT = 'expt-cache-v1';

export interface InputRecord {
  /** Where the input came from, for people: a file, a config field. */
  label: string;
  /** sha256 of the input's canonical JSON. */
  hash: string;
}

export interface EngineId {
  id: string;
  version: string;
}

/** What a cache entry's manifest.json holds. */
export interface Manifest {
  format: typeof CACHE_FORMAT;
  kind: string;
  key: string;
  /** The task id that produced the entry (other ids may share it). */
  task: string;
  engine: EngineId;
  inputs: Record<string, InputRecord>;
  /** Dependency task id → key, in declaration order. */
  deps: Record<string, string>;
  result: { sha256: string; bytes: number };
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Files kept with the result (an external tool's input and logs), relative to the entry folder. */
  files?: string[];
}

/** The last key of one task id (see {@link Cache.readRecord}). */
export interface TaskRecord {
  id: string;
  kind: string;
  key: string;
  engine: EngineId;
  inputs: Record<string, InputRecord>;
  deps: Record<string, string>;
  updatedAt: string;
}

export type CacheLookup =
  | { ok: true; result: unknown; manifest: Manifest }
  | { ok: false; reason: 'missing' | 'corrupt'; detail: string };

export interface EntryRef {
  kind: string;
  key: string;
}

const KEY_RE = /^[0-9a-f]{64}$/;
const KIND_RE = /^[a-z][a-z0-9-]*$/;
const RECORD_RE = /^[0-9a-f]{32}\.json$/;
/** Folders of the layout whose content is expt's own bookkeeping. */
const OWN_DIRS = ['.tmp', '.sessions', '.claims', '.slurm'] as const;

export const CACHE_TAG = '.expt-cache';
const TAG_TEXT = [
  `This folder is a result cache created by expt (${CACHE_FORMAT}).`,
  'expt clean and expt gc remove only what expt wrote in a folder with this file.',
  '',
].join('\n');

/** What is at the cache root. */
export type CacheState =
  | { state: 'missing' }
  | { state: 'file' }
  /** Has expt's marker. */
  | { state: 'marked' }
  | { state: 'empty' }
  /** No marker, but nothing besides expt's layout (a cache from before the marker). */
  | { state: 'legacy' }
  /** No marker and files expt did not make. */
  | { state: 'foreign'; foreign: string[] };

/** Checks a cached result's shape (see result-shapes.ts): why it is wrong, or undefined. */
export type ResultValidator = (kind: string, result: unknown) => string | undefined;

export interface CleanOutcome {
  /** Whether there was a cache folder at all. */
  found: boolean;
  /** Entries (`kind/key`) removed. */
  entries: number;
  /** Task records, temp and memo files removed. */
  other: number;
  /** Whether the cache folder itself is gone. */
  removedRoot: boolean;
  /** Paths left in place because expt did not make them (or they appeared meanwhile). */
  kept: string[];
}

export class Cache {
  private ready = false;
  private claimsMemo: Claims | undefined;
  /**
   * Entries already verified by this process, by the stat of their two
   * files: a command reads each entry several times (plan, run, reports),
   * and hashing, parsing and shape-checking it once is enough while neither
   * file changed. The result object is shared: callers treat results as
   * read-only (as they are: what dependents see is what the cache holds).
   */
  private readonly verified = new Map<string, { stamp: string; lookup: CacheLookup }>();

  constructor(
    readonly root: string,
    /** Checks each result read (a result of the wrong shape is `corrupt`). */
    readonly validate?: ResultValidator,
  ) {}

  /** Who computes what now, across the processes that share this cache. */
  get claims(): Claims {
    this.claimsMemo ??= new Claims(join(this.root, '.claims'));
    return this.claimsMemo;
  }

  /** What is at the root (throws the cache boundary's one-line error when it cannot even be looked at). */
  state(): CacheState {
    return atBoundary('cache', this.root, () => {
      let st: Stats;
      try {
        st = statSync(this.root);
      } catch (error) {
        if (isErrno(error, 'ENOENT')) return { state: 'missing' };
        throw error;
      }
      if (!st.isDirectory()) return { state: 'file' };
      if (hasTag(this.root)) return { state: 'marked' };
      const names = readdirSync(this.root);
      if (names.length === 0) return { state: 'empty' };
      const foreign = names.filter((n) => !isLayoutName(this.root, n)).sort();
      return foreign.length === 0 ? { state: 'legacy' } : { state: 'foreign', foreign };
    });
  }

  /**
   * Refuses a cache root that cannot be expt's: a file, or a folder of
   * other files without the marker. Reading commands call this first, so
   * that they do not plan or report from "nothing cached".
   */
  checkUsable(): CacheState {
    const s = this.state();
    const shown = shownPath(this.root);
    if (s.state === 'file') {
      throw new UserError(`the cache folder is a file: move it away, or set cacheDir in the config (or EXPT_CACHE_DIR) to a folder`, shown);
    }
    if (s.state === 'foreign') {
      const list = s.foreign.slice(0, 3).join(', ') + (s.foreign.length > 3 ? `, and ${s.foreign.length - 3} more` : '');
      throw new UserError(
        `not an expt cache: the folder has no ${CACHE_TAG} and holds files expt did not make (${list}); set cacheDir in the config (or EXPT_CACHE_DIR) to a new folder`,
        shown,
      );
    }
    return s;
  }

  /** Creates the root (or adopts a cache from before the marker) and marks it, before the first write. */
  ensureWritable(): void {
    if (this.ready) return;
    const s = this.checkUsable();
    if (s.state !== 'marked') {
      atBoundary('cache', this.root, () => {
        makeDir(this.root);
        const tmp = join(this.root, `${CACHE_TAG}.tmp-${process.pid}`);
        try {
          writeFileSync(tmp, TAG_TEXT);
          renameSync(tmp, join(this.root, CACHE_TAG));
        } finally {
          rmSync(tmp, { force: true });
        }
      });
    }
    this.ready = true;
  }

  entryDir(kind: string, key: string): string {
    if (!KIND_RE.test(kind)) throw new Error(`bad task kind name '${kind}'`);
    if (!KEY_RE.test(key)) throw new Error(`bad cache key '${key}'`);
    return join(this.root, kind, key);
  }

  /** Throws the cache boundary's one-line error now if results could not be stored (read-only, a file in the way). */
  probeWritable(): void {
    removeQuietly(this.tempDir('probe'));
  }

  /** Reads and verifies an entry; anything incomplete or inconsistent is `corrupt`. */
  get(kind: string, key: string): CacheLookup {
    const dir = this.entryDir(kind, key);
    const stamp = entryStamp(dir);
    if (stamp === undefined) {
      if (!existsSync(dir)) return { ok: false, reason: 'missing', detail: 'no cached result for this key' };
      return verifyEntry(dir, kind, key, this.validate);
    }
    const id = `${kind}/${key}`;
    const memo = this.verified.get(id);
    if (memo && memo.stamp === stamp) return memo.lookup;
    const lookup = verifyEntry(dir, kind, key, this.validate);
    if (lookup.ok) this.verified.set(id, { stamp, lookup });
    else this.verified.delete(id);
    return lookup;
  }

  /** Whether a complete entry exists (same checks as {@link get}). */
  has(kind: string, key: string): boolean {
    return this.get(kind, key).ok;
  }

  /**
   * Stores a result. Returns `stored`, or `kept` when another writer's
   * complete entry was already in place (that one wins; it has the same key,
   * so the same content up to non-determinism the key does not capture).
   */
  put(manifestInfo: Omit<Manifest, 'format' | 'result' | 'files'>, result: unknown, options: { replace?: boolean; files?: Record<string, string> } = {}): 'stored' | 'kept' {
    const { kind, key } = manifestInfo;
    const target = this.entryDir(kind, key);
    this.ensureWritable();
    const text = JSON.stringify(result, null, 1) + '\n';
    const manifest: Manifest = {
      format: CACHE_FORMAT,
      ...manifestInfo,
      result: { sha256: sha256(text), bytes: Buffer.byteLength(text) },
    };
    const files = Object.entries(options.files ?? {}).filter(([name]) => /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name));
    if (files.length > 0) manifest.files = files.map(([name]) => `files/${name}`);
    const tmp = this.tempDir('entry');
    try {
      return this.putFrom(tmp, target, text, manifest, files, options.replace === true);
    } catch (error) {
      throw environmentError(error, 'cache', this.root) ?? error;
    } finally {
      removeQuietly(tmp);
    }
  }

  private putFrom(tmp: string, target: string, text: string, manifest: Manifest, files: [string, string][], replace: boolean): 'stored' | 'kept' {
    const { kind, key } = manifest;
    {
      writeFileSync(join(tmp, 'result.json'), text);
      if (files.length > 0) {
        mkdirSync(join(tmp, 'files'));
        for (const [name, content] of files) writeFileSync(join(tmp, 'files', name), content);
      }
      writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
      makeDir(join(this.root, kind));
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          renameSync(tmp, target);
          return 'stored';
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') throw error;
          // Someone else's entry is in the way: keep it if complete (unless
          // replacing, as --force does), else move it aside.
          if (!replace && verifyEntry(target, kind, key, this.validate).ok) return 'kept';
          const aside = this.tempDir('corrupt');
          try {
            renameSync(target, join(aside, 'entry'));
          } catch {
            // Another process moved or replaced it meanwhile: look again.
          }
          removeQuietly(aside);
        }
      }
      throw new Error(`could not store cache entry ${kind}/${key}: the directory keeps changing under us`);
    }
  }

  /** Removes one entry (e.g. a corrupt one before recomputing it). */
  remove(kind: string, key: string): void {
    const dir = this.entryDir(kind, key);
    if (!existsSync(dir)) return;
    const aside = this.tempDir('remove');
    try {
      renameSync(dir, join(aside, 'entry'));
    } catch {
      // already gone
    }
    removeQuietly(aside);
  }

  /** Every entry directory present, complete or not. */
  entries(): EntryRef[] {
    const out: EntryRef[] = [];
    if (!existsSync(this.root)) return out;
    for (const kind of readdirSync(this.root)) {
      if (!KIND_RE.test(kind) || kind === 'tasks') continue;
      const dir = join(this.root, kind);
      if (!isDir(dir)) continue;
      for (const key of readdirSync(dir)) if (KEY_RE.test(key) && isDir(join(dir, key))) out.push({ kind, key });
    }
    return out;
  }

  /**
   * Removes every entry not in `referenced` (`kind/key` strings), the
   * records of task ids not in `taskIds` (when given), leftovers of
   * interrupted writes (temp entries and memo temp files) whose process is
   * gone or that are older than `tmpAgeMs`, and claims of dead processes.
   */
  gc(referenced: ReadonlySet<string>, taskIds?: ReadonlySet<string>, tmpAgeMs = 60 * 60 * 1000): { removed: EntryRef[]; kept: number; records: number; temp: number } {
    const state = this.checkUsable();
    if (state.state === 'missing' || state.state === 'empty') return { removed: [], kept: 0, records: 0, temp: 0 };
    this.refuseWhileInUse('gc');
    return atBoundary('cache', this.root, () => {
      this.ensureWritable();
      const removed: EntryRef[] = [];
      let kept = 0;
      for (const e of this.entries()) {
        if (referenced.has(`${e.kind}/${e.key}`)) {
          kept++;
          continue;
        }
        this.remove(e.kind, e.key);
        removed.push(e);
      }
      let records = 0;
      const recDir = join(this.root, 'tasks');
      if (taskIds && existsSync(recDir)) {
        const wanted = new Set([...taskIds].map(recordName));
        for (const f of readdirSync(recDir)) {
          if (RECORD_RE.test(f) && !wanted.has(f)) {
            rmSync(join(recDir, f), { force: true });
            records++;
          }
        }
      }
      let temp = 0;
      const now = Date.now();
      // Temp names carry the writer's pid: `entry-<pid>-<hex>`, `<memo>.json.tmp-<pid>`.
      const leftover = (dir: string, name: string, pidOf: RegExp) => {
        const p = join(dir, name);
        const pid = Number(pidOf.exec(name)?.[1]);
        try {
          if ((Number.isInteger(pid) && pid !== process.pid && !pidAlive(pid)) || now - statSync(p).mtimeMs >= tmpAgeMs) {
            rmSync(p, { recursive: true, force: true });
            temp++;
          }
        } catch {
          // removed by someone else
        }
      };
      const tmpRoot = join(this.root, '.tmp');
      if (existsSync(tmpRoot)) for (const f of readdirSync(tmpRoot)) leftover(tmpRoot, f, /^[a-z]+-(\d+)-/);
      const memoDir = join(this.root, '.sessions');
      if (existsSync(memoDir)) for (const f of readdirSync(memoDir)) if (/\.tmp-\d+$/.test(f)) leftover(memoDir, f, /\.tmp-(\d+)$/);
      for (const f of readdirSync(this.root)) if (/^\.expt-cache\.tmp-\d+$/.test(f)) leftover(this.root, f, /\.tmp-(\d+)$/);
      temp += this.claims.removeDead();
      return { removed, kept, records, temp };
    });
  }

  /** A clean or gc while another process computes into this cache would race it: refuse, naming the process. */
  private refuseWhileInUse(command: string): void {
    const live = this.claims.liveHolders().filter((h) => h.pid !== process.pid);
    if (live.length === 0) return;
    const who = [...new Set(live.map((h) => `pid ${h.pid}${h.host !== this.claims.host ? ` on ${h.host}` : ''}`))].join(', ');
    throw new UserError(`another expt process (${who}) is computing into this cache: wait for it to finish (or stop it), then run expt ${command} again`, shownPath(this.root));
  }

  /**
   * Removes the cache: every entry, record, temp and memo file, the marker,
   * then the folder if nothing else is left in it. Only in a folder that is
   * expt's cache (marked, or a cache from before the marker); anything else
   * in it is kept and listed.
   */
  clean(): CleanOutcome {
    const out: CleanOutcome = { found: false, entries: 0, other: 0, removedRoot: false, kept: [] };
    const state = this.checkUsable();
    if (state.state === 'missing') return out;
    out.found = true;
    this.refuseWhileInUse('clean');
    return atBoundary('cache', this.root, () => {
      const names = readdirSync(this.root);
      for (const name of names) {
        const p = join(this.root, name);
        if (name === CACHE_TAG || (OWN_DIRS as readonly string[]).includes(name)) continue;
        if (name === 'tasks' && isDir(p)) {
          for (const f of readdirSync(p)) {
            if (RECORD_RE.test(f)) {
              rmSync(join(p, f), { force: true });
              out.other++;
            } else out.kept.push(join(p, f));
          }
          removeDirIfEmpty(p);
        } else if (KIND_RE.test(name) && isDir(p)) {
          for (const key of readdirSync(p)) {
            if (KEY_RE.test(key) && isDir(join(p, key))) {
              this.remove(name, key);
              out.entries++;
            } else out.kept.push(join(p, key));
          }
          removeDirIfEmpty(p);
        } else out.kept.push(p);
      }
      // Temp entries, memo files, claims of finished processes: all expt's bookkeeping.
      for (const name of OWN_DIRS) {
        const p = join(this.root, name);
        if (!isDir(p)) continue;
        out.other += readdirSync(p).length;
        rmSync(p, { recursive: true, force: true });
      }
      // The marker goes last: a clean stopped halfway leaves a folder that is still recognisably expt's.
      const rest = readdirSync(this.root).filter((n) => n !== CACHE_TAG);
      if (rest.length === 0) {
        rmSync(join(this.root, CACHE_TAG), { force: true });
        out.removedRoot = removeDirIfEmpty(this.root);
      }
      for (const n of rest) if (!out.kept.includes(join(this.root, n))) out.kept.push(join(this.root, n));
      return out;
    });
  }

  /** The last key recorded for a task id, if any. */
  readRecord(taskId: string): TaskRecord | undefined {
    const file = join(this.root, 'tasks', recordName(taskId));
    try {
      const rec = JSON.parse(readFileSync(file, 'utf8')) as TaskRecord;
      return rec.id === taskId && typeof rec.key === 'string' ? rec : undefined;
    } catch {
      return undefined;
    }
  }

  /** Records the current key of a task id (atomic; the last writer wins). */
  writeRecord(record: TaskRecord): void {
    this.ensureWritable();
    atBoundary('cache', this.root, () => {
      const dir = join(this.root, 'tasks');
      makeDir(dir);
      const tmp = this.tempDir('record');
      try {
        const file = join(tmp, 'record.json');
        writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
        renameSync(file, join(dir, recordName(record.id)));
      } finally {
        removeQuietly(tmp);
      }
    });
  }

  private tempDir(what: string): string {
    this.ensureWritable();
    const dir = join(this.root, '.tmp', `${what}-${process.pid}-${randomBytes(6).toString('hex')}`);
    atBoundary('cache', this.root, () => makeDir(dir));
    return dir;
  }
}

/** Identity of an entry's two files (inode, size, mtime): changes whenever either is replaced or edited. */
function entryStamp(dir: string): string | undefined {
  try {
    const m = statSync(join(dir, 'manifest.json'), { bigint: true });
    const r = statSync(join(dir, 'result.json'), { bigint: true });
    return `${m.ino}:${m.size}:${m.mtimeNs}:${r.ino}:${r.size}:${r.mtimeNs}`;
  } catch {
    return undefined;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function hasTag(root: string): boolean {
  try {
    return readFileSync(join(root, CACHE_TAG), 'utf8').includes('created by expt');
  } catch {
    return false;
  }
}

/** Whether `name` at the cache root is part of expt's layout (for a cache from before the marker). */
function isLayoutName(root: string, name: string): boolean {
  const p = join(root, name);
  if (/^\.expt-cache\.tmp-\d+$/.test(name)) return true;
  if (!isDir(p)) return false;
  if ((OWN_DIRS as readonly string[]).includes(name)) return true;
  try {
    if (name === 'tasks') return readdirSync(p).every((f) => RECORD_RE.test(f));
    return KIND_RE.test(name) && readdirSync(p).every((k) => KEY_RE.test(k) && isDir(join(p, k)));
  } catch {
    return false;
  }
}

function removeDirIfEmpty(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false; // not empty (something appeared meanwhile, or is not ours), or gone
  }
}

/** Cleanup after a write, which must not hide the write's own error (a read-only disk fails both). */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // a leftover for gc
  }
}

function recordName(taskId: string): string {
  return `${sha256(taskId).slice(0, 32)}.json`;
}

/** Checks that `dir` holds a complete, self-consistent entry for kind/key (of the right shape, when `validate` is given). */
export function verifyEntry(dir: string, kind: string, key: string, validate?: ResultValidator): CacheLookup {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === 'ENOENT' && !existsSync(dir) ? 'missing' : 'corrupt', detail: code === 'ENOENT' ? 'manifest.json is missing' : 'manifest.json is not valid JSON' };
  }
  if (typeof manifest !== 'object' || manifest === null || manifest.format !== CACHE_FORMAT) {
    return { ok: false, reason: 'corrupt', detail: 'manifest.json has an unknown format' };
  }
  if (manifest.key !== key || manifest.kind !== kind) return { ok: false, reason: 'corrupt', detail: 'manifest.json belongs to another entry' };
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(dir, 'result.json'));
  } catch {
    return { ok: false, reason: 'corrupt', detail: 'result.json is missing' };
  }
  if (sha256(bytes) !== manifest.result?.sha256) return { ok: false, reason: 'corrupt', detail: 'result.json does not match the hash in manifest.json' };
  let result: unknown;
  try {
    result = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, reason: 'corrupt', detail: 'result.json is not valid JSON' };
  }
  const problem = validate?.(kind, result);
  if (problem !== undefined) return { ok: false, reason: 'corrupt', detail: `result.json has the wrong shape for a ${kind} task: ${problem}` };
  return { ok: true, result, manifest };
}
