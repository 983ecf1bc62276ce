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
  // Where the normalization ops of a matrix run (these are the defaults).
  noArchitectures: { gemmini: 'gemmini-no', pim: 'pim-no' },
  experiments: {
    // The paper matrix (issue 6) on the study's architecture presets
    // (experiments/archs), energies estimated from their components: the
    // eight layers of a block, matmuls on the array, softmax and layernorm on
    // its normalization-op variant (noArchitectures: gemmini → gemmini-no,
    // pim → pim-no); the fused pairs KTQ → softmax and Out → layernorm at
    // every fusion level of each architecture (DRAM is no fusion: those cells
    // are the unfused tasks; Registers / scratchpad are the degenerate
    // innermost levels, reported infeasible where no mapping exists).
    paper: {
      description:
        'BERT-base, BERT-large (S 4096) and GPT-2 small: the eight layers of a block on the Gemmini-like array and the ReRAM PIM array (normalization ops on their NO variants), unfused and with KTQ → softmax and Out → layernorm fused at each level (fixed rewrite).',
      models: ['bert-base', 'bert-large', 'gpt2-small'],
      layers: ['KQV', 'KTQ', 'softmax', 'VScores', 'Out', 'layernorm', 'FF1', 'FF2'],
      architectures: ['gemmini', 'pim'],
      fusion: ['none', 'DRAM', 'Accumulator', 'Registers', 'shared_glb', 'scratchpad'],
      fusedPairs: [
        ['KTQ', 'softmax'],
        ['Out', 'layernorm'],
      ],
      fusionMode: 'fixed',
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
