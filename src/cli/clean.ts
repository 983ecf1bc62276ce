/**
 * `expt clean`: remove the cache (and the reports) — only what expt made
 * there: the cache's entries, records and bookkeeping in a folder with
 * expt's marker (cache.ts), the report files listed in the reports folder's
 * manifest (report/folder.ts). Anything else in those folders stays, and is
 * listed.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../pipeline/config.ts';
import { Cache } from '../build/cache.ts';
import { checkOwnDirs } from '../build/own-dirs.ts';
import { cleanReports } from '../report/folder.ts';
import { UserError } from '../util/errors.ts';
import { shownPath } from '../util/fs-errors.ts';

export async function runClean(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { config: { type: 'string' }, 'keep-reports': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UserError(`clean: ${(error as Error).message} (see 'expt clean --help')`);
  }
  if (parsed.values.help) {
    process.stdout.write(
      [
        'Usage: expt clean [--keep-reports] [--config FILE]',
        '',
        'Removes the result cache (cache/) and the reports (reports/): the entries,',
        'records and temp files expt wrote in a cache folder marked as expt\'s',
        '(cache/.expt-cache), and the report files listed in reports/.expt-reports.json.',
        'Files expt did not write are kept (and listed). Refused while another expt',
        'process is computing into the cache.',
        'Use `expt gc` to remove only what no task of the config uses.',
        '',
      ].join('\n'),
    );
    return 0;
  }
  const loaded = await loadConfig({ explicit: parsed.values.config });
  checkOwnDirs(loaded);
  const cache = new Cache(loaded.cacheDir).clean();
  const lines: string[] = [];
  const cacheShown = shownPath(loaded.cacheDir);
  const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
  lines.push(
    !cache.found
      ? `expt clean: no cache at ${cacheShown}`
      : `expt clean: removed ${n(cache.entries, 'cache entry', 'cache entries')} and ${n(cache.other, 'other cache file', 'other cache files')} from ${cacheShown}${cache.removedRoot ? ' (and the folder)' : ''}`,
  );
  const kept = [...cache.kept];
  if (!parsed.values['keep-reports']) {
    const reports = cleanReports(loaded.reportsDir);
    lines.push(`expt clean: removed ${n(reports.removed, 'report file', 'report files')} from ${shownPath(loaded.reportsDir)}${reports.removedDir ? ' (and the folder)' : ''}`);
    kept.push(...reports.kept);
  }
  for (const k of kept) lines.push(`  kept ${shownPath(k)} (not written by expt)`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
