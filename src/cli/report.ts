/** `expt report [--json]`: write reports/ from the cache only (computes nothing). */
import { parseArgs } from 'node:util';
import { openSession } from '../pipeline/session.ts';
import { writeReports } from '../report/write.ts';
import { UserError } from '../util/errors.ts';
import { ENGINE_ARGS, engineOptions } from './plan.ts';

export function reportUsage(): string {
  return [
    'Usage: expt report [options]',
    '',
    'Writes reports/layers.csv and reports/index.md from the cached results of',
    'every experiment in the config. Computes nothing: experiments with missing',
    'results are marked incomplete (run `expt run` to fill them in).',
    '',
    'Options:',
    '  --config FILE   the experiments config',
    '  --engine E      report the results of this engine (embedded or timeloop; default:',
    "                  the config's engine); --timeout and --timeloop-bin as for expt run",
    '  --json          print {files, experiments: [{name, complete, cells, tasks, cachedTasks}]}',
    '  -h, --help      show this help',
    '',
  ].join('\n');
}

export async function runReport(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { config: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, ...ENGINE_ARGS }, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UserError(`report: ${(error as Error).message} (see 'expt report --help')`);
  }
  if (parsed.values.help) {
    process.stdout.write(reportUsage());
    return 0;
  }
  const session = await openSession({ config: parsed.values.config, memo: true, engine: engineOptions(parsed.values, 'report') });
  const out = writeReports(session.loaded, session.expansion, session.graph, session.cache);
  const experiments = out.experiments.map((e) => ({ name: e.name, complete: e.complete, cells: e.cells, tasks: e.tasks, cachedTasks: e.cachedTasks }));
  if (parsed.values.json) {
    process.stdout.write(JSON.stringify({ files: out.files, experiments }, null, 2) + '\n');
    return 0;
  }
  for (const f of out.files) process.stdout.write(`wrote ${f}\n`);
  for (const e of experiments) {
    process.stdout.write(`  ${e.name}: ${e.complete ? 'complete' : `incomplete (${e.cachedTasks}/${e.tasks} tasks cached; run 'expt run ${e.name}')`}\n`);
  }
  return 0;
}
