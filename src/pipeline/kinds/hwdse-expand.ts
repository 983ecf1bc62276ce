/**
 * The `hwdse` kind's expander: a HW-DSE sweep (see expand.ts) — a map task
 * per (config, layer) on the config's architecture variant, and the sweep's
 * `hwdse` task.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { MapspaceConstraints } from '../../mapper/constraints.ts';
import { UserError } from '../../util/errors.ts';
import type { ExperimentDef, LoadedConfig } from '../config.ts';
import type { TaskInput, TaskMeta, TaskSpec } from '../../build/task.ts';
import { GEMMINI_CONFIG_KEYS, PIM_CONFIG_KEYS, gemminiVariant, hwdseLayers, pimVariant, studyMapSettings, variantConstraints, type GemminiHwConfig, type HwdseVariant, type PimHwConfig, type VariantOptions } from '../../sweeps/hwdse.ts';
import { resolveSweepConfigs } from '../sweep-config.ts';
import { presetDir, type ExpandContext, type Sink } from '../expand-context.ts';
import type { HwdseCell, HwdseSweepInput } from './hwdse.ts';
import type { MapSettings } from '../../mapper/settings.ts';

/** The presets a sweep's variants start from: the config's experiments/archs when it has them, else expt's own. */
function sweepPresetDir(loaded: LoadedConfig, base: string): string | undefined {
  const dir = presetDir(loaded);
  return existsSync(resolve(dir, `${base}.yaml`)) ? dir : undefined;
}

function configText(config: GemminiHwConfig | PimHwConfig): string {
  return Object.entries(config)
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ');
}

export function expandSweep(ctx: ExpandContext, name: string, def: ExperimentDef, sink: Sink): TaskSpec {
  const sweep = def.sweep!;
  const file = ctx.loaded.displayFile;
  const field = `experiments.${name}.sweep`;
  const resolved = resolveSweepConfigs(sweep.architecture, sweep.configs, { root: ctx.loaded.root, file, field: `${field}.configs` }, { mixup: sweep.mixup });
  const modelId = sweep.model ?? 'bert-large';
  const model = ctx.loaded.models.find((m) => m.id === modelId)!;
  const layers = hwdseLayers(model, sweep.layers ?? ['KTQ', 'VScores', 'softmax'], { ignoreHeads: sweep.ignoreHeads });
  const mode = sweep.mode ?? 'fixed';
  const version = sweep.version ?? 'head';
  const beyondCacti = sweep.beyondCacti ?? 'extrapolate';
  const mapper: TaskInput = { label: `${file}: ${field}.mapper`, value: studyMapSettings(sweep.mapper ?? {}) };
  const variants = new Map<string, HwdseVariant>();
  const variantOf = (config: GemminiHwConfig | PimHwConfig, kind: 'matmul' | 'normop', i: number): HwdseVariant => {
    const base = sweep.architecture === 'gemmini' ? (kind === 'matmul' ? 'gemmini' : 'gemmini-no') : kind === 'matmul' ? 'pim' : 'pim-no';
    const dir = sweepPresetDir(ctx.loaded, base);
    const options: VariantOptions = { mode, version, beyondCacti, ...(dir !== undefined ? { dir } : {}) };
    let v: HwdseVariant;
    try {
      v = sweep.architecture === 'gemmini' ? gemminiVariant(config as GemminiHwConfig, kind, options) : pimVariant(config as PimHwConfig, kind, options);
    } catch (error) {
      if (error instanceof UserError) throw new UserError(`config ${i} (${configText(config)}): ${error.message}`, file, `${field}.configs`);
      throw error;
    }
    // One object per variant id: identical variants hash once and their tasks merge.
    const seen = variants.get(v.id);
    if (seen) return seen;
    variants.set(v.id, v);
    return v;
  };
  const problems = new Map(layers.map((l) => [l.id, l.problem]));
  const cells: HwdseCell[] = [];
  resolved.configs.forEach((config, i) => {
    for (const layer of layers) {
      const variant = variantOf(config, layer.kind, i);
      const meta: TaskMeta = { experiment: name, model: modelId, layer: layer.id, arch: sweep.architecture, fusion: 'none', variant: `config${i}`, hw: variant.id, study: 'hwdse', config: i };
      const cell: HwdseCell = { config: i, layer: layer.id, variant: variant.id, notes: [...variant.notes], meta };
      let constraints: MapspaceConstraints;
      try {
        constraints = variantConstraints(variant, layer.problem);
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        cells.push({ ...cell, infeasible: error.message });
        continue;
      }
      const yaml = ctx.label(variant.file);
      const spec: TaskSpec = {
        id: `map:${name}/config${i}/${layer.id}`,
        kind: 'map',
        inputs: {
          problem: { label: `workload ${modelId} ${layer.id}`, value: problems.get(layer.id)! },
          architecture: { label: `${yaml} as HW-DSE config ${i} of ${resolved.source} (${configText(config)})`, value: variant.arch },
          ERT: {
            label: `${variant.energyFile ? `${ctx.label(variant.energyFile)} + ` : ''}energies estimated from ${yaml} as HW-DSE config ${i}${variant.notes.length > 0 ? ' (extrapolated beyond the CACTI runs)' : ''}`,
            value: variant.ert,
          },
          constraints: { label: `${mode} ${layer.kind === 'matmul' ? `${config.dataflow} ` : ''}constraints (${version}) on ${variant.id}`, value: constraints },
          mapper,
        },
        deps: [],
        meta: { ...meta, macs: layer.macs },
      };
      sink.cell(spec, `${field}.configs`);
      cells.push({ ...cell, task: spec.id, meta: spec.meta });
    }
  });
  const value: HwdseSweepInput = {
    architecture: sweep.architecture,
    source: resolved.source,
    configs: resolved.configs,
    keys: [...(sweep.architecture === 'gemmini' ? GEMMINI_CONFIG_KEYS : PIM_CONFIG_KEYS)],
    mode,
    version,
    beyondCacti,
    model: modelId,
    layers: layers.map((l) => ({ id: l.id, kind: l.kind, weight: l.weight, macs: l.macs })),
    ignoreHeads: sweep.ignoreHeads === true,
    mapper: mapper.value as MapSettings,
  };
  return {
    id: `hwdse:${name}`,
    kind: 'hwdse',
    inputs: { sweep: { label: `${file}: ${field}`, value }, cells: { label: `${file}: ${field}.configs × layers`, value: cells } },
    deps: [...new Set(cells.flatMap((c) => (c.task !== undefined ? [c.task] : [])))],
    meta: { experiment: name, study: 'hwdse' },
  };
}
