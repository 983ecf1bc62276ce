/** Entry of the pipeline's worker threads (bin/launch.mjs `worker`, through worker.mjs): the engine's task loop with the study's kinds. */
import { serveTasks } from '../build/worker.ts';
import { KINDS } from './kinds/index.ts';

serveTasks(KINDS);
