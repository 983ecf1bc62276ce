/**
 * Layer fusion (study-facts §3): the constraint rewrite of a matmul and of
 * the normalization op that consumes its output, and the cost of the fused
 * pair. {@link fusedConstraints} applies the rewrite to an architecture
 * preset and reads the result against a problem, ready for `MapSpace`.
 */
import type { ArchitecturePreset } from '../inputs/presets.ts';
import { constraintsFor, type MapspaceConstraints } from '../mapper/constraints.ts';
import type { Problem } from '../workload/problem.ts';
import { UserError } from '../util/errors.ts';
import { fuseTargets, type FusionArch, type FusionOptions } from './rewrite.ts';
import { mergeTargets, targetList, type ConstraintTarget } from './targets.ts';

export {
  FUSION_LEVELS,
  FUSION_PERMUTATION,
  STORAGE_LEVELS,
  fuseTargets,
  fuseTargetsFixed,
  fuseTargetsStudy,
  fusionFactors,
  type FusionArch,
  type FusionFlags,
  type FusionLayerKind,
  type FusionMode,
  type FusionOptions,
} from './rewrite.ts';
export {
  canonicalEntry,
  canonicalType,
  factorTokens,
  formatFactors,
  mergeTargets,
  permutationLetters,
  targetDeltas,
  targetList,
  type ConstraintTarget,
  type FactorToken,
  type TargetDeltas,
} from './targets.ts';
export { fusedPairCost, type FusedPairCost } from './cost.ts';

/** `gemmini` for the gemmini presets (gemmini, gemmini-no, ...), `pim` for the PIM ones. */
export function fusionArchOf(preset: Pick<ArchitecturePreset, 'id'>): FusionArch {
  if (preset.id.startsWith('gemmini')) return 'gemmini';
  if (preset.id.startsWith('pim')) return 'pim';
  throw new UserError(`no fusion levels are known for architecture '${preset.id}' (fusion is defined for gemmini and pim)`);
}

export interface FusedConstraints {
  /** The preset's target list after the rewrite (and, in study mode, the merge). */
  readonly targets: ConstraintTarget[];
  readonly constraints: MapspaceConstraints;
}

/**
 * The preset's constraints fused as asked, read against `problem`: the
 * target list rewritten ({@link fuseTargets}, the storage levels taken from
 * the preset), duplicates merged the way timeloopfe merges them
 * ({@link mergeTargets}: the study's mode leaves some), then parsed and the
 * `maximize_dims` macros resolved, as `presetConstraints` does.
 */
export function fusedConstraints(
  preset: ArchitecturePreset,
  problem: Problem,
  options: Omit<FusionOptions, 'arch' | 'storage'> & { arch?: FusionArch },
): FusedConstraints {
  const base = targetList(preset.constraints, preset.file);
  const rewritten = fuseTargets(base, { ...options, arch: options.arch ?? fusionArchOf(preset), storage: preset.arch.storage.map((s) => s.name) });
  const targets = mergeTargets(rewritten, preset.file);
  const constraints = constraintsFor(problem, preset.arch, [{ value: targets, file: preset.file, path: 'mapspace_constraints (fused)' }], preset.file);
  return { targets, constraints };
}
