/**
 * What every pipeline command starts from: the config, its expansion into
 * the full task graph (all experiments, so reports and gc see everything),
 * and the selection the command acts on (named experiments, `--only`).
 *
 * With `memo: true` the graph may come from the expansion memo
 * (session-memo.ts) when nothing it depends on changed: then the tasks have
 * no input values (`partial`), which is enough to plan, report and gc; a
 * command that runs or shows tasks opens the session without the memo.
 */
import { Cache } from '../build/cache.ts';
import { checkOwnDirs } from '../build/own-dirs.ts';
import { loadConfig, selectExperiments, type LoadedConfig } from './config.ts';
import type { EngineOverrides, Expansion, ExperimentTasks } from './expand.ts';
import { timeloopMapEngine } from './kinds/map.ts';
import { buildGraph, TaskGraph } from '../build/graph.ts';
import type { KindRegistry } from '../build/kinds.ts';
import { KINDS } from './kinds/index.ts';
import { MEMO_FORMAT, memoFingerprint, readMemo, recordFs, writeMemo, type StoredTask } from '../build/session-memo.ts';
import type { Task } from '../build/task.ts';
import { UserError } from '../util/errors.ts';

export interface Session {
  loaded: LoadedConfig;
  expansion: Expansion;
  /** Every task of every experiment. */
  graph: TaskGraph;
  cache: Cache;
  /** The study's kinds, every one loaded. */
  kinds: KindRegistry;
  /** From the expansion memo: tasks without input values (and `expansion.specs` empty). */
  partial: boolean;
}

export interface SessionOptions {
  config?: string;
  cwd?: string;
  memo?: boolean;
  /** `--engine` / `--timeout` of the command line, over the config's engine settings. */
  engine?: EngineOverrides;
  /**
   * Called with the memo fingerprint (when `memo` is on) before the memo is
   * read and the config expanded: where `expt run` waits for another run of
   * the same experiments on the same cache (its memo and results are then
   * there to use).
   */
  beforeExpand?: (fingerprint: string, cache: Cache) => Promise<void>;
}

/** Whether any map task of the config runs on the timeloop engine. */
export function usesTimeloop(loaded: LoadedConfig, overrides: EngineOverrides = {}): boolean {
  if (overrides.engine !== undefined) return overrides.engine === 'timeloop';
  const c = loaded.config;
  return Object.values(c.experiments).some((e) => (e.engine ?? c.engine ?? 'embedded') === 'timeloop');
}

export async function openSession(options: SessionOptions = {}): Promise<Session> {
  const loaded = await loadConfig({ explicit: options.config, cwd: options.cwd });
  checkOwnDirs(loaded);
  const overrides = options.engine ?? {};
  // The Timeloop build is part of the keys: find it first (a missing Timeloop is one clear error).
  const timeloop = usesTimeloop(loaded, overrides) ? timeloopMapEngine() : undefined;
  // Every kind now: engine ids and the result shapes checked on each cache read are looked up synchronously.
  const kinds = await KINDS.loadAll();
  const cache = new Cache(loaded.cacheDir, kinds.validate);
  // A cache folder that is a file, or someone else's folder, is an error now rather than "nothing cached".
  cache.checkUsable();
  const names = Object.keys(loaded.config.experiments);
  let fingerprint: string | undefined;
  if (options.memo === true) {
    try {
      fingerprint = memoFingerprint({
        cwd: options.cwd ?? process.cwd(),
        file: loaded.file,
        config: loaded.config,
        models: loaded.models,
        engine: process.env['EXPT_ENGINE_VERSION'] ?? '',
        engines: { engine: overrides.engine ?? null, timeLimitMs: overrides.timeLimitMs ?? null, timeloop: timeloop ?? null },
      });
    } catch {
      fingerprint = undefined; // a config value that cannot be hashed: no memo
    }
    if (fingerprint !== undefined) await options.beforeExpand?.(fingerprint, cache);
    const memo = fingerprint !== undefined ? readMemo<ExperimentTasks>(loaded.cacheDir, fingerprint) : undefined;
    if (memo) {
      const tasks: Task[] = memo.tasks.map((t) => ({ ...t, inputs: Object.fromEntries(Object.entries(t.inputs).map(([n, i]) => [n, { label: i.label, value: undefined }])) }));
      return { loaded, expansion: { specs: [], experiments: memo.experiments }, graph: new TaskGraph(tasks), cache, kinds, partial: true };
    }
  }
  const { expandConfig } = await import('./expand.ts');
  const expand = () => expandConfig(loaded, names, overrides);
  const recording = fingerprint !== undefined ? recordFs(expand) : { result: expand(), observations: [], complete: false };
  const expansion = recording.result;
  const graph = buildGraph(expansion.specs, (k, variant) => (k === 'map' && variant === 'timeloop' && timeloop ? timeloop : kinds.get(k)!.engine(variant)));
  if (fingerprint !== undefined && recording.complete) {
    const tasks: StoredTask[] = graph.order.map((t) => ({ ...t, inputs: Object.fromEntries(Object.entries(t.inputs).map(([n, i]) => [n, { label: i.label }])) }));
    try {
      cache.ensureWritable();
      writeMemo(loaded.cacheDir, { format: MEMO_FORMAT, fingerprint, observations: recording.observations, experiments: expansion.experiments, tasks });
    } catch {
      // A memo is an optimization: a read-only cache only costs time (and a run that needs to write says so).
    }
  }
  return { loaded, expansion, graph, cache, kinds, partial: false };
}

export const FILTER_FIELDS = ['experiment', 'model', 'layer', 'arch', 'hw', 'fusion', 'variant', 'kind', 'id'] as const;

/** One `--only` value: field → accepted values (fields AND, values OR). */
export type Filter = Map<string, Set<string>>;

export function parseFilter(text: string): Filter {
  const filter: Filter = new Map();
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UserError(`--only expects field=value pairs such as model=bert-base,arch=gemmini, got '${part}'`);
    const field = part.slice(0, eq).trim();
    if (!(FILTER_FIELDS as readonly string[]).includes(field)) throw new UserError(`--only: unknown field '${field}' (fields: ${FILTER_FIELDS.join(', ')})`);
    const values = filter.get(field) ?? new Set<string>();
    for (const v of part.slice(eq + 1).split('|')) values.add(v.trim());
    filter.set(field, values);
  }
  if (filter.size === 0) throw new UserError('--only expects field=value pairs such as model=bert-base,arch=gemmini');
  return filter;
}

function matches(task: Task, filter: Filter): boolean {
  return task.cells.some((cell) =>
    [...filter].every(([field, values]) => {
      if (field === 'kind') return values.has(task.kind);
      if (field === 'id') return values.has(task.id) || task.aliases.some((a) => values.has(a));
      const v = cell[field];
      return v !== undefined && values.has(String(v));
    }),
  );
}

/**
 * The tasks a command acts on: those of the named experiments (default: the
 * config's default), narrowed by the filters (any of them may match), plus
 * everything they depend on.
 */
export function selectTasks(session: Session, experiments: readonly string[], filters: readonly string[]): TaskGraph {
  const names = new Set(selectExperiments(session.loaded, experiments));
  let picked = session.graph.order.filter((t) => t.cells.some((c) => c.experiment !== undefined && names.has(String(c.experiment))));
  if (filters.length > 0) {
    const parsed = filters.map(parseFilter);
    for (const f of parsed) {
      for (const [field, values] of f) {
        if (field === 'kind' || field === 'id') continue;
        const known = new Set(picked.flatMap((t) => t.cells.map((c) => c[field])).filter((v) => v !== undefined).map(String));
        for (const v of values) {
          if (!known.has(v)) throw new UserError(`--only ${field}=${v} matches no task (${field} values: ${[...known].sort().join(', ') || 'none'})`);
        }
      }
    }
    picked = picked.filter((t) => parsed.some((f) => matches(t, f)));
  }
  return session.graph.closure(picked.map((t) => t.id));
}
