/**
 * The experiments `npx expt run` runs (fields: docs/config.md).
 * Paths are relative to this file.
 */
import { defineConfig } from 'expt';

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
      fusion: ['none', 'DRAM', 'Accumulator', 'Registers', 'shared_glb', 'scratchpad', 'joint'],
      fusedPairs: [
        ['KTQ', 'softmax'],
        ['Out', 'layernorm'],
      ],
      fusionMode: 'fixed',
    },
    // The study's Gemmini HW-DSE of 2024-05-08 (study-facts §1.4, §7.2): its 15
    // configs × BERT-large KTQ, VScores, softmax (× 16 heads), with the
    // constraints it ran with, so that reports/hwdse-hwdse.md can compare the
    // ranking with the study's table. Not in the default run.
    hwdse: {
      description: "The study's Gemmini HW-DSE (the 15 configs of its 2024-05-08 table) on BERT-large KTQ + VScores + softmax × 16 heads, with the study's constraints of that date; both aggregations and the comparison with the study's table.",
      sweep: { architecture: 'gemmini', configs: '2024-05-08', mode: 'study', version: '2024-05-08' },
    },
    // The PIM HW-DSE (study-facts §1.7, §7.3): the study's 6 configs; no study
    // results exist to compare with.
    'hwdse-pim': {
      description: "The study's PIM HW-DSE (its 6 configs: global buffer 256 KiB / 512 KiB × 128×128, 64×256, 256×64 cells, WS) on BERT-large KTQ + VScores + softmax × 16 heads.",
      sweep: { architecture: 'pim', configs: 'hardcoded', mode: 'study' },
    },
    // The cross-architecture study (study-facts §1.5): the GEMMs and BERT
    // layers on four of its architectures, and the convolutions I–XVII as an
    // experiment of their own (the study ran them with its short block).
    'cross-arch': {
      description: "The cross-architecture study: MAESTRO-BLAS MB1–MB6, Harsh1–2 and BERT-large KQV, KTQ, VScores, FF1 on Eyeriss, Simba, TPU and Gemmini (each preset's constraints), the study's long mapper block (TLL).",
      crossArch: { architectures: ['eyeriss', 'simba', 'tpu', 'gemmini'], workloads: ['gemms', 'bert'], mapper: 'TLL' },
    },
    'cross-arch-convs': {
      description: "The cross-architecture study's convolutions I–XVII on Eyeriss, Simba, TPU and Gemmini with the short mapper block (TLD).",
      crossArch: { architectures: ['eyeriss', 'simba', 'tpu', 'gemmini'], workloads: ['convs'], mapper: 'TLD' },
    },
    // The study's eight Timeloop mapper runs: BERT-large KQV and VScores on
    // the gemmini and eyeriss presets with the study's constraints (the
    // presets carry them). TLD/TLL were two Timeloop mapper settings, which
    // expt's deterministic search does not need, so each pair is one task.
    quick: {
      description: "The study's eight mapper runs: BERT-large KQV and VScores on the gemmini and eyeriss presets with the study's constraints (TLD/TLL, the study's two Timeloop mapper settings, are one task each).",
      jobs: ['KQV', 'VScores'].flatMap((layer) =>
        ['gemmini', 'eyeriss'].flatMap((arch) => ['TLD', 'TLL'].map((variant) => ({ model: 'bert-large', layer, arch, variant }))),
      ),
    },
  },
});
