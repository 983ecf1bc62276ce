/**
 * Where the default search was behind a published greedy mapper (issue 16,
 * the ASP-DAC'25 peer's mappings re-scored with expt's own model): Simba's
 * PE array carries two dimensions, and Eyeriss's convolutions need several
 * dimensions moved between two levels at once. The bounds are the issue's:
 * the default search before it (commit bf774f3, same model and energies)
 * gave KQV 7.8917e6, KTQ 4.9886e4, FF1 1.3040e7 and MB2 3.1865e6 J·cycle on
 * the Simba preset, and the issue asks for 13, 6, 6 and 2 % less; on Eyeriss
 * the peer reached full utilization and 474 / 489 J·cycle on conv IV / VI.
 *
 * KQV stops at 6.86935e6 (−12.95 %), 1.8 % below the peer's (7.8917e6 /
 * 1.128), and no mapping under the preset does better (docs/commands.md, "How
 * far from the optimum"): every count but two is at its floor, and those two
 * (DRAM reads of Inputs, one pass per D chunk; PEWeightBuffer reads, one per
 * run of L at a weight register) trade against each other through the
 * GlobalBuffer's capacity, 3 chunks and runs of 32 being the best trade. The
 * KQV case checks that the search lands on each of those counts, derived
 * here from the layer and the preset, not from a run. Two seeds, so that a
 * bound met by one lucky seed fails.
 */
import test from 'ava';
import { loadArchitecture, presetConstraints, type ArchitecturePreset } from '../../src/inputs/presets.ts';
import { mapOne } from '../../src/mapper/job.ts';
import { mapSettings } from '../../src/mapper/settings.ts';
import { crossArchWorkload } from '../../src/sweeps/cross-arch.ts';
import { blockLayers } from '../../src/workload/layers.ts';
import type { Problem } from '../../src/workload/problem.ts';

const simba = loadArchitecture('simba');
const eyeriss = loadArchitecture('eyeriss');
const bertLarge = (id: string) => blockLayers('bert-large').find((l) => l.id === id)!.problem;

/** Per level and dataspace, per instance: [reads, fills, updates]. */
type Floors = Record<string, Record<string, [number, number, number]>>;

/**
 * Simba × KQV (D 3072, E 1024, L 4096) at the optimum: 256 MACs (16 PEs × 4
 * PEWeightBuffers × 4 registers), a 4-way D multicast of Inputs below the
 * PEInputBuffer and a 4-way E reduction below the PEAccuBuffer; 3 D chunks
 * above the GlobalBuffer and runs of 32 L iterations per weight.
 */
function kqvFloors(): Floors {
  const [D, E, L] = [3072, 1024, 4096];
  const macs = D * E * L;
  const chunks = 3;
  const run = 32;
  const perPE = macs / 16;
  const perAccu = macs / 64;
  const perRegister = macs / 256;
  // E is spread over the 16 PEs and the 4 registers of each: each output is summed in 16 PEs, in one PEAccuBuffer each.
  const outputsPerAccu = (D * L * 16) / 64;
  return {
    DRAM: { Weights: [D * E, 0, 0], Inputs: [chunks * E * L, 0, 0], Outputs: [0, 0, D * L] },
    GlobalBuffer: { Inputs: [chunks * E * L, chunks * E * L, 0], Outputs: [0, 0, D * L] },
    PEInputBuffer: { Inputs: [perPE / 4, (chunks * E * L) / 16, 0] },
    PEWeightBuffer: { Weights: [(4 * perRegister) / run, (D * E) / 64, 0] },
    PEAccuBuffer: { Outputs: [perAccu / 4 - outputsPerAccu, 0, perAccu / 4] },
    PEWeightRegs: { Weights: [perRegister, perRegister / run, 0] },
  };
}

const cases: { name: string; preset: ArchitecturePreset; problem: Problem; bound: number; floors?: Floors }[] = [
  { name: 'Simba × BERT-large KQV', preset: simba, problem: bertLarge('KQV'), bound: 7.8917e6 * (1 - 0.1295), floors: kqvFloors() },
  { name: 'Simba × BERT-large KTQ', preset: simba, problem: bertLarge('KTQ'), bound: 4.9886e4 * (1 - 0.06) },
  { name: 'Simba × BERT-large FF1', preset: simba, problem: bertLarge('FF1'), bound: 1.304e7 * (1 - 0.06) },
  { name: 'Simba × MAESTRO-BLAS MB2', preset: simba, problem: crossArchWorkload('MB2').problem, bound: 3.1865e6 * (1 - 0.02) },
  { name: 'Eyeriss × conv IV', preset: eyeriss, problem: crossArchWorkload('IV').problem, bound: 474 },
  // The peer's 489 is rounded; 489.5 is the most it stands for.
  { name: 'Eyeriss × conv VI', preset: eyeriss, problem: crossArchWorkload('VI').problem, bound: 489.5 },
];

for (const { name, preset, problem, bound, floors } of cases) {
  for (const seed of [1, 2]) {
    test(`${name} at the default effort, seed ${seed}: EDP at most ${bound.toPrecision(5)} J·cycle at full utilization`, (t) => {
      const out = mapOne({ problem, arch: preset.arch, ert: preset.ert, constraints: presetConstraints(preset, problem), settings: mapSettings({ seed }) });
      t.is(out.status, 'mapped');
      if (out.status !== 'mapped') return;
      const { edp_J_cycle: edp, utilization } = out.evaluation.summary;
      t.true(edp <= bound, `EDP ${edp.toExponential(5)} > ${bound.toExponential(5)}`);
      t.is(utilization, 1);
      t.false(out.search.stats.stoppedByBudget);
      if (floors === undefined) return;
      t.is(out.evaluation.summary.cycles, (3072 * 1024 * 4096) / 256);
      for (const [level, dataspaces] of Object.entries(floors)) {
        const stats = out.evaluation.storage.find((s) => s.name === level);
        for (const [ds, [reads, fills, updates]] of Object.entries(dataspaces)) {
          const d = stats?.dataspaces[ds];
          t.deepEqual(d && [d.reads, d.fills, d.updates], [reads, fills, updates], `${level} ${ds}: [reads, fills, updates]`);
        }
      }
    });
  }
}
