/**
 * Accelergy's estimation of one component, as the study ran it: primitive
 * classes go to the plug-in with the best accuracy that supports them (a
 * matching PIM table row, 100; the library's Aladdin tables, 90; CACTI, 80;
 * NeuroSim, 70), compound classes are expanded into their subcomponents as
 * the study's component YAMLs define them, and the energies of a compound
 * action are summed unrounded.
 *
 * Compound classes (study-facts §4.11):
 *  - from transformer_gemmini/arch/components: intmac, regfile,
 *    smartbuffer_RF, smartbuffer_SRAM;
 *  - from transformer_pim/arch_v0.4/components: A2D_conversion_system,
 *    ADC_SimpleMulticast, D2A_conversion_system, DAC_SimpleMulticast,
 *    digital_accumulation_system, memcell_compute, memcell_storage,
 *    dummy_storage, SRAM_storage.
 * A subcomponent receives only the attributes its YAML lists, plus
 * technology and global_cycle_seconds.
 */
import type { EnergyAction } from '../energy-table.ts';
import {
  addressBits,
  attributeError,
  componentError,
  optionalInteger,
  requiredInteger,
  requiredNumber,
  technologyNm,
  type Attributes,
  type Where,
} from './attributes.ts';
import { cactiDramAccessPJ, cactiSram, type SramEstimate } from './cacti.ts';
import { LIBRARY_CLASSES, libraryEstimate, type LibraryEstimate } from './library.ts';
import { neurosimIntadder, type IntadderEstimate } from './neurosim.ts';
import { TABLE_ONLY_CLASSES, tableActions, tableArea, tableEnergy, type TableSet } from './tables.ts';

export type ActionArguments = Readonly<Record<string, number | string>>;

export interface ActionSpec {
  readonly name: string;
  readonly arguments?: ActionArguments;
}

/** A component being estimated: energies and area are computed on demand, unrounded. */
export interface Component {
  readonly className: string;
  /** The actions it lists in an ERT. */
  actions(): readonly ActionSpec[];
  /** pJ of one action; throws a UserError for an action the class does not have. */
  energy(action: string, args?: ActionArguments): number;
  /** um² of one instance. */
  area(): number;
}

/** What the estimation of one top-level component shares: options, notes, sources. */
export interface Context {
  readonly tables: readonly TableSet[];
  readonly defaultCycleSeconds: number;
  readonly sources: Set<string>;
  readonly notes: Set<string>;
}


export const DEFAULT_CYCLE_SECONDS = 1.2e-9;

function lazy<T>(f: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = f();
      done = true;
    }
    return value;
  };
}

function cycleSeconds(attrs: Attributes, ctx: Context, where: Where): number {
  const v = attrs['global_cycle_seconds'];
  if (v === undefined || v === null) return ctx.defaultCycleSeconds;
  const n = requiredNumber(attrs, 'global_cycle_seconds', where);
  if (!(n > 0)) throw attributeError(where, 'global_cycle_seconds', `must be positive, got ${n}`);
  return n;
}

function noSuchAction(where: Where, action: string, names: readonly string[]): never {
  throw componentError(where, `has no action '${action}' (it has ${names.join(', ')})`);
}

function whole(value: number, name: string, where: Where): number {
  if (!Number.isInteger(value) || value < 0) {
    throw componentError(where, `${name} = ${value} must be a whole number (a subcomponent count or repeat)`);
  }
  return value;
}

// ---------------------------------------------------------------------------
// Primitives

/** Built-in plug-in of a primitive: energy per action and area, or null when it has no such action. */
interface BuiltIn {
  readonly source: string;
  readonly actions: readonly string[];
  energy(action: string, args?: ActionArguments): number | null;
  area(): number;
}

function truthy(v: unknown): boolean {
  if (v === undefined) return true;
  if (typeof v === 'string') return v !== '' && v.toLowerCase() !== 'false' && v !== '0';
  return Boolean(v);
}

function sramBuiltIn(attrs: Attributes, ctx: Context, where: Where): BuiltIn {
  const get = lazy((): SramEstimate | 'zero' => {
    const width = requiredInteger(attrs, 'width', where, 0);
    const depth = requiredInteger(attrs, 'depth', where, 0);
    if (width * depth === 0) return 'zero'; // zero energy and area (the plug-in's rule for an empty SRAM)
    const est = cactiSram(
      {
        technologyNm: technologyNm(attrs, where),
        width,
        depth,
        nRwPorts: optionalInteger(attrs, 'n_rw_ports', where, 1, 1),
        nBanks: optionalInteger(attrs, 'n_banks', where, 1, 1),
      },
      where,
    );
    if (attrs['n_rdwr_ports'] !== undefined && attrs['n_rw_ports'] === undefined) {
      ctx.notes.add(`${where.className}: n_rdwr_ports ignored (the CACTI plug-in reads n_rw_ports, default 1)`);
    }
    if (!est.exact) ctx.notes.add(`${where.className} ${width}x${depth}: CACTI outputs interpolated between stored runs`);
    ctx.sources.add(est.exact ? 'CACTI 7 (stored runs)' : 'CACTI 7 (interpolated between stored runs)');
    return est;
  });
  return {
    source: 'CACTI',
    actions: ['read', 'write', 'update', 'leak'],
    energy(action, args) {
      const est = get();
      if (est === 'zero') return 0; // every action of an empty SRAM, idle included
      const factor = 0.7 * Number(truthy(args?.['data_delta'])) + 0.3 * Number(truthy(args?.['address_delta']));
      switch (action) {
        case 'read':
          return est.readPJ * factor;
        case 'write':
          return est.writePJ * factor;
        case 'update':
          return est.updatePJ * factor;
        case 'leak':
          return est.leakMW * cycleSeconds(attrs, ctx, where) * 1e9;
        default:
          return null;
      }
    },
    area: () => {
      const est = get();
      return est === 'zero' ? 0 : est.areaUm2;
    },
  };
}

function dramBuiltIn(attrs: Attributes, ctx: Context, where: Where): BuiltIn {
  const access = lazy(() => {
    const width = requiredInteger(attrs, 'width', where, 1);
    const type = attrs['type'] === undefined ? 'LPDDR4' : String(attrs['type']);
    ctx.sources.add('CACTI plug-in DRAM table');
    return cactiDramAccessPJ(type, width, where);
  });
  return {
    source: 'CACTI DRAM',
    actions: ['read', 'write', 'update', 'leak'],
    energy(action) {
      if (action === 'read' || action === 'write' || action === 'update') return access();
      if (action === 'leak') return access() * 0;
      return null;
    },
    area: () => access() * 0,
  };
}

const NEUROSIM_READ = ['read', 'mac_random', 'mac_reused', 'compute', 'add', 'shift_add', 'convert'];
const NEUROSIM_WRITE = ['write', 'set', 'erase', 'update'];

function intadderBuiltIn(attrs: Attributes, ctx: Context, where: Where): BuiltIn {
  const get = lazy((): IntadderEstimate => {
    const nBits = Math.trunc(requiredNumber(attrs, 'n_bits', where));
    ctx.sources.add('NeuroSim (intadder)');
    return neurosimIntadder(technologyNm(attrs, where), nBits, cycleSeconds(attrs, ctx, where), where);
  });
  return {
    source: 'NeuroSim',
    actions: ['add', 'read', 'write', 'update', 'leak'],
    energy(action) {
      if (NEUROSIM_READ.includes(action)) return get().addPJ;
      if (NEUROSIM_WRITE.includes(action)) return get().addPJ * 0;
      if (action === 'leak') return get().leakPJPerCycle;
      return null;
    },
    area: () => get().areaUm2,
  };
}

function libraryBuiltIn(className: string, attrs: Attributes, ctx: Context, where: Where): BuiltIn {
  const get = lazy((): LibraryEstimate => {
    technologyNm(attrs, where); // a clear error when it is missing or not a node
    ctx.sources.add('library plug-in (Aladdin tables)');
    return libraryEstimate(className, attrs, where);
  });
  const actions = lazy(() => get().actions.map((a) => a.name));
  return {
    source: 'library',
    get actions() {
      return actions();
    },
    energy(action) {
      return get().actions.find((a) => a.name === action)?.energy ?? null;
    },
    area: () => get().areaUm2,
  };
}

const PRIMITIVES = ['SRAM', 'DRAM', 'intadder', ...LIBRARY_CLASSES, ...TABLE_ONLY_CLASSES];

function builtInFor(className: string, attrs: Attributes, ctx: Context, where: Where): BuiltIn | null {
  if (className === 'SRAM') return sramBuiltIn(attrs, ctx, where);
  if (className === 'DRAM') return dramBuiltIn(attrs, ctx, where);
  if (className === 'intadder') return intadderBuiltIn(attrs, ctx, where);
  if ((LIBRARY_CLASSES as readonly string[]).includes(className)) return libraryBuiltIn(className, attrs, ctx, where);
  return null;
}

/**
 * A primitive class: each action (and the area) from a matching table row if
 * there is one, else from the built-in plug-in.
 */
function primitive(className: string, attrs: Attributes, ctx: Context, where: Where): Component {
  const builtIn = builtInFor(className, attrs, ctx, where);
  const actions = lazy((): ActionSpec[] => {
    if (builtIn) return builtIn.actions.map((name) => ({ name }));
    const t = tableActions(className, attrs, ctx.tables);
    if (!t) throw noTableRow(className, attrs, ctx, where);
    return t.actions.map((name) => ({ name }));
  });
  return {
    className,
    actions,
    energy(action, args) {
      const hit = tableEnergy(className, attrs, action, args, ctx.tables);
      if (hit) {
        ctx.sources.add(`PIM table ${hit.set}`);
        return hit.value;
      }
      if (!builtIn) {
        if (!tableActions(className, attrs, ctx.tables)) throw noTableRow(className, attrs, ctx, where);
        return noSuchAction(where, action, actions().map((a) => a.name));
      }
      const v = builtIn.energy(action, args);
      if (v === null) return noSuchAction(where, action, builtIn.actions);
      return v;
    },
    area() {
      const hit = tableArea(className, attrs, ctx.tables);
      if (hit) {
        ctx.sources.add(`PIM table ${hit.set}`);
        return hit.value;
      }
      if (!builtIn) throw noTableRow(className, attrs, ctx, where);
      return builtIn.area();
    },
  };
}

function noTableRow(className: string, attrs: Attributes, ctx: Context, where: Where) {
  if (ctx.tables.length === 0) return componentError(where, `class ${className} is estimated only from the PIM tables, which are disabled`);
  const shown = Object.entries(attrs)
    .filter(([k]) => ['technology', 'datawidth', 'cellwidth', 'type', 'width', 'depth', 'latency', 'global_cycle_seconds'].includes(k))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
  return componentError(where, `no row of the PIM table ${className}.csv matches (${shown})`);
}

// ---------------------------------------------------------------------------
// Compounds

type Sub = (className: string, attrs: Record<string, unknown>) => Component;

/**
 * A smartbuffer: its storage plus two address generators (intadders of
 * log2(depth) bits); every access also costs one address addition.
 */
function withAddressGenerators(storage: Component, sub: Sub, depth: number, where: Where): Omit<Component, 'className'> {
  const bits = addressBits(depth);
  const adder = sub('intadder', { n_bits: bits, precision: bits, datawidth: bits });
  const write = () => storage.energy('write') + adder.energy('add');
  return {
    ...fixedActions(['write', 'read', 'leak', 'update'], where, {
      write,
      read: () => storage.energy('read') + adder.energy('add'),
      leak: () => storage.energy('leak') + 2 * adder.energy('leak'),
      update: write,
    }),
    area: () => storage.area() + 2 * adder.area(),
  };
}

interface CompoundDef {
  /** Default attributes (overridden by the given ones). */
  readonly defaults?: Readonly<Record<string, unknown>>;
  /** Attributes that must be given (Accelergy's "must_specify"). */
  readonly required?: readonly string[];
  /** Derived attributes, computed in order unless given. */
  readonly derived?: readonly (readonly [string, (a: Record<string, unknown>) => unknown])[];
  build(a: Record<string, unknown>, sub: Sub, where: Where, ctx: Context): Omit<Component, 'className'>;
}

function n(a: Record<string, unknown>, name: string, where: Where): number {
  return requiredNumber(a, name, where);
}

function sumActions(parts: readonly (readonly [number, () => number])[]): number {
  let total = 0;
  for (const [count, energy] of parts) if (count !== 0) total += count * energy();
  return total;
}

function fixedActions(names: readonly string[], where: Where, table: Readonly<Record<string, () => number>>): Omit<Component, 'className' | 'area'> {
  return {
    actions: () => names.map((name) => ({ name })),
    energy(action) {
      const f = table[action];
      if (!f) return noSuchAction(where, action, names);
      return f();
    },
  };
}

const ONE_ONE: ActionArguments = { address_delta: 1, data_delta: 1 };

const COMPOUNDS: Readonly<Record<string, CompoundDef>> = {
  intmac: {
    required: ['technology', 'multiplier_width', 'adder_width'],
    build(a, sub, where) {
      const adder = sub('aladdin_adder', { width: a['adder_width'] });
      // The study models the multiplier with an adder primitive; width_a/width_b name no column of its table.
      const mult = sub('aladdin_adder', { width_a: a['multiplier_width'], width_b: a['multiplier_width'] });
      return {
        ...fixedActions(['compute', 'leak'], where, {
          compute: () => adder.energy('read') + mult.energy('read'),
          leak: () => adder.energy('leak') + mult.energy('leak'),
        }),
        area: () => adder.area() + mult.area(),
      };
    },
  },

  regfile: {
    required: ['technology', 'width', 'depth'],
    build(a, sub, where) {
      const width = whole(n(a, 'width', where), 'width', where);
      const depth = whole(n(a, 'depth', where), 'depth', where);
      const storage = sub('aladdin_register', {});
      const comparator = sub('aladdin_comparator', { n_bits: addressBits(depth) });
      const write = () => sumActions([[width, () => storage.energy('write')], [depth, () => comparator.energy('compare')]]);
      return {
        ...fixedActions(['write', 'read', 'leak', 'update'], where, {
          write,
          read: () => sumActions([[width, () => storage.energy('read')], [depth, () => comparator.energy('compare')]]),
          leak: () => sumActions([[width * depth, () => storage.energy('leak')], [depth, () => comparator.energy('leak')]]),
          update: write,
        }),
        area: () => sumActions([[width * depth, () => storage.area()], [depth, () => comparator.area()]]),
      };
    },
  },

  smartbuffer_RF: {
    required: ['technology', 'width', 'depth'],
    defaults: { n_rdwr_ports: 1 },
    derived: [
      ['memory_width', (a) => Math.max(32, Number(a['width']))],
      ['memory_depth', (a) => Math.max(64, Number(a['depth']))],
    ],
    build(a, sub, where, ctx) {
      // The YAML's dynamic_energy_scale / static_energy_scale / area_scale are not applied: the
      // study's Accelergy core (older than 7d92adb) ignored them, and its numbers match only without.
      if (Number(a['memory_width']) !== Number(a['width']) || Number(a['memory_depth']) !== Number(a['depth'])) {
        ctx.notes.add(
          `smartbuffer_RF ${a['width']}x${a['depth']}: costed as the full regfile ${a['memory_width']}x${a['memory_depth']} ` +
            '(energy_scale/area_scale ignored, as by the study\'s Accelergy core)',
        );
      }
      const storage = sub('regfile', { width: a['memory_width'], depth: a['memory_depth'], n_rdwr_ports: a['n_rdwr_ports'] });
      return withAddressGenerators(storage, sub, n(a, 'depth', where), where);
    },
  },

  smartbuffer_SRAM: {
    required: ['technology', 'width', 'depth'],
    defaults: { n_rw_ports: 1 },
    build(a, sub, where, ctx) {
      // n_banks (and e.g. Simba's nports) are not passed to the storage.
      if (a['n_banks'] !== undefined && Number(a['n_banks']) !== 1) {
        ctx.notes.add(`smartbuffer_SRAM: n_banks ${a['n_banks']} not passed to its SRAM (the study's YAML), costed with 1 bank`);
      }
      const storage = sub('SRAM', { width: a['width'], depth: a['depth'], n_rw_ports: a['n_rw_ports'] });
      return withAddressGenerators(storage, sub, n(a, 'depth', where), where);
    },
  },

  A2D_conversion_system: {
    defaults: { technology: '32nm', latency: '1ns', datawidth: 16, cell_datawidth: 2, n_DAC_cycles: 16, ADC_datawidth: 8, n_PE_cols: 8 },
    derived: [
      ['nCells', (a) => Number(a['datawidth']) / Number(a['cell_datawidth'])],
      ['SH_datawidth', (a) => a['ADC_datawidth']],
      ['total_SHs', (a) => Number(a['nCells']) * Number(a['n_PE_cols'])],
      ['ADC_converts_per_psum', (a) => Number(a['nCells']) * Number(a['n_DAC_cycles'])],
    ],
    build(a, sub, where) {
      const nCells = whole(n(a, 'nCells', where), 'nCells', where);
      const totalSHs = whole(n(a, 'total_SHs', where), 'total_SHs', where);
      const sh = sub('sample_and_hold', { technology: a['technology'], latency: a['latency'], datawidth: a['SH_datawidth'] });
      const adc = sub('ADC', { technology: a['technology'], latency: a['latency'], type: 'SAR', datawidth: a['ADC_datawidth'] });
      return {
        ...fixedActions(['convert'], where, {
          convert: () =>
            sumActions([
              [nCells * n(a, 'n_DAC_cycles', where), () => sh.energy('sample_and_hold')],
              [n(a, 'ADC_converts_per_psum', where), () => adc.energy('convert')],
            ]),
        }),
        area: () => totalSHs * sh.area() + adc.area(),
      };
    },
  },

  D2A_conversion_system: {
    defaults: { technology: '32nm', latency: '1ns', datawidth: 16, meshX: 128, meshY: 128, DAC_datawidth: 1, cell_datawidth: 2 },
    derived: [
      ['nCells', (a) => Number(a['datawidth']) / Number(a['cell_datawidth'])],
      ['nArrays', (a) => a['nCells']],
      ['nCycles', (a) => Number(a['datawidth']) / Number(a['DAC_datawidth'])],
      ['total_DACs', (a) => Number(a['nArrays']) * Number(a['meshY'])],
      ['DAC_converts_per_psum', (a) => a['nCycles']],
    ],
    build(a, sub, where) {
      const nArrays = whole(n(a, 'nArrays', where), 'nArrays', where);
      const totalDACs = whole(n(a, 'total_DACs', where), 'total_DACs', where);
      const dac = sub('DAC', { technology: a['technology'], latency: a['latency'], datawidth: a['DAC_datawidth'] });
      return {
        ...fixedActions(['convert'], where, {
          convert: () => sumActions([[nArrays * n(a, 'nCycles', where), () => dac.energy('convert')]]),
        }),
        area: () => totalDACs * dac.area(),
      };
    },
  },

  DAC_SimpleMulticast: {
    required: ['n_PE_cols'],
    defaults: { technology: '45nm', latency: '1ns', datawidth: 16, DAC_datawidth: 1, cell_datawidth: 2 },
    derived: [['num_converts', (a) => Number(a['datawidth']) / Number(a['DAC_datawidth'])]],
    build(a, sub, where) {
      const cols = whole(n(a, 'n_PE_cols', where), 'n_PE_cols', where);
      const d2a = sub('D2A_conversion_system', {
        technology: a['technology'],
        latency: a['latency'],
        datawidth: a['datawidth'],
        DAC_datawidth: a['DAC_datawidth'],
        cell_datawidth: a['cell_datawidth'],
      });
      // One entry per num_destinations in 1..n_PE_cols; each converts for all n_PE_cols columns.
      const specs: ActionSpec[] = [];
      for (let k = 1; k <= cols; k++) specs.push({ name: 'transfer_Inputs', arguments: { num_destinations: k } });
      return {
        actions: () => specs,
        energy(action) {
          if (action !== 'transfer_Inputs') return noSuchAction(where, action, ['transfer_Inputs']);
          return cols * d2a.energy('convert');
        },
        area: () => d2a.area(),
      };
    },
  },

  ADC_SimpleMulticast: {
    defaults: { technology: '45nm', latency: '1ns', datawidth: 16, A2D_convert_width: 16, ADC_datawidth: 8, cell_datawidth: 2, n_DAC_cycles: 16 },
    build(a, sub, where) {
      const common = { technology: a['technology'], latency: a['latency'], datawidth: a['datawidth'], cell_datawidth: a['cell_datawidth'], n_DAC_cycles: a['n_DAC_cycles'] };
      const a2d = sub('A2D_conversion_system', { ...common, ADC_datawidth: a['ADC_datawidth'] });
      const acc = sub('digital_accumulation_system', common);
      return {
        actions: () => [{ name: 'transfer_Outputs', arguments: { num_destinations: 1 } }],
        energy(action) {
          if (action !== 'transfer_Outputs') return noSuchAction(where, action, ['transfer_Outputs']);
          return a2d.energy('convert') + acc.energy('accumulate');
        },
        area: () => a2d.area() + acc.area(),
      };
    },
  },

  digital_accumulation_system: {
    defaults: { technology: '32nm', latency: '1ns', datawidth: 16, meshX: 128, meshY: 128, cell_datawidth: 2, n_DAC_cycles: 16 },
    derived: [
      ['nCells', (a) => Number(a['datawidth']) / Number(a['cell_datawidth'])],
      ['nArrays', (a) => a['nCells']],
      ['total_S_As', (a) => a['nArrays']],
      ['S_A_datawidth', (a) => a['datawidth']],
      ['S_As_per_psum', (a) => Number(a['nCells']) * Number(a['n_DAC_cycles'])],
      ['buffer_per_psum', (a) => Number(a['n_DAC_cycles']) - 2],
    ],
    build(a, sub, where) {
      const sa = sub('shift_and_add', { technology: a['technology'], latency: a['latency'], datawidth: a['S_A_datawidth'] });
      const buffer = sub('SRAM', { technology: a['technology'], latency: a['latency'], width: 16, depth: 128, datawidth: 16 });
      return {
        ...fixedActions(['accumulate'], where, {
          accumulate: () =>
            sumActions([
              [n(a, 'S_As_per_psum', where), () => sa.energy('shift_and_add')],
              [n(a, 'buffer_per_psum', where), () => buffer.energy('read', ONE_ONE)],
              [n(a, 'buffer_per_psum', where), () => buffer.energy('write', ONE_ONE)],
            ]),
        }),
        area: () => sa.area() + buffer.area(),
      };
    },
  },

  memcell_compute: {
    defaults: { cell_technology: 'memristor', cmos_technology: '32nm', cell_datawidth: 2, DAC_datawidth: 1, datawidth: 16, compute_latency: '100ns' },
    derived: [
      ['nCells', (a) => Number(a['datawidth']) / Number(a['cell_datawidth'])],
      ['nCycles', (a) => Number(a['datawidth']) / Number(a['DAC_datawidth'])],
    ],
    build(a, sub, where) {
      const nCells = whole(n(a, 'nCells', where), 'nCells', where);
      const cell = sub('ReRAMcell_compute', { technology: a['cell_technology'], cellwidth: a['cell_datawidth'], latency: '100ns' });
      const args = { technology: String(a['cell_technology']) };
      return {
        ...fixedActions(['compute'], where, {
          compute: () => sumActions([[nCells * n(a, 'nCycles', where), () => cell.energy('compute', args)]]),
        }),
        area: () => nCells * cell.area(),
      };
    },
  },

  memcell_storage: {
    defaults: { cell_technology: 'memristor', cmos_technology: '32nm', depth: 256, width: 16, cell_datawidth: 2 },
    build(a, sub, where) {
      // A single 2-bit cell stands for the whole word (the study's YAML).
      const cellAttrs: Record<string, unknown> = { technology: a['cell_technology'], cellwidth: a['cell_datawidth'] };
      if (a['latency'] !== undefined) cellAttrs['latency'] = a['latency'];
      const cell = sub('ReRAMcell_storage', cellAttrs);
      const args = { technology: String(a['cell_technology']) };
      return {
        ...fixedActions(['read', 'write', 'update', 'leak'], where, {
          read: () => cell.energy('read', args),
          write: () => cell.energy('write', args),
          update: () => cell.energy('write', args),
          leak: () => cell.energy('idle', args),
        }),
        area: () => cell.area(),
      };
    },
  },

  dummy_storage: {
    defaults: { depth: 0, width: 0 },
    build(_a, sub, where) {
      const storage = sub('SRAM', { depth: 0, width: 0, datawidth: 0, n_rdwr_ports: 0 });
      return {
        ...fixedActions(['write', 'update', 'read', 'leak'], where, {
          write: () => storage.energy('write'),
          update: () => storage.energy('write'),
          read: () => storage.energy('read'),
          leak: () => storage.energy('idle'),
        }),
        area: () => storage.area(),
      };
    },
  },

  SRAM_storage: {
    defaults: { technology: '16nm', latency: '1ns', depth: 1024, width: 16, datawidth: 16, nports: 1, nbanks: 1 },
    build(a, sub, where) {
      const storage = sub('SRAM', {
        technology: a['technology'],
        latency: a['latency'],
        depth: a['depth'],
        width: a['width'],
        datawidth: a['datawidth'],
        n_rdwr_ports: a['nports'],
        n_banks: a['nbanks'],
      });
      return {
        ...fixedActions(['read', 'write'], where, {
          read: () => storage.energy('read', ONE_ONE),
          write: () => storage.energy('write', ONE_ONE),
        }),
        area: () => storage.area(),
      };
    },
  },
};

export const COMPOUND_CLASSES = Object.keys(COMPOUNDS);
export const PRIMITIVE_CLASSES = PRIMITIVES;

const ALIASES: Readonly<Record<string, string>> = { sram: 'SRAM', dram: 'DRAM' };

export function canonicalClass(className: string): string {
  return ALIASES[className] ?? (LIBRARY_CLASSES.find((c) => c === className.toLowerCase()) ?? className);
}

export function isSupportedClass(className: string): boolean {
  const c = canonicalClass(className);
  return c in COMPOUNDS || PRIMITIVES.includes(c);
}

/**
 * The component for `className` with `attrs` (technology and
 * global_cycle_seconds already in `attrs` where known).
 */
export function makeComponent(className: string, attrs: Attributes, ctx: Context, where: Where): Component {
  const cls = canonicalClass(className);
  const def = COMPOUNDS[cls];
  if (!def) {
    if (PRIMITIVES.includes(cls)) return primitive(cls, attrs, ctx, { ...where, className: cls });
    throw componentError(
      { ...where, className },
      `class '${className}' is not supported (supported: ${[...COMPOUND_CLASSES, ...PRIMITIVES].join(', ')})`,
    );
  }
  const here: Where = { ...where, className: cls };
  const a: Record<string, unknown> = { ...(def.defaults ?? {}) };
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) a[k] = v;
  for (const r of def.required ?? []) {
    if (a[r] === undefined || a[r] === null) throw attributeError(here, r, 'is required and was not given');
  }
  for (const [k, f] of def.derived ?? []) if (attrs[k] === undefined) a[k] = f(a);
  const sub: Sub = (subClass, subAttrs) => {
    const given: Record<string, unknown> = {};
    if (a['technology'] !== undefined) given['technology'] = a['technology'];
    if (a['global_cycle_seconds'] !== undefined) given['global_cycle_seconds'] = a['global_cycle_seconds'];
    for (const [k, v] of Object.entries(subAttrs)) if (v !== undefined) given[k] = v;
    return makeComponent(subClass, given, ctx, { className: subClass, component: where.component, path: [...(where.path ?? []), cls] });
  };
  return { className: cls, ...def.build(a, sub, here, ctx) };
}

/** The component's actions with their energies (unrounded). */
export function componentActions(c: Component): EnergyAction[] {
  return c.actions().map((spec) => ({
    name: spec.name,
    ...(spec.arguments ? { arguments: spec.arguments } : {}),
    energy: c.energy(spec.name, spec.arguments),
  }));
}
