/**
 * Canonical JSON and content hashes. A task's key is the sha256 of the
 * canonical form of what it reads, so two inputs that parse to the same
 * values (whatever their formatting, comments or key order) hash the same.
 *
 * Canonical form: object keys sorted (by UTF-16 code units), `undefined`
 * object members dropped, `undefined` array items written as `null` (as
 * JSON.stringify does), numbers in JSON's shortest round-trip form with -0
 * written as 0, non-finite numbers as the strings "NaN", "Infinity" and
 * "-Infinity", Maps as objects (or sorted pair lists when keys are not
 * strings), Sets as sorted lists, typed arrays as lists, Dates as ISO strings.
 * Functions and symbols are refused: they have no content to hash.
 */
import { createHash } from 'node:crypto';

/** JSON value after canonicalization. */
export type CanonicalValue = null | boolean | number | string | CanonicalValue[] | { [key: string]: CanonicalValue };

/** The canonical plain-data form of `value` (see the module comment). */
export function canonicalize(value: unknown, path = '$'): CanonicalValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      if (Number.isNaN(value)) return 'NaN';
      if (value === Infinity) return 'Infinity';
      if (value === -Infinity) return '-Infinity';
      return Object.is(value, -0) ? 0 : value;
    case 'bigint':
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    case 'function':
    case 'symbol':
      throw new TypeError(`cannot hash a ${typeof value} (at ${path})`);
  }
  if (Array.isArray(value)) {
    const out: CanonicalValue[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = canonicalize(value[i], `${path}[${i}]`);
    return out;
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>, (x, i) => canonicalize(x, `${path}[${i}]`));
  }
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Set) {
    const items = [...value].map((x, i) => canonicalize(x, `${path}[${i}]`));
    return items.sort(compareCanonical);
  }
  if (value instanceof Map) {
    if ([...value.keys()].every((k) => typeof k === 'string')) {
      return canonicalObject(Object.fromEntries(value), path);
    }
    const pairs = [...value].map(([k, v], i) => [canonicalize(k, `${path}{${i}}`), canonicalize(v, `${path}{${i}}`)] as CanonicalValue[]);
    return pairs.sort(compareCanonical);
  }
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return canonicalize(withJson.toJSON(), path);
  return canonicalObject(value as Record<string, unknown>, path);
}

function canonicalObject(value: Record<string, unknown>, path: string): { [key: string]: CanonicalValue } {
  const out: { [key: string]: CanonicalValue } = {};
  for (const key of Object.keys(value).sort()) {
    const v = value[key];
    if (v === undefined) continue;
    out[key] = canonicalize(v, `${path}.${key}`);
  }
  return out;
}

function compareCanonical(a: CanonicalValue, b: CanonicalValue): number {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Canonical JSON text: one line, sorted keys, no insignificant whitespace. */
export function canonicalJson(value: unknown): string {
  // canonicalize() already sorted the keys; JSON.stringify keeps insertion order.
  return JSON.stringify(canonicalize(value));
}

/** sha256 of a string or bytes, lowercase hex. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 of the canonical JSON of `value`. */
export function hashValue(value: unknown): string {
  return sha256(canonicalJson(value));
}

/** A short prefix of a hash for display. */
export function shortHash(hash: string): string {
  return hash.slice(0, 10);
}
