/**
 * Deferred float32 weights: a tensor computed row by row (e.g. a fused, transposed projection
 * weight) that the graph builder can keep as a recipe instead of an array, so the sized encoder
 * (io/onnx/encode.ts) writes it straight into the encoded bytes and no whole copy is ever held.
 */

export interface DeferredFloats {
  readonly dims: readonly number[];
  /** The tensor is `rows` x `rowLength` float32 values in row-major order. */
  readonly rows: number;
  readonly rowLength: number;
  /** Writes row `row` into `out` (length `rowLength`). */
  fill(row: number, out: Float32Array): void;
}

/** The whole tensor as one Float32Array. */
export function materialize(d: DeferredFloats): Float32Array {
  const out = new Float32Array(d.rows * d.rowLength);
  for (let r = 0; r < d.rows; r++) d.fill(r, out.subarray(r * d.rowLength, (r + 1) * d.rowLength));
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Hands each row's little-endian bytes to `use` in order (one buffer, reused: `use` copies them out). */
export function eachDeferredRow(d: DeferredFloats, use: (bytes: Uint8Array) => void): void {
  const row = new Float32Array(d.rowLength);
  const bytes = new Uint8Array(row.buffer);
  const view = new DataView(row.buffer);
  for (let r = 0; r < d.rows; r++) {
    d.fill(r, row);
    if (!LITTLE_ENDIAN) for (let i = 0; i < row.length; i++) view.setFloat32(i * 4, row[i]!, true);
    use(bytes);
  }
}

/** Writes the tensor's little-endian bytes at `pos` of `buf` (any alignment); returns the position after them. */
export function writeDeferred(d: DeferredFloats, buf: Uint8Array, pos: number): number {
  let at = pos;
  eachDeferredRow(d, (bytes) => {
    buf.set(bytes, at);
    at += bytes.length;
  });
  return at;
}
