/**
 * `defineConfig`, alone in its module: a TypeScript config imports it from
 * 'expt', and the config is bundled with what it imports (config-bundle.ts),
 * so this module must pull in nothing else.
 */
import type { ExptConfig } from './config.ts';

/** Identity function that gives `experiments.config.ts` its types. */
export function defineConfig(config: ExptConfig): ExptConfig {
  return config;
}
