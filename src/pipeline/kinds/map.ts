/**
 * `map`: find the best mapping of one problem on one architecture with the
 * built-in mapper (local search under the mapspace constraints), then
 * evaluate it. Inputs: `problem`, `architecture`, `ERT`, `constraints`
 * (parsed values) and `mapper` (settings). Runs on a worker thread.
 *
 * A map space with no valid mapping (constraints no factor split satisfies,
 * tiles that fit no buffer) is a result, not a failure: `{infeasible:
 * reason}`, cached like any result, so that a matrix with cells the
 * architecture cannot run (e.g. a pair fused at Gemmini's Registers)
 * completes and its reports say which and why. A broken input (an ERT
 * without a component's energies) still fails the task.
 */
import type { Architecture } from '../../arch/architecture.ts';
import type { EnergyReferenceTable } from '../../arch/energy-table.ts';
import type { MapspaceConstraints } from '../../mapper/constraints.ts';
import type { Mapping } from '../../mapping/mapping.ts';
import type { Evaluation } from '../../model/result.ts';
import type { Problem } from '../../workload/problem.ts';
import { codeVersion } from '../../build/engine-version.ts';
import type { MapSettings, Metric } from '../../mapper/settings.ts';
import type { EngineId } from '../../build/cache.ts';
import type { RunRequest, TaskKind } from '../../build/task.ts';
import { num, str, strings, type Shape } from '../../build/result-shapes.ts';
import { engineId, requireTimeloop } from '../../timeloop/tools.ts';

export const MAP_RESULT_FORMAT = 'expt-map-result-v1';

/**
 * A map task's `mapper` input with the timeloop engine: `timeloop-mapper` on
 * the exported task. Every field is in the key (Timeloop's search depends on
 * all of them, and on the thread count and the time limit when they bind).
 */
export interface TimeloopMapSettings {
  algorithm: 'timeloop-mapper';
  metrics: Metric[];
  /** The Timeloop `mapper` block (underscore keys; written hyphenated for v3.0.3). */
  mapper: Record<string, unknown>;
  /** Wall-time limit per task, ms: then SIGINT, and Timeloop reports its best mapping so far. */
  timeLimitMs: number;
}

export interface MapResult {
  format: typeof MAP_RESULT_FORMAT;
  mapping: Mapping;
  /** The mapping as Timeloop `mapping` directives. */
  timeloop: Record<string, unknown>[];
  evaluation: Evaluation;
  search: {
    algorithm: string;
    metrics: string[];
    effort: number;
    seed: number;
    restarts: number;
    evaluated: number;
    valid: number;
    pruned: number;
    factor_splits: number;
    /** The whole map space was visited (exhaustive search not stopped by its budget). */
    complete?: boolean;
    /** The search stopped on its time budget, not its effort: the result depends on the machine. */
    stopped_by_budget?: boolean;
    /** Wall time of the search (the study's "MSE Runtime"); not part of the key, fixed once cached. */
    wallMs?: number;
    warnings: string[];
    /** With the timeloop engine: how timeloop-mapper ran. */
    timeloop?: {
      engine: string;
      mapper: Record<string, unknown>;
      timeLimitMs: number;
      wallMs: number;
      timedOut: boolean;
      exitCode: number | null;
    };
  };
}

/** A map space without any valid mapping. */
export interface InfeasibleMapResult {
  format: typeof MAP_RESULT_FORMAT;
  /** Why, one line: the constraint or capacity no mapping satisfies. */
  infeasible: string;
  search?: { algorithm: string; effort: number; seed: number; restarts: number; evaluated: number; wallMs?: number; warnings: string[] };
}

export type MapOutcome = MapResult | InfeasibleMapResult;

export function isInfeasible(result: unknown): result is InfeasibleMapResult {
  return typeof result === 'object' && result !== null && typeof (result as { infeasible?: unknown }).infeasible === 'string';
}

interface MapInputs {
  problem: Problem;
  architecture: Architecture;
  ERT: EnergyReferenceTable;
  constraints: MapspaceConstraints;
  mapper: MapSettings | TimeloopMapSettings;
}

export function inputsOf(request: Pick<RunRequest, 'inputs'>): MapInputs {
  return request.inputs as unknown as MapInputs;
}

/** The engine variants of the map kind (a spec's `engine`; undefined = embedded). */
export const MAP_ENGINES = ['embedded', 'timeloop'] as const;

/**
 * The timeloop engine's id: the installed timeloop-mapper build (Timeloop
 * prints no version: a sha256 of the program and its library) and the
 * version of expt's adapter (the code map-timeloop.ts reaches: the export to
 * Timeloop input and the parsing of its output, not the embedded model). A
 * missing Timeloop is a UserError saying how to install it or to use the
 * embedded engine.
 */
export function timeloopMapEngine(bin?: string): EngineId {
  const tools = requireTimeloop(bin, 'timeloop-mapper');
  return { id: 'timeloop-mapper', version: `${engineId(tools, 'timeloop-mapper').replace(/^timeloop-mapper@/, '')}; expt adapter ${codeVersion(import.meta.url, './map-timeloop.ts')}` };
}

export function embeddedMapEngine(): EngineId {
  return { id: 'expt-builtin-mapper', version: codeVersion(import.meta.url, './map-run.ts') };
}

const evaluation: Shape = {
  object: {
    arithmetic: { object: { name: str, energy_pJ: num } },
    storage: { array: { object: { name: str, energy_pJ: num, leakage_energy_pJ: num } } },
    networks: { array: { object: { name: str, energy_pJ: num } } },
    summary: { object: { cycles: num, utilization: num, energy_pJ: num, edp_J_cycle: num, pJ_per_compute: num, computes: num } },
  },
};

const mapOutcome: Shape = {
  variants: [
    { when: 'infeasible', shape: { object: { format: { literal: MAP_RESULT_FORMAT }, infeasible: str } } },
    {
      when: 'mapping',
      shape: {
        object: {
          format: { literal: MAP_RESULT_FORMAT },
          mapping: { object: {} },
          timeloop: { array: { record: 'any' } },
          evaluation,
          search: { object: { warnings: strings } },
        },
      },
    },
  ],
};

export const kind: TaskKind<MapOutcome> = {
  name: 'map',
  worker: true,
  engine: (variant) => {
    if (variant === undefined || variant === 'embedded') return embeddedMapEngine();
    if (variant === 'timeloop') return timeloopMapEngine();
    throw new Error(`map: unknown engine '${variant}'`);
  },
  // The work is in map-run.ts (or map-timeloop.ts), loaded on first use so
  // that planning and no-op runs do not load the model and the mapper. Those
  // modules import this one back (the result format and types): a deliberate
  // cycle, through this lazy import only, so this module is complete when they load.
  // Each is the entry of its own engine's version (above), so the walk of
  // engine-version.ts does not follow these lazy imports (`engine-version:
  // variant`): neither engine's version digests the other's code, nor do the
  // versions of the kinds that import this module for its result types.
  run: async (request) =>
    (request.inputs['mapper'] as { algorithm?: string }).algorithm === 'timeloop-mapper'
      ? (await import(/* engine-version: variant */ './map-timeloop.ts')).runTimeloopMapTask(request)
      : (await import(/* engine-version: variant */ './map-run.ts')).runMapTask(request),
  show: async (request, result) => (await import(/* engine-version: variant */ './map-run.ts')).showMapResult(request, result),
  resultShape: mapOutcome,
};
