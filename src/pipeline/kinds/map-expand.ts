/**
 * The map kind's expander: the spec of one map task (problem, architecture,
 * ERT, constraints, mapper settings), and its `mapper` input from the config
 * and the command line — the built-in search's settings (the config's, or
 * the library's for the sweeps and the cross-architecture study) or
 * timeloop-mapper's.
 */
import type { Architecture } from '../../arch/architecture.ts';
import type { EnergyReferenceTable } from '../../arch/energy-table.ts';
import type { MapspaceConstraints } from '../../mapper/constraints.ts';
import { MAPPER_DEFAULTS, imperfectFor, mapSettings, type MapSettings, type Metric } from '../../mapper/settings.ts';
import { operationCount, type Problem } from '../../workload/problem.ts';
import { parseDuration, type ExperimentDef, type MapperSettings } from '../config.ts';
import type { TaskInput, TaskMeta, TaskSpec } from '../../build/task.ts';
import type { ExpandContext, Labels } from '../expand-context.ts';
import type { TimeloopMapSettings } from './map.ts';

/**
 * Timeloop mapper defaults of the timeloop engine: the study's settings
 * (hybrid search, timeout 1000 invalid mappings in a row, victory after 500
 * mappings without improvement) on one thread, so that a task's result does
 * not depend on the machine's core count or thread timing (several threads
 * share the best mapping as they go: their result varies from run to run).
 */
export const DEFAULT_TIMELOOP_MAPPER: Readonly<Record<string, unknown>> = {
  algorithm: 'hybrid',
  num_threads: 1,
  timeout: 1000,
  victory_condition: 500,
  sync_interval: 0,
  live_status: false,
  diagnostics: false,
  log_stats: false,
};

/** Default wall-time limit of one timeloop-mapper run. */
export const DEFAULT_TIMELOOP_TIME_LIMIT_MS = 120_000;

/** Timeloop mapper block keys in underscore spelling, the file's `version` dropped. */
export function timeloopMapperKeys(block: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof block !== 'object' || block === null || Array.isArray(block)) return out;
  for (const [k, v] of Object.entries(block as Record<string, unknown>)) if (k !== 'version') out[k.replace(/-/g, '_')] = v;
  return out;
}

/** A map task's `mapper` input: the built-in search's settings or timeloop-mapper's, from the config and the command line. */
export function mapperInput(ctx: ExpandContext, def: ExperimentDef, jobMetrics: Metric[] | undefined, field: string, jobMapperBlock?: unknown, template: 'uber' | 'ruby' = 'uber'): TaskInput {
  const config = ctx.loaded.config;
  const m: MapperSettings = { ...config.mapper, ...def.mapper };
  const engine = ctx.overrides.engine ?? def.engine ?? config.engine ?? 'embedded';
  if (engine === 'timeloop') {
    const metrics = m.objective ?? jobMetrics ?? [...MAPPER_DEFAULTS.metrics];
    const mapper = {
      ...DEFAULT_TIMELOOP_MAPPER,
      ...timeloopMapperKeys(jobMapperBlock),
      ...timeloopMapperKeys(config.timeloop?.mapper),
      ...timeloopMapperKeys(def.timeloop?.mapper),
      optimization_metrics: metrics,
    };
    const limit = def.timeloop?.timeLimit ?? config.timeloop?.timeLimit;
    const value: TimeloopMapSettings = {
      algorithm: 'timeloop-mapper',
      metrics,
      mapper,
      timeLimitMs: ctx.overrides.timeLimitMs ?? (limit !== undefined ? parseDuration(limit) : DEFAULT_TIMELOOP_TIME_LIMIT_MS),
    };
    const from = [ctx.overrides.engine ? '--engine timeloop' : `${ctx.loaded.displayFile}: ${def.engine ? field.replace(/\.mapper$/, '.engine') : 'engine'}`];
    if (ctx.overrides.timeLimitMs !== undefined) from.push(`--timeout ${ctx.overrides.timeLimitMs / 1000}s`);
    return { label: `timeloop-mapper settings (${from.join(', ')})`, value };
  }
  const value: MapSettings = mapSettings({ effort: m.effort, seed: m.seed, restarts: m.restarts, metrics: m.objective ?? jobMetrics, imperfect: imperfectFor(m.imperfect, template) });
  return { label: `${ctx.loaded.displayFile}: ${field}`, value };
}

export function cellId(kind: string, meta: TaskMeta): string {
  const parts = [meta.experiment, meta.model, meta.layer, meta.arch, meta.fusion, meta.variant].filter((p) => p !== undefined && p !== '');
  return `${kind}:${parts.join('/')}`;
}

export function mapSpec(meta: TaskMeta, problem: Problem, arch: Architecture, ert: EnergyReferenceTable, constraints: MapspaceConstraints, labels: Labels, mapper: TaskInput, problemLabel?: string): TaskSpec {
  const engine = (mapper.value as { algorithm?: string }).algorithm === 'timeloop-mapper' ? 'timeloop' : undefined;
  return {
    id: cellId('map', meta),
    kind: 'map',
    ...(engine ? { engine } : {}),
    inputs: {
      problem: { label: problemLabel ?? labels.problem, value: problem },
      architecture: { label: labels.architecture, value: arch },
      ERT: { label: labels.ERT, value: ert },
      constraints: { label: labels.constraints, value: constraints },
      mapper,
    },
    deps: [],
    meta: { ...meta, macs: operationCount(problem) },
  };
}
