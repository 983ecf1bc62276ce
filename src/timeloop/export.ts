/**
 * Writes an expt task (architecture, problem, mapping, ERT, mapspace
 * constraints, mapper settings) as Timeloop tree-format input that
 * `timeloop-model` / `timeloop-mapper` run as is, in two flavours:
 *
 * - **v4** (Timeloop master / timeloopfe's output): underscore keys, the
 *   golden `input.yaml` style.
 * - **v3** (Timeloop v3.0.3): the same document with the keys v3.0.3 only
 *   reads hyphenated (v3-keys.ts): `data-spaces`, `read-write`, the
 *   component attributes `multiple-buffering`, `cluster-size`,
 *   `min-utilization`, `word-bits`, ..., and every key of the `mapper` block
 *   (`num-threads`, `optimization-metrics`, ...), plus the mapper algorithm
 *   names (`linear-pruned`). Every other key stays as it is: v3.0.3 reads
 *   `read_bandwidth`, `network_fill_latency`, `datawidth`, `block_size` only
 *   with underscores.
 *
 * The architecture, problem, mapping and ERT blocks come from
 * {@link toTimeloopDocument} (tree-export.ts), so they re-import to the same
 * domain objects. Mapspace constraints are written under
 * `mapspace_constraints`; timeloopfe's `maximize_dims` macro, which Timeloop
 * does not know, is resolved into factors when the problem is known (as
 * timeloopfe does before it calls Timeloop), and `dataspace` targets are
 * written as `bypass`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Architecture } from '../arch/architecture.ts';
import type { EnergyReferenceTable } from '../arch/energy-table.ts';
import type { Mapping } from '../mapping/mapping.ts';
import type { Problem } from '../workload/problem.ts';
import { constraintsFor, type MapspaceConstraints } from '../mapper/constraints.ts';
import { architectureToTimeloop, ertToTimeloop, toTimeloopDocument } from './tree-export.ts';
import { hyphenated, V3_HYPHENATED_ATTRIBUTES } from './v3-keys.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export type Flavour = 'v3' | 'v4';
export const FLAVOURS: readonly Flavour[] = ['v3', 'v4'];

/** What can be exported; everything but the architecture is optional. */
export interface ExportTask {
  readonly architecture: Architecture;
  readonly problem?: Problem;
  readonly mapping?: Mapping;
  readonly ert?: EnergyReferenceTable;
  /** Timeloop `mapspace_constraints` targets. */
  readonly constraints?: { readonly targets: readonly unknown[] };
  readonly mapper?: Readonly<Obj>;
}

export interface ExportedDocument {
  readonly doc: Obj;
  /** What the export changed or could not express, one line each. */
  readonly notes: string[];
}

/**
 * The constraint targets as Timeloop reads them: `dataspace` → `bypass`, and
 * `maximize_dims` resolved into exact factors when the problem is known.
 */
export function constraintsForTimeloop(
  targets: readonly unknown[],
  architecture: Architecture,
  problem: Problem | undefined,
  notes: string[],
): Obj[] {
  const out: Obj[] = targets.filter(isObj).map((t) => {
    const c: Obj = { ...t };
    if (c['type'] === 'dataspace') c['type'] = 'bypass';
    if (Array.isArray(c['factors'])) c['factors'] = (c['factors'] as unknown[]).map(String).join(' ');
    if (Array.isArray(c['permutation'])) c['permutation'] = (c['permutation'] as unknown[]).map(String).join('');
    return c;
  });
  if (!out.some((t) => t['maximize_dims'] !== undefined)) return out;
  if (!problem) {
    notes.push('maximize_dims kept as written: resolving it needs the problem (Timeloop ignores the key)');
    return out;
  }
  const c = constraintsFor(problem, architecture, [{ value: { targets: out }, file: '<export>', path: 'mapspace_constraints' }], '<export>');
  // Each macro's dimensions now have exact factors: write them in its place.
  for (const t of out) {
    const type = t['type'];
    if (t['maximize_dims'] === undefined || t['maximize_dims'] === null || (type !== 'spatial' && type !== 'temporal')) continue;
    const level = architecture.storage.findIndex((s) => s.name === t['target']);
    const name = architecture.storage[level].name;
    const loop = type === 'spatial' ? c.levels[level].spatial : c.levels[level].temporal;
    const dims = (t['maximize_dims'] as unknown[]).flat().map((d) => problem.dimensions.indexOf(String(d)));
    const added = dims.map((d) => `${problem.dimensions[d]}=${loop.exact[d] ?? 1}`);
    t['factors'] = [typeof t['factors'] === 'string' ? t['factors'] : '', ...added].filter((s) => s !== '').join(' ');
    delete t['maximize_dims'];
    delete t['maximize_dims_capacity'];
    notes.push(`${name} (${type}): maximize_dims resolved to ${added.join(' ')}`);
  }
  return out;
}

const TIMELOOP_NETWORK_CLASSES = ['XY_NoC', 'Legacy', 'ReductionTree', 'SimpleMulticast'];

/**
 * Timeloop classifies storage and compute components by a substring of their
 * class, but builds a network only from its exact class name: a network
 * class such as `DAC_SimpleMulticast` (an Accelergy class) is written as
 * `class: SimpleMulticast` with `subclass: DAC_SimpleMulticast`, the way
 * timeloopfe files spell it (the energy estimator reads the subclass).
 */
function timeloopNetworkClasses(arch: unknown, notes: string[]): void {
  const visit = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!isObj(node)) return;
    const cls = node['class'];
    if (typeof cls === 'string' && !TIMELOOP_NETWORK_CLASSES.includes(cls)) {
      const base = TIMELOOP_NETWORK_CLASSES.find((c) => cls.includes(c));
      if (base) {
        const attrs: Obj = isObj(node['attributes']) ? { ...node['attributes'] } : {};
        if (attrs['subclass'] === undefined) attrs['subclass'] = cls;
        node['class'] = base;
        node['attributes'] = attrs;
        notes.push(`network '${String(node['name'])}': class ${cls} written as class ${base}, subclass ${String(attrs['subclass'])} (Timeloop accepts only its own network classes)`);
      }
    }
    visit(node['local']);
    visit(node['subtree']);
  };
  visit(isObj(arch) ? arch['subtree'] : undefined);
}

const V3_MAPPER_VALUES: Readonly<Record<string, string>> = { linear_pruned: 'linear-pruned', random_pruned: 'random-pruned' };

/** Renames, in place, the keys v3.0.3 reads only hyphenated. */
function toV3(doc: Obj): void {
  const problem = doc['problem'];
  if (isObj(problem) && isObj(problem['shape'])) {
    const shape = problem['shape'];
    renameKey(shape, 'data_spaces', 'data-spaces');
    const ds = shape['data-spaces'];
    if (Array.isArray(ds)) for (const d of ds) if (isObj(d)) renameKey(d, 'read_write', 'read-write');
  }
  const visitArch = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(visitArch);
    if (!isObj(node)) return;
    const attrs = node['attributes'];
    if (isObj(attrs)) for (const key of V3_HYPHENATED_ATTRIBUTES) renameKey(attrs, key, hyphenated(key));
    visitArch(node['local']);
    visitArch(node['subtree']);
  };
  visitArch(doc['architecture']);
  const mapper = doc['mapper'];
  if (isObj(mapper)) {
    const renamed: Obj = {};
    for (const [k, v] of Object.entries(mapper)) {
      const key = k.replace(/_/g, '-');
      renamed[key] = key === 'algorithm' && typeof v === 'string' ? (V3_MAPPER_VALUES[v] ?? v) : v;
    }
    doc['mapper'] = renamed;
  }
}

function renameKey(o: Obj, from: string, to: string): void {
  if (!(from in o)) return;
  // Both spellings present (the importer has checked that they agree): keep one.
  if (to in o) {
    delete o[from];
    return;
  }
  const entries = Object.entries(o).map(([k, v]) => [k === from ? to : k, v] as const);
  for (const k of Object.keys(o)) delete o[k];
  for (const [k, v] of entries) o[k] = v;
}

/** One Timeloop input document for the task. */
export function exportDocument(task: ExportTask, flavour: Flavour): ExportedDocument {
  const notes: string[] = [];
  let doc: Obj;
  if (task.problem) {
    doc = toTimeloopDocument({ architecture: task.architecture, problem: task.problem, mapping: task.mapping, ert: task.ert });
  } else {
    // Architecture only (a preset): the problem comes from another file.
    doc = { architecture: architectureToTimeloop(task.architecture) };
    if (task.ert) doc['ERT'] = ertToTimeloop(task.ert);
    if (task.mapping) notes.push('mapping left out: it needs the problem');
  }
  if (task.constraints && task.constraints.targets.length > 0) {
    doc['mapspace_constraints'] = { targets: constraintsForTimeloop(task.constraints.targets, task.architecture, task.problem, notes) };
  }
  if (task.mapper && Object.keys(task.mapper).length > 0) {
    const { version: _v, ...rest } = task.mapper as Obj;
    doc['mapper'] = structuredClone(rest);
  }
  timeloopNetworkClasses(doc['architecture'], notes);
  // Keep the order Timeloop users expect.
  const ordered: Obj = {};
  for (const k of ['architecture', 'problem', 'mapping', 'mapspace_constraints', 'mapper', 'ERT']) if (doc[k] !== undefined) ordered[k] = doc[k];
  if (flavour === 'v3') toV3(ordered);
  return { doc: ordered, notes };
}

/** YAML text in the golden `input.yaml` style (strings double-quoted); `header` lines become comments. */
export function exportYaml(task: ExportTask, flavour: Flavour, header?: string): { text: string; notes: string[] } {
  const { doc, notes } = exportDocument(task, flavour);
  return { text: yamlText(doc, header), notes };
}

export function yamlText(doc: unknown, header?: string): string {
  const body = stringify(doc, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', lineWidth: 0, aliasDuplicateObjects: false });
  const comments = header ? header.split('\n').map((l) => `# ${l}`.trimEnd()).join('\n') + '\n' : '';
  return comments + body;
}

export interface WrittenExport {
  /** Written files, relative to the output folder. */
  readonly files: string[];
  readonly notes: string[];
}

/**
 * Writes `<out>/v3/<name>.yaml`, `<out>/v4/<name>.yaml` (one self-contained
 * document each) and, when there is an ERT, `<out>/<name>.ERT.yaml` (the ERT
 * alone, the same in both flavours), plus `<out>/README.txt` saying how to
 * run them.
 */
export function writeExport(task: ExportTask, outDir: string, name: string, header?: string): WrittenExport {
  const files: string[] = [];
  let notes: string[] = [];
  for (const flavour of FLAVOURS) {
    const { text, notes: n } = exportYaml(task, flavour, header ? `${header}\nTimeloop ${flavour === 'v3' ? 'v3.0.3 (hyphenated keys)' : 'v4 / master (underscore keys)'} flavour.` : undefined);
    notes = n;
    mkdirSync(join(outDir, flavour), { recursive: true });
    writeFileSync(join(outDir, flavour, `${name}.yaml`), text);
    files.push(join(flavour, `${name}.yaml`));
  }
  if (task.ert) {
    writeFileSync(join(outDir, `${name}.ERT.yaml`), yamlText({ ERT: ertToTimeloop(task.ert) }, header));
    files.push(`${name}.ERT.yaml`);
  }
  const program = task.mapping ? 'timeloop-model' : 'timeloop-mapper';
  const readme = [
    `Timeloop input written by expt export${header ? ` (${header.split('\n')[0]})` : ''}.`,
    '',
    `  v3/${name}.yaml   Timeloop v3.0.3 (keys it reads only hyphenated: data-spaces, read-write,`,
    '                   multiple-buffering, cluster-size, min-utilization, word-bits, ..., the mapper settings)',
    `  v4/${name}.yaml   Timeloop v4 / master (underscore keys)`,
    ...(task.ert ? [`  ${name}.ERT.yaml  the energy reference table alone (also inside both documents)`] : []),
    '',
    'Run one of them in an empty folder (Timeloop overwrites its output files):',
    '',
    `  mkdir run && cd run && ${program} ../v3/${name}.yaml`,
    ...(task.problem ? [] : ['', 'The architecture has no problem: add a problem file (and a mapper block) on the command line.']),
    ...(notes.length > 0 ? ['', 'Notes:', ...notes.map((n) => `  - ${n}`)] : []),
    '',
  ].join('\n');
  writeFileSync(join(outDir, 'README.txt'), readme);
  files.push('README.txt');
  return { files, notes };
}

/**
 * Parsed map-space constraints ({@link MapspaceConstraints}, as the pipeline's
 * map tasks hold them) back as Timeloop `mapspace_constraints` targets, so
 * that `timeloop-mapper` searches the same map space as expt's mapper: per
 * level and loop type, exact factors (`D=4`), bounds (`D>=2`, `D<=8`), the
 * permutation (innermost prefix, `_`, outermost suffix), the spatial X/Y
 * `split`, and a `bypass` target with the kept and bypassed dataspaces.
 * Unresolved `maximize_dims` macros must have been resolved before.
 */
export function constraintsToTargets(c: MapspaceConstraints, problem: Problem, architecture: Architecture): Obj[] {
  if (c.maximize.length > 0) throw new Error('constraintsToTargets: resolve maximize_dims first');
  const dims = problem.dimensions;
  const out: Obj[] = [];
  c.levels.forEach((lc, level) => {
    const target = architecture.storage[level].name;
    for (const type of ['temporal', 'spatial'] as const) {
      const loop = type === 'temporal' ? lc.temporal : lc.spatial;
      const factors: string[] = [];
      dims.forEach((d, i) => {
        if (loop.exact[i] !== undefined) factors.push(`${d}=${loop.exact[i]}`);
        if (loop.min[i] !== undefined) factors.push(`${d}>=${loop.min[i]}`);
        if (loop.max[i] !== undefined) factors.push(`${d}<=${loop.max[i]}`);
      });
      const perm = loop.prefix.map((i) => dims[i]).join('') + (loop.suffix.length > 0 ? `_${loop.suffix.map((i) => dims[i]).join('')}` : '');
      const split = type === 'spatial' ? lc.split : undefined;
      if (factors.length === 0 && perm === '' && split === undefined) continue;
      const t: Obj = { target, type };
      if (factors.length > 0) t['factors'] = factors.join(' ');
      if (perm !== '') t['permutation'] = perm;
      if (split !== undefined) t['split'] = split;
      out.push(t);
    }
    const keep = problem.dataspaces.filter((_, i) => lc.keep[i] === true).map((d) => d.name);
    const bypass = problem.dataspaces.filter((_, i) => lc.keep[i] === false).map((d) => d.name);
    if (keep.length > 0 || bypass.length > 0) {
      const t: Obj = { target, type: 'bypass' };
      if (keep.length > 0) t['keep'] = keep;
      if (bypass.length > 0) t['bypass'] = bypass;
      out.push(t);
    }
  });
  return out;
}
