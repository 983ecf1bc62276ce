/**
 * The table of subcommands. Each command lives in its own file and is
 * imported only when it runs, so `expt --help` stays fast.
 */
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
];

export function findCommand(name: string): Command | undefined {
  return commands.find((command) => command.name === name);
}
