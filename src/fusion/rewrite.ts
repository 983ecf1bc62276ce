/**
 * Layer fusion as a rewrite of an architecture's constraint target list
 * (study-facts §3). A matmul (KTQ, Out) and the normalization op that
 * consumes its output (softmax, layernorm) are fused at a storage level: the
 * matmul leaves whole output columns at that level instead of writing them
 * back, and the NO finds its inputs there instead of reading them from
 * above. Each side is mapped on its own architecture (gemmini / gemmini-no,
 * pim / pim-no) under the rewritten constraints; the pair costs the sum
 * (see cost.ts).
 *
 * Two modes:
 * - `study` replays the study's rewrite (run.py / hwdse_run.py) exactly,
 *   quirks included (§3.2, §3.3, §8 B4–B6): only the first constraint per
 *   target is edited, the permutation lands on the first temporal
 *   constraint in list order and the fallback appends duplicates on the
 *   fusion level, fusion at Registers leaves the matmul's Outputs without
 *   any keeping level, and "fusion at DRAM" still adds a DRAM permutation.
 * - `fixed` (the default) does what the study meant; every departure is
 *   commented where it is made (see {@link fuseTargetsFixed}).
 */
import { UserError } from '../util/errors.ts';
import {
  factorTokens,
  formatFactors,
  isDataspaceEntry,
  isTemporalEntry,
  mergeTargets,
  type ConstraintTarget,
  type FactorToken,
} from './targets.ts';

export type FusionArch = 'gemmini' | 'pim';
/** `gemm` is accepted as a synonym of `matmul` (src/workload/layers.ts calls the matmuls so). */
export type FusionLayerKind = 'matmul' | 'gemm' | 'normop';
export type FusionMode = 'study' | 'fixed';

export interface FusionFlags {
  /** `-nef`: do not force E=1 above the fusion level (matmul only). */
  readonly noEFusion?: boolean;
  /** `-lf`: force L=1 above the fusion level, i.e. the whole output stays at the fusion level (matmul only). */
  readonly lFusion?: boolean;
  /**
   * `-pwim`: the matmul pays for writing the final output back (it keeps
   * Outputs at DRAM) and the NO does not (it bypasses its Outputs above the
   * fusion level).
   */
  readonly payWritebackInMatmul?: boolean;
}

export interface FusionOptions {
  readonly arch: FusionArch;
  readonly kind: FusionLayerKind;
  /** One of {@link FUSION_LEVELS}`[arch]`. */
  readonly level: string;
  readonly flags?: FusionFlags;
  /** Default `fixed`. */
  readonly mode?: FusionMode;
  /**
   * Fixed mode: the storage levels of the architecture the list belongs to,
   * outermost first (a preset's `arch.storage` names). Default:
   * {@link STORAGE_LEVELS}`[arch][kind]`. The study's mode does not need
   * them: it only knows its three fusion levels.
   */
  readonly storage?: readonly string[];
}

/** The study's `memory_levels` ("MUST STAY ORDERED!"): where a pair can be fused, outermost first. */
export const FUSION_LEVELS: Readonly<Record<FusionArch, readonly string[]>> = {
  gemmini: ['DRAM', 'Accumulator', 'Registers'],
  pim: ['DRAM', 'shared_glb', 'scratchpad'],
};

/** The storage levels of the presets (experiments/archs), outermost first. */
export const STORAGE_LEVELS: Readonly<Record<FusionArch, Readonly<Record<'matmul' | 'normop', readonly string[]>>>> = {
  gemmini: {
    matmul: ['DRAM', 'Scratchpad', 'Accumulator', 'Registers'],
    normop: ['DRAM', 'Scratchpad', 'Accumulator', 'Registers', 'Registers_Outputs', 'Registers_Inputs'],
  },
  pim: {
    matmul: ['DRAM', 'shared_glb', 'dummy_buffer', 'scratchpad'],
    normop: ['DRAM', 'shared_glb', 'IMC_as_buffer', 'Registers', 'Registers_Outputs', 'Registers_Inputs'],
  },
};

/**
 * Where a fusion level sits in a NO architecture that has no level of that
 * name: PIM's `scratchpad` is the crossbar's cells, which pim-no models as
 * `IMC_as_buffer` (the crossbar used as a buffer).
 */
const NO_LEVEL_ALIASES: Readonly<Record<FusionArch, Readonly<Record<string, string>>>> = {
  gemmini: {},
  pim: { scratchpad: 'IMC_as_buffer' },
};

/** The permutation fused levels need: E innermost, then D, then L ("(inner)EDL(outer)"). */
export const FUSION_PERMUTATION = 'EDL';

const MATMUL_DIMS = ['D', 'E', 'L'] as const;

/** The study's `cf`: D=1, E=1 unless `-nef`, L=1 with `-lf`. */
export function fusionFactors(flags: FusionFlags = {}): FactorToken[] {
  const out: FactorToken[] = [{ dim: 'D', op: '=', value: 1 }];
  if (!flags.noEFusion) out.push({ dim: 'E', op: '=', value: 1 });
  if (flags.lFusion) out.push({ dim: 'L', op: '=', value: 1 });
  return out;
}

function normalizedKind(kind: FusionLayerKind): 'matmul' | 'normop' {
  if (kind === 'gemm' || kind === 'matmul') return 'matmul';
  if (kind === 'normop') return 'normop';
  throw new UserError(`unknown layer kind '${String(kind)}' (expected matmul or normop)`);
}

function fusionIndex(options: FusionOptions): number {
  const levels = FUSION_LEVELS[options.arch];
  if (!levels) throw new UserError(`unknown architecture '${String(options.arch)}' for fusion (expected gemmini or pim)`);
  const k = levels.indexOf(options.level);
  if (k < 0) throw new UserError(`'${options.level}' is not a fusion level of ${options.arch} (${levels.join(', ')})`);
  return k;
}

type Entry = Record<string, unknown> & { target: string; type: string };

const clone = (list: readonly ConstraintTarget[]): Entry[] =>
  list.map((e) => {
    const c: Entry = { ...(e as Entry) };
    for (const key of ['keep', 'bypass'] as const) if (Array.isArray(c[key])) c[key] = [...(c[key] as string[])];
    return c;
  });

function addTo(list: unknown, name: string): string[] {
  const out = Array.isArray(list) ? [...(list as string[])] : [];
  if (!out.includes(name)) out.push(name);
  return out;
}

function removeFrom(list: unknown, name: string): string[] {
  return Array.isArray(list) ? (list as string[]).filter((x) => x !== name) : [];
}

/** Moves a dataspace to the bypass list of a dataspace entry. */
function bypass(e: Entry, dataspace: string): void {
  e['keep'] = removeFrom(e['keep'], dataspace);
  e['bypass'] = addTo(e['bypass'], dataspace);
}

/** Moves a dataspace to the keep list of a dataspace entry. */
function keep(e: Entry, dataspace: string): void {
  if (e['bypass'] !== undefined) e['bypass'] = removeFrom(e['bypass'], dataspace);
  e['keep'] = addTo(e['keep'], dataspace);
}

/**
 * The rewritten target list. The input list is not modified. In `study`
 * mode the result may hold several entries for one target and type (as the
 * study's did; timeloopfe merged them): pass it through
 * {@link mergeTargets} before `addConstraints`.
 */
export function fuseTargets(targets: readonly ConstraintTarget[], options: FusionOptions): ConstraintTarget[] {
  return (options.mode ?? 'fixed') === 'study' ? fuseTargetsStudy(targets, options) : fuseTargetsFixed(targets, options);
}

/**
 * The study's rewrite, step by step as in its scripts (study-facts §3.2).
 * `levels` are the three fusion levels, `k` the index of the chosen one,
 * `above` = levels[0:k].
 */
export function fuseTargetsStudy(targets: readonly ConstraintTarget[], options: FusionOptions): ConstraintTarget[] {
  const k = fusionIndex(options);
  const kind = normalizedKind(options.kind);
  const flags = options.flags ?? {};
  const levels = FUSION_LEVELS[options.arch];
  const above = levels.slice(0, k);
  const gemmini = options.arch === 'gemmini';
  const list = clone(targets);

  if (kind === 'matmul') {
    const cf = formatFactors(fusionFactors(flags));
    // 1. Factors: the first temporal constraint of each level above gets cf
    //    in place of its factors; on Gemmini the Scratchpad's too ("then
    //    remove inputs from the Scratchpad, as the Accumulator is lower
    //    down"); levels above without one get a new constraint.
    const done = new Set<string>();
    for (const e of list) {
      if (isTemporalEntry(e) && above.includes(e.target) && !done.has(e.target)) {
        e['factors'] = cf;
        done.add(e.target);
      }
    }
    if (gemmini && k >= 1) {
      const sp = list.find((e) => isTemporalEntry(e) && e.target === 'Scratchpad');
      if (sp) sp['factors'] = cf;
    }
    for (const level of above) if (!done.has(level)) list.push({ target: level, type: 'temporal', factors: cf });

    // 2. Bypass (not with -pwim): the first dataspace constraint of each
    //    level above bypasses Outputs; levels without one get
    //    `bypass [Outputs] keep [Inputs, Weights]`.
    if (!flags.payWritebackInMatmul) {
      const seen = new Set<string>();
      for (const e of list) {
        if (isDataspaceEntry(e) && above.includes(e.target) && !seen.has(e.target)) {
          bypass(e, 'Outputs');
          seen.add(e.target);
        }
      }
      for (const level of above) {
        if (!seen.has(level)) list.push({ target: level, type: 'dataspace', bypass: ['Outputs'], keep: ['Inputs', 'Weights'] });
      }
    }

    // 3. Permutation (§8 B4): the first temporal constraint, in list order,
    //    on any of levels[0:k+1] gets EDL; then, for each other level of
    //    levels[0:k+1], a constraint `permutation EDL` is appended on
    //    levels[k] (the script's loop variable is unused), so the levels in
    //    between get nothing and the fusion level gets duplicates.
    const upTo = levels.slice(0, k + 1);
    let handled: string | undefined;
    for (const e of list) {
      if (isTemporalEntry(e) && upTo.includes(e.target)) {
        e['permutation'] = FUSION_PERMUTATION;
        handled = e.target;
        break;
      }
    }
    for (const level of upTo) {
      if (level !== handled) list.push({ target: levels[k], type: 'temporal', permutation: FUSION_PERMUTATION });
    }
    return list;
  }

  // Normalization op: Inputs (and with -pwim Outputs) bypass the first
  // dataspace constraint of every level above; on Gemmini the Scratchpad
  // bypasses Inputs too ("REMOVE INPUTS FROM HERE WHEN FUSING AT THE
  // ACCUMULATOR!"); levels above without one get `bypass [Inputs, Weights]`
  // (+ Outputs). Factors and permutations are left alone.
  const seen = new Set<string>();
  for (const e of list) {
    if (isDataspaceEntry(e) && above.includes(e.target) && !seen.has(e.target)) {
      bypass(e, 'Inputs');
      if (flags.payWritebackInMatmul) bypass(e, 'Outputs');
      seen.add(e.target);
    }
  }
  if (gemmini && k >= 1) {
    const sp = list.find((e) => isDataspaceEntry(e) && e.target === 'Scratchpad');
    if (sp) bypass(sp, 'Inputs');
  }
  for (const level of above) {
    if (!seen.has(level)) {
      list.push({ target: level, type: 'dataspace', bypass: ['Inputs', 'Weights', ...(flags.payWritebackInMatmul ? ['Outputs'] : [])] });
    }
  }
  return list;
}

/**
 * What the study meant, without its bugs (§8 B4–B6). The list is first
 * merged (one entry per target and type, see mergeTargets), so "the first
 * constraint of a level" is its only one and nothing is ever duplicated.
 * Levels are the architecture's own storage levels, not just the three
 * fusion levels, so a level between two fusion levels (Gemmini's
 * Scratchpad, PIM's dummy_buffer / IMC_as_buffer) is treated like the
 * others instead of by a special case.
 *
 * - Fusion at DRAM is no fusion: the list comes back unchanged. (The study
 *   still adds a DRAM permutation EDL to the matmul, which only narrows the
 *   map space; "fusing here is the same as doing nothing".)
 * - Matmul: every level above the fusion level gets cf (D=1, E=1; flags as
 *   in the study) merged into its factors (other dimensions' factors are
 *   kept) and, unless -pwim, bypasses Outputs. Repair of B4: every level at
 *   or above the fusion level gets permutation EDL, on its own constraint,
 *   except a level whose D, E and L are all fixed to 1 (no loop to order).
 *   Repair of B5: the fusion level keeps the Outputs (it is where the
 *   fused output columns live); at Gemmini's or PIM's innermost level,
 *   which holds one weight, this makes the matmul unmappable rather than
 *   degenerate.
 * - Normalization op: Inputs bypass every level above the fusion level,
 *   as in the study; with -pwim so do Outputs at the study's fusion levels
 *   above (DRAM, and Accumulator or shared_glb; not the Scratchpad, as in
 *   the study). Repair of B6: nothing above the fusion level holds the
 *   fused inputs, so they must stay where the NO finds them for all its
 *   sweeps, whole columns at a time, as the matmul side leaves whole
 *   columns at the fusion level. The outermost level at or below the
 *   fusion level that keeps Inputs (the fusion level is made to keep them
 *   when none does) is their resident level, and every level above it gets
 *   E=1 and D=1 (a `maximize_dims` of E or D there is dropped). Fusing at
 *   Registers thus leaves the column in the 1024-entry input register
 *   file: feasible for BERT-large's layernorm (E = 1024), unmappable for
 *   its softmax (E = 4096), which the study's rewrite maps with the column
 *   passing through the register file in four pieces, each arriving from
 *   no level: no level holds the whole column a softmax's sweeps need
 *   (unfused, the Accumulator does).
 * - Finally no dataspace may be bypassed by every level (B5 in general):
 *   the fusion level keeps any such dataspace.
 */
export function fuseTargetsFixed(targets: readonly ConstraintTarget[], options: FusionOptions): ConstraintTarget[] {
  const k = fusionIndex(options);
  const kind = normalizedKind(options.kind);
  const flags = options.flags ?? {};
  if (k === 0) return clone(targets);
  const storage = options.storage ?? STORAGE_LEVELS[options.arch][kind];
  let fusionLevel = FUSION_LEVELS[options.arch][k];
  if (!storage.includes(fusionLevel) && kind === 'normop') fusionLevel = NO_LEVEL_ALIASES[options.arch][fusionLevel] ?? fusionLevel;
  const f = storage.indexOf(fusionLevel);
  if (f < 0) throw new UserError(`fusion level '${options.level}' is not a storage level of the architecture (${storage.join(', ')})`);
  const list = clone(mergeTargets(targets));

  const entry = (target: string, type: 'temporal' | 'dataspace'): Entry => {
    const found = list.find((e) => e.target === target && (type === 'temporal' ? isTemporalEntry(e) : isDataspaceEntry(e)));
    if (found) return found;
    const created: Entry = { target, type };
    list.push(created);
    return created;
  };
  /** Sets exact factors on a level, replacing whatever constrained those dimensions there. */
  const setFactors = (target: string, tokens: readonly FactorToken[]) => {
    const e = entry(target, 'temporal');
    const dims = new Set(tokens.map((t) => t.dim));
    const kept = factorTokens(e['factors'] as ConstraintTarget['factors']).filter((t) => !dims.has(t.dim));
    e['factors'] = formatFactors([...kept, ...tokens]);
    dropMaximized(e, dims);
  };
  const keepsExplicitly = (target: string, dataspace: string) => {
    const e = list.find((x) => x.target === target && isDataspaceEntry(x));
    return Array.isArray(e?.['keep']) && (e['keep'] as string[]).includes(dataspace);
  };
  const bypassesExplicitly = (target: string, dataspace: string) => {
    const e = list.find((x) => x.target === target && isDataspaceEntry(x));
    return Array.isArray(e?.['bypass']) && (e['bypass'] as string[]).includes(dataspace);
  };
  const above = storage.slice(0, f);

  if (kind === 'matmul') {
    const cf = fusionFactors(flags);
    for (const level of above) setFactors(level, cf);
    if (!flags.payWritebackInMatmul) {
      for (const level of above) {
        const e = list.find((x) => x.target === level && isDataspaceEntry(x));
        // As the study: a level with no dataspace constraint gets
        // `keep [Inputs, Weights]` along with the bypass.
        if (e) bypass(e, 'Outputs');
        else list.push({ target: level, type: 'dataspace', bypass: ['Outputs'], keep: ['Inputs', 'Weights'] });
      }
    }
    // B4: EDL on each level at or above the fusion level, once.
    for (const level of storage.slice(0, f + 1)) {
      const existing = list.find((x) => x.target === level && isTemporalEntry(x));
      const fixed = new Map(factorTokens(existing?.['factors'] as ConstraintTarget['factors']).filter((t) => t.op === '=').map((t) => [t.dim, t.value]));
      if (MATMUL_DIMS.every((d) => fixed.get(d) === 1)) continue;
      entry(level, 'temporal')['permutation'] = FUSION_PERMUTATION;
    }
    // B5: the output columns live at the fusion level.
    if (!keepsExplicitly(fusionLevel, 'Outputs')) keep(entry(fusionLevel, 'dataspace'), 'Outputs');
  } else {
    // -pwim is not part of B4-B6: the NO's Outputs bypass the levels the
    // study bypasses them at (its fusion levels above this one: DRAM, and
    // Accumulator or shared_glb), so on Gemmini the NO still writes its
    // outputs into the Scratchpad, as in the study.
    const writeBack = FUSION_LEVELS[options.arch].slice(0, k);
    for (const level of above) {
      const pwim = flags.payWritebackInMatmul === true && writeBack.includes(level);
      const e = list.find((x) => x.target === level && isDataspaceEntry(x));
      if (e) {
        bypass(e, 'Inputs');
        if (pwim) bypass(e, 'Outputs');
      } else {
        list.push({ target: level, type: 'dataspace', bypass: ['Inputs', 'Weights', ...(pwim ? ['Outputs'] : [])] });
      }
    }
    // B6: the resident level of the fused inputs holds whole columns for all sweeps.
    let resident = storage.slice(f).find((level) => keepsExplicitly(level, 'Inputs'));
    if (resident === undefined) {
      keep(entry(fusionLevel, 'dataspace'), 'Inputs');
      resident = fusionLevel;
    }
    const columns: FactorToken[] = [
      { dim: 'E', op: '=', value: 1 },
      { dim: 'D', op: '=', value: 1 },
    ];
    for (const level of storage.slice(0, storage.indexOf(resident))) setFactors(level, columns);
  }

  // No dataspace bypassed everywhere: the fusion level keeps it.
  const dataspaces = new Set<string>();
  for (const e of list) if (isDataspaceEntry(e)) for (const d of [...((e['keep'] as string[]) ?? []), ...((e['bypass'] as string[]) ?? [])]) dataspaces.add(d);
  for (const d of dataspaces) {
    if (storage.every((level) => bypassesExplicitly(level, d))) keep(entry(fusionLevel, 'dataspace'), d);
  }
  return list;
}

/** Removes fixed dimensions from a `maximize_dims` macro (and the macro when nothing is left to maximize). */
function dropMaximized(e: Entry, dims: ReadonlySet<string>): void {
  const m = e['maximize_dims'];
  if (!Array.isArray(m)) return;
  const flat = m.every((x) => typeof x === 'string');
  const groups = (flat ? [m] : m) as unknown[][];
  const left = groups.map((g) => (Array.isArray(g) ? g.filter((d) => !dims.has(String(d))) : g)).filter((g) => !Array.isArray(g) || g.length > 0);
  if (left.length === 0) {
    delete e['maximize_dims'];
    delete e['maximize_dims_capacity'];
  } else {
    e['maximize_dims'] = flat ? left[0] : left;
  }
}

