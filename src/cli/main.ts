/**
 * Entry point of the `expt` CLI: global options, then dispatch to a
 * subcommand from the table in commands.ts.
 *
 * Exit codes: 0 success, 1 unexpected error (a bug; stack trace printed),
 * 2 usage, input or environment error (one line on stderr: a bad file, a
 * read-only or full disk, a file where a folder should be).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { commands, findCommand } from './commands.ts';
import { UserError } from '../util/errors.ts';
import { environmentError } from '../util/fs-errors.ts';
import { installBrokenPipeHandler } from '../util/pipe.ts';

export const EXIT_OK = 0;
export const EXIT_BUG = 1;
export const EXIT_USAGE = 2;

export function usage(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  const lines = [
    'expt: Timeloop-compatible accelerator model and experiment runner',
    '',
    'Usage: expt <command> [options]',
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Options:',
    '  -h, --help     Show this help',
    '  --version      Print the version',
    '',
    "Run 'expt <command> --help' for the options of a command.",
  ];
  return lines.join('\n') + '\n';
}

export function version(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const v = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
  return typeof v === 'string' ? v : 'unknown';
}

/** Runs the CLI with `argv` (without `node` and the script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  installBrokenPipeHandler();
  try {
    return await dispatch(argv);
  } catch (error) {
    return reportError(error);
  }
}

async function dispatch(argv: string[]): Promise<number> {
  // Global options come before the command name; everything after belongs to the command.
  const commandAt = argv.findIndex((arg) => !arg.startsWith('-'));
  const globalArgs = commandAt === -1 ? argv : argv.slice(0, commandAt);
  let values: { help?: boolean; version?: boolean };
  try {
    ({ values } = parseArgs({
      args: globalArgs,
      options: {
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UserError(`${(error as Error).message} (see 'expt --help')`);
  }
  if (values.help) {
    process.stdout.write(usage());
    return EXIT_OK;
  }
  if (values.version) {
    process.stdout.write(`${version()}\n`);
    return EXIT_OK;
  }
  if (commandAt === -1) {
    process.stderr.write(usage());
    return EXIT_USAGE;
  }
  const name = argv[commandAt];
  const command = findCommand(name);
  if (command === undefined) {
    const known = commands.map((c) => c.name).join(', ');
    throw new UserError(`unknown command '${name}' (commands: ${known}; see 'expt --help')`);
  }
  return command.run(argv.slice(commandAt + 1));
}

/** Prints an error the way the CLI promises and returns the exit code. */
export function reportError(error: unknown): number {
  // A file-system refusal no boundary caught (read-only, full, a file in the way): still the user's to fix.
  error = environmentError(error, 'other') ?? error;
  if (error instanceof UserError) {
    process.stderr.write(`expt: ${error.format()}\n`);
    return EXIT_USAGE;
  }
  const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  process.stderr.write(`expt: unexpected error (a bug in expt):\n${text}\n`);
  return EXIT_BUG;
}
