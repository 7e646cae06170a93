/**
 * Rewrites an fp32 graph around quantized tables (types.ts QuantTable), keeping every tensor name
 * the rest of the graph reads:
 *   fp16  initializer -> float16 initializer + Cast to float (constant-folded by onnxruntime).
 *   int8  MatMul(A, B) / head Gemm -> DynamicQuantizeLinear(A) (uint8, per tensor) -> MatMulInteger
 *         with B int8 [K, N] -> Cast -> × a_scale × b_scale[N]; Gather rows of the [K, N] table on
 *         axis 1, Transpose, Cast, × the rows' scales.
 *   int4  MatMul(A, B) / head Gemm -> com.microsoft MatMulNBits (bits 4, block_size, K, N); Gather
 *         rows of the packed table and unpack the nibbles in the graph (Floor / Sub on floats), so a
 *         tied embedding and head share one int4 table. A symmetric table (zero point 8) has no
 *         zero_points input: MatMulNBits then uses 8, and the gather subtracts a constant 8.
 */
import { DataType, type AttributeProto, type ModelProto, type NodeProto, type TensorProto } from '../io/onnx';
import { floatTensorProto, int64TensorProto } from '../io/onnx';
import { INT4_SYM_ZERO, packInt4 } from './blocks';
import { initializers, isConstMatMul, isHeadGemm, isTableGather } from './targets';
import type { QuantTable } from './types';

const UINT8 = 2;
const INT8 = 3;
const MS = 'com.microsoft';

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const rawTensor = (name: string, dataType: number, dims: number[], data: ArrayBufferView): TensorProto => ({
  name,
  dims,
  data_type: dataType,
  raw_data: bytesOf(data),
});
const int = (name: string, i: number): AttributeProto => ({ name, type: 2, i });
const ints = (name: string, v: number[]): AttributeProto => ({ name, type: 7, ints: v });
const node = (
  op: string,
  input: string[],
  output: string[],
  name: string,
  attribute: AttributeProto[] = [],
  domain?: string,
): NodeProto => ({
  op_type: op,
  input,
  output,
  name,
  attribute,
  ...(domain ? { domain } : {}),
});

class Rewriter {
  readonly nodes: NodeProto[] = [];
  readonly inits: TensorProto[] = [];
  private consts = 0;
  private dynq = new Map<string, [string, string, string]>();
  constructor(readonly tables: ReadonlyMap<string, QuantTable>) {}

  i64(values: number[], dims = [values.length]): string {
    const name = `quant/const_${this.consts++}`;
    this.inits.push(int64TensorProto(name, values, dims));
    return name;
  }
  f32(v: number): string {
    const name = `quant/const_${this.consts++}`;
    this.inits.push(floatTensorProto(name, Float32Array.of(v), []));
    return name;
  }
  op(op: string, input: string[], out: string, attrs: AttributeProto[] = [], domain?: string): string {
    this.nodes.push(node(op, input, [out], out, attrs, domain));
    return out;
  }

  /** Adds the table's initializers (once). */
  emitTable(t: QuantTable): void {
    if (t.kind === 'fp16') {
      this.inits.push(rawTensor(`${t.name}.fp16`, DataType.FLOAT16, t.dims, t.half));
      this.nodes.unshift(node('Cast', [`${t.name}.fp16`], [t.name], `${t.name}/cast`, [int('to', DataType.FLOAT)]));
    } else if (t.kind === 'int8') {
      this.inits.push(rawTensor(`${t.name}.int8`, INT8, [t.k, t.n], t.q.codes));
      this.inits.push(floatTensorProto(`${t.name}.scales`, t.q.scales, [t.n]));
    } else {
      const { b, zeroPoints } = packInt4(t.q);
      const { n, nBlocks, blockSize } = t.q;
      this.inits.push(rawTensor(`${t.name}.q4`, UINT8, [n, nBlocks, blockSize / 2], b));
      this.inits.push(floatTensorProto(`${t.name}.scales`, t.q.scales, [n * nBlocks]));
      if (!t.q.symmetric) this.inits.push(rawTensor(`${t.name}.zp`, UINT8, [zeroPoints.length], zeroPoints));
    }
  }

  linear(t: QuantTable, a: string, out: string): void {
    if (t.kind === 'int4') {
      const { k, n, blockSize } = t.q;
      this.op(
        'MatMulNBits',
        [a, `${t.name}.q4`, `${t.name}.scales`, ...(t.q.symmetric ? [] : [`${t.name}.zp`])],
        out,
        [int('K', k), int('N', n), int('bits', 4), int('block_size', blockSize)],
        MS,
      );
      return;
    }
    if (t.kind !== 'int8') throw new Error('linear() takes int4 / int8 tables');
    let dq = this.dynq.get(a);
    if (!dq) {
      dq = [`${a}/q8`, `${a}/q8_scale`, `${a}/q8_zero`];
      this.nodes.push(node('DynamicQuantizeLinear', [a], dq, `${a}/dynamic_quantize`));
      this.dynq.set(a, dq);
    }
    const acc = this.op('MatMulInteger', [dq[0], `${t.name}.int8`, dq[2]], `${out}/int32`);
    const f = this.op('Cast', [acc], `${out}/float`, [int('to', DataType.FLOAT)]);
    const sa = this.op('Mul', [f, dq[1]], `${out}/a_scaled`);
    this.op('Mul', [sa, `${t.name}.scales`], out);
  }

  /** Rows `ids` (any rank) of the table, dequantized: [...ids.shape, K]. */
  gather(t: QuantTable, ids: string, out: string): void {
    const flatIds = this.op('Reshape', [ids, this.i64([-1])], `${out}/ids`);
    const outShape = this.op(
      'Concat',
      [this.op('Shape', [ids], `${out}/ids_shape`), this.i64([t.kind === 'int4' ? t.q.k : t.kind === 'int8' ? t.k : 0])],
      `${out}/shape`,
      [int('axis', 0)],
    );
    const rows = t.kind === 'int8' ? this.gatherInt8(t, flatIds, out) : this.gatherInt4(t, flatIds, out);
    this.op('Reshape', [rows, outShape], out);
  }

  /** [M, K] float rows of an int8 [K, N] table. */
  private gatherInt8(t: QuantTable, ids: string, out: string): string {
    if (t.kind !== 'int8') throw new Error('int8 table expected');
    const cols = this.op('Gather', [`${t.name}.int8`, ids], `${out}/cols`, [int('axis', 1)]);
    const f = this.op('Cast', [this.op('Transpose', [cols], `${out}/rows`, [ints('perm', [1, 0])])], `${out}/float`, [
      int('to', DataType.FLOAT),
    ]);
    const s = this.op('Gather', [`${t.name}.scales`, ids], `${out}/row_scales`, [int('axis', 0)]);
    return this.op('Mul', [f, this.op('Unsqueeze', [s, this.i64([-1])], `${out}/row_scales_1`)], `${out}/rows_f`);
  }

  /** [M, K] float rows of a packed int4 table: nibbles unpacked with float Floor / Sub. */
  private gatherInt4(t: QuantTable, ids: string, out: string): string {
    if (t.kind !== 'int4') throw new Error('int4 table expected');
    const { n, k, nBlocks, blockSize } = t.q;
    const unpack = (packed: string, what: string) => {
      const x = this.op('Cast', [packed], `${out}/${what}_f`, [int('to', DataType.FLOAT)]);
      const hi = this.op('Floor', [this.op('Mul', [x, this.f32(1 / 16)], `${out}/${what}_div`)], `${out}/${what}_hi`);
      const lo = this.op('Sub', [x, this.op('Mul', [hi, this.f32(16)], `${out}/${what}_hi16`)], `${out}/${what}_lo`);
      const axis = this.i64([-1]);
      const pair = [this.op('Unsqueeze', [lo, axis], `${out}/${what}_lo1`), this.op('Unsqueeze', [hi, axis], `${out}/${what}_hi1`)];
      return this.op('Concat', pair, `${out}/${what}_pairs`, [int('axis', -1)]);
    };
    const packedRows = this.op('Gather', [`${t.name}.q4`, ids], `${out}/q4_rows`);
    const codes = this.op('Reshape', [unpack(packedRows, 'codes'), this.i64([-1, nBlocks, blockSize])], `${out}/codes`);
    const zeros = t.q.symmetric ? this.f32(INT4_SYM_ZERO) : this.gatherZeros(t, ids, out, unpack);
    const sTable = this.op('Reshape', [`${t.name}.scales`, this.i64([n, nBlocks])], `${out}/scale_table`);
    const scales = this.op('Gather', [sTable, ids], `${out}/scales`);
    const centered = this.op('Sub', [codes, zeros], `${out}/centered`);
    const deq = this.op('Mul', [centered, this.op('Unsqueeze', [scales, this.i64([-1])], `${out}/scales_1`)], `${out}/deq`);
    const flat = this.op('Reshape', [deq, this.i64([-1, nBlocks * blockSize])], `${out}/flat`);
    return this.op('Slice', [flat, this.i64([0]), this.i64([k]), this.i64([-1])], `${out}/rows_f`);
  }
  /** [M, nBlocks, 1] float zero points of rows `ids` from the packed zero_points table. */
  private gatherZeros(t: QuantTable, ids: string, out: string, unpack: (packed: string, what: string) => string): string {
    if (t.kind !== 'int4') throw new Error('int4 table expected');
    const { n, nBlocks } = t.q;
    const zb = Math.ceil(nBlocks / 2);
    const zTable = this.op('Reshape', [`${t.name}.zp`, this.i64([n, zb])], `${out}/zp_table`);
    const zAll = this.op(
      'Reshape',
      [unpack(this.op('Gather', [zTable, ids], `${out}/zp_rows`), 'zp'), this.i64([-1, 2 * zb])],
      `${out}/zp_all`,
    );
    const zeros = this.op('Slice', [zAll, this.i64([0]), this.i64([nBlocks]), this.i64([-1])], `${out}/zp`);
    return this.op('Unsqueeze', [zeros, this.i64([-1])], `${out}/zp_1`);
  }
}

/** The graph with every weight in `tables` replaced (the input model is not modified). */
export function rewriteModel(model: ModelProto, tables: ReadonlyMap<string, QuantTable>): ModelProto {
  const init = initializers(model);
  const r = new Rewriter(tables);
  for (const t of tables.values()) r.emitTable(t);
  for (const n of model.graph.node) {
    const t =
      isConstMatMul(n, init) || isHeadGemm(n, init)
        ? tables.get(n.input[1]!)
        : isTableGather(n, init)
          ? tables.get(n.input[0]!)
          : undefined;
    if (!t || t.kind === 'fp16') r.nodes.push(n);
    else if (n.op_type === 'Gather') r.gather(t, n.input[1]!, n.output[0]!);
    else r.linear(t, n.input[0]!, n.output[0]!);
  }
  const kept = (model.graph.initializer ?? []).filter((t) => !tables.has(t.name ?? ''));
  const usesMs = [...tables.values()].some((t) => t.kind === 'int4');
  return {
    ...model,
    opset_import: [...model.opset_import.filter((o) => o.domain !== MS), ...(usesMs ? [{ domain: MS, version: 1 }] : [])],
    graph: { ...model.graph, node: r.nodes, initializer: [...kept, ...r.inits] },
  };
}
