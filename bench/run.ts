/**
 * `npm run bench -- <name>`: runs bench/<name>.ts. A benchmark module runs on
 * import, or exports a `main()` (sync or async) that is called.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const benchDir = path.dirname(fileURLToPath(import.meta.url));

function availableBenches(): string[] {
  return readdirSync(benchDir)
    .filter((file) => file.endsWith('.ts') && file !== 'run.ts' && !file.endsWith('.d.ts'))
    .map((file) => file.slice(0, -'.ts'.length))
    .sort();
}

async function run(argv: string[]): Promise<number> {
  const name = argv[0];
  const available = availableBenches();
  const list = available.length > 0 ? available.join(', ') : '(none yet)';
  if (name === undefined || name === '--help' || name === '-h') {
    process.stderr.write(`usage: npm run bench -- <name> [args...]\navailable benches: ${list}\n`);
    return name === undefined ? 2 : 0;
  }
  if (!available.includes(name)) {
    process.stderr.write(`bench: unknown benchmark '${name}'; available benches: ${list}\n`);
    return 2;
  }
  const mod: unknown = await import(pathToFileURL(path.join(benchDir, `${name}.ts`)).href);
  if (typeof mod === 'object' && mod !== null && 'main' in mod && typeof mod.main === 'function') {
    const result: unknown = await mod.main(argv.slice(1));
    if (typeof result === 'number') return result;
  }
  return 0;
}

process.exitCode = await run(process.argv.slice(2));
