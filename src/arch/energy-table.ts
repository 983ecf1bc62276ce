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
 * The action names Timeloop v3.0.3 (and expt's model) looks up for a
 * component of this kind, with the Accelergy names it ignores but an ERT
 * commonly carries (`update`; `leak` of a compute unit). A network's actions
 * are its own `action_name` (and `<action_name>_<dataspace>`).
 */
export function knownActionNames(kind: 'storage' | 'arithmetic'): readonly string[] {
  return kind === 'storage' ? [...new Set([...READ_ACTIONS, ...FILL_ACTIONS, ...UPDATE_ACTIONS, 'update', ...LEAK_ACTIONS])] : [...COMPUTE_ACTIONS, 'leak'];
}

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

/** What Timeloop's built-in default energy model needs to know about a storage level. */
export interface StorageShape {
  readonly isDram: boolean;
  readonly wordBits: number;
  readonly blockSize: number;
  readonly clusterSize: number;
  readonly sizeWords: number | null;
}

/**
 * Timeloop v3.0.3's built-in (PAT) energy of one vector access, which it
 * charges for any read/fill/update the ERT does not give: DRAM 200 pJ per 16
 * bits; an SRAM a linear function of its bit count; nothing for a size-0 level.
 */
export function defaultVectorAccessEnergy(s: StorageShape): number {
  if (s.isDram) return (200 * s.wordBits * s.blockSize) / 16;
  if (s.sizeWords === 0) return 0;
  const entries = s.sizeWords ?? 0;
  const height = Math.ceil(entries / s.blockSize);
  const width = s.wordBits * s.blockSize * s.clusterSize;
  const y = ((6 - 1) / (100 - 0.5)) * ((width * height) / (8 * 1024) - 0.5) + 1;
  return (y * width) / 16 / s.clusterSize;
}

export function storageEnergies(ert: EnergyReferenceTable, component: string, shape?: StorageShape): StorageEnergies {
  const actions = ert.components[component];
  if (!actions) throw new MissingEnergyError(component);
  const m = actionMap(actions);
  const fallback = shape ? defaultVectorAccessEnergy(shape) : 0;
  return {
    read: firstMatch(m, READ_ACTIONS, fallback),
    fill: firstMatch(m, FILL_ACTIONS, fallback),
    update: firstMatch(m, UPDATE_ACTIONS, fallback),
    leak: firstMatch(m, LEAK_ACTIONS, 0),
  };
}

/** Per-MAC energy; without a compute action Timeloop charges (word bits / 16)² pJ. */
export function computeEnergy(ert: EnergyReferenceTable, component: string, wordBits = 16): number {
  const actions = ert.components[component];
  if (!actions) throw new MissingEnergyError(component);
  return firstMatch(actionMap(actions), COMPUTE_ACTIONS, (wordBits / 16) ** 2);
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
