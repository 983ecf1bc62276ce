/**
 * Claims: which process is computing which task right now, so that several
 * `expt run` on one cache share the work instead of each doing all of it.
 *
 * A claim is a file `.claims/<name>` under the cache root holding the
 * holder's pid, host and process start time. It is created whole (written
 * to a temp name, then hard-linked into place: the link fails if someone
 * else's claim is there). Node has no flock, so a claim cannot vanish with
 * its process by itself; instead a claim whose holder is gone counts as no
 * claim: on the same host the pid is checked with `kill(pid, 0)` and its
 * start time (Linux: /proc/<pid>/stat) against the recorded one, so a reused
 * pid is not mistaken for the holder; a claim from another host is alive
 * while its holder touches it (every few seconds). A dead claim is removed
 * by whoever finds it.
 */
import { linkSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isErrno, makeDir } from '../util/fs-errors.ts';

export interface ClaimHolder {
  pid: number;
  host: string;
  /** The holder's start time (clock ticks since boot, Linux), null where unknown. */
  start: string | null;
  since: string;
}

/** How often a holder touches its claims; a claim from another host untouched for {@link FOREIGN_STALE_MS} is dead. */
const HEARTBEAT_MS = 5_000;
const FOREIGN_STALE_MS = 60_000;

/** The start time of a process (field 22 of /proc/<pid>/stat), or null where there is no /proc. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether a process with this pid exists on this host (EPERM: it does, as another user's). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrno(error, 'EPERM');
  }
}

const self = (): ClaimHolder => ({ pid: process.pid, host: hostname(), start: processStart(process.pid), since: new Date().toISOString() });

export class Claims {
  readonly host = hostname();
  private readonly held = new Set<string>();
  /** Dead claims removed so far by this process (gc reports them). */
  private removed = 0;
  private me: ClaimHolder | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly onExit = () => this.releaseAll();

  constructor(readonly dir: string) {}

  /** Claims `name` for this process: true, or the live holder that has it. */
  tryClaim(name: string): true | ClaimHolder {
    const file = join(this.dir, name);
    for (let attempt = 0; attempt < 3; attempt++) {
      this.me ??= self();
      makeDir(this.dir);
      const tmp = join(this.dir, `.${name}.${process.pid}.tmp`);
      writeFileSync(tmp, JSON.stringify(this.me) + '\n');
      try {
        linkSync(tmp, file);
        this.hold(name);
        return true;
      } catch (error) {
        if (!isErrno(error, 'EEXIST')) throw error;
      } finally {
        rmSync(tmp, { force: true });
      }
      const holder = this.holder(name);
      if (holder) return holder;
      // The holder is gone (its claim was just removed): try again.
    }
    return this.holder(name) ?? { ...self(), since: 'unknown' };
  }

  /** The live holder of `name`, if any; a dead holder's claim is removed. */
  holder(name: string): ClaimHolder | undefined {
    const file = join(this.dir, name);
    let h: ClaimHolder;
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
      h = JSON.parse(readFileSync(file, 'utf8')) as ClaimHolder;
    } catch (error) {
      // A claim is linked in whole, so one that is not JSON was damaged: no holder. Missing: no claim.
      if (error instanceof SyntaxError) rmSync(file, { force: true });
      return undefined;
    }
    if (this.alive(h, mtimeMs)) return h;
    rmSync(file, { force: true });
    this.removed++;
    return undefined;
  }

  release(name: string): void {
    if (!this.held.delete(name)) return;
    try {
      unlinkSync(join(this.dir, name));
    } catch {
      // gone already (a clean, or a gc that found us dead: cannot be, but harmless)
    }
    if (this.held.size === 0) this.stopHeartbeat();
  }

  releaseAll(): void {
    for (const name of [...this.held]) this.release(name);
  }

  /** The live holders of all claims (what clean and gc must not race). */
  liveHolders(): ClaimHolder[] {
    const out: ClaimHolder[] = [];
    for (const name of this.names()) {
      const h = this.holder(name);
      if (h) out.push(h);
    }
    return out;
  }

  /** Removes the claims of dead processes and stray temp files; returns how many this process removed. */
  removeDead(): number {
    for (const name of this.names()) this.holder(name);
    let n = this.removed;
    try {
      for (const f of readdirSync(this.dir)) {
        const m = /^\..+\.(\d+)\.tmp$/.exec(f);
        if (m && !pidAlive(Number(m[1]))) {
          rmSync(join(this.dir, f), { force: true });
          n++;
        }
      }
    } catch {
      // no claims folder
    }
    return n;
  }

  private names(): string[] {
    try {
      return readdirSync(this.dir).filter((f) => !f.startsWith('.'));
    } catch {
      return [];
    }
  }

  private alive(h: ClaimHolder, mtimeMs: number): boolean {
    if (typeof h !== 'object' || h === null || !Number.isInteger(h.pid)) return false;
    if (h.host !== this.host) return Date.now() - mtimeMs < FOREIGN_STALE_MS;
    if (!pidAlive(h.pid)) return false;
    // Same pid, another process (the pid was reused after the holder died)?
    if (h.start !== null) {
      const now = processStart(h.pid);
      if (now !== null && now !== h.start) return false;
    }
    return true;
  }

  private hold(name: string): void {
    this.held.add(name);
    if (this.timer !== undefined) return;
    // Touch our claims now and then: how another host tells a live claim from a dead one.
    this.timer = setInterval(() => {
      const now = new Date();
      for (const n of this.held) {
        try {
          utimesSync(join(this.dir, n), now, now);
        } catch {
          // removed under us
        }
      }
    }, HEARTBEAT_MS);
    this.timer.unref();
    process.on('exit', this.onExit);
  }

  private stopHeartbeat(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    process.off('exit', this.onExit);
  }
}
