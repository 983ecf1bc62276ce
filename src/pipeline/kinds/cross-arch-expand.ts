/**
 * The `cross-arch` kind's expander: the cross-architecture study (see
 * expand.ts) — a map task per (architecture, workload), and the study's
 * `cross-arch` task.
 */
import type { MapspaceConstraints } from '../../mapper/constraints.ts';
import { UserError } from '../../util/errors.ts';
import type { ExperimentDef } from '../config.ts';
import type { TaskInput, TaskMeta, TaskSpec } from '../../build/task.ts';
import { CROSS_ARCH_ALL_ARCHITECTURES, MAPPER_PRESETS, crossArchConstraints, crossArchWorkload } from '../../sweeps/cross-arch.ts';
import { studyMapSettings } from '../../sweeps/hwdse.ts';
import { expandWorkloads } from '../sweep-config.ts';
import type { ExpandContext, Sink } from '../expand-context.ts';
import type { CrossArchStudyCell, CrossArchStudyInput } from './cross-arch.ts';

export function expandCrossArch(ctx: ExpandContext, name: string, def: ExperimentDef, sink: Sink): TaskSpec {
  const x = def.crossArch!;
  const file = ctx.loaded.displayFile;
  const field = `experiments.${name}.crossArch`;
  const preset = MAPPER_PRESETS[x.mapper ?? 'TLL'];
  const settings = (budgetMs: number | undefined) => studyMapSettings({ ...preset, ...(x.seed !== undefined ? { seed: x.seed } : {}), budgetMs });
  const study: CrossArchStudyInput = { mapper: preset.name, description: preset.description, gemm: settings(preset.budgetMs), conv: settings(preset.convBudgetMs ?? preset.budgetMs) };
  const mapperInput = (kind: 'gemm' | 'conv'): TaskInput => ({ label: `${file}: ${field}.mapper (${preset.name}${kind === 'conv' && preset.convBudgetMs !== undefined ? ', convolution time budget' : ''})`, value: kind === 'gemm' ? study.gemm : study.conv });
  const mappers = { gemm: mapperInput('gemm'), conv: mapperInput('conv') };
  const workloads = expandWorkloads(x.workloads).map((id) => crossArchWorkload(id));
  const cells: CrossArchStudyCell[] = [];
  x.architectures.forEach((archName, ai) => {
    const a = ctx.architecture(archName);
    for (const w of workloads) {
      const bert = !/^(MB\d|Harsh\d)$/.test(w.id) && w.kind === 'gemm';
      const meta: TaskMeta = { experiment: name, model: bert ? 'bert-large' : '-', layer: w.id, arch: archName, fusion: 'none', variant: preset.name, hw: archName, study: 'cross-arch' };
      const cell: CrossArchStudyCell = { comp: w.id, arch: archName, kind: w.kind, macs: w.macs, meta };
      let constraints: MapspaceConstraints;
      try {
        if (a.preset !== undefined && (CROSS_ARCH_ALL_ARCHITECTURES as readonly string[]).includes(a.preset.id)) constraints = crossArchConstraints(a.preset, w.problem);
        else if (w.kind === 'conv') throw new UserError(`the study's convolution constraints are known for the presets ${CROSS_ARCH_ALL_ARCHITECTURES.join(', ')} only`, file, `${field}.architectures[${ai}]`);
        else constraints = a.constraints(w.problem);
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        if (error.field === `${field}.architectures[${ai}]`) throw error;
        cells.push({ ...cell, infeasible: error.message });
        continue;
      }
      const spec: TaskSpec = {
        id: `map:${name}/${archName}/${w.id}`,
        kind: 'map',
        inputs: {
          problem: { label: `workload ${w.id}${w.kind === 'conv' ? " (the study's letters)" : ''}`, value: w.problem },
          architecture: { label: a.labels.architecture, value: a.arch },
          ERT: { label: a.labels.ERT, value: a.ert },
          constraints: { label: `${a.labels.constraints}${w.kind === 'conv' ? " + the study's R/S/Q/N constraints" : ''}`, value: constraints },
          mapper: mappers[w.kind],
        },
        deps: [],
        meta: { ...meta, macs: w.macs },
      };
      sink.cell(spec, `${field}.workloads`);
      cells.push({ ...cell, task: spec.id, meta: spec.meta });
    }
  });
  return {
    id: `cross-arch:${name}`,
    kind: 'cross-arch',
    inputs: { study: { label: `${file}: ${field}.mapper`, value: study }, cells: { label: `${file}: ${field}`, value: cells } },
    deps: [...new Set(cells.flatMap((c) => (c.task !== undefined ? [c.task] : [])))],
    meta: { experiment: name, study: 'cross-arch' },
  };
}
