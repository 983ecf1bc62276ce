/**
 * Where the architecture presets live and which there are — without
 * loading them (presets.ts reads and estimates them; this module imports
 * nothing heavy, so listing preset names stays cheap).
 */
import { readdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';

export const DEFAULT_ARCH_DIR = resolve(new URL('../../experiments/archs', import.meta.url).pathname);

/** The preset ids in `dir`: the `<id>.yaml` files, sorted. */
export function listArchitectures(dir = DEFAULT_ARCH_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => basename(f, '.yaml'))
    .sort();
}
