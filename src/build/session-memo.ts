/**
 * The expansion memo: what makes a no-op `expt run` / `plan` / `report` /
 * `gc` fast. Expanding the config (reading the presets, estimating their
 * energies, rewriting fused constraints, hashing every input) is the bulk of
 * a warm run; its outcome — the task graph with keys, input hashes and
 * labels, but without the input values — is stored in
 * `cache/.sessions/<fingerprint>.json` together with every file-system
 * observation the expansion made.
 *
 * The memo is used when
 *   - the fingerprint matches: the loaded config (its parsed value), the
 *     model catalog, the file the config came from, the working directory,
 *     `EXPT_ENGINE_VERSION`, and a digest of expt's own sources and data
 *     (src/, data/, package.json, package-lock.json); and
 *   - every observation still holds: each file the expansion read has the
 *     same content (sha256), each existence check and directory listing the
 *     same answer.
 * Observations are recorded by wrapping the synchronous `node:fs` functions
 * for the duration of the expansion (which is synchronous); an expansion
 * that used anything the wrapper cannot observe (a file descriptor) is not
 * memoized. A graph from the memo has no input values: a command that runs
 * or shows a task opens the session again without the memo.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson, sha256 } from './hash.ts';
import type { Task } from './task.ts';

export const MEMO_FORMAT = 'expt-session-memo-v1';
/** Memo files kept per cache (the most recent ones). */
const KEEP = 8;

export interface FsObservation {
  op: 'read' | 'exists' | 'readdir' | 'stat';
  path: string;
  /** read: sha256 of the bytes; exists: 'true' / 'false'; readdir: the sorted names; stat: 'file' / 'dir' / 'other' / 'missing'. */
  value: string;
}

export interface Recording<T> {
  result: T;
  observations: FsObservation[];
  /** False when the code used a file-system call the recorder cannot replay. */
  complete: boolean;
}

function pathOf(p: unknown): string | undefined {
  if (typeof p === 'string') return p;
  if (p instanceof URL) return fileURLToPath(p);
  if (Buffer.isBuffer(p)) return p.toString();
  return undefined;
}

function statValue(path: string): string {
  try {
    const s = fs.statSync(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other';
  } catch {
    return 'missing';
  }
}

/** What an observation says now. */
function observe(op: FsObservation['op'], path: string): string {
  switch (op) {
    case 'read':
      try {
        return sha256(fs.readFileSync(path));
      } catch {
        return 'unreadable';
      }
    case 'exists':
      return String(fs.existsSync(path));
    case 'readdir':
      try {
        return (fs.readdirSync(path) as string[]).map(String).sort().join('\n');
      } catch {
        return 'unreadable';
      }
    case 'stat':
      return statValue(path);
  }
}

/**
 * Runs `fn` (synchronous) with the synchronous fs functions wrapped, and
 * returns what it read, checked and listed.
 */
export function recordFs<T>(fn: () => T): Recording<T> {
  const observations: FsObservation[] = [];
  const seen = new Set<string>();
  let complete = true;
  const note = (op: FsObservation['op'], raw: unknown, value: () => string) => {
    const path = pathOf(raw);
    if (path === undefined) {
      complete = false;
      return;
    }
    const id = `${op}\0${path}`;
    if (seen.has(id)) return;
    seen.add(id);
    observations.push({ op, path, value: value() });
  };
  const original = {
    readFileSync: fs.readFileSync,
    existsSync: fs.existsSync,
    readdirSync: fs.readdirSync,
    statSync: fs.statSync,
    openSync: fs.openSync,
  };
  const patched = fs as unknown as Record<string, unknown>;
  // A call that throws is an observation too (the caller may catch it and go on).
  // Calls made by the wrapped functions themselves (readFileSync opens the file) are theirs.
  let inside = 0;
  const attempt = <R>(op: FsObservation['op'], raw: unknown, failed: string, call: () => R): R => {
    inside++;
    try {
      return call();
    } catch (error) {
      note(op, raw, () => failed);
      throw error;
    } finally {
      inside--;
    }
  };
  patched['readFileSync'] = function (this: unknown, ...args: unknown[]) {
    const result = attempt('read', args[0], 'unreadable', () => (original.readFileSync as (...a: unknown[]) => unknown).apply(this, args));
    note('read', args[0], () => sha256(typeof result === 'string' ? Buffer.from(result, 'utf8') : (result as Buffer)));
    return result;
  };
  patched['existsSync'] = function (this: unknown, ...args: unknown[]) {
    const result = attempt('exists', args[0], 'false', () => (original.existsSync as (...a: unknown[]) => boolean).apply(this, args));
    note('exists', args[0], () => String(result));
    return result;
  };
  patched['readdirSync'] = function (this: unknown, ...args: unknown[]) {
    const result = attempt('readdir', args[0], 'unreadable', () => (original.readdirSync as (...a: unknown[]) => unknown[]).apply(this, args));
    note('readdir', args[0], () =>
      result
        .map((r) => (typeof r === 'string' ? r : Buffer.isBuffer(r) ? r.toString() : String((r as { name: unknown }).name)))
        .sort()
        .join('\n'),
    );
    return result;
  };
  patched['statSync'] = function (this: unknown, ...args: unknown[]) {
    const result = attempt('stat', args[0], 'missing', () => (original.statSync as (...a: unknown[]) => fs.Stats | undefined).apply(this, args));
    note('stat', args[0], () => (result === undefined ? 'missing' : result.isFile() ? 'file' : result.isDirectory() ? 'dir' : 'other'));
    return result;
  };
  patched['openSync'] = function (this: unknown, ...args: unknown[]) {
    if (inside === 0) complete = false;
    return (original.openSync as (...a: unknown[]) => unknown).apply(this, args);
  };
  syncBuiltinESMExports();
  try {
    return { result: fn(), observations, complete };
  } finally {
    Object.assign(patched, original);
    syncBuiltinESMExports();
  }
}

let codeDigestMemo: string | undefined;

/**
 * sha256 over expt's sources, its launcher (bin/: the engine versions digest
 * what a kind reaches, which includes the worker bootstraps), its data and
 * the package manifests: anything that could change an expansion.
 */
export function codeDigest(): string {
  if (codeDigestMemo !== undefined) return codeDigestMemo;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) files.push(p);
    }
  };
  walk(join(root, 'src'));
  if (fs.existsSync(join(root, 'bin'))) walk(join(root, 'bin'));
  if (fs.existsSync(join(root, 'data'))) walk(join(root, 'data'));
  for (const f of ['package.json', 'package-lock.json']) if (fs.existsSync(join(root, f))) files.push(join(root, f));
  const parts = files.map((f) => `${f.slice(root.length)}\0${sha256(fs.readFileSync(f))}`);
  codeDigestMemo = sha256(parts.join('\n'));
  return codeDigestMemo;
}

/** A task as stored: everything but the input values. */
export type StoredTask = Omit<Task, 'inputs'> & { inputs: Record<string, { label: string }> };

/** `Experiments`: what the caller keeps of the expansion besides the graph (the study's experiments and their cells). */
export interface SessionMemo<Experiments = unknown> {
  format: typeof MEMO_FORMAT;
  fingerprint: string;
  observations: FsObservation[];
  experiments: Experiments[];
  tasks: StoredTask[];
}

export function memoFingerprint(parts: Record<string, unknown>): string {
  return sha256(canonicalJson({ format: MEMO_FORMAT, code: codeDigest(), ...parts }));
}

function memoDir(cacheDir: string): string {
  return join(cacheDir, '.sessions');
}

/** The memo for `fingerprint`, if there is one and every observation still holds. */
export function readMemo<Experiments = unknown>(cacheDir: string, fingerprint: string): SessionMemo<Experiments> | undefined {
  let memo: SessionMemo<Experiments>;
  try {
    memo = JSON.parse(fs.readFileSync(join(memoDir(cacheDir), `${fingerprint}.json`), 'utf8')) as SessionMemo<Experiments>;
  } catch {
    return undefined;
  }
  if (memo.format !== MEMO_FORMAT || memo.fingerprint !== fingerprint || !Array.isArray(memo.tasks) || !Array.isArray(memo.observations)) return undefined;
  for (const o of memo.observations) if (observe(o.op, o.path) !== o.value) return undefined;
  return memo;
}

/** Stores a memo (atomically) and drops all but the most recent memos. Never fails the command. */
export function writeMemo<Experiments>(cacheDir: string, memo: SessionMemo<Experiments>): void {
  const dir = memoDir(cacheDir);
  const file = join(dir, `${memo.fingerprint}.json`);
  // The writer's pid in the temp name: gc removes the file when that process is gone.
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(tmp, JSON.stringify(memo));
    fs.renameSync(tmp, file);
    const others = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({ f, t: fs.statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => b.t - a.t);
    for (const { f } of others.slice(KEEP)) fs.rmSync(join(dir, f), { force: true });
  } catch {
    // A memo is an optimization: a read-only, full or racing cache folder only costs time.
    // A partial temp file (a full disk) is not left behind.
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // read-only: nothing was written either
    }
  }
}
