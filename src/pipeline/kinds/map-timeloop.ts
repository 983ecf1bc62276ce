/**
 * The `map` kind with the timeloop engine: `timeloop-mapper` (through the
 * external runner, src/timeloop/external.ts) on the task exported as
 * Timeloop v3.0.3 input — architecture, problem, ERT, the task's map-space
 * constraints written back as `mapspace_constraints`, and the Timeloop
 * mapper settings of the task's `mapper` input — under the task's time
 * limit. Its best mapping (map.yaml) and Timeloop's own evaluation of it
 * (stats.txt) become the same {@link MapResult} the embedded engine returns,
 * so aggregates, reports, `expt show` and the cache work unchanged. The run
 * folder's files (input.yaml, stdout, stderr, timeloop-mapper.log, stats,
 * map) are kept with the cache entry (`cache/map/<key>/files/`).
 *
 * Timeloop finding no mapping (the constraints admit none, or none within
 * the search's termination criteria or the time limit) is an infeasible
 * result, as with the embedded engine; any other Timeloop error fails the
 * task with Timeloop's error lines, and its run folder is kept.
 */
import type { Problem } from '../../workload/problem.ts';
import { constraintsToTargets } from '../../timeloop/export.ts';
import { runTimeloopMapper } from '../../timeloop/external.ts';
import { mappingToTimeloop } from '../../timeloop/tree-export.ts';
import { RESULT_FILES, TaskError, type RunRequest } from '../../build/task.ts';
import { MAP_RESULT_FORMAT, inputsOf, type MapOutcome, type TimeloopMapSettings } from './map.ts';

/** Timeloop's messages that mean "no valid mapping", not a broken input. */
const INFEASIBLE = [/no valid mappings/i, /product of fully-user-provided constraint factors/i];

export async function runTimeloopMapTask(request: RunRequest): Promise<MapOutcome> {
  const { problem, architecture: arch, ERT: ert, constraints } = inputsOf(request);
  const settings = request.inputs['mapper'] as TimeloopMapSettings;
  const targets = constraintsToTargets(constraints, problem as Problem, arch);
  const r = await runTimeloopMapper(
    { architecture: arch, problem, ert, constraints: { targets }, mapper: settings.mapper },
    { timeoutMs: settings.timeLimitMs, collect: true },
  );
  const files = r.files ?? {};
  const search = {
    algorithm: 'timeloop-mapper',
    metrics: settings.metrics,
    effort: 0,
    seed: 0,
    restarts: 0,
    evaluated: 0,
    valid: 0,
    pruned: 0,
    factor_splits: 0,
    warnings: constraints.warnings,
    timeloop: {
      engine: r.engineId,
      mapper: settings.mapper,
      timeLimitMs: settings.timeLimitMs,
      wallMs: r.wallMs,
      timedOut: r.timedOut,
      exitCode: r.exitCode,
    },
  };
  if (r.mapping && r.evaluation) {
    return {
      format: MAP_RESULT_FORMAT,
      mapping: r.mapping,
      timeloop: mappingToTimeloop(r.mapping, problem, arch),
      evaluation: r.evaluation,
      search,
      [RESULT_FILES]: files,
    } as MapOutcome;
  }
  const why = r.error ?? (r.stats ? 'its best mapping could not be read back (map.yaml)' : 'no result');
  if (r.timedOut && !r.stats) {
    return { format: MAP_RESULT_FORMAT, infeasible: `timeloop-mapper found no valid mapping within the time limit (${settings.timeLimitMs / 1000} s)`, search: { algorithm: 'timeloop-mapper', effort: 0, seed: 0, restarts: 0, evaluated: 0, warnings: constraints.warnings }, [RESULT_FILES]: files } as MapOutcome;
  }
  if (INFEASIBLE.some((re) => re.test(why))) {
    const reason = why.replace(/\s*Some suggestions:.*$/, '').replace(/^(MESSAGE|ERROR):\s*/, '');
    return { format: MAP_RESULT_FORMAT, infeasible: `timeloop-mapper: ${reason}`, search: { algorithm: 'timeloop-mapper', effort: 0, seed: 0, restarts: 0, evaluated: 0, warnings: constraints.warnings }, [RESULT_FILES]: files } as MapOutcome;
  }
  // A failure: keep Timeloop's files where the user can read them.
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'expt-timeloop-failed.'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  throw new TaskError(`timeloop-mapper failed${r.timedOut ? ' (time limit)' : ''}: ${why} (its input and logs: ${dir})`);
}
