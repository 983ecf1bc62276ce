/**
 * Energy reference table (ERT): per component, per action, energy in pJ.
 * Storage actions are per vector access (one block); `compute` is per MAC;
 * `leak` is per cycle per utilized instance.
 */

export interface EnergyAction {
  readonly name: string;
  readonly arguments?: Readonly<Record<string, number | string>>;
  readonly energy: number;
}

export interface EnergyReferenceTable {
  /** Keyed by component name (the last element of Timeloop's dotted path). */
  readonly components: Readonly<Record<string, readonly EnergyAction[]>>;
}

/** Per-level energies resolved the way Timeloop maps ERT actions to operations. */
export interface StorageEnergies {
  readonly read: number;
  readonly fill: number;
  readonly update: number;
  readonly leak: number;
}

// Timeloop v3.0.3's priority lists (include/model/topology.hpp): a `fill` or
// `update` action is never read, and updates fall back to fills, then writes.
const READ_ACTIONS = ['random_read', 'read'];
const FILL_ACTIONS = ['random_fill', 'write'];
const UPDATE_ACTIONS = ['random_update', 'random_fill', 'write'];
const LEAK_ACTIONS = ['leak'];
const COMPUTE_ACTIONS = ['mac_random', 'mult_random', 'mac', 'mult', 'compute'];

/**
 * Timeloop keeps one value per action name: the largest energy among entries
 * that differ only by arguments.
 */
function actionMap(actions: readonly EnergyAction[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const a of actions) {
    const prev = m.get(a.name);
    if (prev === undefined || a.energy > prev) m.set(a.name, a.energy);
  }
  return m;
}

function firstMatch(m: Map<string, number>, names: readonly string[], fallback: number): number {
  for (const n of names) {
    const v = m.get(n);
    if (v !== undefined) return v;
  }
  return fallback;
}

export class MissingEnergyError extends Error {
  constructor(readonly component: string) {
    super(`no energy table entry for component '${component}'`);
  }
}

export function storageEnergies(ert: EnergyReferenceTable, component: string, clusterSize = 1): StorageEnergies {
  const actions = ert.components[component];
  if (!actions) throw new MissingEnergyError(component);
  const m = actionMap(actions);
  // A missing read/fill/update costs the component's largest action energy per cluster member.
  let max = 0;
  for (const v of m.values()) max = Math.max(max, v);
  max /= clusterSize;
  return {
    read: firstMatch(m, READ_ACTIONS, max),
    fill: firstMatch(m, FILL_ACTIONS, max),
    update: firstMatch(m, UPDATE_ACTIONS, max),
    leak: firstMatch(m, LEAK_ACTIONS, 0),
  };
}

export function computeEnergy(ert: EnergyReferenceTable, component: string): number {
  const actions = ert.components[component];
  if (!actions) throw new MissingEnergyError(component);
  return firstMatch(actionMap(actions), COMPUTE_ACTIONS, 0);
}

/**
 * Energy of one transfer on a user-defined (SimpleMulticast) network to
 * `multicast` destinations, as Timeloop v3.0.3 looks it up: the action's only
 * entry, or among several the one whose multicast argument equals the
 * factor (0 if none does); no action costs 0.
 */
export function networkTransferEnergy(
  actions: readonly EnergyAction[],
  action: string,
  multicastArgument: string | null,
  multicast: number,
): number {
  const entries = actions.filter((a) => a.name === action);
  if (entries.length === 1) return entries[0].energy;
  let e = 0;
  for (const a of entries) {
    if (multicastArgument !== null && Number(a.arguments?.[multicastArgument]) === multicast) e = a.energy;
  }
  return e;
}
