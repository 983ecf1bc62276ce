/**
 * The `aggregate` kind's expanders: a matrix or jobs experiment — its map
 * cells, the fused-pair cells of its fusion levels — and the aggregate task
 * over them (see expand.ts for what each names).
 */
import { readMapperJob } from '../../inputs/mapper-job.ts';
import { UserError } from '../../util/errors.ts';
import { FUSION_LEVELS, fusedConstraints, type FusionArch, type FusionFlags, type FusionMode } from '../../fusion/index.ts';
import { blockLayers, FUSION_PAIRS, type LayerInstance } from '../../workload/layers.ts';
import type { TaskMeta, TaskSpec } from '../../build/task.ts';
import type { ExperimentDef } from '../config.ts';
import { blockLabels, type ExpandContext, type ResolvedArch, type Sink } from '../expand-context.ts';
import type { Cell } from './aggregate.ts';
import { flagsText, type FusedPairInput } from './fused-pair.ts';
import type { JointBlockInput } from './joint-block.ts';
import { wholeDimensions } from '../../fusion/cascade.ts';

/** Effort of each layer's local search per fusion role in a joint block (src/fusion/joint.ts). */
const JOINT_EFFORT = 3000;
import { cellId, mapSpec, mapperInput } from './map-expand.ts';

export function expandJobs(ctx: ExpandContext, name: string, def: ExperimentDef, sink: Sink): void {
  def.jobs?.forEach((job, i) => {
    const field = `experiments.${name}.jobs[${i}]`;
    if (job.files === undefined) {
      // A job on a named architecture: one cell of the matrix, with the job's own labels.
      const model = ctx.loaded.models.find((m) => m.id === job.model)!;
      const [layer] = blockLayers(model, { layers: [job.layer!], origin: { file: ctx.loaded.displayFile, field: `${field}.layer` } });
      const a = ctx.architecture(job.arch!);
      const meta: TaskMeta = {
        experiment: name,
        model: model.id,
        layer: layer.id,
        arch: job.arch!,
        fusion: 'none',
        ...(job.variant !== undefined ? { variant: job.variant } : {}),
      };
      const constraints = a.constraints(layer.problem);
      sink.cell(mapSpec(meta, layer.problem, a.arch, a.ert, constraints, a.labels, mapperInput(ctx, def, undefined, `experiments.${name}.mapper`), `workload ${model.id} ${layer.id}`), field);
      return;
    }
    const parsed = readMapperJob(
      job.files.map((f) => ctx.shown(f)),
      job.files.map((f) => ctx.doc(f)),
    );
    const labels = blockLabels(job.files.map((f) => ({ label: ctx.label(f), doc: ctx.doc(f) })));
    const meta: TaskMeta = {
      experiment: name,
      model: job.model ?? '-',
      layer: job.layer ?? parsed.problem.name,
      arch: job.arch ?? parsed.arch.name,
      fusion: job.fusion ?? 'none',
      ...(job.variant !== undefined ? { variant: job.variant } : {}),
    };
    const mapperBlock = job.files.map((f) => ctx.doc(f)).reduce<unknown>((found, doc) => (typeof doc === 'object' && doc !== null && 'mapper' in doc ? (doc as Record<string, unknown>)['mapper'] : found), undefined);
    sink.cell(mapSpec(meta, parsed.problem, parsed.arch, parsed.ert, parsed.constraints, labels, mapperInput(ctx, def, parsed.metrics, `experiments.${name}.mapper`, mapperBlock)), field);
  });
}

/** The fusion levels of an architecture (none when fusion is not defined for it). */
function fusionArchOfName(name: string, a: ResolvedArch): FusionArch | undefined {
  const id = a.preset?.id ?? name;
  if (id.startsWith('gemmini')) return 'gemmini';
  if (id.startsWith('pim')) return 'pim';
  return undefined;
}


export function expandMatrix(ctx: ExpandContext, name: string, def: ExperimentDef, sink: Sink): void {
  if (def.models === undefined || def.architectures === undefined) return;
  const file = ctx.loaded.displayFile;
  const field = `experiments.${name}`;
  const mode: FusionMode = def.fusionMode ?? 'fixed';
  const flags: FusionFlags = {
    ...(def.noEFusion ? { noEFusion: true } : {}),
    ...(def.lFusion ? { lFusion: true } : {}),
    ...(def.payWritebackInMatmul ? { payWritebackInMatmul: true } : {}),
  };
  const flagText = flagsText(flags);
  const fusionLabel = `${mode}${flagText ? ` ${flagText}` : ''}`;
  const archs = def.architectures.map((n) => ({ name: n, resolved: ctx.architecture(n) }));
  // Fusion levels: each applies to the architectures that have it; `none` always; `joint` is the joint search, not a level.
  const joint = (def.fusion ?? []).includes('joint');
  const levels = (def.fusion ?? ['none']).filter((f) => f !== 'none' && f !== 'joint');
  levels.forEach((level) => {
    const i = def.fusion!.indexOf(level);
    const fas = archs.map((a) => fusionArchOfName(a.name, a.resolved));
    if (!fas.some((fa) => fa !== undefined && FUSION_LEVELS[fa].includes(level))) {
      const offered = [...new Set(fas.filter((fa): fa is FusionArch => fa !== undefined).flatMap((fa) => FUSION_LEVELS[fa]))];
      throw new UserError(
        `'${level}' is not a fusion level of ${def.architectures!.join(', ')} (${offered.length > 0 ? `levels: none, ${offered.join(', ')}; or joint` : 'these architectures have no fusion levels: use none, or joint'})`,
        file,
        `${field}.fusion[${i}]`,
      );
    }
  });
  const levelsFor = (a: (typeof archs)[number]): string[] => {
    const fa = fusionArchOfName(a.name, a.resolved);
    return fa === undefined ? [] : levels.filter((l) => FUSION_LEVELS[fa].includes(l));
  };
  const mapper = mapperInput(ctx, def, undefined, `${field}.mapper`);
  def.models.forEach((modelId, mi) => {
    const model = ctx.loaded.models.find((m) => m.id === modelId)!;
    const layers = blockLayers(model, { layers: def.layers, seqLength: def.seqLength, batch: def.batch, origin: { file, field } });
    const pairs = fusedPairs(def, layers, levels.length > 0, file, field);
    const inPair = new Map(pairs.flatMap((p) => [[p[0], 'matmul'], [p[1], 'normop']] as const));
    const problemLabel = (layer: LayerInstance) => `workload ${modelId}${def.seqLength ? ` (seqLength ${def.seqLength})` : ''}${def.batch ? ` (batch ${def.batch})` : ''} ${layer.id}`;
    /** Task id of each (layer, arch, fusion) cell. */
    const cellTask = new Map<string, string>();
    for (const layer of layers) {
      for (const arch of archs) {
        const hw = layer.kind === 'normop' ? ctx.noArchitecture(arch.name, `${field}.layers`) : arch.name;
        const a = hw === arch.name ? arch.resolved : ctx.architecture(hw);
        const base: TaskMeta = { experiment: name, model: modelId, layer: layer.id, arch: arch.name, fusion: 'none', hw, perBlock: layer.perBlock, blocks: layer.blocks };
        const unfused = a.constraints(layer.problem);
        const none = mapSpec(base, layer.problem, a.arch, a.ert, unfused, a.labels, mapper, problemLabel(layer));
        sink.cell(none, `${field}.models[${mi}]`);
        cellTask.set(`${layer.id}/${arch.name}/none`, none.id);
        if (!inPair.has(layer.id)) continue;
        const fa = fusionArchOfName(arch.name, arch.resolved)!;
        for (const level of levelsFor(arch)) {
          const meta: TaskMeta = { ...base, fusion: level, fusionMode: mode, ...(flagText ? { fusionFlags: flagText } : {}) };
          let constraints = unfused;
          let constraintsLabel = a.labels.constraints;
          // Fusion at DRAM (the outermost level) is no fusion: the unfused
          // constraints, hence the unfused task (the study wrote both to one folder).
          if (FUSION_LEVELS[fa].indexOf(level) > 0) {
            if (!a.preset) {
              throw new UserError(`fusion needs an architecture preset (experiments/archs/${hw}.yaml): '${hw}' is given as Timeloop files`, file, `${field}.fusion`);
            }
            try {
              constraints = fusedConstraints(a.preset, layer.problem, { arch: fa, kind: layer.kind, level, mode, flags }).constraints;
            } catch (error) {
              if (error instanceof UserError) throw new UserError(`${layer.id} on ${hw} fused at ${level}: ${error.message}`, file, `${field}.fusion`);
              throw error;
            }
            constraintsLabel = `${a.labels.constraints} fused at ${level} (${fusionLabel})`;
          }
          const spec = mapSpec(meta, layer.problem, a.arch, a.ert, constraints, { ...a.labels, constraints: constraintsLabel }, mapper, problemLabel(layer));
          sink.cell(spec, `${field}.fusion`);
          cellTask.set(`${layer.id}/${arch.name}/${level}`, spec.id);
        }
      }
    }
    if (joint) {
      for (const arch of archs) {
        const fa = fusionArchOfName(arch.name, arch.resolved);
        const value: JointBlockInput = {
          model: modelId,
          arch: arch.name,
          blocks: layers[0]?.blocks ?? 1,
          layers: layers.map((layer) => {
            const hw = layer.kind === 'normop' ? ctx.noArchitecture(arch.name, `${field}.layers`) : arch.name;
            const a = hw === arch.name ? arch.resolved : ctx.architecture(hw);
            return { id: layer.id, hw, count: layer.perBlock, task: cellTask.get(`${layer.id}/${arch.name}/none`)!, whole: wholeDimensions(layer), problem: layer.problem, architecture: a.arch, ERT: a.ert, constraints: a.constraints(layer.problem) };
          }),
          // The study's rewrite levels asked for (DRAM, the outermost, is no fusion).
          rewrites:
            fa === undefined
              ? []
              : levelsFor(arch)
                  .filter((level) => FUSION_LEVELS[fa].indexOf(level) > 0)
                  .map((level) => ({
                    level,
                    pairs: pairs.map(([matmul, normop]) => ({ matmul, normop, matmulTask: cellTask.get(`${matmul}/${arch.name}/${level}`)!, normopTask: cellTask.get(`${normop}/${arch.name}/${level}`)! })),
                  })),
          search: { effort: JOINT_EFFORT, seed: 1 },
        };
        const meta: TaskMeta = { experiment: name, model: modelId, layer: 'block', arch: arch.name, fusion: 'joint', perBlock: 1, blocks: value.blocks };
        sink.joint(
          {
            id: cellId('joint', meta),
            kind: 'joint-block',
            inputs: { block: { label: `${file}: ${field}.fusion joint: the ${modelId} block on ${arch.name} (its unfused cells' problems, architectures, ERTs and constraints)`, value } },
            deps: [...new Set([...value.layers.map((l) => l.task), ...value.rewrites.flatMap((r) => r.pairs.flatMap((p) => [p.matmulTask, p.normopTask]))])],
            meta,
          },
          `${field}.fusion`,
        );
      }
    }
    for (const [matmul, normop] of pairs) {
      const m = layers.find((l) => l.id === matmul)!;
      for (const arch of archs) {
        for (const level of levelsFor(arch)) {
          const task = (layer: string, f: string) => cellTask.get(`${layer}/${arch.name}/${f}`)!;
          const value: FusedPairInput = {
            matmul: { layer: matmul, task: task(matmul, level), unfused: task(matmul, 'none') },
            normop: { layer: normop, task: task(normop, level), unfused: task(normop, 'none') },
            level,
            mode,
            flags,
            perBlock: m.perBlock,
            blocks: m.blocks,
          };
          const meta: TaskMeta = { experiment: name, model: modelId, layer: `${matmul}+${normop}`, arch: arch.name, fusion: level, fusionMode: mode, ...(flagText ? { fusionFlags: flagText } : {}), perBlock: m.perBlock, blocks: m.blocks };
          sink.pair(
            {
              id: cellId('pair', meta),
              kind: 'fused-pair',
              inputs: { pair: { label: `${file}: ${field}.fusedPairs ${matmul} → ${normop} at ${level} (${fusionLabel})`, value } },
              deps: [...new Set([value.matmul.task, value.normop.task, value.matmul.unfused, value.normop.unfused])],
              meta,
            },
            `${field}.fusedPairs`,
          );
        }
      }
    }
  });
}

/**
 * The experiment's fused pairs among its layers: `fusedPairs`, else (when
 * fusion levels are asked for) the study's pairs whose two layers are there.
 */
function fusedPairs(def: ExperimentDef, layers: readonly LayerInstance[], fusing: boolean, file: string, field: string): (readonly [string, string])[] {
  if (!fusing) return [];
  const ids = new Set<string>(layers.map((l) => l.id));
  if (def.fusedPairs === undefined) {
    const pairs = FUSION_PAIRS.filter(([a, b]) => ids.has(a) && ids.has(b));
    if (pairs.length === 0) {
      throw new UserError(`fusion levels need a fused pair, and no pair of the study (${FUSION_PAIRS.map((p) => p.join(' → ')).join(', ')}) has both layers in the experiment's layers`, file, `${field}.fusion`);
    }
    return pairs;
  }
  def.fusedPairs.forEach((pair, i) => {
    pair.forEach((l, j) => {
      if (!ids.has(l)) throw new UserError(`layer '${l}' of the fused pair is not in the experiment's layers`, file, `${field}.fusedPairs[${i}][${j}]`);
    });
  });
  return def.fusedPairs;
}

/** The experiment's `aggregate` task: its cells, fused-pair cells and joint blocks, in order. */
export function aggregateSpec(ctx: ExpandContext, name: string, cells: Cell[], pairs: Cell[], joints: Cell[] = []): TaskSpec {
  const loaded = ctx.loaded;
  return {
    id: `aggregate:${name}`,
    kind: 'aggregate',
    inputs: {
      cells: { label: `${loaded.displayFile}: experiments.${name}`, value: cells },
      ...(pairs.length > 0 ? { pairs: { label: `${loaded.displayFile}: experiments.${name}.fusedPairs`, value: pairs } } : {}),
      ...(joints.length > 0 ? { joints: { label: `${loaded.displayFile}: experiments.${name}.fusion (joint)`, value: joints } } : {}),
    },
    deps: [...new Set([...cells, ...pairs, ...joints].map((c) => c.task))],
    meta: { experiment: name },
  };
}
