/**
 * Self-attention, found by following the graph from the projections that read the normalised
 * stream: three (q, k, v) or one fused (GPT-2 c_attn, split by Split or Slice along the last axis).
 * Roles come from the dataflow, not from names: the scores MatMul reads the query at slot 0 and the
 * key at slot 1; the value enters the MatMul after the Softmax. Head width comes from the Reshape
 * that splits heads; the attention scale must be 1/sqrt(head_dim), either applied in the graph or,
 * when config.json records it (`prune_studio.attention_scale_folded`, written by Prune Studio's
 * exporter), folded into the query projection, which is then un-folded here (q weight and bias
 * multiplied by sqrt(head_dim)); the output projection and the residual Add close the block.
 */
import type { Linear } from '../../core/ir';
import { tensor, type Tensor } from '../../core/tensor';
import { AttentionScaleError, OnnxStructureError, SCALE_FOLDED_KEY } from './errors';
import type { GNode, GraphIndex, Region } from './graph';
import { dataUses, linearAt, type LinearMatch } from './linear';
import { hasRotary, matchRotary, type RotaryMatch } from './rotary';

const STOP = new Set(['MatMul', 'Gemm', 'Softmax']);

export interface Part {
  value: string;
  linear: LinearMatch;
  /** Rows [from, to) of the projection's [out, in] weight. */
  from: number;
  to: number;
}

export interface AttentionMatch {
  q: Linear;
  k: Linear;
  v: Linear;
  o: Linear;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rotary?: RotaryMatch;
  /** The residual stream after the attention block. */
  out: string;
}

function rows(t: Tensor, from: number, to: number): Tensor {
  const cols = t.shape[1] ?? 0;
  return tensor([to - from, cols], t.data.slice(from * cols, to * cols));
}

function scaled(t: Tensor, factor: number): Tensor {
  return factor === 1
    ? t
    : tensor(
        [...t.shape],
        t.data.map((x) => x * factor),
      );
}

/** The part's rows of the projection, times `factor` (the un-folding of a folded attention scale). */
function toLinear(p: Part, factor = 1): Linear {
  const w = p.linear.weight();
  const whole = p.from === 0 && p.to === p.linear.outFeatures;
  const weight = scaled(whole ? w : rows(w, p.from, p.to), factor);
  const b = p.linear.bias?.();
  if (!b) return { weight };
  return { weight, bias: scaled(whole ? b : tensor([p.to - p.from], b.data.slice(p.from, p.to)), factor) };
}

/**
 * The factor the query projection must be multiplied by so the graph's attention equals the
 * standard 1/sqrt(head_dim) one: 1 when the graph applies that scale itself; sqrt(head_dim) when
 * the scores are unscaled and config.json says the scale was folded into q. Anything else is refused.
 * `scale`: the product of the graph's explicit factors (undefined: computed from shapes, i.e. standard).
 */
function qFactor(scale: number | undefined, headDim: number, folded: boolean, where: string): number {
  const standard = 1 / Math.sqrt(headDim);
  const s = scale ?? standard;
  const isStandard = Math.abs(s * Math.sqrt(headDim) - 1) <= 1e-3;
  const isOne = Math.abs(s - 1) <= 1e-3;
  if (folded) {
    if (isOne) return Math.sqrt(headDim);
    throw new AttentionScaleError(
      `${where}: config.json says ${SCALE_FOLDED_KEY} (1/sqrt(head_dim) folded into the query projection), but the graph also scales the attention scores by ${s.toPrecision(6)}; the scale would be applied twice.`,
      `Remove ${SCALE_FOLDED_KEY} from config.json if this graph was not written by Prune Studio.`,
    );
  }
  if (isStandard) return 1;
  throw new AttentionScaleError(
    `${where}: attention scores are scaled by ${s.toPrecision(6)}, not 1/sqrt(head_dim) = ${standard.toPrecision(6)}${isOne ? ', and config.json does not say the scale was folded into the query projection' : ''}.`,
  );
}

/** The part as a projection of its own (rows of the fused weight and bias; its output is the split output). */
export function partLinear(p: Part): LinearMatch {
  const { weight, bias } = toLinear(p);
  return {
    node: p.linear.node,
    inFeatures: p.linear.inFeatures,
    outFeatures: p.to - p.from,
    weight: () => weight,
    ...(bias ? { bias: () => bias } : {}),
    out: p.value,
  };
}

/** Parts of a fused projection (q / k / v; gate / up): Split or Slices along the last axis. */
export function splitFused(g: GraphIndex, lin: LinearMatch, where: string): Part[] {
  const uses = dataUses(g, lin.out);
  const split = uses.find((u) => u.node.op === 'Split' && u.slot === 0)?.node;
  if (split) {
    const n = split.outputs.length;
    const sizes =
      g.attrInts(split, 'split') ??
      (split.inputs[1] ? Array.from(g.constValue(split.inputs[1])?.values ?? []) : Array(n).fill(lin.outFeatures / n));
    const parts: Part[] = [];
    let at = 0;
    split.outputs.forEach((value, i) => {
      parts.push({ value, linear: lin, from: at, to: at + sizes[i]! });
      at += sizes[i]!;
    });
    if (at !== lin.outFeatures)
      throw new OnnxStructureError(
        `${where}: the fused projection "${lin.node.name}" is split into ${at} of its ${lin.outFeatures} columns.`,
      );
    return parts;
  }
  const slices = uses.filter((u) => u.node.op === 'Slice' && u.slot === 0).map((u) => u.node);
  const parts = slices.map((s): Part => {
    const start = g.constValue(s.inputs[1] ?? '')?.values[0];
    const end = g.constValue(s.inputs[2] ?? '')?.values[0];
    if (start === undefined || end === undefined)
      throw new OnnxStructureError(`${where}: Slice "${s.name}" of the fused projection has no constant bounds.`);
    return { value: s.outputs[0]!, linear: lin, from: start, to: Math.min(end, lin.outFeatures) };
  });
  return parts.sort((a, b) => a.from - b.from);
}

function exitMatMuls(region: Region): { node: GNode; slot: number }[] {
  return region.exits.filter((e) => e.node.op === 'MatMul');
}

/**
 * The two Muls of x * cos + rotate_half(x) * sin (an Add of two Muls, one reading the Concat that
 * rotate_half builds with Neg): their cos / sin inputs are tables gathered by position, not scales.
 */
function rotaryMuls(g: GraphIndex, region: Region): Set<GNode> {
  const out = new Set<GNode>();
  const mulOf = (v: string) => {
    const p = g.producer.get(v);
    return p?.op === 'Mul' && region.nodes.includes(p) ? p : undefined;
  };
  const readsRotateHalf = (m: GNode) =>
    m.inputs.some((i) => {
      const c = g.producer.get(i);
      return c?.op === 'Concat' && c.inputs.some((x) => g.producer.get(x)?.op === 'Neg');
    });
  for (const n of region.nodes) {
    if (n.op !== 'Add') continue;
    const [a, b] = [mulOf(n.inputs[0] ?? ''), mulOf(n.inputs[1] ?? '')];
    if (a && b && (readsRotateHalf(a) || readsRotateHalf(b))) [a, b].forEach((m) => out.add(m));
  }
  return out;
}

/**
 * Product of the scalar Mul / Div factors applied inside a region; undefined when a factor is
 * computed at run time from shapes (torch's SDPA export derives 1/sqrt(head_dim) from Shape(q)),
 * in which case the standard scale is assumed. Tensor side inputs (rotary cos / sin) are not factors.
 */
function scaleOf(g: GraphIndex, region: Region): number | undefined {
  let s = 1;
  const rotary = rotaryMuls(g, region);
  for (const n of region.nodes) {
    if ((n.op !== 'Mul' && n.op !== 'Div') || rotary.has(n)) continue;
    const [a = '', b = ''] = n.inputs;
    const other = region.values.has(a) ? b : region.values.has(b) && n.op === 'Mul' ? a : undefined;
    if (other === undefined || region.values.has(other)) continue;
    const c = g.scalar(other);
    if (c !== undefined) s = n.op === 'Mul' ? s * c : s / c;
    else if (!g.isConst(other) && g.shapeDerived(other)) return undefined;
  }
  return s;
}

/**
 * head_dim from the Reshape that splits the query into heads: the shape's last entry (a constant,
 * or the constant tail of a Concat such as Concat(Slice(Shape(x), 0, -1), [heads, head_dim])).
 */
function headDimOf(g: GraphIndex, region: Region, rows: number, where: string): number {
  for (const n of region.nodes) {
    if (n.op !== 'Reshape' || !n.inputs[1]) continue;
    const shape = g.shapeEntries(n.inputs[1]);
    const dh = shape?.[shape.length - 1];
    const heads = shape?.[shape.length - 2];
    // A single head (a pruned layer) only counts when the shape says so: [.., 1, head_dim].
    if (dh === undefined || !(dh > 0) || rows % dh !== 0 || (dh === rows && heads !== 1)) continue;
    if (heads !== undefined && heads !== -1 && heads !== 0 && heads * dh !== rows) continue;
    return dh;
  }
  throw new OnnxStructureError(`${where}: could not find the Reshape that splits the query into heads ([batch, seq, heads, head_dim]).`);
}

/** `scaleFolded`: config.json records that 1/sqrt(head_dim) is folded into the query projection. */
export function matchAttention(g: GraphIndex, h: string, projections: LinearMatch[], where: string, scaleFolded = false): AttentionMatch {
  const parts =
    projections.length === 3
      ? projections.map((linear): Part => ({ value: linear.out, linear, from: 0, to: linear.outFeatures }))
      : projections.length === 1
        ? splitFused(g, projections[0]!, where)
        : [];
  if (parts.length !== 3) {
    throw new OnnxStructureError(
      `${where}: expected the query, key and value projections (three, or one fused and split in three), found ${projections.length} projection(s) and ${parts.length} part(s).`,
    );
  }
  const regions = parts.map((p) => g.region([p.value], STOP));
  let scores: GNode | undefined;
  let qi = -1;
  let ki = -1;
  regions.forEach((r, i) =>
    exitMatMuls(r)
      .filter((e) => e.slot === 0)
      .forEach((e) => {
        const j = regions.findIndex((r2, j2) => j2 !== i && exitMatMuls(r2).some((e2) => e2.node === e.node && e2.slot === 1));
        if (j >= 0 && !scores) [scores, qi, ki] = [e.node, i, j];
      }),
  );
  if (!scores)
    throw new OnnxStructureError(`${where}: could not find the attention scores (a MatMul of the query and the transposed key).`);
  const vi = [0, 1, 2].find((i) => i !== qi && i !== ki)!;
  const afterScores = g.region([scores.outputs[0]!], STOP);
  const softmax = afterScores.exits.find((e) => e.node.op === 'Softmax')?.node;
  if (!softmax) throw new OnnxStructureError(`${where}: could not find the Softmax over the attention scores.`);
  const ctx = g.region([softmax.outputs[0]!], STOP).exits.find((e) => e.node.op === 'MatMul' && e.slot === 0)?.node;
  if (!ctx || !exitMatMuls(regions[vi]!).some((e) => e.node === ctx && e.slot === 1)) {
    throw new OnnxStructureError(`${where}: could not find the MatMul of the attention probabilities and the value projection.`);
  }
  const headDim = headDimOf(g, regions[qi]!, parts[qi]!.to - parts[qi]!.from, where);
  const factors = [scaleOf(g, regions[qi]!), scaleOf(g, regions[ki]!), scaleOf(g, afterScores)];
  const scale = factors.every((f) => f !== undefined) ? factors.reduce((a, b) => a * b, 1) : undefined;
  const unfold = qFactor(scale, headDim, scaleFolded, where);
  const qRot = hasRotary(regions[qi]!);
  if (qRot !== hasRotary(regions[ki]!))
    throw new OnnxStructureError(`${where}: rotary embeddings are applied to only one of query and key.`);
  const rotary = qRot ? matchRotary(g, regions[qi]!, headDim, where) : undefined;
  const o = outputProjection(g, ctx, where);
  const residual = g.region([o.out], STOP).exits.find((e) => e.node.op === 'Add' && e.node.inputs.includes(h))?.node;
  if (!residual) throw new OnnxStructureError(`${where}: the attention output is not added back to the residual stream.`);
  const [q, k, v] = [parts[qi]!, parts[ki]!, parts[vi]!];
  const counts = [q, k, v].map((p) => (p.to - p.from) / headDim);
  if (!counts.every((c) => Number.isInteger(c) && c > 0) || counts[1] !== counts[2] || counts[0]! % counts[1]! !== 0) {
    throw new OnnxStructureError(
      `${where}: projection widths ${[q, k, v].map((p) => p.to - p.from).join(' / ')} do not split into heads of ${headDim}.`,
    );
  }
  return {
    q: toLinear(q, unfold),
    k: toLinear(k),
    v: toLinear(v),
    o: { weight: o.weight(), ...(o.bias ? { bias: o.bias() } : {}) },
    numHeads: counts[0]!,
    numKvHeads: counts[1]!,
    headDim,
    ...(rotary ? { rotary } : {}),
    out: residual.outputs[0]!,
  };
}

function outputProjection(g: GraphIndex, ctx: GNode, where: string): LinearMatch {
  const exits = g.region([ctx.outputs[0]!], STOP).exits;
  for (const e of exits) {
    const lin = linearAt(g, e);
    if (lin) return lin;
  }
  throw new OnnxStructureError(`${where}: could not find the attention output projection after merging the heads.`);
}
