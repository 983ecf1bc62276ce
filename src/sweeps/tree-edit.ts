/**
 * Small edits of a Timeloop tree-format architecture document (the parsed
 * YAML of an `experiments/archs/<id>.yaml` preset): find a component by
 * name, set its attributes, resize a `name[0..n-1]` node. The document is
 * deep-copied first; the preset's file is never touched.
 */
import { parseRangeName } from '../timeloop/tree-import.ts';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function cloneDoc<T>(doc: T): T {
  return structuredClone(doc);
}

/** The top node list of the `architecture` block. */
function topNodes(doc: unknown): Obj[] {
  if (!isObj(doc) || !isObj(doc['architecture'])) throw new Error('not a tree-format document with an `architecture` block');
  const sub = doc['architecture']['subtree'];
  if (!Array.isArray(sub)) throw new Error('the architecture has no `subtree`');
  return sub.filter(isObj);
}

function* walk(nodes: readonly Obj[]): Generator<{ node: Obj; components: Obj[] }> {
  for (const node of nodes) {
    const local = Array.isArray(node['local']) ? (node['local'] as unknown[]).filter(isObj) : [];
    yield { node, components: local };
    if (Array.isArray(node['subtree'])) yield* walk((node['subtree'] as unknown[]).filter(isObj));
  }
}

/** The component (an entry of some `local` list) whose base name is `name`. */
export function findComponent(doc: unknown, name: string): Obj {
  for (const { components } of walk(topNodes(doc))) {
    for (const c of components) if (typeof c['name'] === 'string' && parseRangeName(c['name']).base === name) return c;
  }
  throw new Error(`no component named '${name}' in the architecture`);
}

/** Sets (or, with `undefined`, removes) attributes of a component. */
export function setAttributes(doc: unknown, name: string, values: Readonly<Record<string, unknown>>): void {
  const c = findComponent(doc, name);
  const attrs: Obj = isObj(c['attributes']) ? c['attributes'] : (c['attributes'] = {});
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) delete attrs[k];
    else attrs[k] = v;
  }
}

/** The attributes of a component (live object). */
export function attributesOf(doc: unknown, name: string): Obj {
  const c = findComponent(doc, name);
  return isObj(c['attributes']) ? c['attributes'] : (c['attributes'] = {});
}

/** Renames the tree node `base[0..k]` (or `base`) to `base[0..count-1]`. */
export function resizeNode(doc: unknown, base: string, count: number): void {
  if (!Number.isInteger(count) || count < 1) throw new Error(`node ${base}: count must be a positive whole number, got ${count}`);
  for (const { node } of walk(topNodes(doc))) {
    if (typeof node['name'] === 'string' && parseRangeName(node['name']).base === base) {
      node['name'] = `${base}[0..${count - 1}]`;
      return;
    }
  }
  throw new Error(`no tree node named '${base}' in the architecture`);
}
