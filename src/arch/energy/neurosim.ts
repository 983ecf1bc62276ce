/**
 * Class `intadder` as the Accelergy NeuroSim plug-in estimates it (the
 * address generators of smartbuffer_SRAM / smartbuffer_RF in the study), from
 * `data/energy/intadder_neurosim.csv`: n_bits 1…32 at 22/28/32/40/45/65 nm.
 * Other nodes between 22 and 65 nm are interpolated linearly in nm between the
 * neighbouring native NeuroSim nodes (22/32/45/65), as the plug-in does. Write
 * energy is 0; leakage is proportional to the cycle time.
 */
import { cellNumber, readEnergyCsv } from './data.ts';
import { attributeError, type Where } from './attributes.ts';

const FILE = 'intadder_neurosim.csv';
const TABLE_CYCLE_SECONDS = 1.2e-9;
const NATIVE_NODES = [22, 32, 45, 65];

interface AdderRow {
  readonly addPJ: number;
  /** At 1.2 ns. */
  readonly leakPJ: number;
  readonly areaUm2: number;
}

let rows: Map<string, AdderRow> | undefined;
let maxBits = 0;
let nodes: number[] = [];

function table(): Map<string, AdderRow> {
  if (rows) return rows;
  rows = new Map();
  const seen = new Set<number>();
  for (const r of readEnergyCsv(FILE)) {
    const t = cellNumber(r, 'technology_nm', FILE);
    const n = cellNumber(r, 'n_bits', FILE);
    seen.add(t);
    maxBits = Math.max(maxBits, n);
    rows.set(`${t}/${n}`, {
      addPJ: cellNumber(r, 'add_pJ', FILE),
      leakPJ: cellNumber(r, 'leak_pJ_per_cycle', FILE),
      areaUm2: cellNumber(r, 'area_um2', FILE),
    });
  }
  nodes = [...seen].sort((a, b) => a - b);
  return rows;
}

export interface IntadderEstimate {
  readonly addPJ: number;
  readonly leakPJPerCycle: number;
  readonly areaUm2: number;
}

/** NeuroSim's intadder of `nBits` bits at `technologyNm`, leakage at `cycleSeconds`. */
export function neurosimIntadder(technologyNm: number, nBits: number, cycleSeconds: number, where: Where): IntadderEstimate {
  const t = table();
  if (!Number.isInteger(nBits) || nBits < 1 || nBits > maxBits) {
    throw attributeError(where, 'n_bits', `${nBits} is outside the NeuroSim intadder data (whole numbers 1…${maxBits})`);
  }
  const at = (node: number) => t.get(`${node}/${nBits}`)!;
  let row: AdderRow;
  if (t.has(`${technologyNm}/${nBits}`)) {
    row = at(technologyNm);
  } else {
    const lo = Math.max(...NATIVE_NODES.filter((n) => n <= technologyNm));
    const hi = Math.min(...NATIVE_NODES.filter((n) => n >= technologyNm));
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
      throw attributeError(where, 'technology', `${technologyNm} nm is outside the NeuroSim intadder data (${nodes[0]}…${nodes[nodes.length - 1]} nm)`);
    }
    const a = at(lo);
    const b = at(hi);
    const p = (technologyNm - lo) / (hi - lo);
    const mix = (x: number, y: number) => x + (y - x) * p;
    row = { addPJ: mix(a.addPJ, b.addPJ), leakPJ: mix(a.leakPJ, b.leakPJ), areaUm2: mix(a.areaUm2, b.areaUm2) };
  }
  return { addPJ: row.addPJ, leakPJPerCycle: row.leakPJ * (cycleSeconds / TABLE_CYCLE_SECONDS), areaUm2: row.areaUm2 };
}
