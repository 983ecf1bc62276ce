#!/usr/bin/env node
// Runs the TypeScript sources without a build step: from a bundle made on the
// first start (and after every source edit), or through tsx (see launch.mjs).
import { startEntry } from './launch.mjs';

const { main } = await startEntry('main');
process.exitCode = await main(process.argv.slice(2));
