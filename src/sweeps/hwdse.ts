/**
 * Hardware design-space exploration (study-facts §1.4, §1.7, §7.2, §7.3):
 * the study's configs (hwdse-configs.ts) turned into architecture variants
 * of the presets, with the constraints of a dataflow, mapped layer by layer
 * and aggregated (aggregate.ts) the study's way and the correct way.
 *
 * A config rewrites the preset's tree as `hwdse_run.py` rewrites its
 * architecture — array shape (PERows / PECols and the meshes below them),
 * scratchpad and accumulator sizes and bandwidths, the NO register files —
 * and the energies are re-estimated from the edited tree (src/arch/energy),
 * since per-access energy and leakage follow the sizes.
 *
 * Constraints come in two modes:
 * - `study` reproduces the study's: at `head` (the constraint files at HEAD,
 *   with B27: WS pinned to a 16×16 block of the array, and Registers
 *   `L=16`, which with 1-entry registers makes OS and IS unmappable) or at
 *   `2024-05-08` (what the HW-DSE table ran with: PERows `[E=1,L=1]`, PECols
 *   `[D=1,L=1]`, Registers `[E=1,D=1]`, DRAM `shared_bandwidth 8`). OS and
 *   IS replace only the array factors and the Registers' keep set (B7: the
 *   Registers' temporal factors stay, so OS cannot accumulate over E in the
 *   PE and IS cannot reuse an input over D).
 * - `fixed` (default) expresses the dataflows: the stationary tensor is the
 *   one the PE's register keeps, its two dimensions are the ones the array
 *   spreads (as far as the array shape allows: no exact 16, no minimum), and
 *   the third dimension is the one the PE loops over:
 *   WS keeps W[D][E]: rows D, columns E, the PE loops over L;
 *   OS keeps Out[D][L]: rows D, columns L, the PE loops over E (accumulates);
 *   IS keeps In[E][L]: rows L, columns E, the PE loops over D.
 *   The reduction dimension E goes on the columns for WS and IS, as the
 *   study's WS does: the columns of a row reduce into that row's accumulator
 *   (the study's IS put E on the rows, whose accumulators are separate, so
 *   partial sums could only meet in DRAM). Everything else is the preset's.
 *
 * `version` also selects the architecture's state where it changed: at
 * `2024-05-08` the Gemmini DRAM has `shared_bandwidth: 8` instead of
 * read/write 4 (in both modes, so that `fixed` vs `study` at 2024-05-08
 * differs by the constraints only).
 */
import type { ArchitecturePreset } from '../inputs/presets.ts';
import { loadArchitecture, presetConstraints } from '../inputs/presets.ts';
import { estimateArchitecture, estimateComponent, round6 } from '../arch/energy/index.ts';
import type { EnergyAction } from '../arch/energy-table.ts';
import { importTimeloopDocuments } from '../timeloop/tree-import.ts';
import { readYamlFile } from '../util/yaml.ts';
import { UserError } from '../util/errors.ts';
import type { ConstraintTarget } from '../fusion/targets.ts';
import { isDataspaceEntry, targetList } from '../fusion/targets.ts';
import type { MapspaceConstraints } from '../mapper/constraints.ts';
import type { Problem } from '../workload/problem.ts';
import type { Dataflow, GemminiHwConfig, PimHwConfig } from './hwdse-configs.ts';
import { attributesOf, cloneDoc, resizeNode, setAttributes } from './tree-edit.ts';
import { mapOne, mostFrequent } from '../mapper/job.ts';
import { MAPPER_DEFAULTS, mapSettings, type MapDefaults, type MapSettings, type Metric } from '../mapper/settings.ts';
import type { Evaluation } from '../model/result.ts';
import type { Mapping } from '../mapping/mapping.ts';
import { loopNestText } from '../mapping/loop-nest-text.ts';
import { blockLayers } from '../workload/layers.ts';
import type { TransformerModel } from '../workload/models.ts';
import { correctAggregate, studyAggregate, type CorrectAggregate, type LayerMetrics, type StudyAggregate } from './aggregate.ts';

export * from './hwdse-configs.ts';

export type ConstraintMode = 'fixed' | 'study';
/** Which state of the study: its HEAD, or the one the 2024-05-08 HW-DSE table ran with. */
export type StudyVersion = 'head' | '2024-05-08';
export type LayerKindForArch = 'matmul' | 'normop';

export interface VariantOptions {
  /** Default `fixed`. */
  readonly mode?: ConstraintMode;
  /** Default `head`. */
  readonly version?: StudyVersion;
  /** Where the presets live (default experiments/archs). */
  readonly dir?: string;
  /**
   * An SRAM deeper than the stored CACTI runs: `extrapolate` (default, see
   * {@link extrapolatedSramActions}) or `clamp` (price it as the deepest
   * stored run: a lower bound, for sensitivity checks).
   */
  readonly beyondCacti?: 'extrapolate' | 'clamp';
}

/** An architecture variant: a preset (usable wherever one is) plus what it was made from. */
export interface HwdseVariant extends ArchitecturePreset {
  readonly base: string;
  readonly kind: LayerKindForArch;
  readonly mode: ConstraintMode;
  readonly version: StudyVersion;
  readonly dataflow: Dataflow;
  /** The constraint target list (also `constraints.targets`). */
  readonly targets: readonly ConstraintTarget[];
  /** Approximations made in estimating the variant's energies. */
  readonly notes: readonly string[];
}

const W = 'Weights';
const I = 'Inputs';
const O = 'Outputs';
const ALL = [W, I, O] as const;
/** The tensor a dataflow keeps stationary in the PE. */
export const STATIONARY: Readonly<Record<Dataflow, string>> = { WS: W, OS: O, IS: I };

const presetCache = new Map<string, ArchitecturePreset>();
function basePreset(id: string, dir?: string): ArchitecturePreset {
  const key = `${dir ?? ''}\u0000${id}`;
  let p = presetCache.get(key);
  if (!p) {
    p = dir === undefined ? loadArchitecture(id) : loadArchitecture(id, dir);
    presetCache.set(key, p);
  }
  return p;
}

function half(n: number): number {
  return Math.floor(n / 2);
}

function registers(keep: string): ConstraintTarget {
  return { target: 'Registers', type: 'bypass', keep: [keep], bypass: ALL.filter((d) => d !== keep) };
}

/**
 * The study's matmul constraints on the Gemmini variant, in the presets'
 * level names (the PERows fanout is the Scratchpad's spatial slot, PECols
 * the Accumulator's): constraints/constraints.yaml plus the architecture's
 * own, as `hwdse_run.py` leaves them for a dataflow.
 */
export function studyGemminiMatmulTargets(config: Pick<GemminiHwConfig, 'pe_rows' | 'pe_cols' | 'dataflow'>, version: StudyVersion): ConstraintTarget[] {
  const head = version === 'head';
  const { pe_rows: rows, pe_cols: cols, dataflow } = config;
  let rowFactors: string;
  let colFactors: string;
  if (dataflow === 'WS') {
    // B27: the WS_* factor objects are never applied; the architecture's stay.
    rowFactors = head ? 'E=1 L=1 D=16' : 'E=1 L=1';
    colFactors = head ? 'D=1 L=1 E=16' : 'D=1 L=1';
  } else if (dataflow === 'OS') {
    rowFactors = `L=1 E=1 D>=${half(rows)}`;
    colFactors = `E=1 D=1 L>=${half(cols)}`;
  } else {
    rowFactors = `L=1 D=1 E>=${half(rows)}`;
    colFactors = `E=1 D=1 L>=${half(cols)}`;
  }
  return [
    { target: 'DRAM', type: 'bypass', keep: [W, I, O], bypass: [] },
    { target: 'Scratchpad', type: 'bypass', keep: [W, I], bypass: [O] },
    { target: 'Scratchpad', type: 'temporal', factors: 'D=1' },
    { target: 'Scratchpad', type: 'spatial', factors: rowFactors, split: 0 },
    { target: 'Accumulator', type: 'bypass', keep: [O], bypass: [W, I] },
    { target: 'Accumulator', type: 'spatial', factors: colFactors, split: 999 },
    // B7: only the keep set follows the dataflow; the temporal factors stay.
    registers(STATIONARY[dataflow]),
    // HEAD: the arch's `[D=1,E=1,L=16]` perm `[E,D,L]` merged with the file's `[E=1,D=1,L=16]`.
    head ? { target: 'Registers', type: 'temporal', factors: 'D=1 E=1 L=16', permutation: 'EDL' } : { target: 'Registers', type: 'temporal', factors: 'E=1 D=1' },
  ];
}

/** The fixed-mode array factors and PE loop of each dataflow (see the module comment). */
export const FIXED_DATAFLOWS: Readonly<Record<Dataflow, { rows: string; cols: string; pe: string }>> = {
  WS: { rows: 'E=1 L=1', cols: 'D=1 L=1', pe: 'D=1 E=1' },
  OS: { rows: 'E=1 L=1', cols: 'D=1 E=1', pe: 'D=1 L=1' },
  IS: { rows: 'D=1 E=1', cols: 'D=1 L=1', pe: 'E=1 L=1' },
};

/**
 * Fixed mode: the preset's list with the dataflow's array factors,
 * Registers keep set and Registers temporal factors in place of its own.
 */
export function fixedGemminiMatmulTargets(presetTargets: readonly ConstraintTarget[], dataflow: Dataflow): ConstraintTarget[] {
  const f = FIXED_DATAFLOWS[dataflow];
  const replaced = (e: ConstraintTarget) =>
    (e.type === 'spatial' && (e.target === 'Scratchpad' || e.target === 'Accumulator')) || e.target === 'Registers';
  const split = (target: string, fallback: number) => (presetTargets.find((e) => e.target === target && e.type === 'spatial')?.['split'] as number | undefined) ?? fallback;
  return [
    ...presetTargets.filter((e) => !replaced(e)).map((e) => ({ ...e })),
    { target: 'Scratchpad', type: 'spatial', factors: f.rows, split: split('Scratchpad', 0) },
    { target: 'Accumulator', type: 'spatial', factors: f.cols, split: split('Accumulator', 999) },
    registers(STATIONARY[dataflow]),
    { target: 'Registers', type: 'temporal', factors: f.pe },
  ];
}

function variantId(base: string, parts: readonly (string | number)[]): string {
  return `${base}@${parts.join('-')}`;
}

/** Deepest SRAM the stored CACTI runs cover (words of the scaled width). */
export const CACTI_MAX_DEPTH = 65536;

/**
 * Per-action energies of an SRAM deeper than the stored CACTI runs
 * (`depth` > {@link CACTI_MAX_DEPTH}): the estimator's values at depths
 * 16384 and 65536 (same width, banks, ports), extrapolated as a power law
 * in depth through those two points. Within the grid, predicting 65536 from
 * the octave below this way errs by up to ~12% per action (read +2%,
 * write −9%, leakage +12% for the 32-bit, 32-bank NO accumulator), so two
 * to four octaves out the values are rough. Only the Gemmini NO accumulator of the
 * HW-DSE configs needs it (accumulator_size × pe_rows = 262144 to 1048576
 * entries of 32 bits, 1–4 MiB); the study's Accelergy ran CACTI itself.
 */
export function extrapolatedSramActions(
  attributes: Readonly<Record<string, unknown>>,
  componentName: string,
  how: 'extrapolate' | 'clamp' = 'extrapolate',
): { actions: EnergyAction[]; note: string } {
  const depth = Number(attributes['depth']);
  if (how === 'clamp') {
    const at = estimateComponent('SRAM', { ...attributes, depth: CACTI_MAX_DEPTH, entries: CACTI_MAX_DEPTH }, { componentName });
    return { actions: [...at.actions], note: `${componentName}: depth ${depth} is beyond the stored CACTI runs (≤ ${CACTI_MAX_DEPTH}); priced as depth ${CACTI_MAX_DEPTH} (clamped)` };
  }
  const at = (d: number) => estimateComponent('SRAM', { ...attributes, depth: d, entries: d }, { componentName });
  const lo = at(CACTI_MAX_DEPTH / 4);
  const hi = at(CACTI_MAX_DEPTH);
  const octaves = Math.log2(depth / CACTI_MAX_DEPTH);
  const actions = hi.actions.map((a) => {
    const b = lo.actions.find((x) => x.name === a.name && JSON.stringify(x.arguments ?? {}) === JSON.stringify(a.arguments ?? {}));
    // Exponent per octave, measured over the last two octaves of the grid.
    const slope = b && b.energy > 0 && a.energy > 0 ? Math.log2(a.energy / b.energy) / 2 : 0;
    return { ...a, energy: round6(a.energy * 2 ** (slope * octaves)) };
  });
  return { actions, note: `${componentName}: depth ${depth} is beyond the stored CACTI runs (≤ ${CACTI_MAX_DEPTH}); energies extrapolated as a power law fitted on depths ${CACTI_MAX_DEPTH / 4}…${CACTI_MAX_DEPTH}` };
}

function build(
  preset: ArchitecturePreset,
  doc: unknown,
  id: string,
  targets: ConstraintTarget[],
  meta: Omit<HwdseVariant, keyof ArchitecturePreset | 'targets' | 'notes'>,
  beyondCacti: 'extrapolate' | 'clamp' = 'extrapolate',
): HwdseVariant {
  const input = importTimeloopDocuments([{ file: `${preset.file} (${id})`, doc }]);
  const arch = input.architecture!;
  const overrides: Record<string, readonly EnergyAction[]> = { ...preset.overrides };
  const notes: string[] = [];
  // A class the estimator does not know is priced from its overrides alone.
  const classes: Record<string, string> = {};
  for (const s of arch.storage) {
    if (s.className === 'SRAM' && Number(s.attributes['depth']) > CACTI_MAX_DEPTH && !overrides[s.name]) {
      const x = extrapolatedSramActions(s.attributes, s.name, beyondCacti);
      overrides[s.name] = x.actions;
      classes[s.name] = 'SRAM (extrapolated)';
      notes.push(x.note);
    }
  }
  const ert = estimateArchitecture(arch, { overrides, classes }).ert;
  if (notes.length > 0 && beyondCacti === 'clamp') id = `${id}-clamped`;
  return { ...meta, id, file: preset.file, arch, ert, energyFile: preset.energyFile, overrides, constraints: { targets }, targets, notes };
}

/** An SRAM resized as the study does: entries = size, depth = size // (width // datawidth), read and write bandwidth. */
function sram(entries: number, doc: unknown, name: string, bandwidth: number): void {
  const c = attributesOf(doc, name);
  const perRow = Math.floor(Number(c['width']) / Number(c['datawidth']));
  setAttributes(doc, name, { entries, depth: Math.floor(entries / perRow), read_bandwidth: bandwidth, write_bandwidth: bandwidth });
}

/**
 * The Gemmini variant for one config: `matmul` rewrites the `gemmini`
 * preset (array pe_rows × pe_cols, accumulator_size entries per row),
 * `normop` the `gemmini-no` preset (no array; one accumulator of
 * accumulator_size × pe_rows entries with accumulator_bandwidth × pe_rows,
 * register files of rf_size, `maximize_dims_capacity` = entries // rf_size,
 * `Registers_Inputs` E = rf_size). The NO side has no dataflow; its
 * constraints differ between the modes only where the study's capacity
 * exceeds what the Scratchpad can hold (see below).
 */
export function gemminiVariant(config: GemminiHwConfig, kind: LayerKindForArch, options: VariantOptions = {}): HwdseVariant {
  const mode = options.mode ?? 'fixed';
  const version = options.version ?? 'head';
  const { pe_rows: rows, pe_cols: cols } = config;
  if (kind === 'matmul') {
    const preset = basePreset('gemmini', options.dir);
    const doc = cloneDoc(readYamlFile(preset.file));
    if (version === '2024-05-08') setAttributes(doc, 'DRAM', { read_bandwidth: undefined, write_bandwidth: undefined, shared_bandwidth: 8 });
    sram(config.scratchpad_size, doc, 'Scratchpad', config.scratchpad_bandwidth);
    sram(config.accumulator_size, doc, 'Accumulator', config.accumulator_bandwidth);
    resizeNode(doc, 'PERows', rows);
    resizeNode(doc, 'PECols', cols);
    setAttributes(doc, 'Accumulator', { meshY: rows });
    setAttributes(doc, 'Registers', { meshX: cols, meshY: rows });
    setAttributes(doc, 'MAC', { meshX: cols, meshY: rows });
    const targets = mode === 'study' ? studyGemminiMatmulTargets(config, version) : fixedGemminiMatmulTargets(targetList(preset.constraints, preset.file), config.dataflow);
    const id = variantId('gemmini', [`${rows}x${cols}`, config.dataflow, `sp${config.scratchpad_size}`, `bw${config.scratchpad_bandwidth}`, `acc${config.accumulator_size}`, `bw${config.accumulator_bandwidth}`, mode, version]);
    return build(preset, doc, id, targets, { base: 'gemmini', kind, mode, version, dataflow: config.dataflow }, options.beyondCacti);
  }
  const preset = basePreset('gemmini-no', options.dir);
  const doc = cloneDoc(readYamlFile(preset.file));
  sram(config.scratchpad_size, doc, 'Scratchpad', config.scratchpad_bandwidth);
  const accEntries = config.accumulator_size * rows;
  sram(accEntries, doc, 'Accumulator', config.accumulator_bandwidth * rows);
  for (const rf of ['Registers_Outputs', 'Registers_Inputs']) setAttributes(doc, rf, { depth: config.rf_size, entries: config.rf_size });
  // The study: capacity = accumulator entries // rf_size. The Scratchpad
  // above keeps the same columns of Inputs and of Outputs, so when it holds
  // fewer than twice the accumulator's entries (32×16 with accumulator
  // 32768: 1 Mi entries against 512 Ki) the macro fixes a tile it cannot
  // hold and the NO has no mapping; fixed mode caps the capacity there.
  const columns = mode === 'study' ? accEntries : Math.min(accEntries, Math.floor(config.scratchpad_size / 2));
  const targets = normopTargets(targetList(preset.constraints, preset.file), 'Accumulator', Math.floor(columns / config.rf_size), config.rf_size);
  const id = variantId('gemmini-no', [`sp${config.scratchpad_size}`, `bw${config.scratchpad_bandwidth}`, `acc${accEntries}`, `bw${config.accumulator_bandwidth * rows}`, `rf${config.rf_size}`, mode]);
  return build(preset, doc, id, targets, { base: 'gemmini-no', kind, mode, version, dataflow: config.dataflow }, options.beyondCacti);
}

/** The NO preset's constraints with the config's capacity and register-file size. */
function normopTargets(list: readonly ConstraintTarget[], onChip: string, capacity: number, rfSize: number): ConstraintTarget[] {
  return list.map((e) => {
    if (e.type === 'temporal' && e.target === onChip && e['maximize_dims'] !== undefined) return { ...e, maximize_dims_capacity: capacity };
    if (e.type === 'temporal' && e.target === 'Registers_Inputs') return { ...e, factors: `E=${rfSize} L=1` };
    return { ...e };
  });
}

/**
 * The study's PIM matmul constraints: WS is the preset's (the architecture's
 * `D>=32` / `E>=32` and `[D=1,E=1,L=1]` in the cells; the WS_* objects are
 * unused); IS replaces the array factors — rows `[L=1,D=1,E>=rows//2]`,
 * columns `[E=1,D=1,L>=cols//2]`, here one combined slot with L on X — and
 * keeps Inputs in the cells, whose temporal `[D=1,E=1,L=1]` stays (B7).
 */
export function studyPimMatmulTargets(presetTargets: readonly ConstraintTarget[], config: Pick<PimHwConfig, 'pe_rows' | 'pe_cols' | 'dataflow'>): ConstraintTarget[] {
  if (config.dataflow === 'WS') return presetTargets.map((e) => ({ ...e }));
  return [
    ...presetTargets.filter((e) => !(e.target === 'dummy_buffer' && e.type === 'spatial') && !(e.target === 'scratchpad' && isDataspaceEntry(e))).map((e) => ({ ...e })),
    { target: 'dummy_buffer', type: 'spatial', factors: `D=1 L>=${half(config.pe_cols)} E>=${half(config.pe_rows)}`, permutation: 'LE', split: 1 },
    { target: 'scratchpad', type: 'bypass', keep: [I], bypass: [W, O] },
  ];
}

/** Fixed mode on PIM: WS as the study; IS loops over D in the cells (B7). */
export function fixedPimMatmulTargets(presetTargets: readonly ConstraintTarget[], config: Pick<PimHwConfig, 'pe_rows' | 'pe_cols' | 'dataflow'>): ConstraintTarget[] {
  if (config.dataflow === 'WS') return presetTargets.map((e) => ({ ...e }));
  return [
    ...presetTargets.filter((e) => !(e.target === 'dummy_buffer' && e.type === 'spatial') && e.target !== 'scratchpad').map((e) => ({ ...e })),
    { target: 'dummy_buffer', type: 'spatial', factors: 'D=1', permutation: 'LE', split: 1 },
    { target: 'scratchpad', type: 'bypass', keep: [I], bypass: [W, O] },
    { target: 'scratchpad', type: 'temporal', factors: 'E=1 L=1' },
  ];
}

/**
 * The PIM variant for one config: `matmul` rewrites `pim` (global buffer,
 * array rows × cols of cells), `normop` rewrites `pim-no` (global buffer,
 * IMC_as_buffer bandwidth, register files, capacity entries // (rf_size·2)).
 * The DAC/ADC networks keep the preset's parameters, as hwdse_run.py does
 * (B14).
 */
export function pimVariant(config: PimHwConfig, kind: LayerKindForArch, options: VariantOptions = {}): HwdseVariant {
  const mode = options.mode ?? 'fixed';
  const version = options.version ?? 'head';
  if (config.use_IMC_as_buffer) throw new UserError('use_IMC_as_buffer: has not yet been implemented (as in the study)');
  const { pe_rows: rows, pe_cols: cols } = config;
  if (kind === 'matmul') {
    const preset = basePreset('pim', options.dir);
    const doc = cloneDoc(readYamlFile(preset.file));
    sram(config.shared_glb_size, doc, 'shared_glb', config.shared_glb_bandwidth);
    resizeNode(doc, 'PERows', rows);
    resizeNode(doc, 'PECols', cols);
    setAttributes(doc, 'scratchpad', { meshX: cols, meshY: rows });
    setAttributes(doc, 'mac', { meshX: cols, meshY: rows });
    const base = targetList(preset.constraints, preset.file);
    const targets = mode === 'study' ? studyPimMatmulTargets(base, config) : fixedPimMatmulTargets(base, config);
    const id = variantId('pim', [`${rows}x${cols}`, config.dataflow, `glb${config.shared_glb_size}`, `bw${config.shared_glb_bandwidth}`, mode]);
    return build(preset, doc, id, targets, { base: 'pim', kind, mode, version, dataflow: config.dataflow }, options.beyondCacti);
  }
  const preset = basePreset('pim-no', options.dir);
  const doc = cloneDoc(readYamlFile(preset.file));
  sram(config.shared_glb_size, doc, 'shared_glb', config.shared_glb_bandwidth);
  setAttributes(doc, 'IMC_as_buffer', { read_bandwidth: config.IMC_buffer_bandwidth, write_bandwidth: config.IMC_buffer_bandwidth });
  for (const rf of ['Registers_Outputs', 'Registers_Inputs']) setAttributes(doc, rf, { depth: config.rf_size, entries: config.rf_size });
  const targets = normopTargets(targetList(preset.constraints, preset.file), 'shared_glb', Math.floor(config.shared_glb_size / (config.rf_size * 2)), config.rf_size);
  const id = variantId('pim-no', [`glb${config.shared_glb_size}`, `bw${config.shared_glb_bandwidth}`, `imc${config.IMC_buffer_bandwidth}`, `rf${config.rf_size}`]);
  return build(preset, doc, id, targets, { base: 'pim-no', kind, mode, version, dataflow: config.dataflow }, options.beyondCacti);
}

/** The variant's constraints read against a problem (as `presetConstraints` reads a preset's). */
export function variantConstraints(variant: HwdseVariant, problem: Problem): MapspaceConstraints {
  return presetConstraints(variant, problem);
}

// ---------------------------------------------------------------------------
// Running a sweep

/** One layer of a HW-DSE run: the problem, and how often it counts. */
export interface HwdseLayer {
  readonly id: string;
  readonly kind: LayerKindForArch;
  readonly problem: Problem;
  /** The study's weight: HEADS for KTQ, VScores and softmax (unless ignoreHeads), else 1. */
  readonly weight: number;
  readonly macs: number;
}

/**
 * The layers of a sweep, by default the ones the 2024-05-08 table covers:
 * BERT-large (S 4096, as the study ran it) KTQ, VScores and softmax, each
 * once per head (study-facts §7.2: every 100%-utilization row has
 * 16 × (4,194,304 + 4,194,304 + 33,554,432 + 8) cycles).
 */
export function hwdseLayers(model: TransformerModel | string = 'bert-large', ids: readonly string[] = ['KTQ', 'VScores', 'softmax'], options: { ignoreHeads?: boolean } = {}): HwdseLayer[] {
  const layers = blockLayers(model, { layers: ids });
  return ids.map((id) => {
    const l = layers.find((x) => x.id === id);
    if (!l) throw new UserError(`unknown layer '${id}'`);
    return { id, kind: l.kind === 'normop' ? 'normop' : 'matmul', problem: l.problem, weight: options.ignoreHeads ? 1 : l.perBlock, macs: l.macs };
  });
}

export interface MapperChoice {
  /** Local-search effort (default {@link STUDY_MAPPER}'s). */
  readonly effort?: number;
  readonly seed?: number;
  readonly restarts?: number;
  /** Default the study's mapper.yaml: [edp, delay, energy]. */
  readonly metrics?: readonly Metric[];
  /** Visit the whole constrained map space instead (optimal under the model; tens of seconds per matmul). */
  readonly exhaustive?: boolean;
  /** Stop the search after this long and keep the best so far. */
  readonly budgetMs?: number;
}

/**
 * The sweeps' own search defaults (the HW-DSE and the cross-architecture
 * study, in the library and as map tasks): the study's mapper.yaml ranks by
 * [edp, delay, energy], and effort 20,000 — twice the mapper's default —
 * reached the exhaustive optimum on every HW-DSE layer tried. The rest is
 * the mapper's.
 */
export const STUDY_MAPPER: MapDefaults = { ...MAPPER_DEFAULTS, effort: 20_000, metrics: ['edp', 'delay', 'energy'] };

/** A sweep's choice of search as complete settings, defaults from {@link STUDY_MAPPER}. */
export function studyMapSettings(choice: MapperChoice): MapSettings {
  const { exhaustive, ...given } = choice;
  return mapSettings({ ...given, algorithm: exhaustive ? 'exhaustive' : 'local-search' }, STUDY_MAPPER);
}

export interface MappedLayer {
  readonly ok: boolean;
  readonly reason?: string;
  readonly evaluation?: Evaluation;
  readonly mapping?: Mapping;
  readonly wallMs: number;
  readonly evaluated: number;
  /** The search stopped on its time budget, not its effort. */
  readonly stoppedByBudget: boolean;
}

/** Maps one problem on a variant (or any preset) under its constraints and evaluates the best mapping. */
export function mapOnPreset(preset: ArchitecturePreset, problem: Problem, mapper: MapperChoice = {}, constraints?: MapspaceConstraints): MappedLayer {
  const t0 = performance.now();
  const wallMs = () => performance.now() - t0;
  let read: MapspaceConstraints;
  try {
    read = constraints ?? presetConstraints(preset, problem);
  } catch (e) {
    // Constraints that cannot be stated for this problem leave no map space, as an infeasible one.
    if (e instanceof UserError) return { ok: false, reason: e.message, wallMs: wallMs(), evaluated: 0, stoppedByBudget: false };
    throw e;
  }
  const outcome = mapOne({ problem, arch: preset.arch, ert: preset.ert, constraints: read, settings: studyMapSettings(mapper) });
  if (outcome.status === 'no-map-space') return { ok: false, reason: outcome.error.message, wallMs: wallMs(), evaluated: 0, stoppedByBudget: false };
  const evaluated = outcome.search.stats.evaluated;
  const stoppedByBudget = outcome.search.stats.stoppedByBudget;
  if (outcome.status === 'no-mapping') {
    const why = mostFrequent({ ...outcome.search.stats.prunedBy, ...outcome.search.stats.rejections }, 1)[0];
    return { ok: false, reason: `no valid mapping${why ? ` (most often: ${why[0]})` : ''}`, wallMs: wallMs(), evaluated, stoppedByBudget };
  }
  if (outcome.status === 'not-reevaluated') return { ok: false, reason: outcome.reason, wallMs: wallMs(), evaluated, stoppedByBudget };
  return { ok: true, evaluation: outcome.evaluation, mapping: outcome.mapping, wallMs: wallMs(), evaluated, stoppedByBudget };
}

export interface HwdseLayerResult extends LayerMetrics {
  readonly variant: string;
  readonly macs: number;
  readonly reason?: string;
  readonly wallMs: number;
  /** Whether the result was reused from an identical (variant, layer) earlier in the run. */
  readonly reused: boolean;
  readonly loopNest?: string;
}

export interface HwdseConfigResult<C> {
  /** Position in the configs given, 0-based. */
  readonly index: number;
  readonly config: C;
  readonly layers: readonly HwdseLayerResult[];
  readonly study: StudyAggregate;
  readonly correct: CorrectAggregate;
  /** Approximations (extrapolated energies) made for this config's variants. */
  readonly notes: readonly string[];
  readonly wallMs: number;
}

export interface HwdseOptions extends VariantOptions {
  /** Default `bert-large`. */
  readonly model?: string;
  /** Default KTQ, VScores, softmax. */
  readonly layers?: readonly string[];
  /** `-ih`: count per-head layers once. */
  readonly ignoreHeads?: boolean;
  readonly mapper?: MapperChoice;
  /** Keep each layer's loop nest (text) in the results. */
  readonly loopNests?: boolean;
  /** Called after each layer (progress). */
  readonly onLayer?: (config: number, layer: HwdseLayerResult) => void;
}

function isPimConfig(c: GemminiHwConfig | PimHwConfig): c is PimHwConfig {
  return 'shared_glb_size' in c;
}

/**
 * Runs a HW-DSE: every config × layer mapped on the config's variant (the
 * matmuls on gemmini / pim, the NOs on gemmini-no / pim-no), then the
 * study's and the correct aggregates per config. Identical (variant, layer)
 * pairs are mapped once (a NO variant does not depend on the dataflow or the
 * array shape beyond the rows' accumulator total).
 */
export function runHwdse<C extends GemminiHwConfig | PimHwConfig>(configs: readonly C[], options: HwdseOptions = {}): HwdseConfigResult<C>[] {
  const layers = hwdseLayers(options.model, options.layers, { ignoreHeads: options.ignoreHeads });
  const memo = new Map<string, MappedLayer>();
  return configs.map((config, index) => {
    const t0 = performance.now();
    const notes = new Set<string>();
    const results: HwdseLayerResult[] = layers.map((layer) => {
      const variant = isPimConfig(config) ? pimVariant(config, layer.kind, options) : gemminiVariant(config as GemminiHwConfig, layer.kind, options);
      for (const n of variant.notes) notes.add(n);
      const key = `${variant.id}\u0000${layer.id}\u0000${layer.problem.bounds.join(',')}`;
      const reused = memo.has(key);
      const mapped = memo.get(key) ?? mapOnPreset(variant, layer.problem, options.mapper);
      memo.set(key, mapped);
      const s = mapped.evaluation?.summary;
      const result: HwdseLayerResult = {
        layer: layer.id,
        weight: layer.weight,
        ok: mapped.ok,
        energy_pJ: s?.energy_pJ ?? Infinity,
        cycles: s?.cycles ?? Infinity,
        utilization: s?.utilization ?? 0,
        edp_J_cycle: s?.edp_J_cycle ?? Infinity,
        variant: variant.id,
        macs: layer.macs,
        ...(mapped.reason !== undefined ? { reason: mapped.reason } : {}),
        wallMs: reused ? 0 : mapped.wallMs,
        reused,
        ...(options.loopNests && mapped.mapping && mapped.evaluation ? { loopNest: loopNestText(layer.problem, variant.arch, mapped.mapping, mapped.evaluation) } : {}),
      };
      options.onLayer?.(index, result);
      return result;
    });
    return {
      index,
      config,
      layers: results,
      study: studyAggregate(results),
      correct: correctAggregate(results),
      notes: [...notes],
      wallMs: performance.now() - t0,
    };
  });
}
