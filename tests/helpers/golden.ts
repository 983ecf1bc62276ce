/**
 * Access to the golden differential vectors (tests/fixtures/golden, produced by
 * Timeloop v3.0.3) and a field-by-field comparison of our evaluation with
 * the oracle's `expected.json`.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Evaluation } from '../../src/model/result.ts';
import { COUNT_FIELDS } from '../../src/timeloop/fidelity.ts';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixturesDir = join(repoRoot, 'tests', 'fixtures');
export const goldenDir = join(fixturesDir, 'golden');
/** The study's reference files (tests/fixtures/reference/README.md). */
export const referenceDir = join(fixturesDir, 'reference');

export interface GoldenCase {
  id: string;
  category: string;
  dir: string;
}

export function goldenCases(): GoldenCase[] {
  const index = JSON.parse(readFileSync(join(goldenDir, 'index.json'), 'utf8')) as {
    cases: { case_id: string; category: string }[];
  };
  const listed = index.cases.map((c) => ({ id: c.case_id, category: c.category, dir: join(goldenDir, c.case_id) }));
  // Cases present as folders but missing from the index still get checked.
  for (const d of readdirSync(goldenDir, { withFileTypes: true })) {
    if (d.isDirectory() && !listed.some((c) => c.id === d.name) && existsSync(join(goldenDir, d.name, 'expected.json'))) {
      listed.push({ id: d.name, category: d.name.split('-')[0], dir: join(goldenDir, d.name) });
    }
  }
  return listed;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Expected = any;

export function readExpected(c: GoldenCase): Expected {
  return JSON.parse(readFileSync(join(c.dir, 'expected.json'), 'utf8'));
}

const EXACT_DS = COUNT_FIELDS;
const ENERGY_DS = ['energy_per_instance_pJ', 'energy_pJ'] as const;
const RATE_DS = ['read_bandwidth_per_instance', 'write_bandwidth_per_instance'] as const;

function relClose(a: number, b: number, tol: number): boolean {
  if (a === b) return true;
  return Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b));
}

/** Every difference between our evaluation and the oracle's, as readable lines. */
export function compareWithExpected(got: Evaluation, exp: Expected, opts: { networks?: boolean } = {}): string[] {
  const diffs: string[] = [];
  const exact = (where: string, a: unknown, b: unknown) => {
    if (a !== b) diffs.push(`${where}: got ${String(a)}, expected ${String(b)}`);
  };
  const close = (where: string, a: number, b: number, tol: number) => {
    if (!relClose(a, b, tol)) diffs.push(`${where}: got ${a}, expected ${b}`);
  };
  const ar = exp.arithmetic;
  exact('arithmetic.instances', got.arithmetic.instances, ar.instances);
  exact('arithmetic.utilized_instances', got.arithmetic.utilized_instances, ar.utilized_instances);
  exact('arithmetic.computes', got.arithmetic.computes, ar.computes);
  exact('arithmetic.cycles', got.arithmetic.cycles, ar.cycles);
  close('arithmetic.energy_pJ', got.arithmetic.energy_pJ, ar.energy_pJ, 1e-6);
  exact('storage.length', got.storage.length, exp.storage.length);
  exp.storage.forEach((es: Expected, i: number) => {
    const gs = got.storage[i];
    if (!gs) return;
    const w = `storage[${es.name}]`;
    exact(`${w}.name`, gs.name, es.name);
    for (const k of ['timeloop_level', 'instances', 'mesh_x', 'mesh_y', 'size_words', 'block_size', 'cycles', 'utilized_instances'] as const) {
      exact(`${w}.${k}`, gs[k], es[k]);
    }
    close(`${w}.slowdown`, gs.slowdown, es.slowdown, 1e-9);
    close(`${w}.energy_pJ`, gs.energy_pJ, es.energy_pJ, 1e-6);
    exact(`${w}.dataspaces`, Object.keys(gs.dataspaces).join(','), Object.keys(es.dataspaces).join(','));
    for (const [name, eds] of Object.entries<Expected>(es.dataspaces)) {
      const gds = gs.dataspaces[name];
      if (!gds) continue;
      for (const k of EXACT_DS) exact(`${w}.${name}.${k}`, gds[k], eds[k]);
      for (const k of ENERGY_DS) close(`${w}.${name}.${k}`, gds[k], eds[k], 1e-6);
      for (const k of RATE_DS) close(`${w}.${name}.${k}`, gds[k], eds[k], 1e-9);
    }
  });
  const s = exp.summary;
  exact('summary.cycles', got.summary.cycles, s.cycles);
  exact('summary.computes', got.summary.computes, s.computes);
  close('summary.utilization', got.summary.utilization, s.utilization, 1e-9);
  close('summary.energy_pJ', got.summary.energy_pJ, s.energy_pJ, 1e-6);
  close('summary.edp_J_cycle', got.summary.edp_J_cycle, s.edp_J_cycle, 1e-6);
  if (s.network_energy_pJ) {
    for (const [name, e] of Object.entries<number>(s.network_energy_pJ)) {
      const n = got.networks.find((x) => x.name === name);
      if (!n) diffs.push(`network ${name}: missing`);
      else close(`network ${name}.energy_pJ`, n.energy_pJ, e, 1e-6);
    }
  }
  if (opts.networks) {
    exact('summary.link_transfers_total', got.summary.link_transfers_total, s.link_transfers_total);
    for (const en of exp.networks as Expected[]) {
      const gn = got.networks.find((x) => x.name === en.name);
      if (!gn) {
        diffs.push(`network ${en.name}: missing`);
        continue;
      }
      for (const [name, eds] of Object.entries<Expected>(en.dataspaces)) {
        const gds = gn.dataspaces[name];
        if (!gds) {
          diffs.push(`network ${en.name}.${name}: missing`);
          continue;
        }
        for (const k of ['fanout', 'multicast_factor', 'link_transfers', 'spatial_reductions'] as const) {
          if (eds[k] !== null) exact(`network ${en.name}.${name}.${k}`, gds[k], eds[k]);
        }
        close(`network ${en.name}.${name}.ingresses`, gds.ingresses, eds.ingresses, 1e-9);
        // stats.txt prints hops with 2 decimals.
        if (eds.average_hops !== null && Math.abs(gds.average_hops - eds.average_hops) > 0.005 + 1e-9) {
          diffs.push(`network ${en.name}.${name}.average_hops: got ${gds.average_hops}, expected ${eds.average_hops}`);
        }
      }
    }
  }
  return diffs;
}
