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
 *
 * An entry is written into a fresh directory under `.tmp/` (result first,
 * manifest last) and renamed into place, so `<kind>/<key>/` either does not
 * exist or is complete. Readers still verify it: a missing file, bad JSON, a
 * manifest for another key or a result whose sha256 differs from the
 * manifest's makes the entry corrupt, which callers treat as a miss. When two
 * processes store the same key, the first complete entry stays and the
 * second writer drops its copy; a corrupt entry in the way is moved aside.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sha256 } from './hash.ts';

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

export class Cache {
  constructor(readonly root: string) {}

  entryDir(kind: string, key: string): string {
    if (!KIND_RE.test(kind)) throw new Error(`bad task kind name '${kind}'`);
    if (!KEY_RE.test(key)) throw new Error(`bad cache key '${key}'`);
    return join(this.root, kind, key);
  }

  /** Reads and verifies an entry; anything incomplete or inconsistent is `corrupt`. */
  get(kind: string, key: string): CacheLookup {
    const dir = this.entryDir(kind, key);
    if (!existsSync(dir)) return { ok: false, reason: 'missing', detail: 'no cached result for this key' };
    return verifyEntry(dir, kind, key);
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
      writeFileSync(join(tmp, 'result.json'), text);
      if (files.length > 0) {
        mkdirSync(join(tmp, 'files'));
        for (const [name, content] of files) writeFileSync(join(tmp, 'files', name), content);
      }
      writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
      mkdirSync(join(this.root, kind), { recursive: true });
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          renameSync(tmp, target);
          return 'stored';
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') throw error;
          // Someone else's entry is in the way: keep it if complete (unless
          // replacing, as --force does), else move it aside.
          if (!options.replace && verifyEntry(target, kind, key).ok) return 'kept';
          const aside = this.tempDir('corrupt');
          try {
            renameSync(target, join(aside, 'entry'));
          } catch {
            // Another process moved or replaced it meanwhile: look again.
          }
          rmSync(aside, { recursive: true, force: true });
        }
      }
      throw new Error(`could not store cache entry ${kind}/${key}: the directory keeps changing under us`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
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
    rmSync(aside, { recursive: true, force: true });
  }

  /** Every entry directory present, complete or not. */
  entries(): EntryRef[] {
    const out: EntryRef[] = [];
    if (!existsSync(this.root)) return out;
    for (const kind of readdirSync(this.root)) {
      if (!KIND_RE.test(kind) || kind === 'tasks') continue;
      const dir = join(this.root, kind);
      if (!statSync(dir).isDirectory()) continue;
      for (const key of readdirSync(dir)) if (KEY_RE.test(key)) out.push({ kind, key });
    }
    return out;
  }

  /**
   * Removes every entry not in `referenced` (`kind/key` strings), the
   * records of task ids not in `taskIds` (when given), and leftovers of
   * interrupted writes older than `tmpAgeMs`.
   */
  gc(referenced: ReadonlySet<string>, taskIds?: ReadonlySet<string>, tmpAgeMs = 60 * 60 * 1000): { removed: EntryRef[]; kept: number; records: number; temp: number } {
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
        if (!wanted.has(f)) {
          rmSync(join(recDir, f), { force: true });
          records++;
        }
      }
    }
    let temp = 0;
    const tmpRoot = join(this.root, '.tmp');
    if (existsSync(tmpRoot)) {
      const now = Date.now();
      for (const f of readdirSync(tmpRoot)) {
        const p = join(tmpRoot, f);
        try {
          if (now - statSync(p).mtimeMs >= tmpAgeMs) {
            rmSync(p, { recursive: true, force: true });
            temp++;
          }
        } catch {
          // removed by someone else
        }
      }
    }
    return { removed, kept, records, temp };
  }

  /** Removes the whole cache. */
  clean(): void {
    rmSync(this.root, { recursive: true, force: true });
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
    const dir = join(this.root, 'tasks');
    mkdirSync(dir, { recursive: true });
    const tmp = this.tempDir('record');
    try {
      const file = join(tmp, 'record.json');
      writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
      renameSync(file, join(dir, recordName(record.id)));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  private tempDir(what: string): string {
    const dir = join(this.root, '.tmp', `${what}-${process.pid}-${randomBytes(6).toString('hex')}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }
}

function recordName(taskId: string): string {
  return `${sha256(taskId).slice(0, 32)}.json`;
}

/** Checks that `dir` holds a complete, self-consistent entry for kind/key. */
export function verifyEntry(dir: string, kind: string, key: string): CacheLookup {
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
  return { ok: true, result, manifest };
}
