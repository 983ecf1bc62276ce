/**
 * Reading component attributes (as Accelergy receives them: numbers, or
 * strings such as "32nm") and the errors that name the component and the
 * attribute at fault.
 */
import { UserError } from '../../util/errors.ts';

export type Attributes = Readonly<Record<string, unknown>>;

/** Which component an estimate is for, for error messages. */
export interface Where {
  /** Accelergy class being estimated (a primitive or compound class). */
  readonly className: string;
  /** The component's name in the architecture, when known. */
  readonly component?: string;
  /** The chain of compound classes above this one (`smartbuffer_RF > regfile`). */
  readonly path?: readonly string[];
}

export function describeWhere(where: Where): string {
  const chain = [...(where.path ?? []), where.className].join(' > ');
  return where.component !== undefined ? `component '${where.component}' (class ${chain})` : `class ${chain}`;
}

/** A UserError about the component as a whole. */
export function componentError(where: Where, message: string): UserError {
  return new UserError(`${describeWhere(where)}: ${message}`);
}

/** A UserError about one attribute of the component. */
export function attributeError(where: Where, attribute: string, message: string): UserError {
  return new UserError(`${describeWhere(where)}: attribute '${attribute}': ${message}`);
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** The attribute as a finite number (numeric strings accepted), or undefined if absent. */
export function optionalNumber(attrs: Attributes, name: string, where: Where): number | undefined {
  const raw = attrs[name];
  if (raw === undefined || raw === null) return undefined;
  const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw.trim()) : raw;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw attributeError(where, name, `expected a number, got ${show(raw)}`);
  }
  return v;
}

export function requiredNumber(attrs: Attributes, name: string, where: Where): number {
  const v = optionalNumber(attrs, name, where);
  if (v === undefined) throw attributeError(where, name, 'is required and was not given');
  return v;
}

/** A whole number >= `min` (CACTI's and the plug-ins' integer attributes). */
export function requiredInteger(attrs: Attributes, name: string, where: Where, min: number): number {
  const v = requiredNumber(attrs, name, where);
  if (!Number.isInteger(v) || v < min) throw attributeError(where, name, `must be a whole number >= ${min}, got ${show(attrs[name])}`);
  return v;
}

export function optionalInteger(attrs: Attributes, name: string, where: Where, min: number, fallback: number): number {
  return attrs[name] === undefined || attrs[name] === null ? fallback : requiredInteger(attrs, name, where, min);
}

const NM = /^\s*(\d+(?:\.\d+)?)\s*nm\s*$/i;

/**
 * The `technology` attribute in nm: a number (nm) or a string like "32nm".
 * Throws a UserError naming the component if it is absent or not a node.
 */
export function technologyNm(attrs: Attributes, where: Where): number {
  const raw = attrs['technology'];
  if (raw === undefined || raw === null) throw attributeError(where, 'technology', 'is required and was not given (e.g. "32nm")');
  if (typeof raw === 'number' && Number.isFinite(raw) && raw > 0) return raw;
  if (typeof raw === 'string') {
    const m = NM.exec(raw);
    if (m) return Number(m[1]);
    const n = raw.trim() === '' ? NaN : Number(raw);
    if (Number.isFinite(n) && n > 0) return n;
  }
  throw attributeError(where, 'technology', `expected a CMOS node such as "32nm", got ${show(raw)}`);
}

/** Python's `max(1, ceil(log2(x))) if x >= 1 else 1`, the address-generator width of the study's YAML. */
export function addressBits(depth: number): number {
  return depth >= 1 ? Math.max(1, Math.ceil(Math.log2(depth))) : 1;
}
