/**
 * Reads timeloopfe v0.4 specifications (the format of the study's files and
 * of today's Timeloop/Accelergy exercises) into expt's domain objects, the
 * same ones the tree-format import ({@link importTimeloopDocuments}) gives.
 *
 * Input: any number of YAML documents (one per file), merged by top-level
 * key: `architecture` (`version: 0.4`, `nodes:`), `variables`,
 * `constraints` (`targets:`), `mapping` (constraint-form list), `mapper`,
 * `problem`, `ERT`. Several architectures append their nodes (as timeloopfe
 * does); constraint and mapping lists are concatenated; variables and mapper
 * settings merge key by key (a later file wins); `problem` and `ERT` are
 * replaced. `components` (compound-component definitions) are not needed:
 * energies come from an ERT or from expt's estimator.
 *
 * ## What each node becomes (timeloopfe's `v4_to_v3` transpiler)
 * - `!Component` with a storage class (DRAM, SRAM, regfile, smartbuffer,
 *   storage): a storage level; with `mac`/`compute`: the arithmetic level
 *   (the last node); with a network class (SimpleMulticast, ...): a
 *   user network. The class is the Timeloop class; a `subclass` (the
 *   Accelergy class) replaces it when Timeloop classifies it the same way
 *   (`class: storage, subclass: smartbuffer_RF` → `smartbuffer_RF`),
 *   otherwise, and always for networks (Timeloop builds a network from its
 *   exact class name), it stays in the attributes, where the energy
 *   estimator reads it.
 * - Attributes: the component's own, then those of every container above it
 *   (containers passed so far, the later one winning), then the variables;
 *   string values are evaluated as arithmetic (see expression.ts), a string
 *   that is not an expression stays a string. Instances and mesh: the product of the `spatial: {meshX, meshY}`
 *   of every container (and component) above.
 * - `!Container` with `spatial: {meshX, meshY}`: a spatial fanout. timeloopfe
 *   inserts a storage-less level `inter_<container>_spatial` (class
 *   dummy_storage, width/depth/datawidth 1, keeps nothing, temporal factors
 *   all 1) that carries the fanout and the container's `spatial`
 *   constraints. With `spatialLevels: 'compact'` (the default, and the form
 *   of expt's presets and of the golden study cases) that level is folded
 *   into the storage level directly above it when that level has no fanout
 *   of its own: the fanout and the spatial constraints go to that level,
 *   which changes no count, energy or cycle (the folded level holds nothing
 *   and has only unit temporal loops). Two fanouts in a row (Eyeriss's
 *   PE_column then PE) keep the second `inter_..._spatial` level, because a
 *   dimension may be spread over both. `spatialLevels: 'timeloopfe'` keeps
 *   every such level, exactly as timeloopfe writes them. The temporal and
 *   dataspace constraints of a container are dropped, as timeloopfe drops
 *   them (a warning says so).
 * - `!Parallel`: its children become consecutive sequential levels, in the
 *   order written (the first is outermost), and every dataspace constraint
 *   inside child *i* gets `bypass` = all dataspaces − the dataspaces that
 *   child *i* keeps (timeloopfe's Dataspace2Branch). A dataspace kept by two
 *   children is an error, and so is one kept by none: to let a dataspace pass
 *   through all children, add a `!Nothing` child that keeps it.
 * - `!Nothing`: no level. Its `constraints: {dataspace: {keep: [...]}}` only
 *   marks the dataspaces that bypass the other children of its `!Parallel`
 *   (Simba: `!Nothing {keep: [Inputs]}` next to PEWeightBuffer and
 *   PEAccuBuffer makes both bypass Inputs).
 * - `!Hierarchical` / `!Pipelined`: their nodes, in order.
 *
 * ## Constraints
 * Per node `constraints: {dataspace, temporal, spatial}` and the targets of
 * constraint files (`constraints: {targets: [...]}`, `type: dataspace |
 * temporal | spatial`, `bypass` accepted too) are merged per target and type
 * as timeloopfe merges them: factor lists are unioned (the same factor twice
 * is one; `D=2` with `D=4` is an error; `D<=8` with `D>=2` is fine), keep and
 * bypass lists are unioned (a dataspace in both is an error), a permutation
 * or split given twice must be equal. Factors may be a list (`[D=1, E=1]`)
 * or a string (`"D=1 E=1"`, `"D=1,E=1"`); a permutation a list (`[E, D,
 * L]`) or a string (`EDL`), innermost first (Timeloop's order: the list is
 * joined as is). timeloopfe's macros: `keep_only` / `bypass_only`, `*` for
 * every dataspace, `factors_only`; `maximize_dims` and
 * `maximize_dims_capacity` are passed on (expt's mapper resolves them).
 * Targets naming a container apply to the level that carries its fanout.
 * The result is one list in Timeloop's `mapspace_constraints` form (`type:
 * bypass` for dataspace constraints, factors and permutations as strings),
 * per level outermost first: bypass, temporal, spatial. timeloopfe's
 * permutation optimizer (which only lists unit loops) is not applied.
 */
import type { Architecture } from '../arch/architecture.ts';
import type { EnergyReferenceTable } from '../arch/energy-table.ts';
import type { Mapping } from '../mapping/mapping.ts';
import type { Problem } from '../workload/problem.ts';
import { UserError } from '../util/errors.ts';
import { attributeDomain, outsideDomain } from '../util/domains.ts';
import { evaluateOrKeep, scopeOf, tryEvaluate } from './expression.ts';
import { componentKind, importTimeloopDocuments, parseErt, parseMapping, parseProblem, parseTreeArchitecture, type TimeloopInput } from './tree-import.ts';
import { readV4YamlFile, tagOf, type V4Tag } from './v4-yaml.ts';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface V4ImportOptions {
  /** Variables that replace the files' ones (and are visible to every expression). */
  readonly variables?: Readonly<Record<string, unknown>>;
  /** See the module comment. Default 'compact'. */
  readonly spatialLevels?: 'compact' | 'timeloopfe';
  /**
   * The problem's dimension names. When given (or when a problem is in the
   * files), factors and permutation entries of other dimensions are dropped:
   * the study's constraints name R, S, N, Q of its 7-dimension problem, which
   * a 3-dimension GEMM does not have. Such a factor must be 1 (or `>=1`,
   * `<=k`); another value is an error.
   */
  readonly dimensions?: readonly string[];
  /** The problem's dataspace names (for `!Parallel`, `keep_only`, `*`). Default: the problem's, else every name the constraints mention. */
  readonly dataspaces?: readonly string[];
}

/** One constraint target in Timeloop `mapspace_constraints` form. */
export type ConstraintTarget = Obj & { target: string; type: string };

export interface V4Input {
  readonly architecture: Architecture;
  /** The architecture as a tree-format block (what timeloopfe hands to Timeloop), underscore keys. */
  readonly tree: Obj;
  /** The merged constraints (architecture nodes, constraint files, `mapping` lists) in `mapspace_constraints` form. */
  readonly constraints: { targets: ConstraintTarget[] };
  /** The evaluated variables. */
  readonly variables: Readonly<Record<string, unknown>>;
  /** The `mapper` settings (without `version`), if any file had them. */
  readonly mapper?: Obj;
  readonly problem?: Problem;
  /** From a `mapping:` list, when a problem is present too. */
  readonly mapping?: Mapping;
  readonly ert?: EnergyReferenceTable;
  /** What was dropped or assumed, one line each. */
  readonly warnings: readonly string[];
}

// ---------------------------------------------------------------------------
// Constraints

type Op = '=' | '<=' | '>=';

interface Factor {
  readonly dim: string;
  readonly op: Op;
  readonly value: number;
}

interface IterationConstraint {
  factors: Factor[];
  permutation?: string[];
  split?: number;
  maximizeDims?: unknown;
  maximizeDimsCapacity?: number;
  /** Other keys, passed on unchanged (no_reuse, remainders, ...). */
  extra: Obj;
  origins: string[];
}

interface DataspaceConstraint {
  keep: string[];
  bypass: string[];
  origins: string[];
}

interface ConstraintGroup {
  temporal?: IterationConstraint;
  spatial?: IterationConstraint;
  dataspace?: DataspaceConstraint;
  /** `utilization` and other pass-through targets. */
  other: Obj[];
}

interface Where {
  readonly file: string;
  readonly path: string;
}

function fail(where: Where, message: string): never {
  throw new UserError(message, where.file, where.path);
}

function sub(where: Where, key: string | number): Where {
  return { file: where.file, path: typeof key === 'number' ? `${where.path}[${key}]` : where.path ? `${where.path}.${key}` : key };
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

const FACTOR_RE = /^([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|=)\s*(.+)$/;

interface Context {
  readonly variables: Obj;
  readonly warnings: string[];
  /** Known dimension names (may be empty when unknown). */
  dimensions: string[];
  /** Known dataspace names. */
  dataspaces: string[];
  readonly dimsKnown: boolean;
}

function parseFactorList(value: unknown, where: Where, ctx: Context): Factor[] {
  let items: unknown[];
  if (typeof value === 'string') {
    const text = value.split('#')[0].trim();
    items = text === '' ? [] : text.includes(',') ? text.split(',') : text.split(/\s+/);
  } else if (Array.isArray(value)) {
    items = value;
  } else if (value === null || value === undefined) {
    items = [];
  } else {
    fail(where, `expected factors such as [D=1, E=16] or "D=1 E=16", got ${describe(value)}`);
  }
  const out: Factor[] = [];
  items.forEach((item, i) => {
    const text = String(item).trim();
    if (text === '') return;
    const m = FACTOR_RE.exec(text);
    if (!m) fail(Array.isArray(value) ? sub(where, i) : where, `cannot read factor '${text}' (expected X=4, X<=8 or X>=2)`);
    let v: number;
    if (/^\d+$/.test(m[3].trim())) v = Number(m[3]);
    else {
      const r = tryEvaluate(m[3], scopeOf(ctx.variables));
      if (!r.ok || typeof r.value !== 'number' || !Number.isInteger(r.value) || r.value < 0) {
        fail(Array.isArray(value) ? sub(where, i) : where, `the factor '${text}' needs a whole number${r.ok ? '' : ` (${r.reason})`}`);
      }
      v = r.value as number;
    }
    out.push({ dim: m[1], op: m[2] as Op, value: v });
  });
  return out;
}

function parsePermutation(value: unknown, where: Where): string[] {
  if (typeof value === 'string') {
    const text = value.split('#')[0].trim();
    return text.includes(',') ? text.split(',').map((s) => s.trim()).filter(Boolean) : [...text.replace(/\s/g, '')];
  }
  if (Array.isArray(value)) {
    return value.map((x, i) => {
      if (typeof x !== 'string' || x.trim() === '') fail(sub(where, i), `expected a dimension name, got ${describe(x)}`);
      return x.trim();
    });
  }
  fail(where, `expected a permutation such as [E, D, L] or "EDL", got ${describe(value)}`);
}

function evalNumber(value: unknown, where: Where, ctx: Context, what: string): number {
  const v = evaluateOrKeep(value, scopeOf(ctx.variables));
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    const r = typeof value === 'string' ? tryEvaluate(value, scopeOf(ctx.variables)) : undefined;
    fail(where, `${what} must be a number, got ${describe(value)}${r && !r.ok ? ` (${r.reason})` : ''}`);
  }
  return v;
}

function expandDataspaces(list: unknown, where: Where, ctx: Context): string[] {
  if (list === null || list === undefined) return [];
  const items = typeof list === 'string' ? [list] : Array.isArray(list) ? list : fail(where, `expected a list of dataspace names, got ${describe(list)}`);
  const out: string[] = [];
  items.forEach((x, i) => {
    if (typeof x !== 'string') fail(sub(where, i), `expected a dataspace name, got ${describe(x)}`);
    if (x === '*') {
      if (ctx.dataspaces.length === 0) fail(sub(where, i), "'*' needs the problem's dataspaces (give a problem or the dataspaces option)");
      for (const d of ctx.dataspaces) if (!out.includes(d)) out.push(d);
    } else if (!out.includes(x)) out.push(x);
  });
  return out;
}

const ITERATION_KEYS = new Set(['type', 'target', 'factors', 'permutation', 'split', 'maximize_dims', 'maximize_dims_capacity', 'factors_only', 'no_iteration_over_dataspaces', 'must_iterate_over_dataspaces', 'version']);

function readIteration(raw: Obj, where: Where, ctx: Context, kind: 'temporal' | 'spatial', problem: Problem | undefined): IterationConstraint {
  const c: IterationConstraint = { factors: [], extra: {}, origins: [`${where.file}: ${where.path}`] };
  if (raw['factors'] !== undefined) c.factors = parseFactorList(raw['factors'], sub(where, 'factors'), ctx);
  if (raw['factors_only'] !== undefined && raw['factors_only'] !== null) {
    const only = parseFactorList(raw['factors_only'], sub(where, 'factors_only'), ctx);
    if (!ctx.dimsKnown) fail(sub(where, 'factors_only'), "factors_only needs the problem's dimensions (give a problem or the dimensions option)");
    combineFactors(c.factors, only, sub(where, 'factors_only'));
    for (const d of ctx.dimensions) if (!c.factors.some((f) => f.dim === d)) c.factors.push({ dim: d, op: '=', value: 1 });
  }
  for (const key of ['no_iteration_over_dataspaces', 'must_iterate_over_dataspaces'] as const) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    if (!problem) fail(sub(where, key), `${key} needs the problem (its projections)`);
    const names = expandDataspaces(v, sub(where, key), ctx);
    const dimsOf = (n: string): Set<string> => {
      const ds = problem.dataspaces.find((d) => d.name === n);
      if (!ds) fail(sub(where, key), `'${n}' is not a dataspace of the problem`);
      return new Set(ds.projection.flat().map((t) => problem.dimensions[t.dimension]));
    };
    const union = new Set<string>();
    for (const n of names) for (const d of dimsOf(n)) union.add(d);
    const ones = key === 'no_iteration_over_dataspaces' ? [...union] : problem.dimensions.filter((d) => !union.has(d));
    combineFactors(c.factors, ones.map((d) => ({ dim: d, op: '=' as Op, value: 1 })), sub(where, key));
  }
  if (raw['permutation'] !== undefined && raw['permutation'] !== null) c.permutation = parsePermutation(raw['permutation'], sub(where, 'permutation'));
  if (raw['split'] !== undefined && raw['split'] !== null) {
    if (kind !== 'spatial') fail(sub(where, 'split'), 'split is a spatial constraint');
    const s = evalNumber(raw['split'], sub(where, 'split'), ctx, 'split');
    if (!Number.isInteger(s) || s < 0) fail(sub(where, 'split'), `split must be a non-negative whole number, got ${s}`);
    c.split = s;
  }
  if (raw['maximize_dims'] !== undefined && raw['maximize_dims'] !== null) c.maximizeDims = raw['maximize_dims'];
  if (raw['maximize_dims_capacity'] !== undefined && raw['maximize_dims_capacity'] !== null) {
    c.maximizeDimsCapacity = evalNumber(raw['maximize_dims_capacity'], sub(where, 'maximize_dims_capacity'), ctx, 'maximize_dims_capacity');
  }
  for (const [k, v] of Object.entries(raw)) if (!ITERATION_KEYS.has(k) && v !== null && v !== undefined) c.extra[k] = v;
  return c;
}

function readDataspace(raw: Obj, where: Where, ctx: Context): DataspaceConstraint {
  const keep = expandDataspaces(raw['keep'], sub(where, 'keep'), ctx);
  const bypass = expandDataspaces(raw['bypass'], sub(where, 'bypass'), ctx);
  const c: DataspaceConstraint = { keep: [], bypass: [], origins: [`${where.file}: ${where.path}`] };
  combineDataspace(c, { keep, bypass, origins: [] }, where);
  for (const macro of ['keep_only', 'bypass_only'] as const) {
    const v = raw[macro];
    if (v === undefined || v === null) continue;
    const names = expandDataspaces(v, sub(where, macro), ctx);
    if (ctx.dataspaces.length === 0) fail(sub(where, macro), `${macro} needs the problem's dataspaces (give a problem or the dataspaces option)`);
    const rest = ctx.dataspaces.filter((d) => !names.includes(d));
    combineDataspace(c, macro === 'keep_only' ? { keep: names, bypass: rest, origins: [] } : { keep: rest, bypass: names, origins: [] }, sub(where, macro));
  }
  return c;
}

function combineFactors(into: Factor[], more: readonly Factor[], where: Where): void {
  for (const f of more) {
    if (into.some((g) => g.dim === f.dim && g.op === f.op && g.value === f.value)) continue;
    // An exact factor within a bound (a mapping's D=256 under a node's D>=128) agrees with it.
    const within = (exact: Factor, bound: Factor) => (bound.op === '>=' ? exact.value >= bound.value : bound.op === '<=' ? exact.value <= bound.value : false);
    const agree = (g: Factor) =>
      (g.op === '<=' && f.op === '>=') || (g.op === '>=' && f.op === '<=') || (g.op === '=' && f.op !== '=' && within(g, f)) || (f.op === '=' && g.op !== '=' && within(f, g));
    const clash = into.find((g) => g.dim === f.dim && g.value !== f.value && !agree(g));
    if (clash) fail(where, `conflicting factors ${clash.dim}${clash.op}${clash.value} and ${f.dim}${f.op}${f.value} for the same target`);
    into.push(f);
  }
}

function combineDataspace(into: DataspaceConstraint, more: DataspaceConstraint, where: Where): void {
  for (const d of more.keep) {
    if (into.bypass.includes(d)) fail(where, `dataspace '${d}' is both kept and bypassed at the same target`);
    if (!into.keep.includes(d)) into.keep.push(d);
  }
  for (const d of more.bypass) {
    if (into.keep.includes(d)) fail(where, `dataspace '${d}' is both kept and bypassed at the same target`);
    if (!into.bypass.includes(d)) into.bypass.push(d);
  }
  into.origins.push(...more.origins);
}

function combineIteration(into: IterationConstraint, more: IterationConstraint, where: Where, what: string): void {
  combineFactors(into.factors, more.factors, where);
  if (more.permutation !== undefined) {
    // A mapping lists only its problem's dimensions; a node's constraint may
    // also name those of other problems (the study writes "DERSLQN"): they
    // agree when the non-unit dimensions both name come in the same order.
    // Loops of factor 1 have no place in a loop nest, so their order is free.
    const a = into.permutation;
    const b = more.permutation;
    if (a !== undefined) {
      const unit = new Set(into.factors.filter((f) => f.op === '=' && Number(f.value) === 1).map((f) => f.dim));
      const common = (p: readonly string[], q: readonly string[]) => p.filter((d) => q.includes(d) && !unit.has(d)).join(',');
      if (common(a, b) !== common(b, a)) {
        fail(where, `two different ${what} permutations for the same target: [${a.join(', ')}] (${into.origins.join('; ')}) and [${b.join(', ')}]`);
      }
    }
    if (a === undefined || b.length >= a.length) into.permutation = b;
  }
  if (more.split !== undefined) {
    if (into.split !== undefined && into.split !== more.split) fail(where, `two different splits for the same target: ${into.split} and ${more.split}`);
    into.split = more.split;
  }
  if (more.maximizeDims !== undefined) {
    if (into.maximizeDims !== undefined && JSON.stringify(into.maximizeDims) !== JSON.stringify(more.maximizeDims)) {
      fail(where, `maximize_dims given twice for the same ${what} target`);
    }
    into.maximizeDims = more.maximizeDims;
  }
  if (more.maximizeDimsCapacity !== undefined) {
    if (into.maximizeDimsCapacity !== undefined && into.maximizeDimsCapacity !== more.maximizeDimsCapacity) {
      fail(where, `maximize_dims_capacity given twice for the same ${what} target`);
    }
    into.maximizeDimsCapacity = more.maximizeDimsCapacity;
  }
  Object.assign(into.extra, more.extra);
  into.origins.push(...more.origins);
}

function addToGroup(group: ConstraintGroup, type: string, raw: Obj, where: Where, ctx: Context, problem: Problem | undefined): void {
  if (type === 'temporal' || type === 'spatial') {
    const c = readIteration(raw, where, ctx, type, problem);
    if (group[type]) combineIteration(group[type]!, c, where, type);
    else group[type] = c;
  } else if (type === 'dataspace' || type === 'bypass' || type === 'datatype' || type === 'bypassing') {
    const c = readDataspace(raw, where, ctx);
    if (group.dataspace) combineDataspace(group.dataspace, c, where);
    else group.dataspace = c;
  } else if (type === 'utilization' || type === 'parallelism') {
    group.other.push({ ...raw, type });
  } else if (type === 'max_overbooked_proportion') {
    ctx.warnings.push(`${where.file}: ${where.path}: max_overbooked_proportion (a sparse-tensor setting) ignored`);
  } else {
    fail(sub(where, 'type'), `unknown constraint type '${type}' (expected dataspace, temporal or spatial)`);
  }
}

// ---------------------------------------------------------------------------
// Architecture nodes

interface LeafNode {
  readonly kind: 'leaf';
  readonly tag: 'Container' | 'Component' | 'Nothing';
  readonly name: string;
  readonly raw: Obj;
  readonly where: Where;
  readonly group: ConstraintGroup;
}

interface BranchNode {
  readonly kind: 'branch';
  readonly parallel: boolean;
  readonly children: ArchNode[];
  readonly where: Where;
}

type ArchNode = LeafNode | BranchNode;

function readNodes(list: unknown, where: Where, ctx: Context, problem: Problem | undefined): ArchNode[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) fail(where, `expected a list of nodes, got ${describe(list)}`);
  const out: ArchNode[] = [];
  list.forEach((n, i) => {
    const w = sub(where, i);
    if (!isObj(n)) fail(w, `expected a node (!Component, !Container, !Parallel, !Nothing), got ${describe(n)}`);
    let tag: V4Tag | undefined = tagOf(n);
    if (tag === undefined) {
      // Untagged: timeloopfe needs the tag; infer the obvious ones.
      if (Array.isArray(n['nodes'])) tag = 'Hierarchical';
      else if (typeof n['class'] === 'string') tag = 'Component';
      else tag = 'Container';
      ctx.warnings.push(`${w.file}: ${w.path}: node without a tag read as !${tag}`);
    }
    if (n['enabled'] === false) {
      ctx.warnings.push(`${w.file}: ${w.path}: disabled node '${String(n['name'] ?? '')}' skipped`);
      return;
    }
    if (tag === 'Parallel' || tag === 'Hierarchical' || tag === 'Pipelined') {
      out.push({ kind: 'branch', parallel: tag === 'Parallel', children: readNodes(n['nodes'], sub(w, 'nodes'), ctx, problem), where: w });
      return;
    }
    const name = n['name'] ?? (tag === 'Nothing' ? 'nothing' : undefined);
    if (typeof name !== 'string' || name.trim() === '') fail(w, `a !${tag} needs a name`);
    const group: ConstraintGroup = { other: [] };
    const cons = n['constraints'];
    if (cons !== undefined && cons !== null) {
      if (!isObj(cons)) fail(sub(w, 'constraints'), `expected a mapping (dataspace, temporal, spatial), got ${describe(cons)}`);
      for (const [type, raw] of Object.entries(cons)) {
        if (raw === null || raw === undefined) continue;
        if (!isObj(raw)) fail(sub(sub(w, 'constraints'), type), `expected a mapping, got ${describe(raw)}`);
        addToGroup(group, type, raw, sub(sub(w, 'constraints'), type), ctx, problem);
      }
    }
    out.push({ kind: 'leaf', tag: tag === 'Nothing' ? 'Nothing' : tag, name: name.trim(), raw: n, where: w, group });
  });
  return out;
}

function leavesOf(nodes: readonly ArchNode[], out: LeafNode[] = []): LeafNode[] {
  for (const n of nodes) {
    if (n.kind === 'leaf') out.push(n);
    else leavesOf(n.children, out);
  }
  return out;
}

/** timeloopfe's Dataspace2Branch: every child of a !Parallel bypasses what the other children keep. */
function resolveParallel(nodes: readonly ArchNode[], dataspaces: readonly string[], all: readonly string[], ctx: Context): void {
  for (const n of nodes) {
    if (n.kind !== 'branch') continue;
    if (!n.parallel) {
      resolveParallel(n.children, dataspaces, all, ctx);
      continue;
    }
    const keeps = n.children.map((c) => {
      const s = new Set<string>();
      for (const l of c.kind === 'leaf' ? [c] : leavesOf(c.children)) for (const d of l.group.dataspace?.keep ?? []) s.add(d);
      return s;
    });
    for (let i = 0; i < keeps.length; i++) {
      for (let j = i + 1; j < keeps.length; j++) {
        const shared = [...keeps[i]].filter((d) => keeps[j].has(d));
        if (shared.length > 0) fail(n.where, `dataspaces ${shared.join(', ')} are kept by two children of this !Parallel (${childName(n.children[i])} and ${childName(n.children[j])}); each may be kept in one branch only`);
      }
    }
    const kept = new Set(keeps.flatMap((s) => [...s]));
    const missing = dataspaces.filter((d) => !kept.has(d));
    if (missing.length > 0) {
      fail(n.where, `no child of this !Parallel keeps ${missing.join(', ')}; to let ${missing.length > 1 ? 'them' : 'it'} bypass every branch, add '- !Nothing {constraints: {dataspace: {keep: [${missing.join(', ')}]}}}'`);
    }
    n.children.forEach((c, i) => {
      const bypass = all.filter((d) => !keeps[i].has(d));
      for (const l of c.kind === 'leaf' ? [c] : leavesOf(c.children)) {
        const ds = l.group.dataspace ?? (l.group.dataspace = { keep: [], bypass: [], origins: [] });
        combineDataspace(ds, { keep: [], bypass, origins: [`!Parallel at ${n.where.path}`] }, l.where);
      }
      if (c.kind === 'branch') resolveParallel([c], [...keeps[i]], all, ctx);
    });
  }
}

function childName(n: ArchNode): string {
  return n.kind === 'leaf' ? `'${n.name}'` : `the branch at ${n.where.path}`;
}

// ---------------------------------------------------------------------------
// Lowering to Timeloop's tree format

interface Level {
  name: string;
  /** A storage level of the file, or timeloopfe's storage-less fanout level. */
  dummy: boolean;
  group: ConstraintGroup;
  /** Whether a fanout has been placed below this level already. */
  fanoutBelow: boolean;
  /** The fanout below this level, when it has one. */
  fanout?: { x: number; y: number };
}

/**
 * A component's or container's attributes, evaluated; every attribute with a
 * declared domain (src/util/domains.ts) must evaluate to a number in it,
 * reported here at the node that gives it.
 */
function evaluateAttributes(raw: unknown, where: Where, scopes: readonly Obj[], ctx: Context): Obj {
  if (raw === undefined || raw === null) return {};
  if (!isObj(raw)) fail(where, `expected a mapping of attributes, got ${describe(raw)}`);
  const out: Obj = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === null || v === undefined) continue;
    const scope = scopeOf(ctx.variables, ...scopes, out);
    const value = evaluateOrKeep(v, scope);
    const domain = attributeDomain(k);
    if (domain !== undefined) {
      if (typeof value === 'string') {
        const r = tryEvaluate(value, scope);
        fail(sub(where, k), `expected a number or an arithmetic expression, got ${JSON.stringify(value)}${r.ok ? '' : ` (${r.reason})`}`);
      }
      const reason = outsideDomain(domain, value);
      if (reason !== undefined) fail(sub(where, k), `${reason}${typeof v === 'string' ? ` (from ${JSON.stringify(v)})` : ''}`);
    }
    out[k] = value;
  }
  return out;
}

function spatialOf(leaf: LeafNode, ctx: Context, scopes: readonly Obj[]): { x: number; y: number } {
  const s = leaf.raw['spatial'];
  if (s === undefined || s === null) return { x: 1, y: 1 };
  const w = sub(leaf.where, 'spatial');
  if (!isObj(s)) fail(w, `expected {meshX, meshY}, got ${describe(s)}`);
  const read = (k: 'meshX' | 'meshY'): number => {
    if (s[k] === undefined || s[k] === null) return 1;
    const v = evaluateOrKeep(s[k], scopeOf(ctx.variables, ...scopes));
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(sub(w, k), `${k} must be a positive whole number, got ${describe(s[k])}`);
    return v;
  };
  for (const k of Object.keys(s)) if (k !== 'meshX' && k !== 'meshY') fail(sub(w, k), `unknown key '${k}' (spatial takes meshX and meshY)`);
  return { x: read('meshX'), y: read('meshY') };
}

function classOf(leaf: LeafNode): { className: string; kind: ReturnType<typeof componentKind>; subclass?: string } {
  const cls = leaf.raw['class'];
  if (typeof cls !== 'string' || cls.trim() === '') fail(leaf.where, `component '${leaf.name}' has no class`);
  const kind = componentKind(cls);
  const subclass = typeof leaf.raw['subclass'] === 'string' ? (leaf.raw['subclass'] as string).trim() : undefined;
  // Timeloop builds a network from its exact class (SimpleMulticast, ...), so a network keeps it.
  if (subclass && subclass !== '' && kind !== 'network' && componentKind(subclass) === kind) return { className: subclass, kind };
  return { className: cls, kind, subclass: subclass || undefined };
}

function factorText(f: Factor): string {
  return `${f.dim}${f.op}${f.value}`;
}

function emitTargets(levels: readonly Level[], ctx: Context, restrict: readonly string[] | undefined): ConstraintTarget[] {
  const out: ConstraintTarget[] = [];
  const keepDim = (d: string) => restrict === undefined || restrict.includes(d);
  const iteration = (level: Level, type: 'temporal' | 'spatial', c: IterationConstraint): ConstraintTarget | null => {
    const t: ConstraintTarget = { target: level.name, type };
    const factors: string[] = [];
    for (const f of c.factors) {
      if (keepDim(f.dim)) factors.push(factorText(f));
      else if (!(f.op === '<=' || f.value <= 1 || (f.op === '=' && f.value === 0))) {
        throw new UserError(`the ${type} constraint ${factorText(f)} at '${level.name}' names a dimension the problem does not have (${restrict!.join(', ')})`, c.origins[0]);
      }
    }
    if (factors.length > 0) t['factors'] = factors.join(' ');
    if (c.permutation !== undefined) {
      const p = c.permutation.filter(keepDim);
      if (p.length > 0) t['permutation'] = p.join('');
    }
    if (type === 'spatial' && c.split !== undefined) t['split'] = c.split;
    if (c.maximizeDims !== undefined) {
      const md = c.maximizeDims;
      t['maximize_dims'] = restrict === undefined || !Array.isArray(md)
        ? md
        : md.every((x) => typeof x === 'string')
          ? (md as string[]).filter(keepDim)
          : md.map((g) => (Array.isArray(g) ? g.filter((x) => keepDim(String(x))) : g));
    }
    if (c.maximizeDimsCapacity !== undefined) t['maximize_dims_capacity'] = c.maximizeDimsCapacity;
    Object.assign(t, c.extra);
    return Object.keys(t).length > 2 ? t : null;
  };
  for (const level of levels) {
    const g = level.group;
    if (g.dataspace && (g.dataspace.keep.length > 0 || g.dataspace.bypass.length > 0)) {
      const known = restrict === undefined && ctx.dataspaces.length > 0 ? ctx.dataspaces : undefined;
      const order = (list: string[]) => (known ? [...list].sort((a, b) => known.indexOf(a) - known.indexOf(b)) : list);
      out.push({ target: level.name, type: 'bypass', keep: order(g.dataspace.keep), bypass: order(g.dataspace.bypass) });
    }
    if (g.temporal) {
      const t = iteration(level, 'temporal', g.temporal);
      if (t) out.push(t);
    }
    // A fanout along one axis has one valid split (all loops on that axis);
    // Timeloop's hybrid mapper finds no mapping of an X-only fanout without it.
    let spatial = g.spatial;
    if (level.fanout && (level.fanout.x === 1) !== (level.fanout.y === 1) && spatial?.split === undefined) {
      spatial = { ...(spatial ?? { factors: [], extra: {}, origins: [] }), split: level.fanout.y === 1 ? 999 : 0 };
    }
    if (spatial) {
      const t = iteration(level, 'spatial', spatial);
      if (t) out.push(t);
    }
    for (const o of g.other) out.push({ ...o, target: level.name, type: String(o['type']) });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Documents

interface Merged {
  nodes: { list: unknown; where: Where }[];
  variables: Obj;
  variableFiles: Record<string, string>;
  targets: { list: unknown[]; where: Where }[];
  mapper?: Obj;
  problem?: { value: unknown; file: string };
  ert?: { value: unknown; file: string };
  hasMapping: boolean;
}

function mergeDocuments(docs: readonly { file: string; doc: unknown }[], warnings: string[]): Merged {
  const m: Merged = { nodes: [], variables: {}, variableFiles: {}, targets: [], hasMapping: false };
  for (const { file, doc } of docs) {
    if (doc === null || doc === undefined) continue;
    if (!isObj(doc)) fail({ file, path: '' }, `expected a mapping of top-level keys, got ${describe(doc)}`);
    for (const [rawKey, value] of Object.entries(doc)) {
      const key = rawKey.replace(/-/g, '_');
      const where = { file, path: rawKey };
      if (key === 'architecture' || key === 'arch') {
        if (!isObj(value)) fail(where, `expected a mapping with version and nodes, got ${describe(value)}`);
        if (!Array.isArray(value['nodes'])) fail(where, 'expected a timeloopfe v0.4 architecture (`nodes:` list)');
        m.nodes.push({ list: value['nodes'], where: sub(where, 'nodes') });
      } else if (key === 'variables') {
        if (value === null) continue;
        if (!isObj(value)) fail(where, `expected a mapping of variables, got ${describe(value)}`);
        for (const [k, v] of Object.entries(value)) {
          if (k === 'version') continue;
          if (k in m.variables && m.variables[k] !== v) warnings.push(`${file}: variables.${k} = ${JSON.stringify(v)} replaces ${JSON.stringify(m.variables[k])} from ${m.variableFiles[k]}`);
          m.variables[k] = v;
          m.variableFiles[k] = file;
        }
      } else if (key === 'constraints' || key === 'mapspace_constraints' || key === 'architecture_constraints') {
        if (value === null) continue;
        const list = isObj(value) ? value['targets'] : value;
        if (list === undefined || list === null) continue;
        if (!Array.isArray(list)) fail(sub(where, 'targets'), `expected a list of targets, got ${describe(list)}`);
        m.targets.push({ list, where: isObj(value) ? sub(where, 'targets') : where });
      } else if (key === 'mapping') {
        if (value === null) continue;
        if (!Array.isArray(value)) fail(where, `expected a list of constraint-form directives, got ${describe(value)}`);
        m.targets.push({ list: value, where });
        m.hasMapping = true;
      } else if (key === 'mapper') {
        if (value === null) continue;
        if (!isObj(value)) fail(where, `expected a mapping of mapper settings, got ${describe(value)}`);
        const { version: _v, ...rest } = value;
        m.mapper = { ...(m.mapper ?? {}), ...rest };
      } else if (key === 'problem') {
        m.problem = { value, file };
      } else if (key === 'ERT') {
        m.ert = { value, file };
      } else if (key === 'components' || key === 'compound_components' || key === 'globals' || key === 'ART' || key === 'mapspace' || key === 'sparse_optimizations' || key === 'dumped_by_timeloop_front_end') {
        if (key !== 'ART' && key !== 'dumped_by_timeloop_front_end') warnings.push(`${file}: '${rawKey}' ignored`);
      } else {
        warnings.push(`${file}: unknown top-level key '${rawKey}' ignored`);
      }
    }
  }
  return m;
}

function evaluateVariables(raw: Obj, overrides: Readonly<Record<string, unknown>> | undefined): Obj {
  const out: Obj = {};
  const all = { ...raw, ...(overrides ?? {}) };
  for (const [k, v] of Object.entries(all)) out[k] = evaluateOrKeep(v, scopeOf(out));
  return out;
}

/**
 * The problem with its instance values evaluated (`D: EMBEDDING_3`). Instance
 * keys that are neither a dimension nor a coefficient (the study's layer
 * files give H and W, which their shape does not use) are dropped with a
 * warning: timeloopfe and Timeloop ignore them.
 */
function evaluateProblemInstance(value: unknown, variables: Obj, file: string, warnings: string[]): unknown {
  if (!isObj(value)) return value;
  const inst = value['instance'];
  if (!isObj(inst)) return value;
  const shape = isObj(value['shape']) ? value['shape'] : {};
  const dims = Array.isArray(shape['dimensions']) ? shape['dimensions'].map(String) : undefined;
  const coefs = Array.isArray(shape['coefficients']) ? shape['coefficients'].filter(isObj).map((c) => String(c['name'])) : [];
  const evaluated: Obj = {};
  for (const [k, v] of Object.entries(inst)) {
    if (dims && !dims.includes(k) && !coefs.includes(k) && k !== 'densities') {
      warnings.push(`${file}: problem.instance.${k} ignored (not a dimension or coefficient of the shape)`);
      continue;
    }
    const r = typeof v === 'string' ? tryEvaluate(v, scopeOf(variables)) : undefined;
    if (r && !r.ok) throw new UserError(`expected a number or an expression over the variables, got ${JSON.stringify(v)} (${r.reason})`, file, `problem.instance.${k}`);
    evaluated[k] = r?.ok ? r.value : v;
  }
  const { version: _v, ...rest } = value;
  return { ...rest, instance: evaluated };
}

/** Whether a parsed document holds a timeloopfe v0.4 architecture (`architecture.nodes`). */
export function isV4Document(doc: unknown): boolean {
  if (!isObj(doc)) return false;
  const a = doc['architecture'] ?? doc['arch'];
  return isObj(a) && Array.isArray(a['nodes']);
}

/**
 * Imports timeloopfe v0.4 documents (already parsed with {@link readV4YamlFile},
 * one per file). Every problem is a {@link UserError} naming the file and
 * field.
 */
export function importV4Documents(docs: readonly { file: string; doc: unknown }[], options: V4ImportOptions = {}): V4Input {
  const warnings: string[] = [];
  const merged = mergeDocuments(docs, warnings);
  const where = docs.length > 0 ? docs[0].file : '<input>';
  if (merged.nodes.length === 0) throw new UserError('no `architecture:` with `nodes:` in the input files', docs.map((d) => d.file).join(', ') || where);
  const variables = evaluateVariables(merged.variables, options.variables);

  let problem: Problem | undefined;
  if (merged.problem) problem = parseProblem(evaluateProblemInstance(merged.problem.value, variables, merged.problem.file, warnings), { file: merged.problem.file, path: 'problem' });
  const givenDims = options.dimensions ?? problem?.dimensions;
  const ctx: Context = {
    variables,
    warnings,
    dimensions: givenDims ? [...givenDims] : [],
    dataspaces: options.dataspaces ? [...options.dataspaces] : problem ? problem.dataspaces.map((d) => d.name) : [],
    dimsKnown: givenDims !== undefined,
  };
  // Without a problem, the dataspaces are the names the constraints use.
  if (ctx.dataspaces.length === 0) ctx.dataspaces = mentionedDataspaces(merged);

  const nodes: ArchNode[] = [];
  for (const n of merged.nodes) nodes.push(...readNodes(n.list, n.where, ctx, problem));
  const leaves = leavesOf(nodes);

  // Constraint files and mapping lists attach to the node of the same name (timeloopfe's ConstraintAttacher).
  for (const block of merged.targets) {
    block.list.forEach((t, i) => {
      const w = sub(block.where, i);
      if (!isObj(t)) fail(w, `expected a target (target, type, ...), got ${describe(t)}`);
      const target = t['target'];
      const type = t['type'];
      if (typeof target !== 'string') fail(sub(w, 'target'), `expected the name of a node, got ${describe(target)}`);
      if (typeof type !== 'string') fail(sub(w, 'type'), `expected dataspace, temporal or spatial, got ${describe(type)}`);
      const leaf = leaves.find((l) => l.name === target && l.tag !== 'Nothing');
      if (!leaf) fail(sub(w, 'target'), `'${target}' is not a node of the architecture (${leaves.filter((l) => l.tag !== 'Nothing').map((l) => l.name).join(', ')})`);
      addToGroup(leaf.group, type, t, w, ctx, problem);
    });
  }
  resolveParallel(nodes, ctx.dataspaces, ctx.dataspaces, ctx);

  // Walk in order: containers accumulate attributes and fanouts; components become levels.
  const mode = options.spatialLevels ?? 'compact';
  const levels: Level[] = [];
  const local: Obj[] = [];
  let containerAttrs: Obj = {};
  let meshX = 1;
  let meshY = 1;
  let topName: string | undefined;
  let arithmetic: LeafNode | undefined;
  const containerNames: string[] = [];

  const placeFanout = (owner: LeafNode, fx: number, fy: number) => {
    const spatial = owner.group.spatial;
    const last = levels[levels.length - 1];
    if (mode === 'compact' && last !== undefined && !last.fanoutBelow) {
      if (spatial) {
        if (last.group.spatial) combineIteration(last.group.spatial, spatial, owner.where, 'spatial');
        else last.group.spatial = { ...spatial, factors: [...spatial.factors], extra: { ...spatial.extra }, origins: [...spatial.origins] };
      }
      last.fanoutBelow = true;
      last.fanout = { x: fx, y: fy };
    } else {
      const name = `inter_${owner.name}_spatial`;
      const group: ConstraintGroup = { other: [] };
      if (ctx.dimensions.length > 0) group.temporal = { factors: ctx.dimensions.map((d) => ({ dim: d, op: '=' as Op, value: 1 })), permutation: [...ctx.dimensions], extra: {}, origins: ['timeloopfe dummy'] };
      if (ctx.dataspaces.length > 0) group.dataspace = { keep: [], bypass: [...ctx.dataspaces], origins: ['timeloopfe dummy'] };
      if (spatial) group.spatial = spatial;
      const attributes: Obj = { width: 1, depth: 1, datawidth: 1, technology: -1 };
      for (const [k, v] of Object.entries(containerAttrs)) if (!(k in attributes)) attributes[k] = v;
      if (meshX * meshY > 1) {
        attributes['meshX'] = meshX;
        attributes['meshY'] = meshY;
      }
      local.push({ name: rangeName(name, meshX * meshY), class: 'dummy_storage', attributes });
      levels.push({ name, dummy: true, group, fanoutBelow: true, fanout: { x: fx, y: fy } });
    }
    meshX *= fx;
    meshY *= fy;
  };

  const walk = (list: readonly ArchNode[]) => {
    for (const n of list) {
      if (n.kind === 'branch') {
        walk(n.children);
        continue;
      }
      if (n.tag === 'Nothing') continue;
      if (arithmetic) fail(n.where, `'${n.name}' comes after the compute component '${arithmetic.name}', which must be the last node`);
      if (n.tag === 'Container') {
        if (topName === undefined) topName = n.name;
        containerNames.push(n.name);
        const attrs = evaluateAttributes(n.raw['attributes'], sub(n.where, 'attributes'), [containerAttrs], ctx);
        containerAttrs = { ...containerAttrs, ...attrs };
        for (const k of ['temporal', 'dataspace'] as const) {
          if (n.group[k]) ctx.warnings.push(`${n.where.file}: ${n.where.path}: the ${k} constraint of container '${n.name}' is dropped (timeloopfe keeps only a container's spatial constraints)`);
        }
        const { x, y } = spatialOf(n, ctx, [containerAttrs]);
        if (x * y > 1) placeFanout(n, x, y);
        else if (n.group.spatial) ctx.warnings.push(`${n.where.file}: ${n.where.path}: the spatial constraint of container '${n.name}' is dropped (it has no fanout)`);
        continue;
      }
      // A component.
      const { className, kind, subclass } = classOf(n);
      if (kind === 'ignored') fail(sub(n.where, 'class'), `class '${String(n.raw['class'])}' is neither storage (DRAM, SRAM, regfile, smartbuffer, storage), compute (mac, compute) nor a network (SimpleMulticast, XY_NoC, Legacy, ReductionTree)`);
      const own = evaluateAttributes(n.raw['attributes'], sub(n.where, 'attributes'), [containerAttrs], ctx);
      const attributes: Obj = { ...own };
      for (const [k, v] of Object.entries(containerAttrs)) if (!(k in attributes)) attributes[k] = v;
      if (subclass !== undefined) attributes['subclass'] = subclass;
      if (kind === 'network') {
        local.push({ name: n.name, class: className, attributes });
        continue;
      }
      const { x, y } = spatialOf(n, ctx, [containerAttrs, own]);
      // A component's own fanout sits above it (for the MACs too), as timeloopfe places it.
      if (x * y > 1) placeFanout(n, x, y);
      const n_ = meshX * meshY;
      const userMesh = 'meshX' in own || 'meshY' in own;
      if ((own['meshX'] !== undefined && own['meshX'] !== meshX) || (own['meshY'] !== undefined && own['meshY'] !== meshY)) {
        ctx.warnings.push(`${n.where.file}: ${n.where.path}: '${n.name}' has meshX ${String(own['meshX'] ?? '-')}, meshY ${String(own['meshY'] ?? '-')}; the containers above give ${meshX} x ${meshY}, which is used (as timeloopfe does)`);
      }
      if (n_ > 1 || userMesh) {
        attributes['meshX'] = meshX;
        attributes['meshY'] = meshY;
      }
      local.push({ name: rangeName(n.name, n_), class: className, attributes });
      if (kind === 'arithmetic') {
        arithmetic = n;
        if (n.group.temporal || n.group.spatial || n.group.dataspace) ctx.warnings.push(`${n.where.file}: ${n.where.path}: constraints on the compute component '${n.name}' ignored`);
      } else {
        levels.push({ name: n.name, dummy: false, group: n.group, fanoutBelow: false });
      }
    }
  };
  walk(nodes);
  if (!arithmetic) throw new UserError('the architecture has no compute component (class containing mac or compute); it must be the last node', where, 'architecture.nodes');

  const top: Obj = { name: topName ?? 'top_level' };
  const topAttrs: Obj = {};
  for (const [k, v] of Object.entries(variables)) if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') topAttrs[k] = v;
  if (Object.keys(topAttrs).length > 0) top['attributes'] = topAttrs;
  top['local'] = local;
  const tree: Obj = { version: 0.4, subtree: [top] };
  const architecture = parseTreeArchitecture(tree, { file: merged.nodes[0].where.file, path: 'architecture (as Timeloop tree format)' });

  const restrict = ctx.dimsKnown ? ctx.dimensions : undefined;
  const targets = emitTargets(levels, ctx, restrict);

  let ert: EnergyReferenceTable | undefined;
  if (merged.ert) ert = parseErt(merged.ert.value, { file: merged.ert.file, path: 'ERT' });
  let mapping: Mapping | undefined;
  if (merged.hasMapping && problem) {
    const directives = targets.filter((t) => t.type === 'temporal' || t.type === 'spatial' || t.type === 'bypass');
    mapping = parseMapping(directives, problem, architecture, { file: merged.targets[0].where.file, path: 'mapping' });
  } else if (merged.hasMapping) {
    warnings.push('a `mapping:` list needs a problem to become a mapping; it was read as constraints');
  }
  return {
    architecture,
    tree,
    constraints: { targets },
    variables,
    ...(merged.mapper !== undefined ? { mapper: merged.mapper } : {}),
    ...(problem !== undefined ? { problem } : {}),
    ...(mapping !== undefined ? { mapping } : {}),
    ...(ert !== undefined ? { ert } : {}),
    warnings,
  };
}

function rangeName(name: string, count: number): string {
  return count > 1 ? `${name}[0..${count - 1}]` : name;
}

function mentionedDataspaces(m: Merged): string[] {
  const out: string[] = [];
  const add = (v: unknown) => {
    if (Array.isArray(v)) for (const x of v) if (typeof x === 'string' && x !== '*' && !out.includes(x)) out.push(x);
  };
  const visitCons = (c: unknown) => {
    if (!isObj(c)) return;
    for (const k of ['keep', 'bypass', 'keep_only', 'bypass_only']) add(c[k]);
  };
  const visitNodes = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const n of list) {
      if (!isObj(n)) continue;
      if (isObj(n['constraints'])) for (const c of Object.values(n['constraints'])) visitCons(c);
      visitNodes(n['nodes']);
    }
  };
  for (const n of m.nodes) visitNodes(n.list);
  for (const t of m.targets) for (const c of t.list) visitCons(c);
  const order = ['Weights', 'Inputs', 'Outputs'];
  return out.sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  });
}

/** Reads timeloopfe v0.4 files (architecture, variables, constraints, mapper, problem...). */
export function readV4Files(files: readonly string[], options: V4ImportOptions = {}): V4Input {
  return importV4Documents(files.map((file) => ({ file, doc: readV4YamlFile(file) })), options);
}

// ---------------------------------------------------------------------------
// Either format

/** An input in either format, as the domain objects plus the raw blocks the mapper and the exporters need. */
export interface AnyTimeloopInput {
  readonly format: 'tree' | 'timeloopfe-v0.4';
  readonly architecture?: Architecture;
  readonly problem?: Problem;
  readonly mapping?: Mapping;
  readonly ert?: EnergyReferenceTable;
  /** Mapspace constraints in Timeloop form (`{targets: [...]}`), if any. */
  readonly constraints?: { targets: unknown[] };
  readonly mapper?: Obj;
  readonly warnings: readonly string[];
  /** The tree-format import's raw blocks (tree format only). */
  readonly raw: TimeloopInput['raw'];
}

/**
 * Reads Timeloop input files in either format: timeloopfe v0.4 when one of
 * them has `architecture.nodes`, else the tree format (as `expt eval`).
 */
export function readTimeloopFiles(files: readonly string[], options: V4ImportOptions = {}): AnyTimeloopInput {
  const docs = files.map((file) => ({ file, doc: readV4YamlFile(file) }));
  return importAnyDocuments(docs, options);
}

export function importAnyDocuments(docs: readonly { file: string; doc: unknown }[], options: V4ImportOptions = {}): AnyTimeloopInput {
  if (docs.some((d) => isV4Document(d.doc))) {
    const v4 = importV4Documents(docs, options);
    return {
      format: 'timeloopfe-v0.4',
      architecture: v4.architecture,
      problem: v4.problem,
      mapping: v4.mapping,
      ert: v4.ert,
      constraints: v4.constraints.targets.length > 0 ? v4.constraints : undefined,
      mapper: v4.mapper,
      warnings: v4.warnings,
      raw: {},
    };
  }
  const input = importTimeloopDocuments(docs);
  const targets: unknown[] = [];
  for (const key of ['architecture_constraints', 'mapspace_constraints', 'mapspace']) {
    const block = input.raw[key]?.value;
    const list = isObj(block) ? (block['targets'] ?? block['constraints']) : block;
    if (Array.isArray(list)) targets.push(...list);
  }
  const mapper = input.raw['mapper']?.value;
  return {
    format: 'tree',
    architecture: input.architecture,
    problem: input.problem,
    mapping: input.mapping,
    ert: input.ert,
    constraints: targets.length > 0 ? { targets } : undefined,
    mapper: isObj(mapper) ? mapper : undefined,
    warnings: [],
    raw: input.raw,
  };
}
