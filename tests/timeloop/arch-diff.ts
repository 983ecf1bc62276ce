/**
 * Field-by-field comparison of two architectures, for the tests of the
 * Timeloop importers: every storage-level field, the arithmetic level, the
 * networks, and the attributes (optionally only on the keys of the
 * reference, for attributes that only matter to the energy estimator).
 */
import type { Architecture } from '../../src/arch/architecture.ts';

const STORAGE_FIELDS = [
  'className', 'instances', 'meshX', 'meshY', 'sizeWords', 'wordBits', 'blockSize', 'clusterSize', 'readBandwidth', 'writeBandwidth',
  'sharedBandwidth', 'multipleBuffering', 'minUtilization', 'networkFillLatency', 'networkDrainLatency', 'vectorAccessEnergy',
  'addressGenerationEnergy',
] as const;
const ARITH_FIELDS = ['name', 'className', 'instances', 'meshX', 'meshY', 'wordBits'] as const;
const NETWORK_FIELDS = ['className', 'actionName', 'perDatatypeErt', 'multicastFactorArgument', 'fillLatency', 'drainLatency'] as const;

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Differences of `got` from `want`, one line each (`level.field: got X, want Y`). */
export function architectureDiff(got: Architecture, want: Architecture, opts: { attributes: 'all' | 'reference-keys' | 'none' } = { attributes: 'reference-keys' }): string[] {
  const out: string[] = [];
  const names = (a: Architecture) => a.storage.map((s) => s.name).join(', ');
  if (names(got) !== names(want)) out.push(`storage levels: got [${names(got)}], want [${names(want)}]`);
  for (const w of want.storage) {
    const g = got.storage.find((s) => s.name === w.name);
    if (!g) continue;
    for (const f of STORAGE_FIELDS) if (!same(g[f], w[f])) out.push(`${w.name}.${f}: got ${JSON.stringify(g[f])}, want ${JSON.stringify(w[f])}`);
    if (!same(g.networks, w.networks)) out.push(`${w.name}.networks: got ${JSON.stringify(g.networks)}, want ${JSON.stringify(w.networks)}`);
    out.push(...attributeDiff(`${w.name}.attributes`, g.attributes, w.attributes, opts.attributes));
  }
  for (const f of ARITH_FIELDS) {
    if (!same(got.arithmetic[f], want.arithmetic[f])) out.push(`arithmetic.${f}: got ${JSON.stringify(got.arithmetic[f])}, want ${JSON.stringify(want.arithmetic[f])}`);
  }
  out.push(...attributeDiff(`${want.arithmetic.name}.attributes`, got.arithmetic.attributes, want.arithmetic.attributes, opts.attributes));
  const nn = (a: Architecture) => a.networks.map((n) => n.name).join(', ');
  if (nn(got) !== nn(want)) out.push(`networks: got [${nn(got)}], want [${nn(want)}]`);
  for (const w of want.networks) {
    const g = got.networks.find((n) => n.name === w.name);
    if (!g) continue;
    for (const f of NETWORK_FIELDS) if (!same(g[f], w[f])) out.push(`${w.name}.${f}: got ${JSON.stringify(g[f])}, want ${JSON.stringify(w[f])}`);
    out.push(...attributeDiff(`${w.name}.attributes`, g.attributes, w.attributes, opts.attributes));
  }
  return out;
}

function attributeDiff(where: string, got: Readonly<Record<string, unknown>>, want: Readonly<Record<string, unknown>>, mode: 'all' | 'reference-keys' | 'none'): string[] {
  if (mode === 'none') return [];
  const out: string[] = [];
  const keys = mode === 'all' ? new Set([...Object.keys(got), ...Object.keys(want)]) : new Set(Object.keys(want));
  for (const k of keys) if (!same(got[k], want[k])) out.push(`${where}.${k}: got ${JSON.stringify(got[k])}, want ${JSON.stringify(want[k])}`);
  return out;
}
