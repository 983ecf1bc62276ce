/**
 * Reading the study's model files (`experiments/models/*.yaml`, or a
 * config's `modelsDir`): the files are read here, each model is parsed and
 * checked by workload/models.ts.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isPlainObject, readYamlFile } from '../util/yaml.ts';
import { parseModel, type TransformerModel } from '../workload/models.ts';
import { fieldOf, userError, type Origin } from '../workload/shapes.ts';

/**
 * Reads a model file: either one model (a map with `id`, …) or `models:` with
 * a list of them. Errors name the file and the field (`models[1].heads`).
 */
export function loadModelFile(path: string): TransformerModel[] {
  const doc = readYamlFile(path);
  const origin: Origin = { file: path };
  if (isPlainObject(doc) && 'models' in doc) {
    const extra = Object.keys(doc).filter((k) => k !== 'models');
    if (extra.length > 0) throw userError(fieldOf(origin, extra[0]), `unknown top-level field '${extra[0]}' next to 'models'`);
    const list = doc['models'];
    if (!Array.isArray(list)) throw userError(fieldOf(origin, 'models'), 'expected a list of models');
    const models = list.map((m, i) => parseModel(m, fieldOf(fieldOf(origin, 'models'), i)));
    const seen = new Set<string>();
    models.forEach((m, i) => {
      if (seen.has(m.id)) throw userError(fieldOf(fieldOf(fieldOf(origin, 'models'), i), 'id'), `model id '${m.id}' is defined twice`);
      seen.add(m.id);
    });
    return models;
  }
  if (doc === null) throw userError(origin, 'the file is empty; expected a model definition');
  return [parseModel(doc, origin)];
}

/** Reads every `*.yaml` / `*.yml` file of a folder (sorted by name); ids must be unique across files. */
export function loadModelDir(dir: string): TransformerModel[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch {
    throw userError({ file: dir }, 'cannot read the model folder');
  }
  const models: TransformerModel[] = [];
  const from = new Map<string, string>();
  for (const n of names) {
    const file = join(dir, n);
    if (!statSync(file).isFile()) continue;
    for (const m of loadModelFile(file)) {
      const previous = from.get(m.id);
      if (previous !== undefined) throw userError({ file, field: 'id' }, `model id '${m.id}' is already defined in ${previous}`);
      from.set(m.id, file);
      models.push(m);
    }
  }
  return models;
}
