/**
 * The shapes of cached results, checked whenever an entry is read. A cache
 * entry can be hash-consistent and still not be what its kind returns (an
 * entry written by another version, or edited along with its manifest);
 * such an entry is a miss that is recomputed, like a corrupt one, instead of
 * a crash halfway through writing the reports or in a dependent task.
 *
 * The shapes name what consumers dereference (arrays, objects, strings, the
 * format tag), not every number: JSON turns a non-finite number into null,
 * so a number field accepts null, and a shape never rejects a result its
 * kind actually returns (which would recompute it on every run).
 *
 * Each kind declares its shape (`TaskKind.resultShape`, next to the result
 * type it describes); the registry (kinds.ts) checks results against it.
 */

export type Shape =
  | 'string'
  /** A number, or null (a non-finite number after JSON). */
  | 'number'
  | 'boolean'
  /** Any JSON value. */
  | 'any'
  | { literal: string }
  | { nullable: Shape }
  | { optional: Shape }
  | { array: Shape }
  | { record: Shape }
  | { object: Record<string, Shape> }
  /** The first alternative whose `when` field is present decides. */
  | { variants: { when: string; shape: Shape }[] };

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The first place where `value` does not have `shape`, as `path: expected ..., got ...`; undefined when it does. */
export function checkShape(value: unknown, shape: Shape, path = 'result'): string | undefined {
  // Hot (every entry read is checked): plain branches, and strings built only on failure.
  if (shape === 'any') return undefined;
  if (shape === 'string') return typeof value === 'string' ? undefined : mismatch(path, 'a string', value);
  if (shape === 'number') return typeof value === 'number' || value === null ? undefined : mismatch(path, 'a number', value);
  if (shape === 'boolean') return typeof value === 'boolean' ? undefined : mismatch(path, 'true or false', value);
  if ('literal' in shape) return value === shape.literal ? undefined : `${path}: expected '${shape.literal}', got ${typeof value === 'string' ? `'${value.slice(0, 40)}'` : describe(value)}`;
  if ('nullable' in shape) return value === null ? undefined : checkShape(value, shape.nullable, path);
  if ('optional' in shape) return value === undefined ? undefined : checkShape(value, shape.optional, path);
  if ('array' in shape) {
    if (!Array.isArray(value)) return mismatch(path, 'an array', value);
    for (let i = 0; i < value.length; i++) {
      const problem = checkShape(value[i], shape.array, `${path}[]`);
      if (problem !== undefined) return problem.replace(`${path}[]`, `${path}[${i}]`);
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return mismatch(path, 'an object', value);
  const o = value as Record<string, unknown>;
  if ('record' in shape) {
    for (const k in o) {
      const problem = checkShape(o[k], shape.record, `${path}.${k}`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if ('variants' in shape) {
    const v = shape.variants.find((x) => x.when in o) ?? shape.variants[shape.variants.length - 1];
    return checkShape(value, v.shape, path);
  }
  for (const k in shape.object) {
    const s = shape.object[k];
    const field = o[k];
    if (field === undefined && !(k in o)) {
      if (typeof s === 'object' && 'optional' in s) continue;
      return `${path}.${k}: missing`;
    }
    const problem = checkShape(field, s, `${path}.${k}`);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** Whether `value` has `shape` (the fast check; {@link checkShape} says where it does not). */
export function fits(value: unknown, shape: Shape): boolean {
  if (shape === 'any') return true;
  if (shape === 'string') return typeof value === 'string';
  if (shape === 'number') return typeof value === 'number' || value === null;
  if (shape === 'boolean') return typeof value === 'boolean';
  if ('literal' in shape) return value === shape.literal;
  if ('nullable' in shape) return value === null || fits(value, shape.nullable);
  if ('optional' in shape) return value === undefined || fits(value, shape.optional);
  if ('array' in shape) {
    if (!Array.isArray(value)) return false;
    for (let i = 0; i < value.length; i++) if (!fits(value[i], shape.array)) return false;
    return true;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const o = value as Record<string, unknown>;
  if ('record' in shape) {
    for (const k in o) if (!fits(o[k], shape.record)) return false;
    return true;
  }
  if ('variants' in shape) {
    const v = shape.variants.find((x) => x.when in o) ?? shape.variants[shape.variants.length - 1];
    return fits(value, v.shape);
  }
  for (const k in shape.object) {
    const s = shape.object[k];
    if (!(k in o)) {
      if (typeof s === 'object' && 'optional' in s) continue;
      return false;
    }
    if (!fits(o[k], s)) return false;
  }
  return true;
}

function mismatch(path: string, expected: string, value: unknown): string {
  return `${path}: expected ${expected}, got ${describe(value)}`;
}

/** Shorthands for the leaves, for the kinds' shapes. */
export const str = 'string' as const;
export const num = 'number' as const;
export const bool = 'boolean' as const;
export const strings: Shape = { array: str };
