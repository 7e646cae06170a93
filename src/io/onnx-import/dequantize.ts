/**
 * Quantized weights back to float32, before the graph walk (the walk reads plain MatMul / Gather
 * on float constants). A graph-to-graph rewrite that undoes what src/quantize/rewrite.ts (and
 * onnxruntime's quantizers) write; every value the rest of the graph reads keeps its name:
 *   Cast(float16 / bfloat16 / double initializer -> float)        -> a float32 initializer
 *   DequantizeLinear(constant x, scale, zero point)                -> a float32 initializer
 *   com.microsoft MatMulNBits(A, B, scales, zero_points?, g_idx?, bias?)
 *       B uint8 [N, n_blocks, blob_size], blob_size = block_size * bits / 8, codes packed low bits
 *       first along K (4 bits: k even in the low nibble); scales [N * n_blocks]; zero_points packed
 *       the same way per row (uint8 [N * ceil(n_blocks * bits / 8)]) or float [N * n_blocks], default
 *       2^(bits - 1) (8 for 4 bits); w[n, k] = (code - zero) * scale   -> MatMul(A, Wᵀ [K, N]) (+ bias)
 *   DynamicQuantizeLinear(A) -> MatMulInteger(q, B int8 [K, N], a_zero, b_zero?) -> Cast -> Mul by
 *       a_scale and by the per-column b_scale (either order, or one Mul by their product)
 *                                                                  -> MatMul(A, (B - b_zero) * b_scale)
 *   a token-embedding Gather of a quantized table, dequantized in the graph (rewrite.ts `gather`:
 *       Gather of int8 [K, N] codes on axis 1 or of a packed int4 [N, n_blocks, blob] table, ending in
 *       Reshape(rows, Concat(Shape(ids), [K])))                    -> Gather(float32 [N, K], ids)
 * Then the nodes nothing reads any more are dropped. Activation quantization (int8) is not
 * reproduced: the float model computes with unquantized activations (docs/export-bundle.md); with
 * `fakeQuantActivations` it is kept as DynamicQuantizeLinear -> DequantizeLinear before the float
 * MatMul, which computes what the file computes (used to check the weights' dequantization).
 */
import { UnsupportedModelError } from '../../core/errors';
import { floatTensorProto } from '../onnx/tensor';
import { DataType, type ModelProto, type NodeProto, type TensorProto } from '../onnx/types';
import { isFloatTensor, readBytes, readFloats, readQuantInts, type ExternalReader } from './initializers';
import { dequantizeNBits, type NBitsTable } from './nbits';

const UINT8 = 2;
const INT8 = 3;
const MS = 'com.microsoft';

/**
 * A value the rewrite computes again from dequantized weights, under the file's name: an int8
 * MatMulInteger chain's output (with `activation`, the float input its DynamicQuantizeLinear reads)
 * or a quantized table's Gather output.
 */
export interface Rederived {
  output: string;
  activation?: string;
}

export interface DequantizeSummary {
  /** Weights turned back into float32, by kind of pattern. */
  cast: number;
  dequantizeLinear: number;
  matMulNBits: number;
  matMulInteger: number;
  gather: number;
}

function transposed(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = w[i * cols + j]!;
  return out;
}

const intAttr = (n: NodeProto, name: string, fallback: number) => Number(n.attribute?.find((a) => a.name === name)?.i ?? fallback);

class Dequantizer {
  readonly init = new Map<string, TensorProto>();
  readonly producer = new Map<string, NodeProto>();
  readonly consumers = new Map<string, NodeProto[]>();
  /** node -> its replacement (null: removed) */
  readonly replaced = new Map<NodeProto, NodeProto | null>();
  readonly added: TensorProto[] = [];
  readonly summary: DequantizeSummary = { cast: 0, dequantizeLinear: 0, matMulNBits: 0, matMulInteger: 0, gather: 0 };
  readonly rederived: Rederived[] = [];
  private readonly made = new Map<string, string>();

  constructor(
    readonly model: ModelProto,
    private readonly readExternal?: ExternalReader,
    /** int8: keep the activations' run-time quantization (DynamicQuantizeLinear -> DequantizeLinear -> MatMul). */
    private readonly fakeQuantActivations = false,
  ) {
    for (const t of model.graph.initializer ?? []) this.init.set(t.name ?? '', t);
    for (const n of model.graph.node) {
      for (const o of n.output) this.producer.set(o, n);
      for (const i of n.input) if (i) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
    }
  }

  floats(name: string | undefined): Float32Array | undefined {
    const t = name ? this.init.get(name) : undefined;
    return t && isFloatTensor(t) ? readFloats(t, this.readExternal) : undefined;
  }

  quantInit(name: string | undefined, types: number[]): TensorProto | undefined {
    const t = name ? this.init.get(name) : undefined;
    return t && types.includes(t.data_type ?? 0) ? t : undefined;
  }

  /** A float32 initializer (made once per key). */
  addFloat(key: string, name: string, make: () => { data: Float32Array; dims: number[] }): string {
    const have = this.made.get(key);
    if (have) return have;
    const { data, dims } = make();
    this.added.push(floatTensorProto(name, data, dims));
    this.made.set(key, name);
    return name;
  }

  single(value: string): NodeProto | undefined {
    const c = this.consumers.get(value) ?? [];
    return c.length === 1 ? c[0] : undefined;
  }

  /** Cast of a non-float32 float initializer to float: the Cast's output becomes an initializer. */
  cast(n: NodeProto): void {
    const src = this.init.get(n.input[0] ?? '');
    if (!src || !isFloatTensor(src) || src.data_type === DataType.FLOAT || intAttr(n, 'to', 0) !== DataType.FLOAT) return;
    this.added.push(floatTensorProto(n.output[0]!, readFloats(src, this.readExternal), (src.dims ?? []).map(Number)));
    this.replaced.set(n, null);
    this.summary.cast++;
  }

  dequantizeLinear(n: NodeProto): void {
    const x = this.quantInit(n.input[0], [UINT8, INT8]);
    const scale = this.floats(n.input[1]);
    if (!x || !scale || intAttr(n, 'block_size', 0) !== 0) return;
    const zt = this.quantInit(n.input[2], [UINT8, INT8]);
    if (n.input[2] && !zt) return;
    const dims = (x.dims ?? []).map(Number);
    const q = readQuantInts(x, this.readExternal);
    const z = zt ? readQuantInts(zt, this.readExternal) : undefined;
    const rank = dims.length;
    const axis = (intAttr(n, 'axis', 1) + rank) % Math.max(rank, 1);
    const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    const along = dims[axis] ?? 1;
    const out = new Float32Array(q.length);
    for (let i = 0; i < q.length; i++) {
      const c = scale.length === 1 ? 0 : Math.floor(i / inner) % along;
      out[i] = Math.fround((q[i]! - (z ? (z.length === 1 ? z[0]! : z[c]!) : 0)) * scale[c]!);
    }
    this.added.push(floatTensorProto(n.output[0]!, out, dims));
    this.replaced.set(n, null);
    this.summary.dequantizeLinear++;
  }

  nbitsTable(bName: string, sName: string, zName: string | undefined, n: number, k: number, bits: number, blockSize: number): NBitsTable {
    const b = this.quantInit(bName, [UINT8]);
    const scales = this.floats(sName);
    if (!b || !scales) throw new UnsupportedModelError(`MatMulNBits table "${bName}" / scales "${sName}" are not constants.`);
    const zt = zName ? this.init.get(zName) : undefined;
    if (zName && !zt) throw new UnsupportedModelError(`MatMulNBits zero points "${zName}" are not a constant.`);
    const zeroPoints = zt ? (isFloatTensor(zt) ? readFloats(zt, this.readExternal) : readBytes(zt, this.readExternal)) : undefined;
    return { n, k, bits, blockSize, b: readBytes(b, this.readExternal), scales, ...(zeroPoints ? { zeroPoints } : {}) };
  }

  matMulNBits(n: NodeProto): void {
    const [a = '', b = '', s = '', zp, gIdx, bias] = n.input;
    if (gIdx) throw new UnsupportedModelError(`MatMulNBits node "${n.name ?? ''}" has a g_idx (act-order) input, which is not imported.`);
    const [K, N] = [intAttr(n, 'K', 0), intAttr(n, 'N', 0)];
    const bits = intAttr(n, 'bits', 4);
    const blockSize = intAttr(n, 'block_size', 0);
    const wt = this.addFloat(`nbits:${b}:${s}:${zp ?? ''}`, `${b}.dequantized`, () => ({
      data: transposed(dequantizeNBits(this.nbitsTable(b, s, zp || undefined, N, K, bits, blockSize)), N, K),
      dims: [K, N],
    }));
    const out = n.output[0]!;
    const mm: NodeProto = { op_type: 'MatMul', name: n.name ?? out, input: [a, wt], output: [bias ? `${out}/no_bias` : out] };
    this.replaced.set(n, mm);
    if (bias) this.extra.set(mm, { op_type: 'Add', name: `${out}/bias`, input: [mm.output[0]!, bias], output: [out] });
    this.summary.matMulNBits++;
  }

  /** Nodes to insert right after a replacement. */
  readonly extra = new Map<NodeProto, NodeProto>();

  matMulInteger(n: NodeProto): void {
    const [q = '', bName = '', aZero, bZero] = n.input;
    const dql = this.producer.get(q);
    if (dql?.op_type !== 'DynamicQuantizeLinear' || dql.output[0] !== q || (aZero && aZero !== dql.output[2])) return;
    const b = this.quantInit(bName, [INT8, UINT8]);
    const dims = (b?.dims ?? []).map(Number);
    if (!b || dims.length !== 2) return;
    const [K, N] = dims as [number, number];
    const cast = this.single(n.output[0]!);
    if (cast?.op_type !== 'Cast' || intAttr(cast, 'to', 0) !== DataType.FLOAT) return;
    const aScale = dql.output[1]!;
    let value = cast.output[0]!;
    let bScale: Float32Array | undefined;
    let sawA = false;
    const chain: NodeProto[] = [cast];
    while (!(sawA && bScale)) {
      const mul = this.single(value);
      if (mul?.op_type !== 'Mul') return;
      const other = mul.input[0] === value ? mul.input[1] : mul.input[0];
      const p = other ? this.producer.get(other) : undefined;
      if (other === aScale && !sawA) sawA = true;
      else if (!bScale && this.floats(other)) bScale = this.floats(other);
      else if (!sawA && !bScale && p?.op_type === 'Mul' && p.input.includes(aScale)) {
        sawA = true;
        bScale = this.floats(p.input[0] === aScale ? p.input[1] : p.input[0]);
        if (!bScale) return;
      } else return;
      chain.push(mul);
      value = mul.output[0]!;
    }
    if (bScale.length !== 1 && bScale.length !== N) return;
    const z = bZero
      ? this.quantInit(bZero, [INT8, UINT8])
        ? readQuantInts(this.init.get(bZero)!, this.readExternal)
        : undefined
      : undefined;
    if (bZero && !z) return;
    const codes = readQuantInts(b, this.readExternal);
    const wt = this.addFloat(`int8:${bName}:${bZero ?? ''}`, `${bName}.dequantized`, () => {
      const data = new Float32Array(K * N);
      for (let i = 0; i < data.length; i++) {
        const c = i % N;
        data[i] = Math.fround((codes[i]! - (z ? (z.length === 1 ? z[0]! : z[c]!) : 0)) * (bScale.length === 1 ? bScale[0]! : bScale[c]!));
      }
      return { data, dims: [K, N] };
    });
    if (this.fakeQuantActivations) {
      const dq: NodeProto = {
        op_type: 'DequantizeLinear',
        name: `${value}/a_dq`,
        input: dql.output.slice(0, 3),
        output: [`${value}/a_dq`],
      };
      this.replaced.set(n, dq);
      this.extra.set(dq, { op_type: 'MatMul', name: n.name ?? value, input: [dq.output[0]!, wt], output: [value] });
    } else this.replaced.set(n, { op_type: 'MatMul', name: n.name ?? value, input: [dql.input[0]!, wt], output: [value] });
    for (const c of chain) this.replaced.set(c, null);
    this.rederived.push({ output: value, activation: dql.input[0]! });
    this.summary.matMulInteger++;
  }

  /** rewrite.ts `gather`: Reshape(rows(table, Reshape(ids, [-1])), Concat(Shape(ids), [K])) -> Gather(float table, ids). */
  gather(g: NodeProto): void {
    const table = this.init.get(g.input[0] ?? '');
    const axis = intAttr(g, 'axis', 0);
    const int8 = table?.data_type === INT8 && table.dims?.length === 2 && axis === 1;
    const int4 = table?.data_type === UINT8 && table.dims?.length === 3 && axis === 0;
    if (!table || !(int8 || int4)) return;
    const flat = this.producer.get(g.input[1] ?? '');
    const ids = flat?.op_type === 'Reshape' ? flat.input[0] : undefined;
    if (!ids) return;
    // The Reshape back to [...ids.shape, K] whose rows come from this Gather (ids has other Shape readers).
    const uses = (v: string, op: string) => (this.consumers.get(v) ?? []).filter((c) => c.op_type === op);
    const concats = uses(ids, 'Shape').flatMap((s) => uses(s.output[0]!, 'Concat'));
    const pairs = concats.flatMap((c) => uses(c.output[0]!, 'Reshape').map((r) => [c, r] as const));
    const [concat, reshape] = pairs.find(([c, r]) => r.input[1] === c.output[0] && this.reaches(r.input[0]!, g.output[0]!, ids)) ?? [];
    const kConst = concat && this.init.get(concat.input[1] ?? '');
    if (!reshape || !kConst) return;
    const K = Number(readQuantLike(kConst, this.readExternal));
    const inits = this.initializersBetween(reshape.input[0]!, ids);
    const floats = inits.filter((t) => t.data_type === DataType.FLOAT);
    let rows: () => { data: Float32Array; dims: number[] };
    if (int8) {
      const [k, n] = (table.dims ?? []).map(Number) as [number, number];
      const scale = floats.find((t) => Number(t.dims?.[0]) === n && t.dims?.length === 1);
      if (!scale || k !== K) return;
      rows = () => {
        const codes = readQuantInts(table, this.readExternal);
        const s = readFloats(scale, this.readExternal);
        const data = new Float32Array(n * k);
        for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) data[r * k + c] = Math.fround(codes[c * n + r]! * s[r]!);
        return { data, dims: [n, k] };
      };
    } else {
      const [n, nBlocks, blob] = (table.dims ?? []).map(Number) as [number, number, number];
      const scale = floats.find((t) => (t.dims ?? []).reduce((a, b) => a * b, 1) === n * nBlocks && n * nBlocks > 1);
      const zp = inits.find((t) => t.data_type === UINT8 && t !== table);
      if (!scale) return;
      rows = () => ({
        data: dequantizeNBits(this.nbitsTable(table.name!, scale.name!, zp?.name, n, K, 4, blob * 2)),
        dims: [n, K],
      });
    }
    const name = this.addFloat(`rows:${table.name ?? ''}`, `${table.name ?? ''}.rows`, rows);
    this.replaced.set(reshape, { op_type: 'Gather', name: reshape.name ?? name, input: [name, ids], output: [reshape.output[0]!] });
    this.rederived.push({ output: reshape.output[0]! });
    this.summary.gather++;
  }

  /** Whether `target` is among the values `value` is computed from (walking back until `stop`). */
  private reaches(value: string, target: string, stop: string): boolean {
    const seen = new Set<string>();
    const visit = (v: string): boolean => {
      if (v === target) return true;
      if (v === stop || seen.has(v)) return false;
      seen.add(v);
      const p = this.producer.get(v);
      return !!p && p.op_type !== 'Shape' && p.input.some((i) => i !== '' && visit(i));
    };
    return visit(value);
  }

  /** Initializers read by the nodes computing `value`, walking back until `stop`. */
  private initializersBetween(value: string, stop: string): TensorProto[] {
    const found = new Set<TensorProto>();
    const seen = new Set<string>();
    const visit = (v: string) => {
      if (v === stop || seen.has(v)) return;
      seen.add(v);
      const t = this.init.get(v);
      if (t) found.add(t);
      const p = this.producer.get(v);
      if (p && p.op_type !== 'Shape') for (const i of p.input) if (i) visit(i);
    };
    visit(value);
    return [...found];
  }
}

function readQuantLike(t: TensorProto, readExternal?: ExternalReader): number {
  if (t.data_type === DataType.INT64) {
    const raw = t.raw_data;
    if (raw && raw.byteLength >= 8) return Number(new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getBigInt64(0, true));
    return Number(t.int64_data?.[0] ?? NaN);
  }
  return readFloats(t, readExternal)[0] ?? NaN;
}

/** Drops nodes nothing reads (walking back from the graph outputs) and unused initializers. */
function live(model: ModelProto): ModelProto {
  const needed = new Set(model.graph.output.map((o) => o.name));
  const nodes: NodeProto[] = [];
  for (const n of [...model.graph.node].reverse()) {
    if (!n.output.some((o) => needed.has(o))) continue;
    nodes.push(n);
    for (const i of n.input) if (i) needed.add(i);
  }
  nodes.reverse();
  const initializer = (model.graph.initializer ?? []).filter((t) => needed.has(t.name ?? ''));
  // Old files list initializers among the inputs too: a dropped one must not become a graph input.
  const dropped = new Set((model.graph.initializer ?? []).filter((t) => !needed.has(t.name ?? '')).map((t) => t.name));
  const input = model.graph.input.filter((i) => !dropped.has(i.name));
  const usesMs = nodes.some((n) => n.domain === MS);
  return {
    ...model,
    opset_import: model.opset_import.filter((o) => usesMs || o.domain !== MS),
    graph: { ...model.graph, node: nodes, initializer, input },
  };
}

/** The model with quantized weights turned back into float32 (the input is not modified). */
export function dequantizeModel(
  model: ModelProto,
  readExternal?: ExternalReader,
  /** Keep int8 activation quantization as DequantizeLinear(DynamicQuantizeLinear(x)): the file's arithmetic with float weights (the import check). */
  fakeQuantActivations = false,
): { model: ModelProto; summary: DequantizeSummary; rederived: Rederived[] } {
  const d = new Dequantizer(model, readExternal, fakeQuantActivations);
  for (const n of model.graph.node) {
    const op = n.domain === MS ? `${MS}.${n.op_type}` : n.op_type;
    if (op === 'Cast') d.cast(n);
    else if (op === 'DequantizeLinear') d.dequantizeLinear(n);
    else if (op === `${MS}.MatMulNBits`) d.matMulNBits(n);
    else if (op === 'MatMulInteger') d.matMulInteger(n);
    else if (op === 'Gather') d.gather(n);
  }
  const touched = Object.values(d.summary).some((c) => c > 0);
  if (!touched) return { model, summary: d.summary, rederived: d.rederived };
  const node: NodeProto[] = [];
  for (const n of model.graph.node) {
    const r = d.replaced.has(n) ? d.replaced.get(n) : n;
    if (!r) continue;
    node.push(r);
    const e = d.extra.get(r);
    if (e) node.push(e);
  }
  const removed = new Set(d.added.map((t) => t.name));
  const initializer = [...(model.graph.initializer ?? []).filter((t) => !removed.has(t.name)), ...d.added];
  return { model: live({ ...model, graph: { ...model.graph, node, initializer } }), summary: d.summary, rederived: d.rederived };
}
