/**
 * Reads Timeloop's *tree* input format (what timeloop-model and
 * timeloop-mapper parse, and what timeloopfe emits): `architecture` with
 * `subtree`/`local` and `name[a..b]` ranges, `problem`, `mapping`, `ERT`.
 * Keys may be written with underscores or hyphens. Several documents can be
 * merged, as Timeloop merges the files of its command line.
 */
import type { Architecture, ArithmeticLevel, NetworkComponent, StorageLevel } from '../arch/architecture.ts';
import type { EnergyAction, EnergyReferenceTable } from '../arch/energy-table.ts';
import type { LevelMapping, LoopBlock, Mapping, SpatialBlock } from '../mapping/mapping.ts';
import { foldedSize } from '../mapping/mapping.ts';
import type { DataSpace, Problem, ProjectionTerm } from '../workload/problem.ts';
import { CNN_LAYER_SHAPE } from '../workload/shapes.ts';
import { UserError } from '../util/errors.ts';
import { attributeDomain, FIELD_DOMAINS, operationCountError, outsideDomain, type Domain } from '../util/domains.ts';

type Obj = Record<string, unknown>;

/** Where a value came from, for error messages. */
export interface Origin {
  readonly file: string;
  readonly path: string;
}

function fail(origin: Origin, message: string): never {
  throw new UserError(message, origin.file, origin.path);
}

function at(origin: Origin, key: string | number): Origin {
  const path = typeof key === 'number' ? `${origin.path}[${key}]` : origin.path ? `${origin.path}.${key}` : key;
  return { file: origin.file, path };
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asObj(v: unknown, origin: Origin, what = 'a mapping (key: value)'): Obj {
  if (!isObj(v)) fail(origin, `expected ${what}, got ${describe(v)}`);
  return v;
}

function asList(v: unknown, origin: Origin): unknown[] {
  if (!Array.isArray(v)) fail(origin, `expected a list, got ${describe(v)}`);
  return v;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Looks a key up under any of its spellings (underscore / hyphen / aliases). */
function pick(o: Obj, ...names: string[]): { key: string; value: unknown } | undefined {
  for (const n of names) {
    for (const k of [n, n.replace(/_/g, '-'), n.replace(/-/g, '_')]) {
      if (k in o && o[k] !== undefined && o[k] !== null) return { key: k, value: o[k] };
    }
  }
  return undefined;
}

/**
 * The hyphen and underscore spellings of one key mean the same (v3.0.3 reads
 * some keys only hyphenated, Timeloop v4 and timeloopfe only with
 * underscores); a file that gives both with different values is ambiguous.
 */
function checkSpellings(o: Obj, origin: Origin, name: string): void {
  const spellings = [...new Set([name, name.replace(/_/g, '-'), name.replace(/-/g, '_')])].filter((k) => o[k] !== undefined && o[k] !== null);
  for (const k of spellings.slice(1)) {
    if (String(o[k]) !== String(o[spellings[0]])) {
      fail(at(origin, k), `'${spellings[0]}: ${String(o[spellings[0]])}' and '${k}: ${String(o[k])}' are one key in two spellings and disagree`);
    }
  }
}

/** A number in `domain` under any of `names` (a numeric string is read as its number), or undefined if absent. */
function numIn(domain: Domain, o: Obj, origin: Origin, ...names: string[]): number | undefined {
  for (const n of names) checkSpellings(o, origin, n);
  const p = pick(o, ...names);
  if (!p) return undefined;
  const v = typeof p.value === 'string' && p.value.trim() !== '' ? Number(p.value) : p.value;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(at(origin, p.key), `expected a number, got ${describe(p.value)}`);
  const reason = outsideDomain(domain, v);
  if (reason !== undefined) fail(at(origin, p.key), reason);
  return v;
}

/**
 * A component attribute, in its domain from the table of
 * src/util/domains.ts. An attribute read without a declared domain is a bug
 * (the table is the one rule set), so the golden and preset tests catch it.
 */
function num(o: Obj, origin: Origin, ...names: string[]): number | undefined {
  const domain = attributeDomain(names[0]);
  if (domain === undefined) throw new Error(`attribute '${names[0]}' has no declared domain in src/util/domains.ts`);
  return numIn(domain, o, origin, ...names);
}

/**
 * Checks every attribute of a component that has a declared domain
 * (src/util/domains.ts), whether or not this reader uses it: the energy
 * estimator reads the same attributes later, without the file and field.
 */
export function checkAttributes(attrs: Obj, origin: Origin): void {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    const domain = attributeDomain(key);
    if (domain === undefined) continue;
    const reason = outsideDomain(domain, value);
    if (reason !== undefined) fail(at(origin, key), reason);
  }
}

function str(o: Obj, origin: Origin, ...names: string[]): string | undefined {
  const p = pick(o, ...names);
  if (!p) return undefined;
  if (typeof p.value !== 'string') fail(at(origin, p.key), `expected a string, got ${describe(p.value)}`);
  return p.value;
}

const RANGE = /^(.*)\[(\d+)\.\.(\d+)\]$/;

/** `PE[0..15]` → { base: 'PE', count: 16 }. */
export function parseRangeName(name: string): { base: string; count: number } {
  const m = RANGE.exec(name.trim());
  if (!m) return { base: name.trim(), count: 1 };
  return { base: m[1], count: Number(m[3]) - Number(m[2]) + 1 };
}

/**
 * {@link parseRangeName} for a name read from a file: a name ending in
 * brackets must be a range `[first..last]` of whole numbers with first <=
 * last. (`PERows[0..-1]` would otherwise read as one instance and fail later
 * as a fractional mesh.)
 */
function rangeOf(name: string, origin: Origin): { base: string; count: number } {
  const trimmed = name.trim();
  const m = RANGE.exec(trimmed);
  const count = m ? Number(m[3]) - Number(m[2]) + 1 : 1;
  if ((m === null && /\[[^\]]*\]$/.test(trimmed)) || count < 1 || !Number.isSafeInteger(count)) {
    fail(origin, `expected a name or a range such as PE[0..15] (whole numbers, first <= last), got '${trimmed}'`);
  }
  return parseRangeName(trimmed);
}

type ComponentKind = 'storage' | 'arithmetic' | 'network' | 'ignored';

/** Timeloop classifies a component by substrings of its class. */
export function componentKind(className: string): ComponentKind {
  if (/XY_NoC|Legacy|ReductionTree|SimpleMulticast/.test(className)) return 'network';
  if (/DRAM|SRAM|regfile|smartbuffer|storage/.test(className)) return 'storage';
  if (/mac|compute/.test(className)) return 'arithmetic';
  return 'ignored';
}

function mesh(attrs: Obj, origin: Origin, instances: number): { meshX: number; meshY: number } {
  const mx = num(attrs, origin, 'meshX');
  const my = num(attrs, origin, 'meshY');
  let meshX: number;
  let meshY: number;
  if (mx !== undefined && my !== undefined) {
    meshX = mx;
    meshY = my;
  } else if (mx !== undefined) {
    meshX = mx;
    meshY = instances / mx;
  } else if (my !== undefined) {
    meshY = my;
    meshX = instances / my;
  } else {
    meshX = instances;
    meshY = 1;
  }
  if (mx !== undefined && my !== undefined) {
    if (meshX * meshY !== instances) fail(origin, `meshX ${meshX} × meshY ${meshY} = ${meshX * meshY} does not equal the ${instances} instances; expected meshX × meshY = instances`);
  } else if (!Number.isInteger(meshX) || !Number.isInteger(meshY)) {
    const given = mx !== undefined ? 'meshX' : 'meshY';
    fail(at(origin, given), `${given} ${mx ?? my} does not divide the ${instances} instances; expected a divisor of the instance count`);
  }
  return { meshX, meshY };
}

function parseStorage(name: string, className: string, attrs: Obj, origin: Origin, instancesFromTree: number): StorageLevel {
  checkAttributes(attrs, origin);
  const instances = num(attrs, origin, 'instances') ?? instancesFromTree;
  const wordBits = num(attrs, origin, 'word-bits', 'word_width', 'datawidth', 'word_bits') ?? 16;
  let blockSize = num(attrs, origin, 'block-size', 'block_size', 'n_words');
  // `cluster_size` (Timeloop v4, timeloopfe, the study's files) and v3.0.3's
  // `cluster-size` are one key: v3.0.3's parser only knows the hyphenated
  // spelling, which is why the v3 export writes that one.
  let clusterSize = num(attrs, origin, 'cluster_size');
  const width = num(attrs, origin, 'width', 'memory_width', 'data_storage_width');
  if (width !== undefined) {
    if (blockSize !== undefined && clusterSize !== undefined) {
      if (blockSize * wordBits * clusterSize !== width) {
        fail(origin, `block_size ${blockSize} × word bits ${wordBits} × cluster_size ${clusterSize} != width ${width}`);
      }
    } else if (clusterSize !== undefined) {
      blockSize = width / clusterSize / wordBits;
    } else if (blockSize !== undefined) {
      clusterSize = width / (wordBits * blockSize);
    } else {
      blockSize = width / wordBits;
      clusterSize = 1;
    }
    if (!Number.isInteger(blockSize) || blockSize < 1) {
      fail(at(origin, 'width'), `width ${width} is not a multiple of the word bits ${wordBits}${clusterSize && clusterSize > 1 ? ` × cluster_size ${clusterSize}` : ''}`);
    }
    if (!Number.isInteger(clusterSize) || clusterSize < 1) {
      fail(at(origin, 'width'), `width ${width} is not a multiple of block_size ${blockSize} × word bits ${wordBits}; expected width = block_size × word bits × cluster-size`);
    }
  }
  blockSize ??= 1;
  clusterSize ??= 1;
  if (!Number.isInteger(clusterSize) || clusterSize < 1 || instances % clusterSize !== 0) {
    // v3.0.3 asserts on it when it evaluates the level.
    fail(origin, `cluster_size ${clusterSize} does not divide the ${instances} instances into whole clusters`);
  }
  let sizeWords: number | null = null;
  const entries = num(attrs, origin, 'entries');
  const depth = num(attrs, origin, 'depth', 'memory_depth', 'data_storage_depth');
  const sizeKB = num(attrs, origin, 'sizeKB');
  if (entries !== undefined) sizeWords = entries;
  else if (depth !== undefined) sizeWords = depth * blockSize;
  else if (sizeKB !== undefined) sizeWords = Math.floor((sizeKB * 1024 * 8) / wordBits);
  if (sizeWords !== null && (sizeWords < 0 || !Number.isInteger(sizeWords))) {
    fail(origin, `size must be a non-negative whole number of words, got ${sizeWords}`);
  }
  const bandwidth = num(attrs, origin, 'bandwidth');
  const readBandwidth = num(attrs, origin, 'read_bandwidth') ?? (bandwidth !== undefined ? bandwidth / 2 : null);
  const writeBandwidth = num(attrs, origin, 'write_bandwidth') ?? (bandwidth !== undefined ? bandwidth / 2 : null);
  const { meshX, meshY } = mesh(attrs, origin, instances);
  const networks: { read?: string; fill?: string; update?: string; drain?: string } = {};
  const nr = str(attrs, origin, 'network_read');
  const nf = str(attrs, origin, 'network_fill');
  const nu = str(attrs, origin, 'network_update');
  const nd = str(attrs, origin, 'network_drain');
  if (nr !== undefined) networks.read = nr;
  if (nf !== undefined) networks.fill = nf;
  if (nu !== undefined) networks.update = nu;
  if (nd !== undefined) networks.drain = nd;
  return {
    name,
    className,
    instances,
    meshX,
    meshY,
    sizeWords,
    wordBits,
    blockSize,
    clusterSize,
    readBandwidth,
    writeBandwidth,
    sharedBandwidth: num(attrs, origin, 'shared_bandwidth') ?? null,
    multipleBuffering: num(attrs, origin, 'multiple_buffering') ?? 1,
    minUtilization: num(attrs, origin, 'min_utilization') ?? 0,
    networkFillLatency: num(attrs, origin, 'network_fill_latency') ?? 0,
    networkDrainLatency: num(attrs, origin, 'network_drain_latency') ?? 0,
    vectorAccessEnergy: num(attrs, origin, 'vector_access_energy') ?? null,
    addressGenerationEnergy: num(attrs, origin, 'addr_gen_energy') ?? null,
    networks,
    attributes: attrs,
  };
}

function parseArithmetic(name: string, className: string, attrs: Obj, origin: Origin, instancesFromTree: number): ArithmeticLevel {
  checkAttributes(attrs, origin);
  const instances = num(attrs, origin, 'instances') ?? instancesFromTree;
  const { meshX, meshY } = mesh(attrs, origin, instances);
  return {
    name,
    className,
    instances,
    meshX,
    meshY,
    wordBits: num(attrs, origin, 'word-bits', 'word_width', 'datawidth', 'word_bits') ?? 16,
    attributes: attrs,
  };
}

function parseNetwork(name: string, className: string, attrs: Obj, origin: Origin): NetworkComponent {
  checkAttributes(attrs, origin);
  return {
    name,
    className,
    actionName: str(attrs, origin, 'action_name') ?? 'transfer',
    perDatatypeErt: pick(attrs, 'per_datatype_ERT') !== undefined,
    multicastFactorArgument: str(attrs, origin, 'multicast_factor_argument') ?? null,
    fillLatency: num(attrs, origin, 'fill_latency') ?? 0,
    drainLatency: num(attrs, origin, 'drain_latency') ?? 0,
    attributes: attrs,
  };
}

/** Parses a tree-format `architecture` block. */
export function parseTreeArchitecture(value: unknown, origin: Origin): Architecture {
  const root = asObj(value, origin);
  if ('nodes' in root) {
    fail(at(origin, 'nodes'), 'this is a timeloopfe v0.4 `nodes:` architecture; expected the tree format (`subtree:`/`local:`)');
  }
  const storage: StorageLevel[] = [];
  const networks: NetworkComponent[] = [];
  let arithmetic: ArithmeticLevel | undefined;
  let rootName = 'arch';

  const walk = (node: Obj, nodeOrigin: Origin, multiplier: number, inherited: Obj) => {
    const nodeAttrs = { ...inherited, ...(isObj(node['attributes']) ? node['attributes'] : {}) };
    const local = node['local'] === undefined ? [] : asList(node['local'], at(nodeOrigin, 'local'));
    local.forEach((c, i) => {
      const co = at(at(nodeOrigin, 'local'), i);
      const comp = asObj(c, co);
      const rawName = str(comp, co, 'name');
      if (rawName === undefined) fail(co, 'component has no name');
      const className = str(comp, co, 'class') ?? '';
      const { base, count } = rangeOf(rawName, at(co, 'name'));
      const attrs = { ...nodeAttrs, ...(comp['attributes'] === undefined ? {} : asObj(comp['attributes'], at(co, 'attributes'))) };
      const ao = at(co, 'attributes');
      switch (componentKind(className)) {
        case 'storage':
          storage.push(parseStorage(base, className, attrs, ao, multiplier * count));
          break;
        case 'arithmetic':
          if (arithmetic) fail(co, `a second arithmetic component '${base}' (the first is '${arithmetic.name}')`);
          arithmetic = parseArithmetic(base, className, attrs, ao, multiplier * count);
          break;
        case 'network':
          networks.push(parseNetwork(base, className, attrs, ao));
          break;
        case 'ignored':
          break;
      }
    });
    const sub = node['subtree'];
    if (sub !== undefined && sub !== null) {
      const list = asList(sub, at(nodeOrigin, 'subtree'));
      if (list.length !== 1) fail(at(nodeOrigin, 'subtree'), `expected exactly one subtree node, got ${list.length}`);
      const so = at(at(nodeOrigin, 'subtree'), 0);
      const child = asObj(list[0], so);
      const childName = str(child, so, 'name') ?? '';
      walk(child, so, multiplier * rangeOf(childName, at(so, 'name')).count, nodeAttrs);
    }
  };

  const top = pick(root, 'subtree');
  if (!top) fail(origin, 'expected `subtree:` with the top node of the architecture');
  const list = asList(top.value, at(origin, 'subtree'));
  if (list.length !== 1) fail(at(origin, 'subtree'), `expected exactly one top node, got ${list.length}`);
  const to = at(at(origin, 'subtree'), 0);
  const topNode = asObj(list[0], to);
  const topRange = rangeOf(str(topNode, to, 'name') ?? 'arch', at(to, 'name'));
  rootName = topRange.base;
  walk(topNode, to, topRange.count, {});

  if (storage.length === 0) fail(origin, 'the architecture has no storage level (class DRAM, SRAM, regfile, smartbuffer or storage)');
  if (!arithmetic) fail(origin, 'the architecture has no arithmetic component (class containing mac or compute)');
  const names = new Set<string>();
  for (const s of storage) {
    if (names.has(s.name)) fail(origin, `two storage levels are named '${s.name}'`);
    names.add(s.name);
  }
  for (const s of storage) {
    for (const n of Object.values(s.networks)) {
      if (n !== undefined && !networks.some((x) => x.name === n)) {
        fail(origin, `storage level '${s.name}' uses network '${n}', which is not declared`);
      }
    }
  }
  const all = [...storage, arithmetic];
  for (let i = 1; i < all.length; i++) {
    const o = all[i - 1];
    const inner = all[i];
    if (inner.meshX % o.meshX !== 0 || inner.meshY % o.meshY !== 0) {
      fail(origin, `the mesh of '${inner.name}' (${inner.meshX}×${inner.meshY}) is not a multiple of the mesh of '${o.name}' (${o.meshX}×${o.meshY})`);
    }
  }
  return { name: rootName, storage, arithmetic, networks };
}

/** Parses a `problem` block (inline shape, or the built-in `cnn_layer`). */
export function parseProblem(value: unknown, origin: Origin): Problem {
  const p = asObj(value, origin);
  const so = at(origin, 'shape');
  let shapeValue = p['shape'];
  if (shapeValue === 'cnn_layer') shapeValue = CNN_LAYER_SHAPE;
  if (typeof shapeValue === 'string') fail(so, `unknown built-in problem shape '${shapeValue}' (known: cnn_layer)`);
  const shape = asObj(shapeValue, so);
  const dims = asList(shape['dimensions'], at(so, 'dimensions')).map((d, i) => {
    if (typeof d !== 'string') fail(at(at(so, 'dimensions'), i), `expected a one-letter dimension name, got ${describe(d)}`);
    if (d.length !== 1) fail(at(at(so, 'dimensions'), i), `dimension names must be one character (Timeloop's rule), got '${d}'`);
    return d;
  });
  if (new Set(dims).size !== dims.length) fail(at(so, 'dimensions'), 'a dimension is listed twice');
  const coefficients: Record<string, number> = {};
  const coefList = shape['coefficients'] === undefined ? [] : asList(shape['coefficients'], at(so, 'coefficients'));
  coefList.forEach((c, i) => {
    const co = at(at(so, 'coefficients'), i);
    const o = asObj(c, co);
    const name = str(o, co, 'name');
    if (!name) fail(co, 'coefficient has no name');
    coefficients[name] = numIn(FIELD_DOMAINS.coefficient, o, co, 'default') ?? 1;
  });
  const io = at(origin, 'instance');
  const instance = asObj(p['instance'], io);
  for (const [k, v] of Object.entries(instance)) {
    if (k in coefficients) {
      const reason = typeof v === 'number' ? outsideDomain(FIELD_DOMAINS.coefficient, v) : `expected a number, got ${describe(v)}`;
      if (reason !== undefined) fail(at(io, k), reason);
      coefficients[k] = v as number;
    } else if (!dims.includes(k) && k !== 'densities') {
      fail(at(io, k), `'${k}' is neither a dimension (${dims.join(', ')}) nor a coefficient of the shape`);
    }
  }
  const bounds = dims.map((d) => {
    const v = instance[d];
    if (v === undefined) fail(io, `no size for dimension '${d}'`);
    const reason = typeof v === 'number' ? outsideDomain(FIELD_DOMAINS.dimension, v) : `expected ${FIELD_DOMAINS.dimension.expected}, got ${describe(v)}`;
    if (reason !== undefined) fail(at(io, d), reason);
    return v as number;
  });
  const tooMany = operationCountError(dims, bounds);
  if (tooMany !== undefined) fail(io, tooMany);
  const dsKey = pick(shape, 'data_spaces');
  if (!dsKey) fail(so, 'expected `data_spaces:` (or `data-spaces:`)');
  const dso = at(so, dsKey.key);
  const dataspaces: DataSpace[] = asList(dsKey.value, dso).map((d, i) => {
    const o = at(dso, i);
    const ds = asObj(d, o);
    const name = str(ds, o, 'name');
    if (!name) fail(o, 'dataspace has no name');
    const po = at(o, 'projection');
    const projection = asList(ds['projection'], po).map((rank, r) => {
      const ro = at(po, r);
      // A rank is a list of terms; each term is [dim] or [dim, coefficient].
      const terms = typeof rank === 'string' ? [[rank]] : asList(rank, ro);
      return terms.map((t, j): ProjectionTerm => {
        const to = at(ro, j);
        const term = typeof t === 'string' ? [t] : asList(t, to);
        const dimName = term[0];
        const dim = typeof dimName === 'string' ? dims.indexOf(dimName) : -1;
        if (dim < 0) fail(to, `'${String(dimName)}' is not a dimension of the shape (${dims.join(', ')})`);
        if (term.length === 1) return { dimension: dim, coefficient: 1 };
        const coefName = term[1];
        if (typeof coefName !== 'string' || !(coefName in coefficients)) {
          fail(to, `'${String(coefName)}' is not a declared coefficient`);
        }
        return { dimension: dim, coefficient: coefficients[coefName], coefficientName: coefName };
      });
    });
    const rw = pick(ds, 'read_write');
    return { name, projection, readWrite: rw !== undefined && rw.value !== false };
  });
  if (!dataspaces.some((d) => d.readWrite)) fail(dso, 'no dataspace is marked read_write (the output)');
  return { name: str(shape, so, 'name') ?? 'problem', dimensions: dims, bounds, coefficients, dataspaces };
}

/** Parses an `ERT` block (v0.3/v0.4 list form, or the v0.2 map form). */
export function parseErt(value: unknown, origin: Origin): EnergyReferenceTable {
  const e = asObj(value, origin);
  const tables = e['tables'];
  const components: Record<string, EnergyAction[]> = {};
  const add = (rawName: string, actions: EnergyAction[]) => {
    // `system.PE[0..15].RF[0..1]` → `RF`: ranges hold dots too, so drop them before splitting the path.
    const base = rawName.replace(/\[\d+\.\.\d+\]/g, '').split('.').pop() ?? rawName;
    components[base] = [...(components[base] ?? []), ...actions];
  };
  const parseAction = (a: unknown, ao: Origin, nameOverride?: string): EnergyAction => {
    const o = asObj(a, ao);
    const name = nameOverride ?? str(o, ao, 'name');
    if (!name) fail(ao, 'action has no name');
    const energy = numIn(FIELD_DOMAINS.ertEnergy, o, ao, 'energy');
    if (energy === undefined) fail(ao, `action '${name}' has no energy`);
    const args = o['arguments'];
    return isObj(args) ? { name, arguments: args as Record<string, number | string>, energy } : { name, energy };
  };
  const to = at(origin, 'tables');
  if (Array.isArray(tables)) {
    tables.forEach((t, i) => {
      const tio = at(to, i);
      const table = asObj(t, tio);
      const name = str(table, tio, 'name');
      if (!name) fail(tio, 'table has no name');
      const acts = asList(table['actions'], at(tio, 'actions')).map((a, j) => parseAction(a, at(at(tio, 'actions'), j)));
      add(name, acts);
    });
  } else if (isObj(tables)) {
    for (const [name, t] of Object.entries(tables)) {
      const tio = at(to, name);
      const table = asObj(t, tio);
      const acts: EnergyAction[] = [];
      for (const [action, entries] of Object.entries(table)) {
        const list = Array.isArray(entries) ? entries : [entries];
        list.forEach((en, j) => acts.push(parseAction(en, at(at(tio, action), j), action)));
      }
      add(name, acts);
    }
  } else {
    fail(to, `expected a list of tables, got ${describe(tables)}`);
  }
  return { components };
}

const FACTOR = /([A-Za-z]+)\s*=*\s*([0-9]+)(,([0-9]+))?/g;

function parseFactorString(
  text: string,
  problem: Problem,
  origin: Origin,
): { factors: number[]; residuals: number[] } {
  const factors = problem.dimensions.map(() => 1);
  const residuals = problem.dimensions.map(() => 1);
  const clean = text.split('#')[0];
  const seen = new Set<number>();
  for (const m of clean.matchAll(FACTOR)) {
    const d = problem.dimensions.indexOf(m[1]);
    if (d < 0) fail(origin, `'${m[1]}' is not a dimension of the problem (${problem.dimensions.join(', ')})`);
    if (seen.has(d)) fail(origin, `dimension '${m[1]}' is given twice`);
    seen.add(d);
    let end = Number(m[2]);
    if (end === 0) end = problem.bounds[d];
    factors[d] = end;
    residuals[d] = m[4] !== undefined ? Number(m[4]) : end;
    if (residuals[d] < 1 || residuals[d] > end) {
      fail(origin, `residual ${residuals[d]} of dimension '${m[1]}' must be between 1 and the factor ${end}`);
    }
  }
  const leftover = clean.replace(FACTOR, '').trim();
  if (leftover !== '') fail(origin, `cannot read '${leftover}' as factors (expected e.g. "D=4 E=1 L=2")`);
  return { factors, residuals };
}

function parsePermutation(value: unknown, problem: Problem, origin: Origin): number[] {
  let letters: string[];
  if (typeof value === 'string') letters = [...value.replace(/\s/g, '')];
  else if (Array.isArray(value)) letters = value.map(String);
  else if (value === undefined) letters = [];
  else fail(origin, `expected a permutation string such as "DEL", got ${describe(value)}`);
  const perm: number[] = [];
  for (const l of letters) {
    const d = problem.dimensions.indexOf(l);
    if (d < 0) fail(origin, `'${l}' is not a dimension of the problem (${problem.dimensions.join(', ')})`);
    if (perm.includes(d)) fail(origin, `dimension '${l}' appears twice`);
    perm.push(d);
  }
  // Timeloop pads a partial permutation with the missing dimensions.
  for (let d = 0; d < problem.dimensions.length; d++) if (!perm.includes(d)) perm.push(d);
  return perm;
}

function dataspaceList(value: unknown, problem: Problem, origin: Origin): number[] {
  const list = value === undefined || value === null ? [] : typeof value === 'string' ? [value] : asList(value, origin);
  return list.map((n, i) => {
    const pv = problem.dataspaces.findIndex((d) => d.name === n);
    if (pv < 0) fail(at(origin, i), `'${String(n)}' is not a dataspace of the problem (${problem.dataspaces.map((d) => d.name).join(', ')})`);
    return pv;
  });
}

function levelIndex(target: unknown, arch: Architecture, origin: Origin): number {
  if (typeof target === 'number') {
    // Timeloop numbers storage levels from the innermost.
    if (!Number.isInteger(target) || target < 0 || target >= arch.storage.length) {
      fail(origin, `level index ${target} is out of range (0..${arch.storage.length - 1}, 0 = innermost)`);
    }
    return arch.storage.length - 1 - target;
  }
  if (typeof target !== 'string') fail(origin, `expected a storage level name, got ${describe(target)}`);
  const i = arch.storage.findIndex((s) => s.name === target);
  if (i < 0) fail(origin, `'${target}' is not a storage level of the architecture (${arch.storage.map((s) => s.name).join(', ')})`);
  return i;
}

/** Parses a `mapping` block (list of temporal / spatial / bypass directives). */
export function parseMapping(value: unknown, problem: Problem, arch: Architecture, origin: Origin): Mapping {
  const n = arch.storage.length;
  const nd = problem.dimensions.length;
  const unit = (): LoopBlock => ({
    factors: new Array<number>(nd).fill(1),
    residuals: new Array<number>(nd).fill(1),
    permutation: [...Array(nd).keys()],
  });
  const temporal: LoopBlock[] = Array.from({ length: n }, unit);
  const spatial: (SpatialBlock | null)[] = new Array(n).fill(null);
  // Every dataspace is kept everywhere unless a directive says otherwise.
  const keep: boolean[][] = Array.from({ length: n }, () => problem.dataspaces.map(() => true));
  const seen = new Set<string>();

  asList(value, origin).forEach((d, i) => {
    const o = at(origin, i);
    const dir = asObj(d, o);
    const type = str(dir, o, 'type');
    if (type === undefined) fail(o, 'directive has no type (temporal, spatial, bypass)');
    const level = levelIndex(dir['target'], arch, at(o, 'target'));
    const tag = `${level}/${type === 'datatype' || type === 'dataspace' ? 'bypass' : type}`;
    if (seen.has(tag)) fail(o, `a second ${type} directive for level '${arch.storage[level].name}'`);
    seen.add(tag);
    if (type === 'temporal' || type === 'spatial') {
      const fv = dir['factors'];
      const fo = at(o, 'factors');
      const { factors, residuals } =
        fv === undefined ? { factors: unit().factors.slice(), residuals: unit().residuals.slice() } : parseFactorString(typeof fv === 'string' ? fv : fail(fo, `expected a string such as "D=4 E=1", got ${describe(fv)}`), problem, fo);
      const permutation = parsePermutation(dir['permutation'], problem, at(o, 'permutation'));
      if (type === 'temporal') {
        temporal[level] = { factors, residuals, permutation };
      } else {
        const inner = level + 1 < n ? arch.storage[level + 1] : arch.arithmetic;
        const here = arch.storage[level];
        if (inner.meshX * inner.meshY === here.meshX * here.meshY) {
          fail(o, `level '${here.name}' has no spatial fanout (the next inner level has the same number of instances)`);
        }
        const split = numIn(FIELD_DOMAINS.split, dir, o, 'split') ?? nd;
        spatial[level] = { factors, residuals, permutation, split };
      }
    } else if (type === 'bypass' || type === 'datatype' || type === 'dataspace') {
      for (const pv of dataspaceList(dir['keep'], problem, at(o, 'keep'))) keep[level][pv] = true;
      for (const pv of dataspaceList(dir['bypass'], problem, at(o, 'bypass'))) keep[level][pv] = false;
    } else if (type === 'skew') {
      fail(o, 'skew directives are not supported');
    } else {
      fail(at(o, 'type'), `unknown directive type '${type}' (expected temporal, spatial or bypass)`);
    }
  });

  const levels: LevelMapping[] = [];
  for (let d = 0; d < nd; d++) {
    const pairs: [number, number][] = [];
    const parts: string[] = [];
    for (let l = 0; l < n; l++) {
      pairs.push([temporal[l].factors[d], temporal[l].residuals[d]]);
      const sp = spatial[l];
      if (sp) pairs.push([sp.factors[d], sp.residuals[d]]);
      const f = (b: LoopBlock) => (b.residuals[d] !== b.factors[d] ? `${b.factors[d]},${b.residuals[d]}` : `${b.factors[d]}`);
      parts.push(`${arch.storage[l].name} ${f(temporal[l])}${sp ? ` (spatial ${f(sp)})` : ''}`);
    }
    const size = foldedSize(pairs);
    if (size !== problem.bounds[d]) {
      fail(origin, `the factors of dimension '${problem.dimensions[d]}' multiply to ${size}, not to its size ${problem.bounds[d]} (${parts.join(', ')})`);
    }
  }
  for (let l = 0; l < n; l++) {
    const fan = (l + 1 < n ? arch.storage[l + 1] : arch.arithmetic);
    const hasFanout = fan.meshX * fan.meshY > arch.storage[l].meshX * arch.storage[l].meshY;
    levels.push({
      temporal: temporal[l],
      spatial: spatial[l] ?? (hasFanout ? { ...unit(), split: nd } : null),
      keep: keep[l],
    });
  }
  return { levels };
}

/** A merged Timeloop input: whichever of its blocks were present. */
export interface TimeloopInput {
  readonly architecture?: Architecture;
  readonly problem?: Problem;
  readonly mapping?: Mapping;
  readonly ert?: EnergyReferenceTable;
  /** Raw blocks for the mapper (parsed by the mapper's own readers). */
  readonly raw: Readonly<Record<string, { value: unknown; file: string }>>;
}

/**
 * Builds the domain objects from already-parsed YAML documents (one per
 * file). Later files override earlier ones key by key, as Timeloop does.
 */
export function importTimeloopDocuments(docs: readonly { file: string; doc: unknown }[]): TimeloopInput {
  const raw: Record<string, { value: unknown; file: string }> = {};
  for (const { file, doc } of docs) {
    if (doc === null || doc === undefined) continue;
    const o = asObj(doc, { file, path: '' }, 'a YAML mapping at the top level');
    for (const [k, v] of Object.entries(o)) raw[k.replace(/-/g, '_')] = { value: v, file };
  }
  const get = (...keys: string[]) => {
    for (const k of keys) if (raw[k]) return { ...raw[k], key: k };
    return undefined;
  };
  const a = get('architecture', 'arch');
  const p = get('problem');
  const e = get('ERT');
  const m = get('mapping');
  const architecture = a ? parseTreeArchitecture(a.value, { file: a.file, path: a.key }) : undefined;
  const problem = p ? parseProblem(p.value, { file: p.file, path: 'problem' }) : undefined;
  const ert = e ? parseErt(e.value, { file: e.file, path: 'ERT' }) : undefined;
  let mapping: Mapping | undefined;
  if (m) {
    const mo = { file: m.file, path: 'mapping' };
    if (!architecture) fail(mo, 'a mapping needs an `architecture` in one of the input files');
    if (!problem) fail(mo, 'a mapping needs a `problem` in one of the input files');
    mapping = parseMapping(m.value, problem, architecture, mo);
  }
  return { architecture, problem, mapping, ert, raw };
}
