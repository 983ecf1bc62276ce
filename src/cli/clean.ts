/** `expt clean`: remove the cache (and the reports). */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../pipeline/config.ts';
import { Cache } from '../pipeline/cache.ts';
import { UserError } from '../util/errors.ts';

export async function runClean(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { config: { type: 'string' }, 'keep-reports': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UserError(`clean: ${(error as Error).message} (see 'expt clean --help')`);
  }
  if (parsed.values.help) {
    process.stdout.write(['Usage: expt clean [--keep-reports] [--config FILE]', '', 'Removes the result cache (cache/) and the reports (reports/).', 'Use `expt gc` to remove only what no task of the config uses.', ''].join('\n'));
    return 0;
  }
  const loaded = await loadConfig({ explicit: parsed.values.config });
  new Cache(loaded.cacheDir).clean();
  if (!parsed.values['keep-reports']) rmSync(loaded.reportsDir, { recursive: true, force: true });
  process.stdout.write(`removed ${loaded.cacheDir}${parsed.values['keep-reports'] ? '' : ` and ${loaded.reportsDir}`}\n`);
  return 0;
}
