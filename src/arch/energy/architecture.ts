/**
 * The ERT (and per-instance areas) of a whole architecture: every storage
 * level, the arithmetic level and every user network whose Accelergy class
 * is known, estimated from its class and raw attributes, with hand-typed
 * energies as overrides.
 */
import type { Architecture } from '../architecture.ts';
import type { EnergyAction, EnergyReferenceTable } from '../energy-table.ts';
import { UserError } from '../../util/errors.ts';
import type { Attributes } from './attributes.ts';
import { COMPOUND_CLASSES, PRIMITIVE_CLASSES, isSupportedClass } from './components.ts';
import { estimateComponent, type ComponentEstimate, type EstimateOptions } from './estimate.ts';

export interface ArchitectureEnergyOptions extends Omit<EstimateOptions, 'componentName'> {
  /**
   * Hand-typed energies per component name. Each replaces the estimated
   * action of the same name (all its argument variants); actions the
   * estimate lacks are added. A component whose class is not supported is
   * taken from its overrides alone.
   */
  readonly overrides?: Readonly<Record<string, readonly EnergyAction[]>>;
  /**
   * The Accelergy class per component, where it is not the class written in
   * the architecture. Timeloop's tree format keeps Timeloop's class (e.g.
   * `regfile` for the study's smartbuffer_RF, `SRAM` for a smartbuffer_SRAM,
   * `SimpleMulticast` for a DAC_SimpleMulticast). Default: the component's
   * `subclass` attribute if it has one, else its class.
   */
  readonly classes?: Readonly<Record<string, string>>;
  /** Attributes added to (or replacing) a component's own, e.g. an intmac's multiplier_width and adder_width. */
  readonly attributes?: Readonly<Record<string, Attributes>>;
}

export interface ArchitectureComponentEstimate {
  /** The Accelergy class used. */
  readonly className: string;
  readonly kind: 'storage' | 'arithmetic' | 'network';
  /** Hardware instances of the component in the architecture (1 for networks). */
  readonly instances: number;
  /** The estimate before overrides; absent when the class is unsupported and overrides give every action. */
  readonly estimate?: ComponentEstimate;
  /** The actions as they go into the ERT (overrides applied). */
  readonly actions: readonly EnergyAction[];
}

export interface ArchitectureEstimate {
  readonly ert: EnergyReferenceTable;
  readonly components: Readonly<Record<string, ArchitectureComponentEstimate>>;
  /** Networks left out (a class with no estimator and no overrides: Timeloop's own Legacy/XY_NoC…). */
  readonly skipped: readonly string[];
}

/**
 * `overrides` in place of the estimated actions of the same name (all their
 * argument variants), at the place of the first; the others appended.
 */
export function mergeOverrides(estimated: readonly EnergyAction[], overrides: readonly EnergyAction[] | undefined): EnergyAction[] {
  if (!overrides || overrides.length === 0) return [...estimated];
  const replaced = new Set(overrides.map((o) => o.name));
  const placed = new Set<string>();
  const result: EnergyAction[] = [];
  for (const a of estimated) {
    if (!replaced.has(a.name)) result.push(a);
    else if (!placed.has(a.name)) {
      // The overrides of an action go where its first estimated entry was.
      result.push(...overrides.filter((o) => o.name === a.name));
      placed.add(a.name);
    }
  }
  for (const o of overrides) if (!placed.has(o.name)) result.push(o);
  return result;
}

function subclassOf(attributes: Attributes): string | undefined {
  const s = attributes['subclass'];
  return typeof s === 'string' && s.trim() !== '' ? s.trim() : undefined;
}

/**
 * Estimates every storage level, the arithmetic level and the user networks
 * of known class. Throws a UserError naming the component when its class is
 * unsupported (and no overrides stand in for it) or an attribute is missing
 * or out of the data's range.
 */
export function estimateArchitecture(arch: Architecture, options: ArchitectureEnergyOptions = {}): ArchitectureEstimate {
  const overrides = options.overrides ?? {};
  const names = new Set<string>([...arch.storage.map((s) => s.name), arch.arithmetic.name, ...arch.networks.map((n) => n.name)]);
  for (const [table, label] of [
    [overrides, 'overrides'],
    [options.classes ?? {}, 'classes'],
    [options.attributes ?? {}, 'attributes'],
  ] as const) {
    for (const name of Object.keys(table)) {
      if (!names.has(name)) throw new UserError(`${label}: no component named '${name}' in architecture '${arch.name}' (components: ${[...names].join(', ')})`);
    }
  }

  const components: Record<string, ArchitectureComponentEstimate> = {};
  const ert: Record<string, readonly EnergyAction[]> = {};
  const skipped: string[] = [];

  const one = (
    name: string,
    kind: ArchitectureComponentEstimate['kind'],
    timeloopClass: string,
    rawAttributes: Attributes,
    instances: number,
  ): void => {
    const attributes = { ...rawAttributes, ...(options.attributes?.[name] ?? {}) };
    const className = options.classes?.[name] ?? subclassOf(attributes) ?? timeloopClass;
    const own = overrides[name];
    if (!isSupportedClass(className)) {
      if (own && own.length > 0) {
        components[name] = { className, kind, instances, actions: [...own] };
        ert[name] = [...own];
        return;
      }
      if (kind === 'network') {
        skipped.push(name);
        return;
      }
      throw new UserError(
        `component '${name}': class '${className}' has no estimator; name its Accelergy class in options.classes ` +
          `(e.g. smartbuffer_RF for a tree-format regfile), or give its energies in options.overrides ` +
          `(supported classes: ${[...COMPOUND_CLASSES, ...PRIMITIVE_CLASSES].join(', ')})`,
      );
    }
    const { overrides: _o, classes: _c, attributes: _a, ...estimateOptions } = options;
    const estimate = estimateComponent(className, attributes, { ...estimateOptions, componentName: name });
    const actions = mergeOverrides(estimate.actions, own);
    components[name] = { className: estimate.className, kind, instances, estimate, actions };
    ert[name] = actions;
  };

  for (const s of arch.storage) one(s.name, 'storage', s.className, s.attributes, s.instances);
  one(arch.arithmetic.name, 'arithmetic', arch.arithmetic.className, arch.arithmetic.attributes, arch.arithmetic.instances);
  for (const n of arch.networks) one(n.name, 'network', n.className, n.attributes, 1);
  return { ert: { components: ert }, components, skipped };
}

/** The ERT of `arch` (see estimateArchitecture). */
export function estimateArchitectureEnergy(arch: Architecture, options: ArchitectureEnergyOptions = {}): EnergyReferenceTable {
  return estimateArchitecture(arch, options).ert;
}
