/**
 * A WebAssembly SIMD (f64x2) micro-kernel for the blocked products of linalg-blocked.ts, built
 * from bytes written here (no toolchain, no native addon; runs in Node and in a Worker):
 *   C[i, j] = Σ_t A[i, t] · B[j, t]  for i < m (multiple of 4), j < p (even), t < k (even),
 * A [m, k], B [p, k] and C [m, p] row-major float64 in the module's own memory, on 4x2 tiles with
 * eight f64x2 accumulators. `simdKernel()` is null where WebAssembly SIMD is unavailable; callers
 * then use the scalar kernel. Lane sums are added pairwise at the end, so results can differ
 * from the scalar kernel in the last bits only.
 */

/** Unsigned LEB128. */
function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}

/** Signed LEB128 for small non-negative constants used here. */
function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const str = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

// Opcodes.
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const i32c = (v: number) => [0x41, ...sleb(v)];
const I32_ADD = 0x6a;
const I32_MUL = 0x6c;
const I32_SHL = 0x74;
const I32_LT_U = 0x49;
const F64_ADD = 0xa0;
const f64Store = (offset: number) => [0x39, 3, ...uleb(offset)];
const v128Load = (offset: number) => [0xfd, 0x00, 4, ...uleb(offset)];
const F64X2_ADD = [0xfd, ...uleb(0xf0)];
const F64X2_MUL = [0xfd, ...uleb(0xf2)];
const lane = (l: number) => [0xfd, 0x21, l];
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const LOOP = [0x03, 0x40];
const END = 0x0b;
const brIf = (depth: number) => [0x0d, ...uleb(depth)];

/** The kernel's code: params a, b, c (byte offsets), m, p, k; i32 and v128 locals. */
function kernelBody(): number[] {
  // params 0..5: a b c m p k; i32 locals 6..: rs i j t a0 a1 a2 a3 b0 b1 cp cs; v128 locals 18..: s00..s31, x0..x3, y0, y1
  const [A, B, C, M, P, K] = [0, 1, 2, 3, 4, 5];
  const [RS, I, J, T, A0, A1, A2, A3, B0, B1, CP, CS] = [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
  const S = [18, 19, 20, 21, 22, 23, 24, 25]; // s00 s01 s10 s11 s20 s21 s30 s31
  const X = [26, 27, 28, 29];
  const Y = [30, 31];
  const code: number[] = [];
  const emit = (...parts: (number | number[])[]) => parts.forEach((p) => (Array.isArray(p) ? code.push(...p) : code.push(p)));
  emit(get(K), i32c(3), I32_SHL, set(RS)); // row stride in bytes
  emit(get(P), i32c(3), I32_SHL, set(CS));
  emit(i32c(0), set(I));
  emit(LOOP); // i
  emit(get(A), get(I), get(RS), I32_MUL, I32_ADD, set(A0));
  emit(get(A0), get(RS), I32_ADD, set(A1));
  emit(get(A1), get(RS), I32_ADD, set(A2));
  emit(get(A2), get(RS), I32_ADD, set(A3));
  emit(i32c(0), set(J));
  emit(LOOP); // j
  emit(get(B), get(J), get(RS), I32_MUL, I32_ADD, set(B0));
  emit(get(B0), get(RS), I32_ADD, set(B1));
  for (const s of S) emit(V128_ZERO, set(s));
  emit(i32c(0), set(T));
  emit(LOOP); // t
  Y.forEach((y, q) => emit(get(q ? B1 : B0), get(T), I32_ADD, v128Load(0), set(y)));
  [A0, A1, A2, A3].forEach((a, r) => emit(get(a), get(T), I32_ADD, v128Load(0), set(X[r]!)));
  for (let r = 0; r < 4; r++) {
    for (let q = 0; q < 2; q++) {
      const s = S[2 * r + q]!;
      emit(get(s), get(X[r]!), get(Y[q]!), F64X2_MUL, F64X2_ADD, set(s));
    }
  }
  emit(get(T), i32c(16), I32_ADD, set(T));
  emit(get(T), get(RS), I32_LT_U, brIf(0), END);
  // C[i + r, j + q] = lane0 + lane1
  emit(get(C), get(I), get(CS), I32_MUL, I32_ADD, get(J), i32c(3), I32_SHL, I32_ADD, set(CP));
  for (let r = 0; r < 4; r++) {
    for (let q = 0; q < 2; q++) {
      const s = S[2 * r + q]!;
      emit(get(CP), get(s), lane(0), get(s), lane(1), F64_ADD, f64Store(8 * q));
    }
    emit(get(CP), get(CS), I32_ADD, set(CP));
  }
  emit(get(J), i32c(2), I32_ADD, set(J));
  emit(get(J), get(P), I32_LT_U, brIf(0), END);
  emit(get(I), i32c(4), I32_ADD, set(I));
  emit(get(I), get(M), I32_LT_U, brIf(0), END);
  emit(END);
  const locals = vec([
    [12, 0x7f],
    [14, 0x7b],
  ]);
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

/**
 * The module: one function `gemm`, over a memory it imports as env.mem: a private memory, or a
 * shared one (`shared`: maximum `maxPages`) that the helper threads of gemm-threads.ts import too.
 */
export function moduleBytes(shared = false, maxPages = 0): Uint8Array<ArrayBuffer> {
  const I32 = 0x7f;
  const limits = shared ? [0x03, ...uleb(1), ...uleb(maxPages)] : [0x00, ...uleb(1)];
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), 0]])),
    ...section(2, vec([[...str('env'), ...str('mem'), 0x02, ...limits]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...str('gemm'), 0x00, 0]])),
    ...section(10, vec([kernelBody()])),
  ];
  return new Uint8Array(bytes);
}

export interface SimdKernel {
  /** C = A Bᵀ on the module memory (byte offsets; m % 4 = 0, p and k even, all > 0). */
  gemm(a: number, b: number, c: number, m: number, p: number, k: number): void;
  /**
   * A float64 view of the memory, at least `doubles` long (grows the memory; views change); null
   * when the memory cannot grow that far (a shared memory's maximum).
   */
  view(doubles: number): Float64Array | null;
}

type GemmFn = SimdKernel['gemm'];

/** The kernel over `mem` (instantiated on it) with a growing float64 view; `maxBytes` bounds the view. */
export function kernelOver(
  module: WebAssembly.Module,
  mem: WebAssembly.Memory,
  maxBytes = Infinity,
): { gemm: GemmFn; view: SimdKernel['view'] } {
  const inst = new WebAssembly.Instance(module, { env: { mem } });
  const gemm = inst.exports.gemm as GemmFn;
  let f64 = new Float64Array(mem.buffer);
  return {
    gemm,
    view(doubles: number) {
      if (doubles * 8 > maxBytes) return null;
      const need = doubles * 8 - mem.buffer.byteLength;
      if (need > 0) mem.grow(Math.ceil(need / 65536));
      if (f64.buffer !== mem.buffer || f64.length < doubles) f64 = new Float64Array(mem.buffer);
      return f64;
    },
  };
}

let cached: SimdKernel | null | undefined;

/** The SIMD kernel, or null where WebAssembly SIMD is unavailable. */
export function simdKernel(): SimdKernel | null {
  if (cached !== undefined) return cached;
  cached = null;
  try {
    const bytes = moduleBytes();
    if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(bytes)) return null;
    cached = kernelOver(new WebAssembly.Module(bytes), new WebAssembly.Memory({ initial: 1 }));
  } catch {
    cached = null;
  }
  return cached;
}
