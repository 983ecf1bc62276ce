/**
 * The experiments `npx expt run` runs (see README: config reference).
 * Paths are relative to this file.
 */
import { defineConfig } from 'expt';

const golden = (layer: string, arch: string, variant: string) => ({
  files: [`../shared/golden/paper-${layer}-${arch}-${variant}/mapper-input.yaml`],
  model: 'bert-large',
  layer,
  arch,
  variant,
});

export default defineConfig({
  experiments: {
    // The study's eight Timeloop mapper runs (BERT-large KQV and VScores on
    // Gemmini and Eyeriss, with the study's constraints; TLD/TLL were two
    // Timeloop mapper settings, which expt's deterministic search does not
    // need, so each pair is one task). The study's own architecture presets
    // will replace these golden inputs.
    quick: {
      description: "BERT-large KQV and VScores on Gemmini and Eyeriss with the study's constraints (golden paper-* mapper inputs).",
      jobs: ['KQV', 'VScores'].flatMap((layer) =>
        ['gemmini', 'eyeriss'].flatMap((arch) => ['TLD', 'TLL'].map((variant) => golden(layer, arch, variant))),
      ),
    },
  },
});
