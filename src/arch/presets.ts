/**
 * Architectures as editable data: `experiments/archs/<id>.yaml` (Timeloop
 * tree format with Accelergy classes and attributes, plus the architecture's
 * mapspace constraints), and optionally `experiments/archs/<id>.energy.csv`
 * with hand-typed per-action energies (`component,action,energy_pJ`) that
 * override the estimate. Everything else about energy comes from the
 * estimator (src/arch/energy), so a sweep that changes a buffer changes its
 * energies too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import type { Architecture } from './architecture.ts';
import type { EnergyAction, EnergyReferenceTable } from './energy-table.ts';
import { estimateArchitecture } from './energy/index.ts';
import { importTimeloopDocuments } from '../timeloop/tree-import.ts';
import { readYamlFile } from '../util/yaml.ts';
import { UserError } from '../util/errors.ts';
import type { Problem } from '../workload/problem.ts';
import { addConstraints, resolveMaximizeDims, unconstrained, type MapspaceConstraints } from '../mapper/constraints.ts';
import { DEFAULT_ARCH_DIR, listArchitectures } from './preset-files.ts';

export { DEFAULT_ARCH_DIR, listArchitectures };

export interface ArchitecturePreset {
  readonly id: string;
  readonly file: string;
  readonly arch: Architecture;
  /** The file's `mapspace_constraints` block, unparsed (it needs the problem to be read). */
  readonly constraints: unknown;
  readonly ert: EnergyReferenceTable;
  /** The energy override file, when there is one. */
  readonly energyFile: string | null;
  /** The ERT is the file's own `ERT` block (not estimated). */
  readonly ertFromFile?: boolean;
  readonly overrides: Readonly<Record<string, readonly EnergyAction[]>>;
}

function readOverrides(file: string): Record<string, EnergyAction[]> {
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, trim: true, comment: '#' });
  } catch (e) {
    throw new UserError(`cannot read the energy table: ${(e as Error).message}`, file);
  }
  const out: Record<string, EnergyAction[]> = {};
  rows.forEach((row, i) => {
    const where = `row ${i + 2}`;
    const component = row['component'];
    const action = row['action'];
    const energy = Number(row['energy_pJ']);
    if (!component || !action) throw new UserError('expected columns component, action, energy_pJ', file, where);
    if (!Number.isFinite(energy) || energy < 0) throw new UserError(`energy_pJ must be a non-negative number, got '${row['energy_pJ']}'`, file, where);
    (out[component] ??= []).push({ name: action, energy });
  });
  return out;
}

/** Loads `experiments/archs/<id>.yaml` (or a path to such a file) and estimates its energies. */
export function loadArchitecture(idOrFile: string, dir = DEFAULT_ARCH_DIR): ArchitecturePreset {
  const file = idOrFile.endsWith('.yaml') ? idOrFile : join(dir, `${idOrFile}.yaml`);
  if (!existsSync(file)) {
    const known = existsSync(dir) ? listArchitectures(dir).join(', ') : '(none)';
    throw new UserError(`unknown architecture '${idOrFile}' (known: ${known})`, file);
  }
  const input = importTimeloopDocuments([{ file, doc: readYamlFile(file) }]);
  if (!input.architecture) throw new UserError('missing the `architecture` block', file);
  const arch = input.architecture;
  const energyFile = file.replace(/\.yaml$/, '.energy.csv');
  const overrides: Record<string, EnergyAction[]> = existsSync(energyFile) ? readOverrides(energyFile) : {};
  let ert: EnergyReferenceTable;
  if (input.ert) {
    // A hand-written ERT in the file wins over the estimator.
    ert = input.ert;
  } else {
    try {
      ert = estimateArchitecture(arch, { overrides }).ert;
    } catch (e) {
      if (e instanceof UserError) throw new UserError(e.message, file, 'architecture');
      throw e;
    }
  }
  return {
    id: basename(file, '.yaml'),
    file,
    arch,
    constraints: input.raw['mapspace_constraints']?.value,
    ert,
    energyFile: existsSync(energyFile) ? energyFile : null,
    ertFromFile: input.ert !== undefined,
    overrides,
  };
}

/** The preset's mapspace constraints, read against a problem (dimension and dataspace names). */
export function presetConstraints(preset: ArchitecturePreset, problem: Problem): MapspaceConstraints {
  const c = unconstrained(problem, preset.arch);
  if (preset.constraints !== undefined) {
    addConstraints(c, preset.constraints, problem, preset.arch, { file: preset.file, path: 'mapspace_constraints' });
  }
  resolveMaximizeDims(c, problem, preset.arch, preset.file);
  return c;
}
