/**
 * One task for `expt export` / `expt check`: Timeloop input files in either
 * format (tree format or timeloopfe v0.4, merged the way their reader merges
 * them) and optionally an architecture preset, with an ERT estimated from
 * the architecture's Accelergy classes when no file gives one.
 */
import { basename } from 'node:path';
import { loadArchitecture } from './presets.ts';
import { estimateArchitecture } from '../arch/energy/index.ts';
import { UserError } from '../util/errors.ts';
import type { ExportTask } from '../timeloop/export.ts';
import { importAnyDocuments, type V4ImportOptions } from '../timeloop/v4-import.ts';
import { readV4YamlFile } from '../timeloop/v4-yaml.ts';

export interface LoadedTask extends ExportTask {
  /** A file-name-friendly name (the preset id, else the first file's base name). */
  readonly name: string;
  readonly files: readonly string[];
  readonly format: 'tree' | 'timeloopfe-v0.4' | 'preset';
  /** Where the ERT came from. */
  readonly ertSource: 'input' | 'preset' | 'estimated' | 'none';
  readonly warnings: readonly string[];
}

export interface LoadTaskOptions extends V4ImportOptions {
  /** An architecture preset id (experiments/archs) or file: its architecture, constraints and ERT. */
  readonly arch?: string;
}

export function loadTask(files: readonly string[], opts: LoadTaskOptions = {}): LoadedTask {
  const warnings: string[] = [];
  const docs = files.map((file) => ({ file, doc: readV4YamlFile(file) }));
  const input = docs.length > 0 ? importAnyDocuments(docs, opts) : undefined;
  if (input) warnings.push(...input.warnings);
  let architecture = input?.architecture;
  let constraints = input?.constraints;
  let ert = input?.ert;
  let ertSource: LoadedTask['ertSource'] = ert ? 'input' : 'none';
  let format: LoadedTask['format'] = input?.format ?? 'preset';
  // Named after the file that holds the architecture (not a variables or problem file).
  const archFile = docs.find((d) => typeof d.doc === 'object' && d.doc !== null && ('architecture' in d.doc || 'arch' in d.doc))?.file ?? files[0];
  let name = archFile !== undefined ? basename(archFile).replace(/\.ya?ml$/, '') : 'task';
  if (opts.arch !== undefined) {
    const preset = loadArchitecture(opts.arch);
    if (architecture) warnings.push(`the architecture of ${files.join(', ')} is replaced by the preset '${preset.id}'`);
    architecture = preset.arch;
    name = preset.id;
    if (!constraints && preset.constraints !== undefined) {
      const block = preset.constraints as { targets?: unknown[] } | unknown[];
      const targets = Array.isArray(block) ? block : block?.targets;
      if (Array.isArray(targets)) constraints = { targets };
    }
    if (!ert) {
      ert = preset.ert;
      ertSource = 'preset';
    }
    if (files.length === 0) format = 'preset';
  }
  if (!architecture) throw new UserError('no architecture: give an input file with `architecture:` or --arch <preset>', files.join(', ') || undefined);
  if (!ert) {
    try {
      ert = estimateArchitecture(architecture).ert;
      ertSource = 'estimated';
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      warnings.push(`no ERT: none in the input, and the estimator cannot price it (${e.message})`);
    }
  }
  return {
    name,
    files,
    format,
    architecture,
    problem: input?.problem,
    mapping: input?.mapping,
    ert,
    constraints,
    mapper: input?.mapper,
    ertSource,
    warnings,
  };
}
