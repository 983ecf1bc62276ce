/**
 * Public entry point for one component: class + attributes → per-action
 * energies (pJ), leakage per cycle (pJ) and area (um²), the numbers an
 * Accelergy of the study's vintage would put in the ERT and ART.
 */
import type { EnergyAction } from '../energy-table.ts';
import { attributeError, type Attributes } from './attributes.ts';
import { DEFAULT_CYCLE_SECONDS, componentActions, makeComponent, type Context } from './components.ts';
import { PIM_TABLE_SETS, type TableSet } from './tables.ts';

export interface EstimateOptions {
  /**
   * Seconds per cycle for leakage, used when the attributes give no
   * `global_cycle_seconds`. Default 1.2e-9, the study's value.
   */
  readonly globalCycleSeconds?: number;
  /** Technology used when the attributes give none (e.g. "32nm"). No default. */
  readonly technology?: string | number;
  /**
   * Table sets consulted first (accuracy 100) for primitive classes. Default:
   * the study's PIM tables, which its setup installs for every run. `[]` turns
   * them off (then ADC, DAC, ReRAM cells… cannot be estimated).
   */
  readonly tables?: readonly TableSet[];
  /**
   * Round every energy and area to 6 decimals, as the study's Accelergy core
   * (older than 7d92adb) did when writing the ERT and ART. Default true.
   */
  readonly round?: boolean;
  /** The component's name in the architecture, for error messages. */
  readonly componentName?: string;
}

export interface ComponentEstimate {
  /** The class estimated (aliases resolved: `sram` → `SRAM`). */
  readonly className: string;
  /** Energy of each action in pJ: per vector access for storage, per operation for compute. */
  readonly actions: readonly EnergyAction[];
  /** Area of one instance in um². */
  readonly areaUm2: number;
  /** The `leak` action (pJ per instance per cycle), 0 if the class has none. */
  readonly leakPJPerCycle: number;
  /** Which estimators produced the numbers (CACTI stored runs, NeuroSim, a PIM table…). */
  readonly sources: readonly string[];
  /** Quirks that applied (ignored attributes, interpolated CACTI runs). */
  readonly notes: readonly string[];
}

/** Python's round(x, 6) for the magnitudes here (exact ties do not occur in binary). */
export function round6(x: number): number {
  return Number(x.toFixed(6));
}

/** The attributes as the top-level query sees them: technology and global_cycle_seconds filled in. */
export function queryAttributes(attributes: Attributes, options: EstimateOptions): Record<string, unknown> {
  const attrs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined) attrs[k] = v;
  if ((attrs['technology'] === undefined || attrs['technology'] === null) && options.technology !== undefined) {
    attrs['technology'] = options.technology;
  }
  if (attrs['global_cycle_seconds'] === undefined || attrs['global_cycle_seconds'] === null) {
    attrs['global_cycle_seconds'] = options.globalCycleSeconds ?? DEFAULT_CYCLE_SECONDS;
  }
  return attrs;
}

/**
 * Estimates one component of class `className` (primitive: SRAM, DRAM,
 * intadder, aladdin_*, the PIM table classes; compound: smartbuffer_SRAM,
 * smartbuffer_RF, regfile, intmac and the PIM compounds) from its attributes.
 * Throws a UserError naming the component and attribute when the class or an
 * attribute is unsupported or outside the data.
 */
export function estimateComponent(className: string, attributes: Attributes, options: EstimateOptions = {}): ComponentEstimate {
  const where = { className, component: options.componentName };
  if (options.globalCycleSeconds !== undefined && !(options.globalCycleSeconds > 0)) {
    throw attributeError(where, 'global_cycle_seconds', `must be positive, got ${options.globalCycleSeconds}`);
  }
  const ctx: Context = {
    tables: options.tables ?? PIM_TABLE_SETS,
    defaultCycleSeconds: options.globalCycleSeconds ?? DEFAULT_CYCLE_SECONDS,
    sources: new Set(),
    notes: new Set(),
  };
  const component = makeComponent(className, queryAttributes(attributes, options), ctx, where);
  const round = options.round ?? true;
  const r = (x: number) => (round ? round6(x) : x);
  const actions = componentActions(component).map((a) => ({ ...a, energy: r(a.energy) }));
  const areaUm2 = r(component.area());
  const leak = actions.filter((a) => a.name === 'leak');
  return {
    className: component.className,
    actions,
    areaUm2,
    leakPJPerCycle: leak.length ? Math.max(...leak.map((a) => a.energy)) : 0,
    sources: [...ctx.sources],
    notes: [...ctx.notes],
  };
}

/** The energy of one action of an estimate (the largest if several entries differ by arguments). */
export function actionEnergy(estimate: ComponentEstimate, action: string): number | undefined {
  const entries = estimate.actions.filter((a) => a.name === action);
  return entries.length ? Math.max(...entries.map((a) => a.energy)) : undefined;
}
