/**
 * `expt eval <file.yaml>... [--json]`: evaluate one mapping with the
 * built-in model.
 *
 * The files are Timeloop tree-format inputs. They are merged the way
 * Timeloop merges its command line: top-level keys are unioned and a later
 * file replaces an earlier file's key. Together they must give
 * `architecture`, `problem`, `mapping` and `ERT`.
 *
 * Exit codes: 0 evaluated; 2 bad usage, bad input or an invalid mapping (one
 * line on stderr naming the file and field).
 */
import { parseArgs } from 'node:util';
import { MissingEnergyError } from '../arch/energy-table.ts';
import { evaluateMapping, prepareModel, type ModelContext } from '../model/evaluate.ts';
import type { Evaluation } from '../model/result.ts';
import { importTimeloopDocuments, parseMapping, type TimeloopInput } from '../timeloop/tree-import.ts';
import { UserError } from '../util/errors.ts';
import { isPlainObject } from '../util/yaml.ts';
import { isV4Document } from '../timeloop/v4-import.ts';
import { readV4YamlFile } from '../timeloop/v4-yaml.ts';
import { loadTask } from '../inputs/timeloop-task.ts';
import { evalJson, renderEvalText } from '../model/evaluation-text.ts';

export function evalUsage(): string {
  return [
    'Usage: expt eval <file.yaml>... [--json]',
    '',
    'Evaluates one mapping with the built-in Timeloop v3.0.3 model and prints',
    'per-level accesses and energy, cycles, utilization, energy and EDP.',
    '',
    'The files are Timeloop tree-format inputs; later files override earlier',
    'ones key by key. Together they must define architecture, problem, mapping',
    'and ERT.',
    '',
    'Options:',
    '  --json       Print the result as JSON (format "expt-eval-v1": arithmetic,',
    '               storage, networks, summary, as in the golden expected.json)',
    '  --engine E   expt (default: the built-in model) or timeloop (run the real',
    '               timeloop-model on the same input and read its stats.txt)',
    '  --timeloop-bin DIR  folder of timeloop-model (default: EXPT_TIMELOOP_MODEL, then PATH)',
    '  -h, --help   Show this help',
    '',
  ].join('\n');
}

/** The blocks `expt eval` needs, with the top-level keys that provide them. */
const REQUIRED_BLOCKS: readonly { block: string; keys: readonly string[] }[] = [
  { block: 'architecture', keys: ['architecture', 'arch'] },
  { block: 'problem', keys: ['problem'] },
  { block: 'mapping', keys: ['mapping'] },
  { block: 'ERT', keys: ['ERT'] },
];

/** A merged input with every block `expt eval` needs. */
export interface EvalInput {
  readonly architecture: NonNullable<TimeloopInput['architecture']>;
  readonly problem: NonNullable<TimeloopInput['problem']>;
  readonly mapping: NonNullable<TimeloopInput['mapping']>;
  readonly ert: NonNullable<TimeloopInput['ert']>;
  readonly raw: TimeloopInput['raw'];
}

/** Reads, merges and checks the input files; every problem is a {@link UserError}. */
export function loadEvalInput(files: readonly string[]): EvalInput {
  const docs = files.map((file) => ({ file, doc: readV4YamlFile(file) }));
  if (docs.some((d) => isV4Document(d.doc))) return loadV4EvalInput(docs);
  // Find missing blocks before parsing, so that the message is the same whichever block is missing.
  const present = new Set<string>();
  for (const { file, doc } of docs) {
    if (doc === null || doc === undefined) continue;
    if (!isPlainObject(doc)) {
      throw new UserError(`expected a map of top-level keys (architecture, problem, mapping, ERT), found ${Array.isArray(doc) ? 'a list' : typeof doc}`, file);
    }
    for (const key of Object.keys(doc)) present.add(key.replace(/-/g, '_'));
  }
  const missing = REQUIRED_BLOCKS.filter((b) => !b.keys.some((k) => present.has(k))).map((b) => b.block);
  if (missing.length > 0) {
    const what = missing.length === 1 ? `the ${missing[0]} block` : `the ${missing.join(', ')} blocks`;
    throw new UserError(
      `missing ${what}: no input file defines ${missing.map((m) => `\`${m}:\``).join(', ')} (expt eval needs architecture, problem, mapping and ERT)`,
      files.join(', '),
      missing.join(', '),
    );
  }
  const input = importTimeloopDocuments(docs);
  const { architecture, problem, mapping, ert } = input;
  // The checks above make these present; the importer parses every block it finds.
  if (!architecture || !problem || !mapping || !ert) {
    throw new UserError('an input block could not be read', files.join(', '));
  }
  return { architecture, problem, mapping, ert, raw: input.raw };
}

/**
 * timeloopfe v0.4 files (the study's `nodes:` architectures, variables
 * files, a `mapping:` list): read as `expt check` reads them, energies from
 * the estimator when no ERT is given.
 */
function loadV4EvalInput(docs: readonly { file: string; doc: unknown }[]): EvalInput {
  // A file holding only a Timeloop `mapping:` list (what `expt map
  // --emit-timeloop` writes) is the mapping itself, not more constraints.
  const isMappingFile = (doc: unknown) => isPlainObject(doc) && Object.keys(doc).length === 1 && Array.isArray(doc['mapping']);
  const specFiles = docs.filter((d) => !isMappingFile(d.doc)).map((d) => d.file);
  const mappingDoc = docs.find((d) => isMappingFile(d.doc));
  const task = loadTask(specFiles);
  const where = docs.map((d) => d.file).join(', ');
  if (!task.problem) throw new UserError('missing the problem block (expt eval needs architecture, problem, mapping and an ERT or estimable components)', where);
  const mapping = mappingDoc
    ? parseMapping((mappingDoc.doc as Record<string, unknown>)['mapping'], task.problem, task.architecture, { file: mappingDoc.file, path: 'mapping' })
    : task.mapping;
  if (!mapping) throw new UserError('missing the mapping block (expt eval needs architecture, problem, mapping and an ERT or estimable components)', where);
  if (!task.ert) throw new UserError(`no ERT, and the estimator cannot price the architecture (${task.warnings.join('; ')})`, where);
  return { architecture: task.architecture, problem: task.problem, mapping, ert: task.ert, raw: {} };
}

/** Evaluates the merged input; an invalid mapping becomes a {@link UserError}. */
export function evaluateInput(files: readonly string[]): Evaluation {
  const input = loadEvalInput(files);
  const fileOf = (key: string) => input.raw[key]?.file ?? files.join(', ');
  let ctx: ModelContext;
  try {
    ctx = prepareModel(input.problem, input.architecture, input.ert);
  } catch (error) {
    if (error instanceof MissingEnergyError) {
      throw new UserError(`no energy table for component '${error.component}' (add a table named '...${error.component}')`, fileOf('ERT'), 'ERT.tables');
    }
    throw error;
  }
  const outcome = evaluateMapping(ctx, input.mapping);
  if (!outcome.ok) {
    const { level, reason } = outcome.error;
    throw new UserError(`invalid mapping${level !== undefined ? ` at level '${level}'` : ''}: ${reason}`, fileOf('mapping'), 'mapping');
  }
  return outcome.value;
}

export async function runEval(argv: string[]): Promise<number> {
  let values: { json?: boolean; help?: boolean; engine?: string; 'timeloop-bin'?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        json: { type: 'boolean' },
        engine: { type: 'string' },
        'timeloop-bin': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (error) {
    throw new UserError(`eval: ${(error as Error).message} (see 'expt eval --help')`);
  }
  if (values.help) {
    process.stdout.write(evalUsage());
    return 0;
  }
  if (positionals.length === 0) {
    throw new UserError("eval: no input files (usage: expt eval <file.yaml>... [--json]; see 'expt eval --help')");
  }
  if (values.engine !== undefined && values.engine !== 'expt' && values.engine !== 'timeloop') {
    throw new UserError(`eval: --engine is expt or timeloop, got '${values.engine}'`);
  }
  let evaluation: Evaluation;
  if (values.engine === 'timeloop') {
    const { evaluateWithTimeloop } = await import('../timeloop/external.ts');
    const input = loadEvalInput(positionals);
    evaluation = (await evaluateWithTimeloop({ architecture: input.architecture, problem: input.problem, mapping: input.mapping, ert: input.ert }, { bin: values['timeloop-bin'] })).evaluation;
  } else {
    evaluation = evaluateInput(positionals);
  }
  const text = values.json ? JSON.stringify(evalJson(evaluation, positionals), null, 2) + '\n' : renderEvalText(evaluation, positionals);
  process.stdout.write(text);
  return 0;
}
