/**
 * Accelergy's job for expt: per-action energy, leakage and area of
 * architecture components from their class and attributes, reproducing the
 * numbers the study's Accelergy (CACTI, Aladdin library tables, NeuroSim,
 * the study's PIM tables and component YAMLs) produced.
 */
export { estimateComponent, actionEnergy, round6, type ComponentEstimate, type EstimateOptions } from './estimate.ts';
export {
  estimateArchitecture,
  estimateArchitectureEnergy,
  type ArchitectureEnergyOptions,
  type ArchitectureEstimate,
  type ArchitectureComponentEstimate,
} from './architecture.ts';
export { COMPOUND_CLASSES, PRIMITIVE_CLASSES, DEFAULT_CYCLE_SECONDS } from './components.ts';
export { PIM_TABLE_SETS, type TableSet } from './tables.ts';
export { technologyAreaScale, technologyEnergyScale, technologyNodeIndex, LIBRARY_CLASSES } from './library.ts';
export { cactiSram, cactiRun, DRAM_PJ_PER_BIT, type SramEstimate, type SramParams, type CactiRunKey } from './cacti.ts';
