/**
 * Evaluates one mapping of a problem on an architecture: tiles and accesses
 * from the nest analysis, then per storage level capacity checks, vector
 * accesses, energy and bandwidth-throttled cycles, then the arithmetic
 * level, the networks and the totals.
 */
import type { Architecture, StorageLevel } from '../arch/architecture.ts';
import type { EnergyAction, EnergyReferenceTable, StorageEnergies } from '../arch/energy-table.ts';
import { computeEnergy, networkTransferEnergy, storageEnergies } from '../arch/energy-table.ts';
import type { Mapping } from '../mapping/mapping.ts';
import { foldedSize } from '../mapping/mapping.ts';
import type { Problem } from '../workload/problem.ts';
import { buildLoopNest, MappingShapeError, SPACE_X, TIME, type LoopNest } from './loop-nest.ts';
import { analyzeNest, type NestAnalysisResult } from './nest-analysis.ts';
import { analyzeInClosedForm, canAnalyzeInClosedForm } from './fast-analysis.ts';
import type {
  DataspaceStats,
  Evaluation,
  EvaluationOutcome,
  NetworkDataspaceStats,
  NetworkStats,
  StorageLevelStats,
} from './result.ts';
import { asUint64, collapseTiles, type LevelTile } from './tiling.ts';

/** Everything about a (problem, architecture, energies) triple that does not depend on the mapping. */
export interface ModelContext {
  readonly problem: Problem;
  readonly arch: Architecture;
  readonly storageEnergy: readonly StorageEnergies[];
  readonly computeEnergy: number;
  readonly networkActions: ReadonlyMap<string, readonly EnergyAction[]>;
  /** Evaluate with Timeloop's link transfers between neighbouring instances (its default). */
  readonly linkTransfers: boolean;
  /**
   * `auto` uses the closed-form analysis where it gives the same result
   * (perfect factorizations; tested against the walk on random mappings) and
   * the general nest walk elsewhere; the others force one of them.
   */
  readonly analysis: AnalysisChoice;
}

export type AnalysisChoice = 'auto' | 'general' | 'closed-form';

export function prepareModel(
  problem: Problem,
  arch: Architecture,
  ert: EnergyReferenceTable,
  options: { linkTransfers?: boolean; analysis?: AnalysisChoice } = {},
): ModelContext {
  const networkActions = new Map<string, readonly EnergyAction[]>();
  for (const n of arch.networks) networkActions.set(n.name, ert.components[n.name] ?? []);
  return {
    problem,
    arch,
    storageEnergy: arch.storage.map((s) =>
      // A user-given vector-access energy wins over the ERT (Timeloop does not even look the level up).
      s.vectorAccessEnergy !== null
        ? { read: s.vectorAccessEnergy, fill: s.vectorAccessEnergy, update: s.vectorAccessEnergy, leak: 0 }
        : storageEnergies(ert, s.name, {
            isDram: isDram(s),
            wordBits: s.wordBits,
            blockSize: s.blockSize,
            clusterSize: s.clusterSize,
            sizeWords: s.sizeWords,
          }),
    ),
    computeEnergy: computeEnergy(ert, arch.arithmetic.name, arch.arithmetic.wordBits),
    networkActions,
    linkTransfers: options.linkTransfers ?? true,
    analysis: options.analysis ?? 'auto',
  };
}

function invalid(reason: string, level?: string): EvaluationOutcome {
  return { ok: false, error: level === undefined ? { reason } : { level, reason } };
}

/** Checks that the mapping is well formed for the problem (factors multiply out, one level per storage level). */
export function checkMappingShape(problem: Problem, arch: Architecture, mapping: Mapping): string | null {
  if (mapping.levels.length !== arch.storage.length) {
    return `mapping has ${mapping.levels.length} levels, the architecture has ${arch.storage.length} storage levels`;
  }
  for (let d = 0; d < problem.dimensions.length; d++) {
    const pairs: [number, number][] = [];
    for (const lm of mapping.levels) {
      pairs.push([lm.temporal.factors[d], lm.temporal.residuals[d]]);
      if (lm.spatial) pairs.push([lm.spatial.factors[d], lm.spatial.residuals[d]]);
    }
    const size = foldedSize(pairs);
    if (size !== problem.bounds[d]) {
      return `product of all factors of dimension ${problem.dimensions[d]} is ${size}, not the dimension size ${problem.bounds[d]}`;
    }
  }
  for (let pv = 0; pv < problem.dataspaces.length; pv++) {
    if (!mapping.levels.some((lm) => lm.keep[pv])) {
      return `dataspace ${problem.dataspaces[pv].name} is bypassed at every storage level`;
    }
  }
  return null;
}

export function evaluateMapping(ctx: ModelContext, mapping: Mapping): EvaluationOutcome {
  const { problem, arch } = ctx;
  const shapeError = checkMappingShape(problem, arch, mapping);
  if (shapeError) return invalid(shapeError);
  let nest: LoopNest;
  try {
    nest = buildLoopNest(problem, arch, mapping);
  } catch (e) {
    if (e instanceof MappingShapeError) return invalid(e.message, e.level);
    throw e;
  }
  return finishEvaluation(ctx, mapping, nest, runAnalysis(ctx, nest));
}

function runAnalysis(ctx: ModelContext, nest: LoopNest): NestAnalysisResult {
  const options = { linkTransfers: ctx.linkTransfers };
  const closedFormOk = canAnalyzeInClosedForm(ctx.problem, nest);
  if (ctx.analysis === 'closed-form') {
    if (!closedFormOk) throw new Error('the closed-form analysis needs perfect factors');
    return analyzeInClosedForm(ctx.problem, nest, options);
  }
  if (ctx.analysis === 'auto' && closedFormOk) return analyzeInClosedForm(ctx.problem, nest, options);
  return analyzeNest(ctx.problem, nest, { linkTransfers: ctx.linkTransfers });
}

/** Spatial expansion above each storage level (innermost first) and for the MACs. */
function spatialExpansions(nest: LoopNest): { x: number[]; y: number[]; macX: number; macY: number } {
  const levels = nest.boundaries.length;
  const x = new Array<number>(levels).fill(1);
  const y = new Array<number>(levels).fill(1);
  let ex = 1;
  let ey = 1;
  let s = levels - 1;
  for (let l = nest.loops.length - 1; l >= 0; l--) {
    if (s >= 0 && l === nest.boundaries[s]) {
      x[s] = ex;
      y[s] = ey;
      s--;
    }
    const loop = nest.loops[l];
    if (loop.space !== TIME) {
      if (loop.space === SPACE_X) ex *= loop.end;
      else ey *= loop.end;
    }
  }
  return { x, y, macX: ex, macY: ey };
}

function isDram(level: StorageLevel): boolean {
  return level.className.includes('DRAM') || level.attributes['technology'] === 'DRAM';
}

/** Whether partial sums can be accumulated in place (Timeloop: any non-DRAM level, unless told otherwise). */
function supportsReduction(level: StorageLevel): boolean {
  const r = level.attributes['reduction_supported'];
  return typeof r === 'boolean' ? r : !isDram(level);
}

export function finishEvaluation(
  ctx: ModelContext,
  mapping: Mapping,
  nest: LoopNest,
  analysis: NestAnalysisResult,
): EvaluationOutcome {
  const { problem, arch } = ctx;
  const nLevels = arch.storage.length;
  const nds = problem.dataspaces.length;
  // Timeloop numbers storage levels from the innermost; the architecture lists them outermost first.
  const outer = (s: number) => nLevels - 1 - s;

  const tiles: LevelTile[][] = problem.dataspaces.map((ds, pv) => {
    const keep = Array.from({ length: nLevels }, (_, s) => mapping.levels[outer(s)].keep[pv]);
    return collapseTiles(analysis.tiles[pv], nLevels, keep, ds.readWrite);
  });
  const exp = spatialExpansions(nest);

  // Arithmetic level.
  const mac = arch.arithmetic;
  const macUtilized = exp.macX * exp.macY;
  if (macUtilized > mac.instances) {
    return invalid(`mapped ${macUtilized} arithmetic instances, the hardware has ${mac.instances}`, mac.name);
  }
  if (exp.macX > mac.meshX) {
    return invalid(`mapped arithmetic X expansion ${exp.macX} exceeds meshX ${mac.meshX}`, mac.name);
  }
  if (exp.macY > mac.meshY) {
    return invalid(`mapped arithmetic Y expansion ${exp.macY} exceeds meshY ${mac.meshY}`, mac.name);
  }
  const randomComputes = Math.trunc(analysis.computeAccesses * analysis.computeReplication);
  const macEnergy = randomComputes * ctx.computeEnergy;
  const computeCycles = analysis.imperfect
    ? analysis.maxTemporalIterations
    : Math.ceil(randomComputes / analysis.computeReplication);

  const storageStats: StorageLevelStats[] = new Array(nLevels);
  let maxCycles = computeCycles;
  for (let s = 0; s < nLevels; s++) {
    const o = outer(s);
    const spec = arch.storage[o];
    const energies = ctx.storageEnergy[o];
    const lm = mapping.levels[o];
    const xy = exp.x[s] * exp.y[s];

    let totalCapacity = 0;
    for (let pv = 0; pv < nds; pv++) if (lm.keep[pv]) totalCapacity += tiles[pv][s].size;
    if (spec.sizeWords !== null) {
      const effective = Math.floor(spec.sizeWords / spec.multipleBuffering);
      if (totalCapacity > effective) {
        return invalid(`mapped tile size ${totalCapacity} exceeds buffer capacity ${effective}`, spec.name);
      }
      if (totalCapacity < effective * spec.minUtilization) {
        return invalid(
          `mapped tile size ${totalCapacity} is less than the minimum utilization ${effective * spec.minUtilization}`,
          spec.name,
        );
      }
    }
    let maxInstances = 0;
    for (let pv = 0; pv < nds; pv++) maxInstances = Math.max(maxInstances, tiles[pv][s].replicationFactor);
    if (maxInstances > spec.instances) {
      return invalid(`mapped ${maxInstances} instances, the hardware has ${spec.instances}`, spec.name);
    }
    if (exp.x[s] > spec.meshX) {
      return invalid(`mapped X expansion ${exp.x[s]} exceeds meshX ${spec.meshX}`, spec.name);
    }
    if (exp.y[s] > spec.meshY) {
      return invalid(`mapped Y expansion ${exp.y[s]} exceeds meshY ${spec.meshY}`, spec.name);
    }

    const numClusters = spec.instances / spec.clusterSize;
    const block = spec.blockSize;
    const dataspaces: Record<string, DataspaceStats> = {};
    const readBw: number[] = new Array(nds).fill(0);
    const writeBw: number[] = new Array(nds).fill(0);
    let levelEnergy = 0;
    let utilizedInstances = 0;
    const perDs: { energyPerInstance: number; total: number; clusters: number; addressGenerations: number; addrGenEnergy: number }[] = [];
    for (let pv = 0; pv < nds; pv++) {
      const t = tiles[pv][s];
      const clusters = Math.min(xy, numClusters);
      const clusterEnergy =
        Math.ceil(t.reads / block) * energies.read +
        Math.ceil(t.fills / block) * energies.fill +
        Math.ceil(t.updates / block) * energies.update;
      const utilization = xy / clusters;
      const instances = t.replicationFactor;
      const energyPerInstance = instances > 0 ? clusterEnergy / utilization : 0;
      const total = energyPerInstance * instances;
      const rw = problem.dataspaces[pv].readWrite;
      const addressGenerations = asUint64(rw ? t.signedUpdates + t.signedFills : t.signedReads + t.signedFills);
      // Address generation is shared by a cluster: once per utilized cluster.
      const addrGenEnergy = spec.addressGenerationEnergy === null || !lm.keep[pv] ? 0 : addressGenerations * spec.addressGenerationEnergy * clusters;
      perDs.push({ energyPerInstance, total, clusters, addressGenerations, addrGenEnergy });
      levelEnergy += total + addrGenEnergy;
      const scaling = xy / instances;
      readBw[pv] = Math.ceil(t.reads / scaling) / computeCycles;
      // Timeloop adds the counts in uint64: a wrapped (negative) fill count wraps back.
      writeBw[pv] = Math.ceil(asUint64(t.signedFills + t.signedUpdates) / scaling) / computeCycles;
    }
    let totalRead = 0;
    let totalWrite = 0;
    for (let pv = 0; pv < nds; pv++) totalRead += readBw[pv];
    for (let pv = 0; pv < nds; pv++) totalWrite += writeBw[pv];
    let slowdown = 1;
    if (spec.readBandwidth !== null && spec.readBandwidth < totalRead) {
      slowdown = Math.min(slowdown, spec.readBandwidth / totalRead);
    }
    if (spec.writeBandwidth !== null && spec.writeBandwidth < totalWrite) {
      slowdown = Math.min(slowdown, spec.writeBandwidth / totalWrite);
    }
    if (spec.sharedBandwidth !== null && spec.sharedBandwidth < totalWrite + totalRead) {
      slowdown = Math.min(slowdown, spec.sharedBandwidth / (totalWrite + totalRead));
    }
    const cycles = Math.ceil(computeCycles / slowdown);
    maxCycles = Math.max(maxCycles, cycles);

    for (let pv = 0; pv < nds; pv++) {
      if (!lm.keep[pv]) continue;
      const t = tiles[pv][s];
      utilizedInstances = Math.max(utilizedInstances, t.replicationFactor);
      dataspaces[problem.dataspaces[pv].name] = {
        partition_size: t.partitionSize,
        utilized_capacity: t.size,
        utilized_instances: t.replicationFactor,
        utilized_clusters: perDs[pv].clusters,
        reads: t.reads,
        fills: t.fills,
        updates: t.updates,
        temporal_reductions: t.temporalReductions,
        address_generations: perDs[pv].addressGenerations,
        energy_per_instance_pJ: perDs[pv].energyPerInstance,
        energy_pJ: perDs[pv].total,
        temporal_reduction_energy_pJ: 0,
        addr_gen_energy_pJ: perDs[pv].addrGenEnergy,
        read_bandwidth_per_instance: slowdown * readBw[pv],
        write_bandwidth_per_instance: slowdown * writeBw[pv],
      };
    }
    storageStats[o] = {
      name: spec.name,
      timeloop_level: s + 1,
      instances: spec.instances,
      mesh_x: spec.meshX,
      mesh_y: spec.meshY,
      size_words: spec.sizeWords,
      word_bits: spec.wordBits,
      block_size: spec.blockSize,
      cycles,
      slowdown,
      dataspaces,
      utilized_instances: utilizedInstances,
      energy_pJ: levelEnergy,
      leakage_energy_pJ: 0,
    };
  }

  // Connections: storage level s (outer side) to level s-1 or the MACs.
  const networks: NetworkStats[] = [];
  let latency = 0;
  const userNetworkTile = new Map<string, number>();
  for (let s = 0; s < nLevels; s++) {
    const spec = arch.storage[outer(s)];
    const innerName = s === 0 ? mac.name : arch.storage[outer(s - 1)].name;
    // Updates flow outwards: the outer level is the sink that must reduce them.
    const sinkSupportsReduction = supportsReduction(spec);
    const readNet = spec.networks.read;
    const updateNet = spec.networks.update;
    if (readNet !== undefined) {
      latency += networkSpec(arch, readNet).fillLatency;
      if (!userNetworkTile.has(readNet)) userNetworkTile.set(readNet, s);
    } else {
      latency += spec.networkFillLatency;
      networks.push(legacyNetwork(`${spec.name} <==> ${innerName}`, problem, tiles, s, sinkSupportsReduction));
    }
    if (updateNet !== undefined) {
      // Timeloop v3.0.3 charges a user network's fill latency as its drain latency.
      latency += networkSpec(arch, updateNet).fillLatency;
      if (!userNetworkTile.has(updateNet)) userNetworkTile.set(updateNet, s);
    } else {
      latency += spec.networkDrainLatency;
    }
  }
  let networkEnergy = 0;
  for (const [name, s] of userNetworkTile) {
    const n = userNetwork(ctx, name, tiles, s);
    networkEnergy += n.energy_pJ;
    networks.push(n);
  }
  networks.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const cycles = maxCycles + latency;
  let leakage = 0;
  for (let o = 0; o < nLevels; o++) {
    const leak = ctx.storageEnergy[o].leak * cycles * storageStats[o].utilized_instances;
    storageStats[o].leakage_energy_pJ = leak;
    leakage += leak;
  }
  let energy = macEnergy;
  for (const st of storageStats) energy += st.energy_pJ;
  energy += networkEnergy + leakage;
  const computes = randomComputes;
  let linkTotal = 0;
  for (const n of networks) for (const d of Object.values(n.dataspaces)) linkTotal += d.link_transfers;

  const evaluation: Evaluation = {
    arithmetic: {
      name: mac.name,
      instances: mac.instances,
      utilized_instances: macUtilized,
      computes,
      cycles: computeCycles,
      energy_pJ: macEnergy,
    },
    storage: storageStats,
    networks,
    summary: {
      cycles,
      network_latency_cycles: latency,
      utilization: computes / mac.instances / cycles,
      energy_pJ: energy,
      leakage_energy_pJ: leakage,
      network_energy_pJ: networkEnergy,
      edp_J_cycle: energy * 1e-12 * cycles,
      pJ_per_compute: energy / computes,
      computes,
      link_transfers_total: linkTotal,
    },
  };
  return { ok: true, value: evaluation };
}

function networkSpec(arch: Architecture, name: string) {
  const n = arch.networks.find((x) => x.name === name);
  if (!n) throw new Error(`network '${name}' is not declared`);
  return n;
}

function legacyNetwork(
  name: string,
  problem: Problem,
  tiles: LevelTile[][],
  s: number,
  sinkSupportsReduction: boolean,
): NetworkStats {
  const dataspaces: Record<string, NetworkDataspaceStats> = {};
  problem.dataspaces.forEach((ds, pv) => {
    const t = tiles[pv][s];
    let ingresses = 0;
    let hops = 0;
    let multicast = 0;
    let reductions = 0;
    for (const e of t.accessStats.entries) {
      const acc = ds.readWrite && !sinkSupportsReduction ? 2 * e.accesses - t.partitionSize : e.accesses;
      ingresses += acc;
      hops += e.hops;
      if (e.multicast > multicast) multicast = e.multicast;
      if (ds.readWrite) reductions += (e.multicast - 1) * acc;
    }
    dataspaces[ds.name] = {
      fanout: t.fanout,
      multicast_factor: multicast,
      ingresses,
      link_transfers: t.linkTransfers,
      spatial_reductions: reductions,
      average_hops: ingresses > 0 ? hops / ingresses : 0,
      energy_pJ: 0,
    };
  });
  return { name, dataspaces, energy_pJ: 0 };
}

/**
 * A SimpleMulticast network: each (multicast, scatter) entry of the outer
 * level's histogram costs E(multicast) × accesses; Timeloop keeps the last
 * non-zero entry's energy rather than summing them.
 */
function userNetwork(ctx: ModelContext, name: string, tiles: LevelTile[][], s: number): NetworkStats {
  const spec = networkSpec(ctx.arch, name);
  const actions = ctx.networkActions.get(name) ?? [];
  const dataspaces: Record<string, NetworkDataspaceStats> = {};
  let total = 0;
  ctx.problem.dataspaces.forEach((ds, pv) => {
    const t = tiles[pv][s];
    let energy = 0;
    let multicast = 0;
    let ingresses = 0;
    for (const e of t.accessStats.entries) {
      ingresses += e.accesses;
      if (e.accesses > 0) {
        const action = spec.perDatatypeErt ? `${spec.actionName}_${ds.name}` : spec.actionName;
        energy = networkTransferEnergy(actions, action, spec.multicastFactorArgument, e.multicast) * e.accesses;
        if (e.multicast > multicast) multicast = e.multicast;
      }
    }
    const totalEnergy = energy * t.replicationFactor;
    total += totalEnergy;
    dataspaces[ds.name] = {
      fanout: t.fanout,
      multicast_factor: multicast,
      ingresses,
      link_transfers: 0,
      spatial_reductions: 0,
      average_hops: 0,
      energy_pJ: totalEnergy,
    };
  });
  return { name, dataspaces, energy_pJ: total };
}
