/**
 * Symbolic tensor dimensions for the gradient builder's shape inference: a dimension is a
 * monomial `k · Π sym^e` (e.g. 4, "batch", "batch*seq", "seq/2"), so products and exact
 * quotients of dynamic dims (Reshape with -1, flattening) stay known. `null` = unknown.
 */

export interface Dim {
  /** Numeric coefficient. */
  readonly k: number;
  /** Symbol exponents, e.g. { batch: 1, seq: 1 }; empty for a fixed size. */
  readonly e: Readonly<Record<string, number>>;
}

export type MaybeDim = Dim | null;
/** A tensor shape; null = unknown rank. */
export type Shape = MaybeDim[] | null;

export function num(k: number): Dim {
  return { k, e: {} };
}

export function sym(name: string): Dim {
  return { k: 1, e: { [name]: 1 } };
}

function combine(a: Dim, b: Dim, sign: 1 | -1): Dim {
  const e: Record<string, number> = { ...a.e };
  for (const [s, p] of Object.entries(b.e)) {
    const v = (e[s] ?? 0) + sign * p;
    if (v === 0) delete e[s];
    else e[s] = v;
  }
  return { k: sign === 1 ? a.k * b.k : a.k / b.k, e };
}

export function mul(a: MaybeDim, b: MaybeDim): MaybeDim {
  return a && b ? combine(a, b, 1) : null;
}

/** a / b when it is a well-formed monomial (integer coefficient, non-negative exponents), else null. */
export function div(a: MaybeDim, b: MaybeDim): MaybeDim {
  if (!a || !b || b.k === 0) return null;
  const q = combine(a, b, -1);
  if (!Number.isInteger(q.k) || Object.values(q.e).some((p) => p < 0)) return null;
  return q;
}

export function product(dims: readonly MaybeDim[]): MaybeDim {
  return dims.reduce<MaybeDim>((acc, d) => mul(acc, d), num(1));
}

/** The fixed size, or null when the dimension is symbolic or unknown. */
export function fixed(d: MaybeDim): number | null {
  return d && Object.keys(d.e).length === 0 ? d.k : null;
}

export function dimKey(d: MaybeDim): string {
  if (!d) return '?';
  const syms = Object.keys(d.e)
    .sort()
    .map((s) => (d.e[s] === 1 ? s : `${s}^${d.e[s]}`));
  if (!syms.length) return String(d.k);
  return d.k === 1 ? syms.join('*') : `${d.k}*${syms.join('*')}`;
}

/** True when both are known and provably equal. */
export function sameDim(a: MaybeDim, b: MaybeDim): boolean {
  return !!a && !!b && dimKey(a) === dimKey(b);
}

export function isOne(d: MaybeDim): boolean {
  return fixed(d) === 1;
}

export function shapeKey(s: Shape): string {
  return s ? `[${s.map(dimKey).join(',')}]` : '[?]';
}

/** Numpy broadcasting of known-rank shapes; a dimension that cannot be resolved becomes null. */
export function broadcastShapes(shapes: readonly Shape[]): Shape {
  if (shapes.some((s) => s === null)) return null;
  const known = shapes as MaybeDim[][];
  const rank = Math.max(0, ...known.map((s) => s.length));
  const out: MaybeDim[] = [];
  for (let i = 0; i < rank; i++) {
    const dims = known.map((s) => s[s.length - rank + i] ?? num(1)).filter((d) => !isOne(d));
    const first = dims[0];
    if (first === undefined) out.push(num(1));
    else out.push(dims.every((d) => sameDim(d, first)) ? first : null);
  }
  return out;
}
