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
  default: ['paper', 'quick'],
  experiments: {
    // The paper matrix on the study's architecture presets (experiments/archs),
    // energies estimated from their components. Normalization ops (softmax,
    // layernorm) need the NO architecture variants and fusion levels, which
    // are being added; until then the matrix covers the six matmul layers.
    paper: {
      description: 'BERT-base, BERT-large (S 4096) and GPT-2 small: the matmul layers of a block on the Gemmini-like array and the ReRAM PIM array, no fusion.',
      models: ['bert-base', 'bert-large', 'gpt2-small'],
      layers: ['KQV', 'KTQ', 'VScores', 'Out', 'FF1', 'FF2'],
      architectures: ['gemmini', 'pim'],
      fusion: ['none'],
    },
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
