/** `expt gc`: remove cache entries that no task of the current config references. */
import { parseArgs } from 'node:util';
import { openSession, usesTimeloop } from '../pipeline/session.ts';
import { findTimeloop } from '../timeloop/tools.ts';
import { UserError } from '../util/errors.ts';
import { removeFinishedSubmissions } from '../slurm/run.ts';

export async function runGc(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { config: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UserError(`gc: ${(error as Error).message} (see 'expt gc --help')`);
  }
  if (parsed.values.help) {
    process.stdout.write(
      ['Usage: expt gc [--json] [--config FILE]', '', 'Removes cache entries no task of any experiment in the config references',
        '(with either engine: embedded, and timeloop when Timeloop is installed; the',
        'timeloop time limit is the config\'s),', 'records of task ids that no longer exist, and leftovers of interrupted writes',
        '(temp entries and memo files of processes that are gone, their claims), and the',
        'folders of Slurm submissions that Slurm no longer lists.', 'Only in a cache folder marked as expt\'s; refused while another expt process computes into it.', ''].join('\n'),
    );
    return 0;
  }
  const session = await openSession({ config: parsed.values.config, memo: true });
  const tasks = [...session.graph.order];
  // Results of the other engine stay too: the embedded engine's always, the
  // timeloop engine's when Timeloop is installed (its build is in their keys).
  const other = usesTimeloop(session.loaded) ? 'embedded' : findTimeloop() ? 'timeloop' : undefined;
  if (other) tasks.push(...(await openSession({ config: parsed.values.config, memo: true, engine: { engine: other } })).graph.order);
  const referenced = new Set(tasks.map((t) => `${t.kind}/${t.key}`));
  const ids = new Set(tasks.flatMap((t) => [t.id, ...t.aliases]));
  const out = session.cache.gc(referenced, ids);
  const submissions = removeFinishedSubmissions(session.cache.root).length;
  if (parsed.values.json) {
    process.stdout.write(JSON.stringify({ removed: out.removed.map((e) => `${e.kind}/${e.key}`), kept: out.kept, records: out.records, temp: out.temp, slurmSubmissions: submissions }) + '\n');
  } else {
    process.stdout.write(`expt gc: removed ${out.removed.length} entr${out.removed.length === 1 ? 'y' : 'ies'}, kept ${out.kept}; removed ${out.records} stale task record${out.records === 1 ? '' : 's'} and ${out.temp} leftover temp file${out.temp === 1 ? '' : 's'}${submissions > 0 ? `; removed ${submissions} finished Slurm submission folder${submissions === 1 ? '' : 's'}` : ''}\n`);
  }
  return 0;
}
