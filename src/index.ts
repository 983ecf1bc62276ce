/**
 * The package entry (`import { defineConfig } from 'expt'`): what an
 * experiments config needs, plus the pipeline's public types.
 */
export { defineConfig } from './pipeline/define-config.ts';
export type {
  ArchitectureDef,
  CrossArchDef,
  ExperimentDef,
  ExptConfig,
  MapJobDef,
  MapperSettings,
  Objective,
  SweepDef,
} from './pipeline/config.ts';
export type { TaskKind, TaskSpec, TaskMeta, RunRequest } from './build/task.ts';
