/**
 * Sets of integer points in a tensor's coordinate space, as unions of
 * disjoint axis-aligned hyper-rectangles (boxes). This is the representation
 * Timeloop's nest analysis reasons with; the set operations below reproduce
 * its results exactly, including the places where it approximates (box
 * equality is superficial, translations are rounded centroid shifts).
 */

/** A half-open box [min, max) per rank. */
export interface Box {
  readonly min: number[];
  readonly max: number[];
}

export function boxVolume(b: Box): number {
  let v = 1;
  for (let r = 0; r < b.min.length; r++) v *= b.max[r] - b.min[r];
  return v;
}

function sameBox(a: Box, b: Box): boolean {
  for (let r = 0; r < a.min.length; r++) {
    if (a.min[r] !== b.min[r] || a.max[r] !== b.max[r]) return false;
  }
  return true;
}

/**
 * a − b as a list of disjoint boxes: slices of `a` left and right of `b`,
 * carved rank by rank.
 */
function carve(a: Box, b: Box, out: Box[]): void {
  const order = a.min.length;
  for (let r = 0; r < order; r++) {
    if (a.max[r] <= b.min[r] || b.max[r] <= a.min[r]) {
      out.push(a);
      return;
    }
  }
  const midMin = a.min.slice();
  const midMax = a.max.slice();
  for (let r = 0; r < order; r++) {
    if (midMin[r] < b.min[r]) {
      const hi = midMax.slice();
      hi[r] = b.min[r];
      out.push({ min: midMin.slice(), max: hi });
      midMin[r] = b.min[r];
    }
    if (b.max[r] < midMax[r]) {
      const lo = midMin.slice();
      lo[r] = b.max[r];
      out.push({ min: lo, max: midMax.slice() });
      midMax[r] = b.max[r];
    }
  }
}

/** A translation vector; `null` stands for Timeloop's order-0 "no translation". */
export type Translation = number[] | null;

export function sameTranslation(a: Translation, b: Translation): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let r = 0; r < a.length; r++) if (a[r] !== b[r]) return false;
  return true;
}

export class PointSet {
  constructor(
    readonly order: number,
    public boxes: Box[] = [],
  ) {}

  /** The box [low, high] (inclusive high), or the empty set if it has no volume. */
  static ofBox(order: number, low: number[], highExclusive: number[]): PointSet {
    const box = { min: low, max: highExclusive };
    return new PointSet(order, boxVolume(box) > 0 ? [box] : []);
  }

  clone(): PointSet {
    return new PointSet(this.order, this.boxes.slice());
  }

  size(): number {
    let s = 0;
    for (const b of this.boxes) s += boxVolume(b);
    return s;
  }

  isEmpty(): boolean {
    for (const b of this.boxes) if (boxVolume(b) !== 0) return false;
    return true;
  }

  /** this ← this − other, box by box. */
  subtract(other: PointSet): void {
    for (const b of other.boxes) {
      const next: Box[] = [];
      for (const a of this.boxes) carve(a, b, next);
      this.boxes = next;
    }
  }

  /** Adds one point, growing a box it extends by one step along a single rank. */
  addPoint(p: readonly number[]): void {
    for (const b of this.boxes) {
      let inside = true;
      for (let r = 0; r < this.order; r++) {
        if (p[r] < b.min[r] || p[r] >= b.max[r]) {
          inside = false;
          break;
        }
      }
      if (inside) return;
    }
    for (const b of this.boxes) if (mergeIfAdjacent(b, p)) return;
    const max = new Array<number>(this.order);
    for (let r = 0; r < this.order; r++) max[r] = p[r] + 1;
    this.boxes.push({ min: p.slice(), max });
  }

  /**
   * Superficial equality: the same boxes, in any order. Sets holding the same
   * points cut differently compare unequal, as in Timeloop.
   */
  equals(other: PointSet): boolean {
    if (this.boxes.length !== other.boxes.length) return false;
    for (const a of this.boxes) {
      let found = false;
      for (const b of other.boxes) {
        if (sameBox(a, b)) {
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  }

  /**
   * A key equal for two sets exactly when `equals` holds: the boxes, sorted.
   * (Boxes of one set are disjoint, so there are no duplicates to confuse it.)
   */
  signature(): string {
    if (this.boxes.length === 1) return boxKey(this.boxes[0]);
    return this.boxes.map(boxKey).sort().join('|');
  }

  /** Translation this → other: the rounded shift between volume-weighted centroids. */
  translationTo(other: PointSet): number[] {
    const ca = centroid(this);
    const cb = centroid(other);
    const t = new Array<number>(this.order).fill(0);
    if (ca !== null && cb !== null) {
      // C's round(): halves away from zero.
      for (let r = 0; r < this.order; r++) {
        const d = cb[r] - ca[r];
        t[r] = d < 0 ? -Math.round(-d) : Math.round(d);
      }
    }
    return t;
  }

  translate(t: readonly number[]): void {
    this.boxes = this.boxes.map((b) => {
      const min = b.min.slice();
      const max = b.max.slice();
      for (let r = 0; r < this.order; r++) {
        min[r] += t[r];
        max[r] += t[r];
      }
      return { min, max };
    });
  }
}

function boxKey(b: Box): string {
  return b.min.join(',') + ':' + b.max.join(',');
}

function centroid(s: PointSet): number[] | null {
  const c = new Array<number>(s.order).fill(0);
  let total = 0;
  for (const b of s.boxes) {
    const v = boxVolume(b);
    for (let r = 0; r < s.order; r++) c[r] += (b.min[r] + (b.max[r] - 1 - b.min[r]) / 2) * v;
    total += v;
  }
  if (total === 0) return null;
  for (let r = 0; r < s.order; r++) c[r] /= total;
  return c;
}

function mergeIfAdjacent(b: Box, p: readonly number[]): boolean {
  const order = b.min.length;
  if (boxVolume(b) === 0) {
    for (let r = 0; r < order; r++) {
      b.min[r] = p[r];
      b.max[r] = p[r] + 1;
    }
    return true;
  }
  let matchRank = -1;
  for (let r = 0; r < order; r++) {
    if (p[r] === b.min[r] - 1 || p[r] === b.max[r]) {
      if (matchRank >= 0) return false;
      matchRank = r;
    } else if (!(p[r] === b.min[r] && b.min[r] + 1 === b.max[r])) {
      return false;
    }
  }
  if (matchRank < 0) return false;
  if (p[matchRank] === b.min[matchRank] - 1) b.min[matchRank]--;
  else b.max[matchRank]++;
  return true;
}
