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
import type { Architecture } from '../arch/architecture.ts';
import { knownActionNames, type EnergyAction, type EnergyReferenceTable } from '../arch/energy-table.ts';
import { estimateArchitecture, mergeOverrides, type ArchitectureEstimate } from '../arch/energy/architecture.ts';
import { importTimeloopDocuments } from '../timeloop/tree-import.ts';
import { readYamlFile } from '../util/yaml.ts';
import { UserError } from '../util/errors.ts';
import { FIELD_DOMAINS, outsideDomain } from '../util/domains.ts';
import type { Problem } from '../workload/problem.ts';
import { constraintsFor, type MapspaceConstraints } from '../mapper/constraints.ts';
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

/** One row of an energy-override CSV, with its line for the error messages. */
interface OverrideRow {
  readonly component: string;
  readonly action: string;
  readonly energy: number;
  readonly line: number;
}

const OVERRIDE_COLUMNS = ['component', 'action', 'energy_pJ'] as const;

/**
 * Reads `<preset>.energy.csv`: a header `component,action,energy_pJ` (in
 * any order), then one row per action; `#` comments and blank lines are
 * skipped. Errors name the file and the line as the file numbers it.
 */
function readOverrideRows(file: string): OverrideRow[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // With `info`, csv-parse gives each record with its line; its types do not model that option.
    records = parseCsv(readFileSync(file, 'utf8'), { info: true, skip_empty_lines: true, trim: true, comment: '#', relax_column_count: true }) as unknown as typeof records;
  } catch (e) {
    throw new UserError(`cannot read the energy table: ${(e as Error).message}`, file);
  }
  if (records.length === 0) return [];
  const [header, ...rows] = records;
  const where = (line: number) => `line ${line}`;
  const columns = header.record;
  const missing = OVERRIDE_COLUMNS.filter((c) => !columns.includes(c));
  const unknown = columns.filter((c) => !(OVERRIDE_COLUMNS as readonly string[]).includes(c));
  if (missing.length > 0 || unknown.length > 0 || new Set(columns).size !== columns.length) {
    throw new UserError(`expected the header ${OVERRIDE_COLUMNS.join(',')}, got '${columns.join(',')}'`, file, where(header.info.lines));
  }
  const index = Object.fromEntries(OVERRIDE_COLUMNS.map((c) => [c, columns.indexOf(c)])) as Record<(typeof OVERRIDE_COLUMNS)[number], number>;
  const seen = new Map<string, number>();
  return rows.map(({ record, info }) => {
    const line = info.lines;
    if (record.length !== columns.length) throw new UserError(`expected ${columns.length} values (${columns.join(',')}), got ${record.length}`, file, where(line));
    const component = record[index.component];
    const action = record[index.action];
    if (component === '') throw new UserError('expected a component name, got an empty value', file, `${where(line)}: component`);
    if (action === '') throw new UserError('expected an action name, got an empty value', file, `${where(line)}: action`);
    const reason = outsideDomain(FIELD_DOMAINS.overrideEnergy, record[index.energy_pJ]);
    if (reason !== undefined) throw new UserError(reason, file, `${where(line)}: energy_pJ`);
    const key = `${component},${action}`;
    const before = seen.get(key);
    if (before !== undefined) throw new UserError(`${component},${action} is already given on line ${before}`, file, where(line));
    seen.set(key, line);
    return { component, action, energy: Number(record[index.energy_pJ]), line };
  });
}

function overridesOf(rows: readonly OverrideRow[]): Record<string, EnergyAction[]> {
  const out: Record<string, EnergyAction[]> = {};
  for (const r of rows) (out[r.component] ??= []).push({ name: r.action, energy: r.energy });
  return out;
}

/**
 * Every CSV row must name a component of the architecture and an action it
 * has: an unknown one would change nothing, and the rerun would look as if
 * the override took effect. A component's actions are those of its ERT (the
 * estimate, or the file's own ERT) and the names Timeloop looks up for its
 * kind (`random_read`, ...); a component the estimator cannot price is made
 * of its overrides, which may use only the names Timeloop looks up.
 */
function checkOverrideRows(rows: readonly OverrideRow[], file: string, arch: Architecture, actionsOf?: (component: string) => readonly string[] | undefined): void {
  const kinds = new Map<string, 'storage' | 'arithmetic' | 'network'>([
    ...arch.storage.map((s) => [s.name, 'storage'] as const),
    [arch.arithmetic.name, 'arithmetic'] as const,
    ...arch.networks.map((n) => [n.name, 'network'] as const),
  ]);
  for (const r of rows) {
    const kind = kinds.get(r.component);
    if (kind === undefined) {
      throw new UserError(`no component '${r.component}' in the architecture (components: ${[...kinds.keys()].join(', ')})`, file, `line ${r.line}: component`);
    }
    if (actionsOf === undefined) continue;
    const has = actionsOf(r.component) ?? [];
    const network = arch.networks.find((n) => n.name === r.component);
    const known = network !== undefined ? [network.actionName] : knownActionNames(kind as 'storage' | 'arithmetic');
    const isKnown = known.includes(r.action) || (network !== undefined && r.action.startsWith(`${network.actionName}_`));
    if (!has.includes(r.action) && !isKnown) {
      const list = has.length > 0 ? has : known;
      throw new UserError(`component '${r.component}' has no action '${r.action}' (its actions: ${[...new Set(list)].join(', ')})`, file, `line ${r.line}: action`);
    }
  }
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
  const hasEnergyFile = existsSync(energyFile);
  const rows = hasEnergyFile ? readOverrideRows(energyFile) : [];
  const overrides = overridesOf(rows);
  let ert: EnergyReferenceTable;
  if (input.ert) {
    // A hand-written ERT in the file wins over the estimator; the CSV still overrides it.
    const fileErt = input.ert;
    checkOverrideRows(rows, energyFile, arch, (c) => fileErt.components[c]?.map((a) => a.name));
    const components = { ...fileErt.components };
    for (const [name, own] of Object.entries(overrides)) components[name] = mergeOverrides(components[name] ?? [], own);
    ert = { components };
  } else {
    // The CSV's component names are checked here, so that an unknown one is blamed on the CSV, not on the YAML.
    checkOverrideRows(rows, energyFile, arch);
    let estimate: ArchitectureEstimate;
    try {
      estimate = estimateArchitecture(arch, { overrides });
    } catch (e) {
      if (e instanceof UserError) throw new UserError(e.message, file, 'architecture');
      throw e;
    }
    checkOverrideRows(rows, energyFile, arch, (c) => estimate.components[c]?.estimate?.actions.map((a) => a.name));
    ert = estimate.ert;
  }
  return {
    id: basename(file, '.yaml'),
    file,
    arch,
    constraints: input.raw['mapspace_constraints']?.value,
    ert,
    energyFile: hasEnergyFile ? energyFile : null,
    ertFromFile: input.ert !== undefined,
    overrides,
  };
}

/** The preset's mapspace constraints, read against a problem (dimension and dataspace names). */
export function presetConstraints(preset: ArchitecturePreset, problem: Problem): MapspaceConstraints {
  const blocks = preset.constraints !== undefined ? [{ value: preset.constraints, file: preset.file, path: 'mapspace_constraints' }] : [];
  return constraintsFor(problem, preset.arch, blocks, preset.file);
}
