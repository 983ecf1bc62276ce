/**
 * Loggers for `expt run`: a listr2 progress display for terminals (counts,
 * cached vs ran, ETA, the tasks running now) and a plain line logger for
 * everything else (CI, pipes, `--json`). Both print failures with their
 * reason and a closing summary line.
 */
import type * as Listr2 from 'listr2';
import type { Plan } from './plan.ts';
import type { RunLogger, RunSummary, TaskEvent } from './scheduler.ts';

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : ms < 120_000 ? `${Math.round(ms / 1000)}s` : `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

export function summaryLine(s: RunSummary): string {
  const parts = [`${s.ran} ran`, `${s.cached} cached`, `${s.failed} failed`, `${s.skipped} skipped`];
  if (s.interrupted > 0) parts.push(`${s.interrupted} interrupted`);
  return `expt run: ${parts.join(', ')} in ${seconds(s.durationMs)}`;
}

/** Progress bookkeeping shared by the loggers: counts and an ETA from the tasks that ran. */
class Progress {
  total = 0;
  toRun = 0;
  jobs = 1;
  finished = 0;
  ran = 0;
  cached = 0;
  failed = 0;
  skipped = 0;
  ranMs = 0;
  readonly running = new Map<string, number>();
  readonly t0 = performance.now();

  begin(plan: Plan, jobs: number): void {
    this.total = plan.entries.length;
    this.toRun = plan.entries.filter((e) => e.state === 'will run').length;
    this.jobs = jobs;
  }

  event(e: TaskEvent): void {
    if (e.state === 'started') {
      this.running.set(e.task.id, performance.now());
      return;
    }
    this.running.delete(e.task.id);
    this.finished++;
    if (e.state === 'done') {
      this.ran++;
      this.ranMs += e.durationMs ?? 0;
    } else if (e.state === 'cached') this.cached++;
    else if (e.state === 'failed') this.failed++;
    else this.skipped++;
  }

  /** Estimated time left, from the mean duration of the tasks that ran. */
  eta(): string {
    const left = Math.max(0, this.toRun - this.ran - this.failed);
    if (left === 0) return '';
    if (this.ran === 0) return 'ETA …';
    const mean = this.ranMs / this.ran;
    return `ETA ${seconds((left * mean) / Math.min(Math.max(1, this.jobs), left))}`;
  }

  counts(): string {
    const parts = [`${this.finished}/${this.total}`, `${this.ran} ran`, `${this.cached} cached`];
    if (this.failed > 0) parts.push(`${this.failed} failed`);
    if (this.skipped > 0) parts.push(`${this.skipped} skipped`);
    return parts.join(', ');
  }
}

/** One line per finished task; for pipes, CI and `--json` (then on stderr). */
export class PlainLogger implements RunLogger {
  private readonly p = new Progress();
  constructor(
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly options: { verbose?: boolean } = {},
  ) {}

  begin(plan: Plan, options: { jobs: number; where?: string }): void {
    this.p.begin(plan, options.jobs);
    const cached = this.p.total - this.p.toRun;
    this.out.write(`expt run: ${this.p.total} tasks (${cached} cached, ${this.p.toRun} to run) on ${options.where ?? `${options.jobs} thread${options.jobs === 1 ? '' : 's'}`}\n`);
  }

  event(e: TaskEvent): void {
    this.p.event(e);
    if (e.state === 'started') return;
    if (e.state === 'cached' && !this.options.verbose) return;
    const width = String(this.p.total).length;
    const head = `[${String(this.p.finished).padStart(width)}/${this.p.total}]`;
    const state = e.state === 'failed' ? 'FAILED ' : e.state.padEnd(7);
    const time = e.durationMs !== undefined && e.state !== 'skipped' ? ` (${seconds(e.durationMs)})` : '';
    const why = e.state === 'failed' || e.state === 'skipped' ? `: ${e.reason ?? ''}` : '';
    const eta = e.state === 'done' ? this.p.eta() : '';
    this.out.write(`${head} ${state} ${e.task.id}${time}${why}${eta ? `  [${eta}]` : ''}\n`);
  }

  end(summary: RunSummary): void {
    this.out.write(`${summaryLine(summary)}\n`);
  }
}

/**
 * listr2 display for a terminal: one line of counts + ETA, the running tasks
 * under it. Made with {@link ListrLogger.create}, which loads listr2 (only
 * runs that show progress pay for loading it).
 */
export class ListrLogger implements RunLogger {
  static async create(): Promise<ListrLogger> {
    return new ListrLogger(await import('listr2'));
  }

  private constructor(private readonly listr2: typeof Listr2) {}

  private readonly p = new Progress();
  private finish: (() => void) | undefined;
  private done: Promise<unknown> | undefined;
  private update: (() => void) | undefined;
  private readonly failures: TaskEvent[] = [];
  private ticker: NodeJS.Timeout | undefined;

  begin(plan: Plan, options: { jobs: number; where?: string }): void {
    this.p.begin(plan, options.jobs);
    const { Listr, PRESET_TIMER } = this.listr2;
    const list = new Listr(
      [
        {
          title: this.title(),
          task: (_ctx, task) =>
            new Promise<void>((resolve) => {
              this.update = () => {
                task.title = this.title();
                const now = performance.now();
                const running = [...this.p.running].map(([id, t]) => `${id} (${seconds(now - t)})`);
                task.output = running.length > 0 ? running.join('\n') : ' ';
              };
              this.finish = resolve;
              this.update();
            }),
          rendererOptions: { outputBar: Infinity, persistentOutput: false },
        },
      ],
      { rendererOptions: { timer: PRESET_TIMER, collapseErrors: false }, exitOnError: false, registerSignalListeners: false },
    );
    this.done = list.run().catch(() => undefined);
    this.ticker = setInterval(() => this.update?.(), 500);
  }

  private title(): string {
    const eta = this.p.eta();
    return `expt run: ${this.p.counts()}${eta ? ` — ${eta}` : ''}`;
  }

  event(e: TaskEvent): void {
    this.p.event(e);
    if (e.state === 'failed' || e.state === 'skipped') this.failures.push(e);
    this.update?.();
  }

  async end(summary: RunSummary): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.update?.();
    this.finish?.();
    await this.done;
    for (const f of this.failures) {
      process.stderr.write(`${f.state === 'failed' ? 'FAILED ' : 'skipped'} ${f.task.id}: ${f.reason ?? ''}\n`);
    }
    process.stdout.write(`${summaryLine(summary)}\n`);
  }
}
