/**
 * Writes expt's domain objects back out as Timeloop *tree*-format input: the
 * same shape as the golden `input.yaml` files (underscore keys; run them
 * through v3.0.3 after renaming the keys it reads only hyphenated, see
 * v3-keys.ts and export.ts). {@link importTimeloopDocuments} reads the
 * output back into deep-equal domain objects.
 *
 * - Architecture: a chain of `subtree` nodes. Components keep their raw
 *   `attributes` as imported; a component whose instance count is not given
 *   by an `instances` attribute gets it from the node multipliers
 *   (`name[0..k-1]`), as in the tree style. When the attributes do not
 *   reproduce a level's fields (an architecture built or edited in code),
 *   the fields that differ are written as attributes (`entries`, `width` +
 *   `block_size`, `instances`, `meshX`/`meshY`, bandwidths...).
 * - Mapping: per storage level, outermost first, a `temporal` directive, a
 *   `spatial` one when the level has a fanout below it, and a `bypass` one.
 *   Factors list every dimension (`X=a,b` for an imperfect residual `b`);
 *   permutations are innermost first.
 * - ERT: `version: 0.4` tables named by component.
 */
import { stringify } from 'yaml';
import type { Architecture, ArithmeticLevel, NetworkComponent, StorageLevel } from '../arch/architecture.ts';
import type { EnergyReferenceTable } from '../arch/energy-table.ts';
import type { LoopBlock, Mapping } from '../mapping/mapping.ts';
import type { Problem } from '../workload/problem.ts';
import { parseTreeArchitecture } from './tree-import.ts';

type Obj = Record<string, unknown>;

/** A node of the tree format: `name` (with `[0..k-1]` for a multiplier), `local` components, one `subtree`. */
interface TreeNode {
  name: string;
  local: Obj[];
  subtree?: TreeNode[];
}

function hasKey(attrs: Readonly<Obj>, ...names: string[]): boolean {
  for (const n of names) {
    for (const k of [n, n.replace(/_/g, '-'), n.replace(/-/g, '_')]) {
      if (attrs[k] !== undefined && attrs[k] !== null) return true;
    }
  }
  return false;
}

function withoutKeys(attrs: Readonly<Obj>, ...names: string[]): Obj {
  const out: Obj = { ...attrs };
  for (const n of names) {
    delete out[n];
    delete out[n.replace(/_/g, '-')];
    delete out[n.replace(/-/g, '_')];
  }
  return out;
}

/** Unique node name for a multiplier node above `component`. */
function nodeName(component: string, count: number, used: Set<string>): string {
  let base = `${component}_array`;
  for (let i = 2; used.has(base); i++) base = `${component}_array${i}`;
  used.add(base);
  return `${base}[0..${count - 1}]`;
}

/**
 * Attributes that make the importer (and Timeloop) derive exactly this
 * level's fields. Starts from the raw attributes; overrides only what they
 * would get wrong.
 */
function storageAttributes(level: StorageLevel, fromTree: number, wrong: ReadonlySet<string>): Obj {
  let a: Obj = { ...level.attributes };
  if (wrong.has('words')) {
    // Width and block size give the cluster size (width / (datawidth ×
    // block_size)) in every Timeloop version, whatever it reads of a
    // cluster-size key.
    a = withoutKeys(a, 'word-bits', 'word_width', 'datawidth', 'block-size', 'block_size', 'n_words', 'cluster-size', 'width', 'memory_width', 'data_storage_width');
    a['datawidth'] = level.wordBits;
    a['width'] = level.wordBits * level.blockSize * level.clusterSize;
    a['block_size'] = level.blockSize;
  }
  if (wrong.has('size')) {
    a = withoutKeys(a, 'entries', 'depth', 'memory_depth', 'data_storage_depth', 'sizeKB');
    if (level.sizeWords !== null) a['entries'] = level.sizeWords;
  }
  if (wrong.has('bandwidth')) {
    a = withoutKeys(a, 'bandwidth', 'read_bandwidth', 'write_bandwidth', 'shared_bandwidth');
    if (level.readBandwidth !== null) a['read_bandwidth'] = level.readBandwidth;
    if (level.writeBandwidth !== null) a['write_bandwidth'] = level.writeBandwidth;
    if (level.sharedBandwidth !== null) a['shared_bandwidth'] = level.sharedBandwidth;
  }
  if (wrong.has('buffering')) {
    a = withoutKeys(a, 'multiple_buffering', 'min_utilization');
    if (level.multipleBuffering !== 1) a['multiple_buffering'] = level.multipleBuffering;
    if (level.minUtilization !== 0) a['min_utilization'] = level.minUtilization;
  }
  if (wrong.has('latency')) {
    a = withoutKeys(a, 'network_fill_latency', 'network_drain_latency');
    if (level.networkFillLatency !== 0) a['network_fill_latency'] = level.networkFillLatency;
    if (level.networkDrainLatency !== 0) a['network_drain_latency'] = level.networkDrainLatency;
  }
  if (wrong.has('energy')) {
    a = withoutKeys(a, 'vector_access_energy', 'addr_gen_energy');
    if (level.vectorAccessEnergy !== null) a['vector_access_energy'] = level.vectorAccessEnergy;
    if (level.addressGenerationEnergy !== null) a['addr_gen_energy'] = level.addressGenerationEnergy;
  }
  if (wrong.has('networks')) {
    a = withoutKeys(a, 'network_read', 'network_fill', 'network_update', 'network_drain');
    for (const [k, v] of Object.entries(level.networks)) if (v !== undefined) a[`network_${k}`] = v;
  }
  return placement(a, level, fromTree, wrong);
}

function placement(attrs: Obj, level: StorageLevel | ArithmeticLevel, fromTree: number, wrong: ReadonlySet<string>): Obj {
  let a = attrs;
  if (wrong.has('instances') || (!hasKey(a, 'instances') && fromTree !== level.instances)) {
    a = withoutKeys(a, 'instances');
    a['instances'] = level.instances;
  }
  if (wrong.has('mesh')) {
    a = withoutKeys(a, 'meshX', 'meshY');
    a['meshX'] = level.meshX;
    a['meshY'] = level.meshY;
  }
  return a;
}

function arithmeticAttributes(level: ArithmeticLevel, fromTree: number, wrong: ReadonlySet<string>): Obj {
  let a: Obj = { ...level.attributes };
  if (wrong.has('words')) {
    a = withoutKeys(a, 'word-bits', 'word_width', 'datawidth', 'word_bits');
    a['datawidth'] = level.wordBits;
  }
  return placement(a, level, fromTree, wrong);
}

function networkComponent(n: NetworkComponent): Obj {
  return { name: n.name, class: n.className, attributes: { ...n.attributes } };
}

/** Which field groups of `got` (re-imported) differ from `want`. */
function storageMismatch(want: StorageLevel, got: StorageLevel | undefined): Set<string> {
  const wrong = new Set<string>();
  if (!got) return new Set(['words', 'size', 'bandwidth', 'buffering', 'latency', 'energy', 'networks', 'instances', 'mesh']);
  if (got.wordBits !== want.wordBits || got.blockSize !== want.blockSize || got.clusterSize !== want.clusterSize) wrong.add('words');
  if (got.sizeWords !== want.sizeWords || wrong.has('words')) wrong.add('size');
  if (got.readBandwidth !== want.readBandwidth || got.writeBandwidth !== want.writeBandwidth || got.sharedBandwidth !== want.sharedBandwidth) {
    wrong.add('bandwidth');
  }
  if (got.multipleBuffering !== want.multipleBuffering || got.minUtilization !== want.minUtilization) wrong.add('buffering');
  if (got.networkFillLatency !== want.networkFillLatency || got.networkDrainLatency !== want.networkDrainLatency) wrong.add('latency');
  if (got.vectorAccessEnergy !== want.vectorAccessEnergy || got.addressGenerationEnergy !== want.addressGenerationEnergy) wrong.add('energy');
  if (JSON.stringify(got.networks) !== JSON.stringify(want.networks)) wrong.add('networks');
  if (got.instances !== want.instances) wrong.add('instances');
  if (got.meshX !== want.meshX || got.meshY !== want.meshY || got.instances !== want.instances) wrong.add('mesh');
  if (got.className !== want.className) wrong.add('class');
  return wrong;
}

function arithmeticMismatch(want: ArithmeticLevel, got: ArithmeticLevel | undefined): Set<string> {
  if (!got) return new Set(['words', 'instances', 'mesh']);
  const wrong = new Set<string>();
  if (got.wordBits !== want.wordBits) wrong.add('words');
  if (got.instances !== want.instances) wrong.add('instances');
  if (got.meshX !== want.meshX || got.meshY !== want.meshY || got.instances !== want.instances) wrong.add('mesh');
  return wrong;
}

function buildTree(arch: Architecture, wrongStorage: readonly ReadonlySet<string>[], wrongArith: ReadonlySet<string>): Obj {
  const used = new Set<string>([arch.name]);
  const root: TreeNode = { name: arch.name, local: [] };
  let node = root;
  let multiplier = 1;
  // Each network goes next to the outermost level that connects through it.
  const placed = new Set<string>();
  const networksFor = (level: StorageLevel): Obj[] => {
    const out: Obj[] = [];
    for (const name of Object.values(level.networks)) {
      if (name === undefined || placed.has(name)) continue;
      const n = arch.networks.find((x) => x.name === name);
      if (n) {
        placed.add(name);
        out.push(networkComponent(n));
      }
    }
    return out;
  };
  const enter = (name: string, instances: number, explicit: boolean) => {
    // A component sized by its own `instances` attribute does not need a node.
    if (explicit || instances === multiplier || instances % multiplier !== 0 || instances < multiplier) return;
    const child: TreeNode = { name: nodeName(name, instances / multiplier, used), local: [] };
    node.subtree = [child];
    node = child;
    multiplier = instances;
  };
  arch.storage.forEach((level, i) => {
    const wrong = wrongStorage[i];
    const explicit = hasKey(level.attributes, 'instances') || wrong.has('instances');
    enter(level.name, level.instances, explicit);
    node.local.push(...networksFor(level));
    const comp: Obj = { name: level.name, class: level.className, attributes: storageAttributes(level, multiplier, wrong) };
    node.local.push(comp);
  });
  const mac = arch.arithmetic;
  enter(mac.name, mac.instances, hasKey(mac.attributes, 'instances') || wrongArith.has('instances'));
  // Networks nobody references still belong to the architecture.
  for (const n of arch.networks) if (!placed.has(n.name)) root.local.push(networkComponent(n));
  node.local.push({ name: mac.name, class: mac.className, attributes: arithmeticAttributes(mac, multiplier, wrongArith) });
  const toObj = (n: TreeNode): Obj => (n.subtree ? { name: n.name, local: n.local, subtree: n.subtree.map(toObj) } : { name: n.name, local: n.local });
  return { version: 0.4, subtree: [toObj(root)] };
}

/**
 * The `architecture` block. Re-imports to an architecture whose fields equal
 * `arch`'s (attributes included, unless some had to be added to reproduce a
 * field that the given attributes do not imply).
 */
export function architectureToTimeloop(arch: Architecture): Obj {
  let wrongStorage: Set<string>[] = arch.storage.map(() => new Set<string>());
  let wrongArith = new Set<string>();
  for (let round = 0; round < 3; round++) {
    const tree = buildTree(arch, wrongStorage, wrongArith);
    let back: Architecture | undefined;
    try {
      back = parseTreeArchitecture(tree, { file: '<export>', path: 'architecture' });
    } catch {
      back = undefined;
    }
    const ws = arch.storage.map((s, i) => {
      const got = back?.storage[i];
      return storageMismatch(s, got && got.name === s.name ? got : undefined);
    });
    const wa = arithmeticMismatch(arch.arithmetic, back?.arithmetic);
    if (ws.every((w) => w.size === 0) && wa.size === 0) return tree;
    wrongStorage = wrongStorage.map((w, i) => new Set([...w, ...ws[i]]));
    wrongArith = new Set([...wrongArith, ...wa]);
  }
  return buildTree(arch, wrongStorage, wrongArith);
}

/** The `problem` block: inline shape (coefficients default 1, values in `instance`). */
export function problemToTimeloop(problem: Problem): Obj {
  const coefficients: Record<string, number> = { ...problem.coefficients };
  let synthetic = 0;
  const dataSpaces = problem.dataspaces.map((ds) => {
    const projection = ds.projection.map((rank) =>
      rank.map((t) => {
        const dim = problem.dimensions[t.dimension];
        if (t.coefficientName !== undefined) return [dim, t.coefficientName];
        if (t.coefficient === 1) return [dim];
        // A coefficient without a name: declare one.
        let name: string;
        do name = `coef${synthetic++}`;
        while (name in coefficients);
        coefficients[name] = t.coefficient;
        return [dim, name];
      }),
    );
    const out: Obj = { name: ds.name, projection };
    if (ds.readWrite) out['read_write'] = true;
    return out;
  });
  const shape: Obj = { name: problem.name, dimensions: [...problem.dimensions] };
  const names = Object.keys(coefficients);
  if (names.length > 0) shape['coefficients'] = names.map((name) => ({ name, default: 1 }));
  shape['data_spaces'] = dataSpaces;
  const instance: Obj = {};
  problem.dimensions.forEach((d, i) => (instance[d] = problem.bounds[i]));
  for (const name of names) instance[name] = coefficients[name];
  return { shape, instance };
}

function factorString(block: LoopBlock, problem: Problem): string {
  return problem.dimensions
    .map((d, i) => (block.residuals[i] !== block.factors[i] ? `${d}=${block.factors[i]},${block.residuals[i]}` : `${d}=${block.factors[i]}`))
    .join(' ');
}

function permutationString(block: LoopBlock, problem: Problem): string {
  return block.permutation.map((d) => problem.dimensions[d]).join('');
}

/**
 * The `mapping` block: per storage level (outermost first) `temporal`,
 * `spatial` (when the level has a fanout below it) and `bypass` directives.
 */
export function mappingToTimeloop(mapping: Mapping, problem: Problem, arch: Architecture): Obj[] {
  if (mapping.levels.length !== arch.storage.length) {
    throw new Error(`mapping has ${mapping.levels.length} levels, the architecture has ${arch.storage.length} storage levels`);
  }
  const out: Obj[] = [];
  mapping.levels.forEach((lm, i) => {
    const level = arch.storage[i];
    const inner = i + 1 < arch.storage.length ? arch.storage[i + 1] : arch.arithmetic;
    const hasFanout = inner.meshX * inner.meshY > level.meshX * level.meshY;
    out.push({ target: level.name, type: 'temporal', factors: factorString(lm.temporal, problem), permutation: permutationString(lm.temporal, problem) });
    if (lm.spatial) {
      if (hasFanout) {
        out.push({
          target: level.name,
          type: 'spatial',
          factors: factorString(lm.spatial, problem),
          permutation: permutationString(lm.spatial, problem),
          split: lm.spatial.split,
        });
      } else if (lm.spatial.factors.some((f) => f !== 1)) {
        throw new Error(`level '${level.name}' has spatial factors but no fanout below it`);
      }
    }
    out.push({
      target: level.name,
      type: 'bypass',
      keep: problem.dataspaces.filter((_, pv) => lm.keep[pv]).map((d) => d.name),
      bypass: problem.dataspaces.filter((_, pv) => !lm.keep[pv]).map((d) => d.name),
    });
  });
  return out;
}

/** The `ERT` block (`version: 0.4`), one table per component. */
export function ertToTimeloop(ert: EnergyReferenceTable): Obj {
  return {
    version: 0.4,
    tables: Object.entries(ert.components).map(([name, actions]) => ({
      name,
      actions: actions.map((a) => (a.arguments !== undefined ? { name: a.name, arguments: { ...a.arguments }, energy: a.energy } : { name: a.name, energy: a.energy })),
    })),
  };
}

export interface TimeloopExportInput {
  readonly architecture: Architecture;
  readonly problem: Problem;
  readonly mapping?: Mapping;
  readonly ert?: EnergyReferenceTable;
}

/** The four blocks as one object (`architecture`, `problem`, `mapping`, `ERT`). */
export function toTimeloopDocument(input: TimeloopExportInput): Obj {
  const doc: Obj = {
    architecture: architectureToTimeloop(input.architecture),
    problem: problemToTimeloop(input.problem),
  };
  if (input.mapping) doc['mapping'] = mappingToTimeloop(input.mapping, input.problem, input.architecture);
  if (input.ert) doc['ERT'] = ertToTimeloop(input.ert);
  return doc;
}

/**
 * One YAML document in the golden `input.yaml` style (underscore keys,
 * string values quoted). `header` lines become leading comments.
 */
export function toTimeloopYaml(input: TimeloopExportInput, header?: string): string {
  const body = stringify(toTimeloopDocument(input), {
    defaultStringType: 'QUOTE_DOUBLE',
    defaultKeyType: 'PLAIN',
    lineWidth: 0,
    aliasDuplicateObjects: false,
  });
  const comments = header ? header.split('\n').map((l) => `# ${l}`.trimEnd()).join('\n') + '\n' : '';
  return comments + body;
}
