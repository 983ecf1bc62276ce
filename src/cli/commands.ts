/**
 * The table of subcommands. Each command lives in its own file and is
 * imported only when it runs, so `expt --help` stays fast.
 */
import { UserError } from '../util/errors.ts';

export interface Command {
  /** What the user types: `expt <name> ...`. */
  readonly name: string;
  /** One line for `expt --help`. */
  readonly summary: string;
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}

export const commands: readonly Command[] = [
  {
    name: 'eval',
    summary: 'Evaluate one mapping (Timeloop input files) and print its stats',
    run: async (argv) => (await import('./eval.ts')).runEval(argv),
  },
  {
    name: 'map',
    summary: 'Find the best mapping (Timeloop input files + constraints) with the built-in mapper',
    run: async (argv) => (await import('./map.ts')).runMap(argv),
  },
  {
    name: 'export',
    summary: 'Write a task (input files or --arch preset) as Timeloop input: v3.0.3 and v4 flavours, plus the ERT',
    run: async (argv) => (await import('./export.ts')).runExport(argv),
  },
  {
    name: 'check',
    summary: 'Evaluate tasks with expt and the real timeloop-model and print a fidelity table',
    run: async (argv) => (await import('./check.ts')).runCheck(argv),
  },
  {
    name: 'run',
    summary: 'Run the experiments of experiments.config.ts (cached results are reused), then write reports/',
    run: async (argv) => (await import('./run.ts')).runRun(argv),
  },
  {
    name: 'plan',
    summary: 'List the tasks a run would execute and why (cached / will run: which input changed)',
    run: async (argv) => (await import('./plan.ts')).runPlanCommand(argv),
  },
  {
    name: 'report',
    summary: 'Write reports/ (layers.csv, index.md) from the cache only',
    run: async (argv) => (await import('./report.ts')).runReport(argv),
  },
  {
    name: 'show',
    summary: 'Show one task: inputs, state, cached result (mapping loop nest, per-level breakdown)',
    run: async (argv) => (await import('./show.ts')).runShow(argv),
  },
  {
    name: 'clean',
    summary: 'Remove the result cache and the reports',
    run: async (argv) => (await import('./clean.ts')).runClean(argv),
  },
  {
    name: 'gc',
    summary: 'Remove cache entries no task of the config references',
    run: async (argv) => (await import('./gc.ts')).runGc(argv),
  },
];

/**
 * Commands expt runs itself, not listed in `expt --help`: a Slurm array
 * element (`_slurm-element <job folder> <array> <element>`).
 */
const internal: readonly Command[] = [
  {
    name: '_slurm-element',
    summary: 'Run one Slurm array element of a submission (started by sbatch)',
    run: async (argv) => {
      const [dir, array, element] = argv;
      if (dir === undefined || !/^\d+$/.test(array ?? '') || !/^\d+$/.test(element ?? '')) {
        throw new UserError('_slurm-element expects <job folder> <array> <element> (it is started by sbatch, not by hand)');
      }
      const [{ runElement }, { KINDS }] = await Promise.all([import('../slurm/element.ts'), import('../pipeline/kinds/index.ts')]);
      return runElement(dir, Number(array), Number(element), KINDS);
    },
  },
];

export function findCommand(name: string): Command | undefined {
  return commands.find((command) => command.name === name) ?? internal.find((command) => command.name === name);
}
