// Types of launch.mjs for the TypeScript sources that use it.
import type { Plugin } from 'esbuild';

export function importMetaPlugin(): Plugin;
export function startEntry(name: 'main' | 'worker' | 'search-worker'): Promise<Record<string, unknown>>;
