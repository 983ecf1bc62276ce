/**
 * Constraint target lists (`mapspace_constraints.targets`) as data: the
 * entries the fusion rewrite edits, their canonical form for comparing two
 * lists, and {@link mergeTargets}, which folds several entries for the same
 * target and type into one the way timeloopfe combines them.
 *
 * An entry is what a preset's YAML holds: `{target, type, factors?,
 * permutation?, keep?, bypass?, ...}`. Factors are a string such as
 * `"D=1 E=1"` (a list of such tokens is accepted too), permutations a string
 * of dimension letters innermost first (`"EDL"`). The dataspace type has
 * several spellings (`bypass` in the presets, `dataspace` in timeloopfe);
 * they are one type here.
 */
import { UserError } from '../util/errors.ts';

export interface ConstraintTarget {
  readonly target: string;
  readonly type: string;
  readonly factors?: string | readonly string[];
  readonly permutation?: string | readonly string[];
  readonly keep?: readonly string[];
  readonly bypass?: readonly string[];
  readonly [key: string]: unknown;
}

const DATASPACE_TYPES = new Set(['dataspace', 'bypass', 'datatype', 'bypassing']);

/** `temporal`, `spatial`, `dataspace` (any spelling of the keep/bypass type), or the type as written. */
export function canonicalType(type: string): string {
  return DATASPACE_TYPES.has(type) ? 'dataspace' : type;
}

export function isDataspaceEntry(e: ConstraintTarget): boolean {
  return canonicalType(e.type) === 'dataspace';
}

export function isTemporalEntry(e: ConstraintTarget): boolean {
  return e.type === 'temporal';
}

/** One factor token: `D=4`, `E<=8`, `L>=2`. */
export interface FactorToken {
  readonly dim: string;
  readonly op: '=' | '<=' | '>=';
  readonly value: number;
}

/** The factor tokens of an entry, in order (comments after `#` dropped). */
export function factorTokens(factors: ConstraintTarget['factors']): FactorToken[] {
  if (factors === undefined || factors === null) return [];
  const text = typeof factors === 'string' ? factors : factors.join(' ');
  const out: FactorToken[] = [];
  for (const m of text.split('#')[0].matchAll(/([A-Za-z]+)\s*(<=|>=|=)\s*([0-9]+)/g)) {
    out.push({ dim: m[1], op: m[2] as FactorToken['op'], value: Number(m[3]) });
  }
  return out;
}

export function formatFactors(tokens: readonly FactorToken[]): string {
  return tokens.map((t) => `${t.dim}${t.op}${t.value}`).join(' ');
}

/** The dimension letters of a permutation, innermost first (`_` kept: it separates the outermost suffix). */
export function permutationLetters(permutation: ConstraintTarget['permutation']): string[] {
  if (permutation === undefined || permutation === null) return [];
  const text = typeof permutation === 'string' ? permutation.split('#')[0] : permutation.join('');
  return [...text.replace(/[\s,]/g, '')];
}

function sortedUnique(xs: readonly string[] | undefined): string[] {
  return [...new Set(xs ?? [])].sort();
}

/**
 * A canonical one-line form of an entry, for comparing lists: the type's one
 * spelling, factors and keep/bypass as sorted sets (their order carries no
 * meaning), the permutation as written (it does), other keys as JSON.
 */
export function canonicalEntry(e: ConstraintTarget): string {
  const parts = [e.target, canonicalType(e.type)];
  const tokens = factorTokens(e.factors).map((t) => `${t.dim}${t.op}${t.value}`);
  if (tokens.length > 0) parts.push(`factors[${sortedUnique(tokens).join(',')}]`);
  const perm = permutationLetters(e.permutation);
  if (perm.length > 0) parts.push(`permutation[${perm.join(',')}]`);
  if (e.keep !== undefined) parts.push(`keep[${sortedUnique(e.keep).join(',')}]`);
  if (e.bypass !== undefined) parts.push(`bypass[${sortedUnique(e.bypass).join(',')}]`);
  for (const k of Object.keys(e).sort()) {
    if (['target', 'type', 'factors', 'permutation', 'keep', 'bypass'].includes(k)) continue;
    if (e[k] === undefined) continue;
    parts.push(`${k}=${JSON.stringify(e[k])}`);
  }
  return parts.join(' ');
}

/** How a rewritten list differs from its base. */
export interface TargetDeltas {
  /** Base entries that changed, as they are after the rewrite (canonical form). */
  readonly modified: string[];
  /** Entries the rewrite added (canonical form, in list order; duplicates kept). */
  readonly added: string[];
  /** Base entries the rewrite dropped (canonical form). */
  readonly removed: string[];
}

/**
 * The deltas of `rewritten` against `base`. The study's rewrite only edits
 * entries in place and appends, so entry i of the rewritten list is entry i
 * of the base when the base is a prefix; otherwise entries are matched by
 * (target, type) in order of occurrence.
 */
export function targetDeltas(base: readonly ConstraintTarget[], rewritten: readonly ConstraintTarget[]): TargetDeltas {
  const modified: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  const key = (e: ConstraintTarget) => `${e.target}\u0000${canonicalType(e.type)}`;
  const prefix = base.every((b, i) => i < rewritten.length && key(rewritten[i]) === key(b));
  if (prefix) {
    base.forEach((b, i) => {
      if (canonicalEntry(rewritten[i]) !== canonicalEntry(b)) modified.push(canonicalEntry(rewritten[i]));
    });
    for (const e of rewritten.slice(base.length)) added.push(canonicalEntry(e));
  } else {
    const pool = new Map<string, ConstraintTarget[]>();
    for (const e of rewritten) (pool.get(key(e)) ?? pool.set(key(e), []).get(key(e))!).push(e);
    for (const b of base) {
      const next = pool.get(key(b))?.shift();
      if (next === undefined) removed.push(canonicalEntry(b));
      else if (canonicalEntry(next) !== canonicalEntry(b)) modified.push(canonicalEntry(next));
    }
    for (const e of rewritten) if (pool.get(key(e))?.includes(e)) added.push(canonicalEntry(e));
  }
  return { modified, added, removed };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function union(a: readonly string[] | undefined, b: readonly string[] | undefined): string[] | undefined {
  if (a === undefined && b === undefined) return undefined;
  const out = [...(a ?? [])];
  for (const x of b ?? []) if (!out.includes(x)) out.push(x);
  return out;
}

/**
 * Merges the entries that share a target and a type into one, at the place
 * of the first, the way timeloopfe attaches a constraint list to the
 * architecture (each entry is combined into the node's constraint of that
 * type):
 * - keep and bypass: unions; a dataspace kept by one entry and bypassed by
 *   another is an error ("re-specification"), not a later-wins override;
 * - factors: the union of the tokens; identical tokens once; two tokens for
 *   one dimension must be compatible (the same value, or a `>=` and a `<=`
 *   bound), otherwise an error (so `E=1` and `E=16` is an error, as is
 *   `E=1` with `E<=4`; `E>=2` with `E<=8` is kept as both bounds);
 * - permutation and every other key (split, maximize_dims, ...): equal
 *   values merge, a value missing on one side is taken from the other,
 *   different values are an error.
 * Nothing here lets a later entry silently win: timeloopfe does not, and a
 * conflict in a rewritten list is a bug in the rewrite worth seeing. The
 * result loads with `addConstraints` (src/mapper/constraints.ts), which
 * rejects a second exact factor or permutation for the same target even
 * when it repeats the first.
 */
export function mergeTargets(list: readonly ConstraintTarget[], origin = 'constraint targets'): ConstraintTarget[] {
  const out: Record<string, unknown>[] = [];
  const index = new Map<string, number>();
  list.forEach((entry, i) => {
    const k = `${entry.target}\u0000${canonicalType(entry.type)}`;
    const at = index.get(k);
    if (at === undefined) {
      index.set(k, out.length);
      out.push({ ...entry });
      return;
    }
    const into = out[at];
    const fail = (what: string): never => {
      throw new UserError(`cannot merge two ${canonicalType(entry.type)} constraints on '${entry.target}': ${what}`, origin, `[${i}]`);
    };
    for (const [key, value] of Object.entries(entry)) {
      if (key === 'target' || key === 'type' || value === undefined) continue;
      const mine = into[key];
      if (key === 'keep' || key === 'bypass') {
        into[key] = union(mine as string[] | undefined, value as string[]);
        continue;
      }
      if (key === 'factors') {
        const tokens = factorTokens(mine as ConstraintTarget['factors']);
        for (const t of factorTokens(value as ConstraintTarget['factors'])) {
          if (tokens.some((u) => u.dim === t.dim && u.op === t.op && u.value === t.value)) continue;
          const clash = tokens.find(
            (u) => u.dim === t.dim && u.value !== t.value && !((u.op === '>=' && t.op === '<=') || (u.op === '<=' && t.op === '>=')),
          );
          if (clash) fail(`factors ${clash.dim}${clash.op}${clash.value} and ${t.dim}${t.op}${t.value}`);
          tokens.push(t);
        }
        into[key] = formatFactors(tokens);
        continue;
      }
      if (key === 'permutation') {
        const a = permutationLetters(mine as ConstraintTarget['permutation']);
        const b = permutationLetters(value as ConstraintTarget['permutation']);
        if (a.length === 0) into[key] = value;
        else if (b.length > 0 && a.join('') !== b.join('')) fail(`permutations ${a.join('')} and ${b.join('')}`);
        continue;
      }
      if (mine === undefined) into[key] = value;
      else if (!same(mine, value)) fail(`${key} ${JSON.stringify(mine)} and ${JSON.stringify(value)}`);
    }
    // timeloopfe checks keep against bypass once both are merged.
    const keep = (into['keep'] as string[] | undefined) ?? [];
    const bypass = (into['bypass'] as string[] | undefined) ?? [];
    const both = keep.filter((d) => bypass.includes(d));
    if (both.length > 0) fail(`${both.join(', ')} both kept and bypassed`);
  });
  return out as ConstraintTarget[];
}

/** The target list of a `mapspace_constraints` block (a list, or `{targets}` / `{constraints}`). */
export function targetList(block: unknown, origin = 'mapspace_constraints'): ConstraintTarget[] {
  let list: unknown = block;
  if (typeof block === 'object' && block !== null && !Array.isArray(block)) {
    const o = block as Record<string, unknown>;
    list = o['targets'] ?? o['constraints'];
  }
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new UserError('expected a list of constraint targets', origin);
  return list.map((e, i) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e) || typeof (e as Record<string, unknown>)['target'] !== 'string') {
      throw new UserError('expected a mapping with target and type', origin, `targets[${i}]`);
    }
    return { ...(e as ConstraintTarget) };
  });
}
