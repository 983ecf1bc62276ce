/**
 * The mapper's hot path: energy, cycles and validity of a mapping, computed
 * with the closed-form analysis (./fast-analysis.ts) and the same collapse,
 * bypass, access and energy rules as the full evaluation (./tiling.ts,
 * ./evaluate.ts), on preallocated typed arrays and without building the
 * per-level report. Totals are summed in the same order as the full
 * evaluation, so both give bit-identical energy and cycles (tested).
 *
 * Applies to perfect factorizations; axis-aligned problems take refetch
 * products directly, sliding windows the closed-form analysis's tiles. For
 * imperfect factors `evaluate` returns false with `unsupported` set, and the
 * caller falls back to `evaluateMapping`.
 */
import type { Mapping } from '../mapping/mapping.ts';
import { isAxisAligned } from '../workload/problem.ts';
import { fanoutBelow } from '../arch/architecture.ts';
import { networkTransferEnergy } from '../arch/energy-table.ts';
import type { ModelContext } from './evaluate.ts';
import { evaluateMapping } from './evaluate.ts';
import { buildLoopNest } from './loop-nest.ts';
import { analyzeInClosedForm, LevelAccesses } from './fast-analysis.ts';

const T = 0;
const X = 1;
const MAX_ENTRIES = LevelAccesses.MAX_ENTRIES;

export class FastCostModel {
  /** Results of the last `evaluate` call. */
  energy = 0;
  cycles = 0;
  /** Why the last mapping was invalid (level name and reason), when it was. */
  invalidReason = '';
  /** Set when the last mapping needs the general model (imperfect factors). */
  unsupported = false;
  /**
   * Mappings handed to the general model so far: imperfect factors, or a
   * fanout whose histogram has more than MAX_ENTRIES multicast sizes.
   */
  fallbacks = 0;

  /** Sliding windows take the closed-form analysis's tiles instead of the GEMM formulas below. */
  private readonly axisAligned: boolean;
  private readonly windows: LevelAccesses;
  private readonly nL: number;
  private readonly nd: number;
  private readonly nds: number;
  private readonly relevant: Uint8Array; // [t * nd + d]
  private readonly readWrite: Uint8Array;
  private readonly fanX: Int32Array; // per level, innermost first
  private readonly fanY: Int32Array;
  private readonly latency: number;
  private readonly macEnergy: number;

  // Loop nest scratch (innermost first).
  private readonly ldim: Int32Array;
  private readonly lend: Float64Array;
  private readonly lspace: Int8Array;
  private readonly boundary: Int32Array;
  private readonly spatialTop: Int32Array; // master loop of each level's fanout, -1 if none
  private readonly spatialBottom: Int32Array;
  private readonly ext: Float64Array;
  private readonly expX: Float64Array;
  private readonly expY: Float64Array;
  private readonly refetch: Float64Array; // [loop * nds + t]
  // Per (level, dataspace) scratch.
  private readonly size: Float64Array;
  private readonly masterSize: Float64Array;
  private readonly part: Float64Array;
  private readonly pfd: Float64Array;
  private readonly content: Float64Array;
  private readonly pas: Float64Array;
  private readonly fanout: Float64Array;
  private readonly link: Float64Array;
  private readonly nEnt: Int32Array;
  private readonly entM: Float64Array; // [(s * nds + t) * MAX_ENTRIES + k]
  private readonly entS: Float64Array;
  private readonly entA: Float64Array;
  private readonly reads: Float64Array;
  private readonly fills: Float64Array;
  private readonly updates: Float64Array;
  private readonly levelEnergy: Float64Array;
  private readonly levelCycles: Float64Array;
  private readonly levelUtilized: Float64Array;

  constructor(private readonly ctx: ModelContext) {
    const { problem, arch } = ctx;
    this.nL = arch.storage.length;
    this.nd = problem.dimensions.length;
    this.nds = problem.dataspaces.length;
    this.axisAligned = isAxisAligned(problem);
    this.windows = new LevelAccesses(this.nL, this.nds);
    this.relevant = new Uint8Array(this.nds * this.nd);
    problem.dataspaces.forEach((ds, t) => {
      for (const rank of ds.projection) this.relevant[t * this.nd + rank[0].dimension] = 1;
    });
    this.readWrite = Uint8Array.from(problem.dataspaces.map((d) => (d.readWrite ? 1 : 0)));
    this.fanX = new Int32Array(this.nL);
    this.fanY = new Int32Array(this.nL);
    let latency = 0;
    for (let s = 0; s < this.nL; s++) {
      const o = this.nL - 1 - s;
      const f = fanoutBelow(arch, o);
      this.fanX[s] = f.x;
      this.fanY[s] = f.y;
      const spec = arch.storage[o];
      const net = (name: string) => arch.networks.find((n) => n.name === name)!.fillLatency;
      latency += spec.networks.read !== undefined ? net(spec.networks.read) : spec.networkFillLatency;
      latency += spec.networks.update !== undefined ? net(spec.networks.update) : spec.networkDrainLatency;
    }
    this.latency = latency;
    this.macEnergy = ctx.computeEnergy;
    const maxLoops = this.nL * (2 * this.nd + 1);
    this.ldim = new Int32Array(maxLoops);
    this.lend = new Float64Array(maxLoops);
    this.lspace = new Int8Array(maxLoops);
    this.boundary = new Int32Array(this.nL);
    this.spatialTop = new Int32Array(this.nL);
    this.spatialBottom = new Int32Array(this.nL);
    this.ext = new Float64Array(this.nd);
    this.expX = new Float64Array(this.nL);
    this.expY = new Float64Array(this.nL);
    this.refetch = new Float64Array(maxLoops * this.nds);
    const st = this.nL * this.nds;
    this.size = new Float64Array(st);
    this.masterSize = new Float64Array(st);
    this.part = new Float64Array(st);
    this.pfd = new Float64Array(st);
    this.content = new Float64Array(st);
    this.pas = new Float64Array(st);
    this.fanout = new Float64Array(st);
    this.link = new Float64Array(st);
    this.nEnt = new Int32Array(st);
    this.entM = new Float64Array(st * MAX_ENTRIES);
    this.entS = new Float64Array(st * MAX_ENTRIES);
    this.entA = new Float64Array(st * MAX_ENTRIES);
    this.reads = new Float64Array(st);
    this.fills = new Float64Array(st);
    this.updates = new Float64Array(st);
    this.levelEnergy = new Float64Array(this.nL);
    this.levelCycles = new Float64Array(this.nL);
    this.levelUtilized = new Float64Array(this.nL);
  }

  /** EDP in J·cycle of the last evaluation. */
  get edp(): number {
    return this.energy * 1e-12 * this.cycles;
  }

  private invalid(level: string, reason: string): false {
    this.invalidReason = `${level}: ${reason}`;
    return false;
  }

  /**
   * Evaluates a mapping whose factors multiply out to the problem (the
   * caller's invariant). Returns true with `energy`/`cycles` set, or false
   * with `invalidReason` (or `unsupported`) set.
   */
  evaluate(mapping: Mapping): boolean {
    const { nL, nd, nds } = this;
    const arch = this.ctx.arch;
    this.unsupported = false;
    this.invalidReason = '';
    this.currentMapping = mapping;
    const { ldim, lend, lspace } = this;

    // 1. Loop nest, innermost first (as ./loop-nest.ts lays it out).
    let n = 0;
    for (let s = 0; s < nL; s++) {
      const lm = mapping.levels[nL - 1 - s];
      this.spatialBottom[s] = n;
      const sp = lm.spatial;
      if (this.fanX[s] * this.fanY[s] > 1 && sp !== null) {
        for (let i = 0; i < nd; i++) {
          const d = sp.permutation[i];
          const e = sp.factors[d];
          if (e > 1) {
            if (sp.residuals[d] !== e) return this.fallback();
            ldim[n] = d;
            lend[n] = e;
            lspace[n] = i < sp.split ? X : 2;
            n++;
          }
        }
      }
      this.spatialTop[s] = n > this.spatialBottom[s] ? n - 1 : -1;
      const tp = lm.temporal;
      let added = 0;
      for (let i = 0; i < nd; i++) {
        const d = tp.permutation[i];
        const e = tp.factors[d];
        if (e > 1) {
          if (tp.residuals[d] !== e) return this.fallback();
          ldim[n] = d;
          lend[n] = e;
          lspace[n] = T;
          n++;
          added++;
        }
      }
      if (added === 0) {
        ldim[n] = nd - 1;
        lend[n] = 1;
        lspace[n] = T;
        n++;
      }
      this.boundary[s] = n - 1;
    }

    // 2. Spatial expansion above each level, MAC expansion, temporal product.
    let ex = 1;
    let ey = 1;
    let temporalProduct = 1;
    {
      let s = nL - 1;
      for (let l = n - 1; l >= 0; l--) {
        if (s >= 0 && l === this.boundary[s]) {
          this.expX[s] = ex;
          this.expY[s] = ey;
          s--;
        }
        if (lspace[l] === X) ex *= lend[l];
        else if (lspace[l] !== T) ey *= lend[l];
        else temporalProduct *= lend[l];
      }
    }
    const mac = arch.arithmetic;
    if (ex * ey > mac.instances) return this.invalid(mac.name, `mapped ${ex * ey} arithmetic instances, the hardware has ${mac.instances}`);
    if (ex > mac.meshX) return this.invalid(mac.name, `mapped arithmetic X expansion ${ex} exceeds meshX ${mac.meshX}`);
    if (ey > mac.meshY) return this.invalid(mac.name, `mapped arithmetic Y expansion ${ey} exceeds meshY ${mac.meshY}`);
    const computeReplication = ex * ey;

    if (!(this.axisAligned ? this.gemmAccesses(temporalProduct) : this.windowAccesses(mapping))) return this.fallback();

    // 6. Collapse (./tiling.ts): partitions, parent shares, bypass, reads/fills/updates.
    for (let t = 0; t < nds; t++) {
      for (let s = 0; s < nL - 1; s++) {
        this.pfd[s * nds + t] = this.spatialTop[s + 1] >= 0 ? this.masterSize[(s + 1) * nds + t] : this.size[s * nds + t];
      }
      let partition = this.size[(nL - 1) * nds + t];
      this.part[(nL - 1) * nds + t] = partition;
      for (let s = nL - 2; s >= 0; s--) {
        const d = this.pfd[s * nds + t];
        if (d !== 0) partition = Math.floor((partition * this.size[s * nds + t]) / d);
        this.part[s * nds + t] = partition;
      }
      for (let s = 0; s < nL; s++) {
        const i = s * nds + t;
        let total = 0;
        for (let k = 0; k < this.nEnt[i]; k++) total += this.entA[i * MAX_ENTRIES + k];
        this.content[i] = total;
        this.pas[i] = 0;
        if (s + 1 < nL) {
          const o = i + nds;
          for (let k = 0; k < this.nEnt[o]; k++) {
            this.pas[i] += (this.entA[o * MAX_ENTRIES + k] * this.entM[o * MAX_ENTRIES + k]) / this.fanout[o];
          }
        }
      }
      // Bypass: a level that does not keep t hands its children's accesses to the level above.
      for (let s = 0; s < nL; s++) {
        const i = s * nds + t;
        if (this.size[i] === 0 || mapping.levels[nL - 1 - s].keep[t]) continue;
        if (s + 1 === nL) {
          this.clear(i);
          break;
        }
        const o = i + nds;
        let weighted = 0;
        for (let k = 0; k < this.nEnt[o]; k++) weighted += this.entA[o * MAX_ENTRIES + k] * this.entM[o * MAX_ENTRIES + k];
        const factor = (this.content[i] * this.fanout[o]) / weighted;
        let total = 0;
        for (let k = 0; k < this.nEnt[o]; k++) {
          const a = this.entA[o * MAX_ENTRIES + k];
          if (a !== 0) {
            this.entA[o * MAX_ENTRIES + k] = a * factor;
            this.link[o] = 0;
          }
          total += this.entA[o * MAX_ENTRIES + k];
        }
        this.content[o] = total;
        this.clear(i);
      }
      for (let s = nL - 1; s >= 0; s--) {
        const i = s * nds + t;
        if (!mapping.levels[nL - 1 - s].keep[t]) {
          this.clear(i);
          this.nEnt[i] = 0;
          this.link[i] = 0;
          this.fanout[i] = 0;
        } else {
          this.pas[i] = 0;
          break;
        }
      }
      // Link transfers at a fanout are peer traffic of the level below it.
      const rw = this.readWrite[t] === 1;
      for (let s = 0; s < nL; s++) {
        const i = s * nds + t;
        const peer = s + 1 < nL && this.link[i + nds] !== 0 ? this.link[i + nds] / (this.expX[s] * this.expY[s]) : 0;
        if (this.size[i] === 0) {
          this.reads[i] = 0;
          this.fills[i] = 0;
          this.updates[i] = 0;
          continue;
        }
        if (rw) {
          let outermost = true;
          for (let o = s + 1; o < nL; o++) if (this.size[o * nds + t] > 0) outermost = false;
          this.updates[i] = Math.round(this.content[i]);
          this.reads[i] = Math.round(this.content[i] + peer - this.part[i]);
          this.fills[i] = outermost ? Math.round(this.pas[i] + peer) : Math.round(this.pas[i] + peer - this.part[i]);
        } else {
          this.reads[i] = Math.round(this.content[i] + peer);
          this.updates[i] = 0;
          this.fills[i] = Math.trunc(this.pas[i] + peer);
        }
      }
    }

    // 7. Arithmetic, then each level's capacity, energy and throttled cycles (./evaluate.ts).
    const computes = Math.trunc(temporalProduct * computeReplication);
    const macEnergy = computes * this.macEnergy;
    const computeCycles = Math.ceil(computes / computeReplication);
    let maxCycles = computeCycles;
    for (let s = 0; s < nL; s++) {
      const o = nL - 1 - s;
      const spec = arch.storage[o];
      const keep = mapping.levels[o].keep;
      const xy = this.expX[s] * this.expY[s];
      const replication = xy;
      let capacity = 0;
      for (let t = 0; t < nds; t++) if (keep[t]) capacity += this.size[s * nds + t];
      if (spec.sizeWords !== null) {
        const effective = Math.floor(spec.sizeWords / spec.multipleBuffering);
        if (capacity > effective) return this.invalid(spec.name, `mapped tile size ${capacity} exceeds buffer capacity ${effective}`);
        if (capacity < effective * spec.minUtilization) {
          return this.invalid(spec.name, `mapped tile size ${capacity} is less than the minimum utilization ${effective * spec.minUtilization}`);
        }
      }
      if (replication > spec.instances) return this.invalid(spec.name, `mapped ${replication} instances, the hardware has ${spec.instances}`);
      if (this.expX[s] > spec.meshX) return this.invalid(spec.name, `mapped X expansion ${this.expX[s]} exceeds meshX ${spec.meshX}`);
      if (this.expY[s] > spec.meshY) return this.invalid(spec.name, `mapped Y expansion ${this.expY[s]} exceeds meshY ${spec.meshY}`);
      const en = this.ctx.storageEnergy[o];
      const clusters = Math.min(xy, spec.instances / spec.clusterSize);
      const utilization = xy / clusters;
      const block = spec.blockSize;
      let energy = 0;
      let totalRead = 0;
      let totalWrite = 0;
      let utilized = 0;
      for (let t = 0; t < nds; t++) {
        const i = s * nds + t;
        const r = this.reads[i];
        const f = this.fills[i];
        const u = this.updates[i];
        const clusterEnergy = Math.ceil(r / block) * en.read + Math.ceil(f / block) * en.fill + Math.ceil(u / block) * en.update;
        const perInstance = replication > 0 ? clusterEnergy / utilization : 0;
        energy += perInstance * replication;
        if (keep[t]) utilized = Math.max(utilized, replication);
        if (keep[t] && spec.addressGenerationEnergy !== null) {
          // As evaluate.ts: per utilized cluster.
          energy += ((this.ctx.problem.dataspaces[t].readWrite ? u : r) + f) * spec.addressGenerationEnergy * clusters;
        }
      }
      for (let t = 0; t < nds; t++) totalRead += this.reads[s * nds + t] / computeCycles;
      for (let t = 0; t < nds; t++) totalWrite += (this.fills[s * nds + t] + this.updates[s * nds + t]) / computeCycles;
      let slowdown = 1;
      if (spec.readBandwidth !== null && spec.readBandwidth < totalRead) slowdown = Math.min(slowdown, spec.readBandwidth / totalRead);
      if (spec.writeBandwidth !== null && spec.writeBandwidth < totalWrite) slowdown = Math.min(slowdown, spec.writeBandwidth / totalWrite);
      if (spec.sharedBandwidth !== null && spec.sharedBandwidth < totalWrite + totalRead) {
        slowdown = Math.min(slowdown, spec.sharedBandwidth / (totalWrite + totalRead));
      }
      const cycles = Math.ceil(computeCycles / slowdown);
      if (cycles > maxCycles) maxCycles = cycles;
      this.levelEnergy[o] = energy;
      this.levelCycles[o] = cycles;
      this.levelUtilized[o] = utilized;
    }
    const networkEnergy = this.ctx.arch.networks.length > 0 ? this.userNetworkEnergy() : 0;
    const cycles = maxCycles + this.latency;
    let leakage = 0;
    for (let o = 0; o < nL; o++) leakage += this.ctx.storageEnergy[o].leak * cycles * this.levelUtilized[o];
    let energy = macEnergy;
    for (let o = 0; o < nL; o++) energy += this.levelEnergy[o];
    energy += networkEnergy + leakage;
    this.energy = energy;
    this.cycles = cycles;
    return true;
  }

  private clear(i: number): void {
    this.size[i] = 0;
    this.part[i] = 0;
    this.content[i] = 0;
    this.pas[i] = 0;
  }

  private fallback(): false {
    this.unsupported = true;
    this.fallbacks++;
    return false;
  }

  /**
   * The fanout below the MACs is rare in practice and its link-transfer
   * pattern needs the instance enumeration of the closed-form analysis:
   * borrow its histogram for this dataspace.
   */
  private macFanout(t: number, i: number): boolean {
    const hist = this.macHistogram(t);
    if (hist === null || hist.length > MAX_ENTRIES) return false;
    this.nEnt[i] = hist.length;
    hist.forEach((e, k) => {
      this.entM[i * MAX_ENTRIES + k] = e.multicast;
      this.entS[i * MAX_ENTRIES + k] = e.scatter;
      this.entA[i * MAX_ENTRIES + k] = e.accesses;
    });
    return true;
  }

  private currentMapping: Mapping | null = null;

  private macHistogram(t: number): { multicast: number; scatter: number; accesses: number }[] | null {
    const mapping = this.currentMapping;
    if (mapping === null) return null;
    // Mappings may be mutated in place between calls (the search does), so nothing is cached here.
    const nest = buildLoopNest(this.ctx.problem, this.ctx.arch, mapping);
    const analysis = analyzeInClosedForm(this.ctx.problem, nest);
    return analysis.tiles[t][0].accessStats.entries.map((e) => ({ multicast: e.multicast, scatter: e.scatter, accesses: e.accesses }));
  }

  /** Steps 3–5 for axis-aligned problems: tile sizes and access histograms from refetch products. */
  private gemmAccesses(temporalProduct: number): boolean {
    const { nL, nd, nds, lend, lspace, ldim } = this;
    const n = this.boundary[nL - 1] + 1;
    // 3. Refetch products: Π bounds of temporal loops above l from the innermost relevant one outwards.
    for (let t = 0; t < nds; t++) {
      let prodAll = 1;
      let lastRel = 1;
      for (let l = n - 1; l >= 0; l--) {
        this.refetch[l * nds + t] = lastRel;
        if (lspace[l] === T) {
          prodAll *= lend[l];
          if (lend[l] > 1 && this.relevant[t * nd + ldim[l]] === 1) lastRel = prodAll;
        }
      }
    }

    // 4. Tile sizes at boundaries and fanout masters (extents grow inner to outer).
    this.ext.fill(1);
    {
      let s = 0;
      for (let l = 0; l < n; l++) {
        this.ext[ldim[l]] *= lend[l];
        const isMaster = s < nL && l === this.spatialTop[s];
        const isBoundary = s < nL && l === this.boundary[s];
        if (isMaster || isBoundary) {
          for (let t = 0; t < nds; t++) {
            let sz = 1;
            for (let d = 0; d < nd; d++) if (this.relevant[t * nd + d] === 1) sz *= this.ext[d];
            if (isMaster) this.masterSize[s * nds + t] = sz;
            if (isBoundary) this.size[s * nds + t] = sz;
          }
        }
        if (isBoundary) s++;
      }
    }

    // 5. Children's accesses to each level, as a (multicast, scatter) histogram.
    for (let s = 0; s < nL; s++) {
      const top = this.spatialTop[s];
      let fan = 1;
      if (top >= 0) for (let l = this.spatialBottom[s]; l <= top; l++) fan *= lend[l];
      for (let t = 0; t < nds; t++) {
        const i = s * nds + t;
        const base = i * MAX_ENTRIES;
        this.fanout[i] = fan;
        this.link[i] = 0;
        this.nEnt[i] = 1;
        if (top < 0) {
          this.entM[base] = 1;
          this.entS[base] = 1;
          this.entA[base] = s === 0 ? temporalProduct : this.size[(s - 1) * nds + t] * this.refetch[this.boundary[s - 1] * nds + t];
        } else {
          let scatter = 1;
          for (let l = this.spatialBottom[s]; l <= top; l++) if (this.relevant[t * nd + ldim[l]] === 1) scatter *= lend[l];
          this.entM[base] = fan / scatter;
          this.entS[base] = scatter;
          if (s > 0) {
            const c = this.boundary[s - 1];
            this.entA[base] = scatter * this.size[(s - 1) * nds + t] * this.refetch[c * nds + t];
          } else if (!this.macFanout(t, i)) {
            return false;
          }
        }
      }
    }

    return true;
  }

  /** Steps 3–5 for sliding windows, from the closed-form analysis's per-level view. */
  private windowAccesses(mapping: Mapping): boolean {
    const nest = buildLoopNest(this.ctx.problem, this.ctx.arch, mapping);
    const w = this.windows;
    if (!w.analyze(this.ctx.problem, nest)) return false;
    this.size.set(w.size);
    this.masterSize.set(w.masterSize);
    this.fanout.set(w.fanout);
    this.link.set(w.link);
    this.nEnt.set(w.count);
    this.entM.set(w.multicast);
    this.entS.set(w.scatter);
    this.entA.set(w.accesses);
    return true;
  }

  /** SimpleMulticast networks, as ./evaluate.ts charges them. */
  private userNetworkEnergy(): number {
    const { arch } = this.ctx;
    const { nL, nds } = this;
    const seen = new Map<string, number>();
    for (let s = 0; s < nL; s++) {
      const spec = arch.storage[nL - 1 - s];
      for (const name of [spec.networks.read, spec.networks.update]) {
        if (name !== undefined && !seen.has(name)) seen.set(name, s);
      }
    }
    let total = 0;
    for (const [name, s] of seen) {
      let networkTotal = 0;
      const spec = arch.networks.find((x) => x.name === name)!;
      const actions = this.ctx.networkActions.get(name) ?? [];
      for (let t = 0; t < nds; t++) {
        const i = s * nds + t;
        const action = spec.perDatatypeErt ? `${spec.actionName}_${this.ctx.problem.dataspaces[t].name}` : spec.actionName;
        // Entries in increasing (multicast, scatter) order; the last non-zero one sets the energy.
        const order = [...Array(this.nEnt[i]).keys()].sort(
          (a, b) => this.entM[i * MAX_ENTRIES + a] - this.entM[i * MAX_ENTRIES + b] || this.entS[i * MAX_ENTRIES + a] - this.entS[i * MAX_ENTRIES + b],
        );
        let energy = 0;
        for (const k of order) {
          const acc = this.entA[i * MAX_ENTRIES + k];
          if (acc > 0) {
            const m = this.entM[i * MAX_ENTRIES + k];
            energy = networkTransferEnergy(actions, action, spec.multicastFactorArgument, m) * acc;
          }
        }
        networkTotal += energy * (this.expX[s] * this.expY[s]);
      }
      total += networkTotal;
    }
    return total;
  }

  /** Like `evaluate`, falling back to the full model where the closed form does not apply. */
  evaluateAny(mapping: Mapping): boolean {
    const ok = this.evaluate(mapping);
    if (ok || !this.unsupported) return ok;
    const full = evaluateMapping(this.ctx, mapping);
    if (!full.ok) {
      this.invalidReason = `${full.error.level ?? ''}: ${full.error.reason}`;
      return false;
    }
    this.energy = full.value.summary.energy_pJ;
    this.cycles = full.value.summary.cycles;
    return true;
  }
}
