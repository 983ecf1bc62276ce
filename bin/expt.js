#!/usr/bin/env node
// Runs the TypeScript sources directly: tsx compiles them on the fly (and
// caches the result), so there is no build step after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import(new URL('../src/cli/main.ts', import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
