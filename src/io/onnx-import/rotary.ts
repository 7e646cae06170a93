/**
 * Rotary position embeddings on the query path: x * cos + rotate_half(x) * sin, rotate_half built
 * from Slice (or Split) / Neg / Concat. The base theta is recovered from the frequencies the graph
 * holds: an inv_freq constant of length head_dim / 2 (transformers >= 4.38 computes cos / sin from
 * it), or a sin cache [positions, head_dim] (older exports) or [positions, head_dim / 2] (Prune
 * Studio's graph) gathered by position.
 * Frequencies that are not theta^(-2i / head_dim) (scaled RoPE variants) are refused.
 */
import { UnsupportedModelError } from '../../core/errors';
import { OnnxStructureError } from './errors';
import type { GraphIndex, Region } from './graph';

export interface RotaryMatch {
  theta: number;
  /** Rows of a cached table (max positions it supports), when the graph holds one. */
  tableRows?: number;
}

export function hasRotary(region: Region): boolean {
  return region.nodes.some((n) => n.op === 'Neg') && region.nodes.some((n) => n.op === 'Slice' || n.op === 'Split');
}

/** Walks producers backwards from `start` (bounded) and returns the first constant accepted by `pick`. */
function findConstBackwards<T>(g: GraphIndex, start: string, pick: (value: string) => T | undefined, limit = 200): T | undefined {
  const queue = [start];
  const seen = new Set<string>();
  while (queue.length > 0 && seen.size < limit) {
    const v = queue.shift()!;
    if (seen.has(v)) continue;
    seen.add(v);
    const hit = g.isConst(v) ? pick(v) : undefined;
    if (hit !== undefined) return hit;
    const p = g.producer.get(v);
    if (p) queue.push(...p.inputs.filter(Boolean));
  }
  return undefined;
}

export function matchRotary(g: GraphIndex, region: Region, headDim: number, where: string): RotaryMatch {
  const inRegion = (v: string) => region.values.has(v);
  const concat = region.nodes.find((n) => n.op === 'Concat' && n.inputs.some((i) => g.producer.get(i)?.op === 'Neg'));
  const sinMul = concat && region.nodes.find((n) => n.op === 'Mul' && n.inputs.includes(concat.outputs[0]!));
  const sinSide = sinMul?.inputs.find((i) => !inRegion(i));
  if (!sinSide) throw new OnnxStructureError(`${where}: found rotate_half (Neg + Concat) on the query but not its multiplication by sin.`);
  const half = headDim / 2;
  const freqs = findConstBackwards(g, sinSide, (v) => {
    const dims = g.constDims(v) ?? [];
    const n = dims.reduce((a, b) => a * b, 1);
    if (n === half && half >= 2) {
      const x = g.constValue(v)!.values;
      if (Math.abs(x[0]! - 1) < 1e-6 && x.every((f, i) => f > 0 && f <= 1 && (i === 0 || f < x[i - 1]!))) return { inv: Array.from(x) };
    }
    const table = dims.filter((d) => d > 1);
    if (table.length === 2 && (table[1] === headDim || table[1] === half) && table[0]! >= 2) {
      // Row 1 (position 1) holds sin(inv_freq).
      const x = g.constValue(v)!.values;
      return { inv: Array.from({ length: half }, (_, i) => Math.asin(x[table[1]! + i]!)), rows: table[0]! };
    }
    return undefined;
  });
  if (!freqs)
    throw new OnnxStructureError(
      `${where}: could not find the rotary frequencies (an inv_freq constant of ${half} values or a sin cache [positions, ${headDim}] or [positions, ${half}]).`,
    );
  const theta = Math.pow(freqs.inv[1]!, -headDim / 2);
  freqs.inv.forEach((f, i) => {
    const expected = Math.pow(theta, (-2 * i) / headDim);
    if (Math.abs(f / expected - 1) > 2e-3) {
      throw new UnsupportedModelError(
        `${where}: the rotary frequencies are not plain RoPE (frequency ${i} is ${f.toPrecision(6)}, theta ${theta.toPrecision(6)} implies ${expected.toPrecision(6)}); scaled RoPE variants are not supported.`,
      );
    }
  });
  return { theta: Number(theta.toPrecision(5)), ...(freqs.rows ? { tableRows: freqs.rows } : {}) };
}
