/**
 * A spatial accelerator as Timeloop models it: a chain of storage levels from
 * the outermost (DRAM) to the innermost, with spatial fanouts wherever a level
 * has more instances than the level above it, ending in one arithmetic level.
 */

export interface StorageLevel {
  readonly name: string;
  /** Component class as written (`DRAM`, `SRAM`, `regfile`, `smartbuffer_SRAM`...). */
  readonly className: string;
  readonly instances: number;
  readonly meshX: number;
  readonly meshY: number;
  /** Capacity in words; `null` means unbounded (DRAM). */
  readonly sizeWords: number | null;
  readonly wordBits: number;
  /** Words moved by one vector access. */
  readonly blockSize: number;
  /** Instances that share one physical access (energy is charged per cluster). */
  readonly clusterSize: number;
  /** Words per cycle per instance; `null` means unlimited. */
  readonly readBandwidth: number | null;
  readonly writeBandwidth: number | null;
  readonly sharedBandwidth: number | null;
  /** Usable capacity is `floor(sizeWords / multipleBuffering)`. */
  readonly multipleBuffering: number;
  readonly minUtilization: number;
  readonly networkFillLatency: number;
  readonly networkDrainLatency: number;
  /**
   * pJ per vector access given by the architecture (`vector_access_energy`).
   * Timeloop then charges it for every read, fill and update and ignores the
   * level's ERT table (leakage included). `null`: the ERT's energies.
   */
  readonly vectorAccessEnergy: number | null;
  /**
   * pJ per address generation (`addr_gen_energy`), charged once per utilized
   * cluster. `null`: Timeloop's built-in adder model, which costs nothing.
   */
  readonly addressGenerationEnergy: number | null;
  /** Names of user-defined networks on this level's connections, if any. */
  readonly networks: Readonly<{ read?: string; fill?: string; update?: string; drain?: string }>;
  /** Every attribute as given, for energy/area estimation and export. */
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface ArithmeticLevel {
  readonly name: string;
  readonly className: string;
  readonly instances: number;
  readonly meshX: number;
  readonly meshY: number;
  readonly wordBits: number;
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** A user-defined network (Timeloop's `SimpleMulticast`). */
export interface NetworkComponent {
  readonly name: string;
  readonly className: string;
  /** ERT action name prefix (`transfer`). */
  readonly actionName: string;
  /** Whether the ERT action is `<action>_<dataspace>`. */
  readonly perDatatypeErt: boolean;
  /** The ERT argument that selects an entry by multicast factor. */
  readonly multicastFactorArgument: string | null;
  readonly fillLatency: number;
  readonly drainLatency: number;
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface Architecture {
  readonly name: string;
  /** Storage levels, OUTERMOST FIRST. */
  readonly storage: readonly StorageLevel[];
  readonly arithmetic: ArithmeticLevel;
  readonly networks: readonly NetworkComponent[];
}

/**
 * Fanout below storage level `i` (outermost-first index): towards level i+1,
 * or the MACs for the innermost level.
 */
export function fanoutBelow(arch: Architecture, i: number): { x: number; y: number } {
  const outer = arch.storage[i];
  const inner = i + 1 < arch.storage.length ? arch.storage[i + 1] : arch.arithmetic;
  return { x: inner.meshX / outer.meshX, y: inner.meshY / outer.meshY };
}
