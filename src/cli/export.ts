/**
 * `expt export <file.yaml>... --out DIR` and `expt export --arch <preset> [file.yaml...] --out DIR`:
 * write a task as Timeloop tree-format input, runnable as is by
 * timeloop-model (with a mapping) or timeloop-mapper (without), in the v3.0.3
 * (hyphenated keys) and v4 (underscore keys) flavours, plus the ERT.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { durationMs } from '../util/duration.ts';
import { UserError } from '../util/errors.ts';
import { atBoundary } from '../util/fs-errors.ts';
import { checkOutputFolder } from '../util/output.ts';
import { writeExport } from '../timeloop/export.ts';
import { loadTask, type LoadedTask } from '../inputs/timeloop-task.ts';
import { mapWithExpt } from '../inputs/mapper-job.ts';
import { COMMAND_BUDGET_MS } from '../mapper/settings.ts';

export function exportUsage(): string {
  return [
    'Usage: expt export <file.yaml>... --out DIR [options]',
    '       expt export --arch <preset> [file.yaml...] --out DIR [options]',
    '',
    'Writes the task as Timeloop tree-format input that timeloop-model (when it',
    'has a mapping) or timeloop-mapper (when it does not) runs as is:',
    '  DIR/v3/<name>.yaml   Timeloop v3.0.3 (data-spaces, read-write, multiple-buffering,',
    '                       cluster-size, the other keys it reads only hyphenated and',
    '                       the mapper settings hyphenated)',
    '  DIR/v4/<name>.yaml   Timeloop v4 / master (underscore keys)',
    '  DIR/<name>.ERT.yaml  the energy reference table (also inside both documents)',
    '  DIR/README.txt       how to run them',
    '',
    'Input files: Timeloop tree format or timeloopfe v0.4 (architecture `nodes:` with',
    '!Container/!Component/!Parallel/!Nothing, variables, constraints, mapper files),',
    'merged into one task. Without an ERT in the files, the ERT is estimated from the',
    "architecture's Accelergy classes.",
    '',
    'Options:',
    '  --out DIR              output folder (created; must be empty or new)',
    '  --arch ID              an architecture preset (experiments/archs/ID.yaml): its',
    '                         architecture, constraints and ERT; files add a problem,',
    '                         mapping, mapper settings (their constraints replace the preset\'s)',
    '  --name NAME            file name (default: the preset id, else the first file\'s name)',
    '  --spatial-levels M     timeloopfe containers: compact (default) or timeloopfe',
    '                         (keep every inter_<container>_spatial level)',
    '  --dimensions D,E,L     problem dimensions, to drop constraints on other ones when',
    '                         the files have no problem',
    "  --map                  without a mapping: find the best one with expt's mapper",
    '                         and include it (a timeloop-model input, still readable',
    '                         by timeloop-mapper)',
    `  --budget T             mapper time budget for --map (default ${COMMAND_BUDGET_MS / 1000}s)`,
    '  -h, --help             show this help',
    '',
  ].join('\n');
}

export async function runExport(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        out: { type: 'string', short: 'o' },
        arch: { type: 'string' },
        name: { type: 'string' },
        'spatial-levels': { type: 'string' },
        dimensions: { type: 'string' },
        map: { type: 'boolean' },
        budget: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UserError(`export: ${(error as Error).message} (see 'expt export --help')`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(exportUsage());
    return 0;
  }
  if (positionals.length === 0 && values.arch === undefined) throw new UserError("export: no input files and no --arch (see 'expt export --help')");
  if (values.out === undefined) throw new UserError("export: --out DIR is required (see 'expt export --help')");
  checkOutputFolder(values.out, 'export: --out');
  const mode = values['spatial-levels'];
  if (mode !== undefined && mode !== 'compact' && mode !== 'timeloopfe') throw new UserError(`export: --spatial-levels is compact or timeloopfe, got '${mode}'`);
  if (values.name !== undefined && !/^[A-Za-z0-9._-]+$/.test(values.name)) throw new UserError(`export: --name must be a plain file name, got '${values.name}'`);
  let task: LoadedTask = loadTask(positionals, {
    arch: values.arch,
    spatialLevels: mode as 'compact' | 'timeloopfe' | undefined,
    dimensions: values.dimensions?.split(',').map((d) => d.trim()).filter(Boolean),
  });
  let mapped: string | undefined;
  if (values.map && !task.mapping) {
    let budgetMs = COMMAND_BUDGET_MS;
    if (values.budget !== undefined) {
      const ms = durationMs(values.budget);
      if (ms === undefined) throw new UserError(`export: --budget expects a duration such as 10s, got '${values.budget}'`);
      budgetMs = ms;
    }
    const { mapping, note } = mapWithExpt(task, budgetMs);
    task = { ...task, mapping };
    mapped = note;
  }
  const name = values.name ?? task.name;
  const header = [
    `${name}: exported by expt from ${task.files.length > 0 ? task.files.join(', ') : `the preset '${values.arch}'`}`,
    `ERT: ${task.ertSource}`,
    ...(mapped ? [`mapping: ${mapped}`] : []),
  ].join('\n');
  const outDir = values.out;
  const written = atBoundary('output', outDir, () => writeExport(task, outDir, name, header));
  const out: string[] = [];
  for (const f of written.files) out.push(`wrote ${join(values.out, f)}`);
  for (const w of [...task.warnings, ...written.notes]) out.push(`note: ${w}`);
  if (!task.problem) out.push('note: no problem in the input: add a problem file on the Timeloop command line');
  else if (!task.mapping) out.push('note: no mapping: run timeloop-mapper on it (or export with --map)');
  if (mapped) out.push(`note: ${mapped}`);
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
