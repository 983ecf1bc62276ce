/**
 * `expt show <task> [--json]`: one task — its cells, key, inputs (label +
 * hash), dependencies, state, and its cached result (for `map`: the loop
 * nest and the per-level breakdown).
 */
import { parseArgs } from 'node:util';
import { planGraph } from '../build/plan.ts';
import { openSession } from '../pipeline/session.ts';
import type { Task } from '../build/task.ts';
import { UserError } from '../util/errors.ts';
import { ENGINE_ARGS, engineOptions } from './plan.ts';

export function showUsage(): string {
  return [
    'Usage: expt show <task> [options]',
    '',
    'Shows one task (an id from `expt plan`, or a unique part of one): its',
    'cells, key, inputs, dependencies, state and cached result.',
    '',
    'Options:',
    '  --config FILE   the experiments config',
    '  --engine E      the task as this engine computes it (embedded or timeloop; default:',
    "                  the config's engine); --timeout and --timeloop-bin as for expt run",
    '  --json          print {task, state, reason, manifest, result}',
    '  -h, --help      show this help',
    '',
  ].join('\n');
}

function findTask(tasks: readonly Task[], query: string): Task {
  const exact = tasks.find((t) => t.id === query || t.aliases.includes(query));
  if (exact) return exact;
  const parts = query.toLowerCase();
  const hits = tasks.filter((t) => [t.id, ...t.aliases].some((id) => id.toLowerCase().includes(parts)) || t.key.startsWith(parts));
  if (hits.length === 1) return hits[0];
  if (hits.length === 0) throw new UserError(`show: no task matches '${query}' (see 'expt plan --all' for the ids)`);
  const list = hits.slice(0, 8).map((t) => t.id).join(', ');
  throw new UserError(`show: '${query}' matches ${hits.length} tasks (${list}${hits.length > 8 ? ', ...' : ''}); give more of the id`);
}

export async function runShow(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { config: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, ...ENGINE_ARGS }, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UserError(`show: ${(error as Error).message} (see 'expt show --help')`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(showUsage());
    return 0;
  }
  if (positionals.length !== 1) throw new UserError("show: expected one task id (see 'expt plan --all')");
  const session = await openSession({ config: values.config, engine: engineOptions(values, 'show') });
  const task = findTask(session.graph.order, positionals[0]);
  const plan = planGraph(session.graph.closure([task.id]), session.cache);
  const entry = plan.byId.get(task.id)!;
  const hit = session.cache.get(task.kind, task.key);
  if (values.json) {
    process.stdout.write(
      JSON.stringify(
        {
          task: { id: task.id, kind: task.kind, key: task.key, engine: task.engine, meta: task.meta, aliases: task.aliases, cells: task.cells, inputs: task.inputHashes, deps: task.depKeys },
          state: entry.state,
          reason: entry.reason,
          manifest: hit.ok ? hit.manifest : null,
          result: hit.ok ? hit.result : null,
        },
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  const lines: string[] = [];
  lines.push(`Task     ${task.id}`);
  if (task.aliases.length > 0) lines.push(`Also     ${task.aliases.join(', ')} (identical inputs: one task)`);
  lines.push(`Kind     ${task.kind} (engine ${task.engine.id} ${task.engine.version})`);
  lines.push(`Key      ${task.key}`);
  lines.push(`State    ${entry.state}${entry.state === 'will run' ? `: ${entry.reason}` : ''}`);
  const meta = Object.entries(task.meta).filter(([, v]) => v !== undefined);
  if (meta.length > 0) lines.push(`Cell     ${meta.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  lines.push('Inputs');
  for (const [name, rec] of Object.entries(task.inputHashes)) lines.push(`  ${name.padEnd(12)} ${rec.hash.slice(0, 12)}  ${rec.label}`);
  const deps = Object.entries(task.depKeys);
  if (deps.length > 0) {
    lines.push(`Depends on ${deps.length} task${deps.length === 1 ? '' : 's'}`);
    for (const [id, key] of deps.slice(0, 20)) lines.push(`  ${key.slice(0, 12)}  ${id}`);
    if (deps.length > 20) lines.push(`  ... and ${deps.length - 20} more`);
  }
  if (hit.ok) {
    lines.push(`Result   computed ${hit.manifest.finishedAt} in ${(hit.manifest.durationMs / 1000).toFixed(2)} s (cache/${task.kind}/${task.key.slice(0, 12)}…)`, '');
    const kind = session.kinds.get(task.kind)!;
    const request = { id: task.id, kind: task.kind, key: task.key, meta: task.meta, cells: task.cells, inputs: Object.fromEntries(Object.entries(task.inputs).map(([n, i]) => [n, i.value])) };
    lines.push(kind.show ? await kind.show(request, hit.result) : JSON.stringify(hit.result, null, 2));
  } else {
    lines.push('', `No cached result${hit.reason === 'corrupt' ? ` (the entry is corrupt: ${hit.detail})` : ''}: run \`expt run --only id=${task.id}\`.`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
