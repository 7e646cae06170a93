/**
 * The SIMD GEMM kernel of gemm-simd.ts on several threads: the module is instantiated on one
 * shared WebAssembly memory by this thread and by helper threads (Workers, spawned by the host
 * through `setGemmThreads`), and a large product's row tiles are split between them. Each C
 * element is computed by the same kernel code over the same k order as on one thread, so results
 * are bitwise equal; only the wall time changes (the float64 OBS / SlimGPT / GPTQ algebra). The
 * rows go out in chunks that each thread takes in turn (an atomic counter), so a slower or busier
 * core takes fewer.
 *
 * The calls stay synchronous, as the blocked algebra is: this thread writes the call into a small
 * shared control array, wakes the helpers (Atomics.notify), computes its own rows and waits
 * (Atomics.wait: a Worker or Node, never a browser's main thread) until every helper has counted
 * itself done. Helpers start on the first large product (that one and the next few run on this
 * thread until they report ready) and are stopped after `idleMs` without use, so an idle tab holds
 * no extra threads. A helper that fails or hangs turns threading off for the session; the call is
 * then recomputed on this thread (the kernel stores C, so a recomputation is exact).
 */
import { kernelOver, moduleBytes, simdKernel, type SimdKernel } from './gemm-simd';

/** What a helper is started with (structured-cloned to it). */
export interface GemmHelperData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  /** 1..helpers (the caller's thread is 0). */
  index: number;
}

export interface GemmHelper {
  terminate(): void;
}

/**
 * Starts a thread that evaluates `source` (plain JavaScript defining `gemmHelper(data)`) and
 * calls gemmHelper with `data` (the host adds its message glue: `self.onmessage` in a browser
 * Worker, `parentPort` in Node).
 */
export type GemmHelperSpawner = (source: string, data: GemmHelperData) => GemmHelper;

// Control array slots.
const GEN = 0;
const CMD = 1;
const DONE = 2;
const READY = 3;
const ARGS = 4; // a b c m p k, rows per chunk
const ERR = 11;
/** The next chunk of rows to take: threads take chunks until none is left, so a slower thread takes fewer. */
const NEXT = 12;
/** Chunks computed by helpers, all calls together. */
const HELPER_CHUNKS = 13;
const STOP = 2;

/** 512 MiB of shared memory at most (a 4,864-row product packs 12.5 MB); larger products run on the private kernel. */
const MAX_PAGES = 8192;
/** Products smaller than this (multiply-adds) stay on one thread: the wake-up costs tens of microseconds. */
export const THREAD_MIN = 1 << 19;
/** How long a helper (and the caller, for the helpers' parts) spins before sleeping: a wake-up from Atomics.wait costs up to a millisecond on a busy VM. */
const SPIN_MS = 0.5;
/** A helper that has not finished its part by then is taken for hung. */
const HELPER_TIMEOUT_MS = 60_000;

/** The helper's code: runs parts of products until told to stop. Plain ES2017, no imports. */
export const HELPER_SOURCE = `
function gemmHelper(d) {
  var ctl = new Int32Array(d.control);
  var gemm = new WebAssembly.Instance(d.module, { env: { mem: d.memory } }).exports.gemm;
  var seen = Atomics.load(ctl, ${GEN});
  Atomics.add(ctl, ${READY}, 1);
  Atomics.notify(ctl, ${READY});
  for (;;) {
    // spin a little before sleeping: the next product of a factorisation follows within a millisecond
    var until = performance.now() + ${SPIN_MS};
    while (Atomics.load(ctl, ${GEN}) === seen && performance.now() < until);
    Atomics.wait(ctl, ${GEN}, seen);
    seen = Atomics.load(ctl, ${GEN});
    if (Atomics.load(ctl, ${CMD}) === ${STOP}) return;
    var a = ctl[${ARGS}], b = ctl[${ARGS + 1}], c = ctl[${ARGS + 2}], m = ctl[${ARGS + 3}], p = ctl[${ARGS + 4}], k = ctl[${ARGS + 5}], per = ctl[${ARGS + 6}];
    try {
      for (var i0 = Atomics.add(ctl, ${NEXT}, 1) * per; i0 < m; i0 = Atomics.add(ctl, ${NEXT}, 1) * per) {
        gemm(a + i0 * k * 8, b, c + i0 * p * 8, Math.min(per, m - i0), p, k);
        Atomics.add(ctl, ${HELPER_CHUNKS}, 1);
      }
    } catch (e) {
      Atomics.store(ctl, ${ERR}, 1);
    }
    Atomics.add(ctl, ${DONE}, 1);
    Atomics.notify(ctl, ${DONE});
  }
}
`;

interface Pool {
  kernel: SimdKernel;
  ctl: Int32Array;
  helpers: GemmHelper[];
  gemm: SimdKernel['gemm'];
}

let spawner: GemmHelperSpawner | undefined;
let helperCount = 0;
let idleAfterMs = 2_000;
let pool: Pool | undefined;
let broken = false;
let lastUse = 0;
let idleTimer: ReturnType<typeof setTimeout> | undefined;
let threadedCalls = 0;

/**
 * Installed once by a host that can run helper threads (the engine Worker, the CLI): `helpers`
 * threads beside this one (0 or no spawner: one thread, the private kernel). Stops a running pool.
 */
export function setGemmThreads(spawn: GemmHelperSpawner | undefined, helpers: number, idleMs = 2_000): void {
  stopGemmThreads();
  spawner = spawn;
  helperCount = spawn ? Math.max(0, Math.floor(helpers)) : 0;
  idleAfterMs = idleMs;
  broken = false;
}

/** Helpers for a machine with `cores` logical cores: one per core beside this thread, at most 7. */
export function helpersFor(cores: number): number {
  return Math.max(0, Math.min(8, Math.floor(cores) || 1) - 1);
}

/** Stops the helpers (they exit their loop) and drops the shared memory. */
export function stopGemmThreads(): void {
  if (idleTimer !== undefined) clearTimeout(idleTimer);
  idleTimer = undefined;
  const p = pool;
  pool = undefined;
  if (!p) return;
  Atomics.store(p.ctl, CMD, STOP);
  Atomics.add(p.ctl, GEN, 1);
  Atomics.notify(p.ctl, GEN);
  for (const h of p.helpers) h.terminate();
}

/** How many helpers are up, how many products ran split so far, and how many chunks the current helpers computed (tests and the bench read it). */
export function gemmThreadStats(): { helpers: number; ready: number; threadedCalls: number; helperChunks: number } {
  const ctl = pool?.ctl;
  return {
    helpers: pool?.helpers.length ?? 0,
    ready: ctl ? Atomics.load(ctl, READY) : 0,
    threadedCalls,
    helperChunks: ctl ? Atomics.load(ctl, HELPER_CHUNKS) : 0,
  };
}

/** Waits (asynchronously, up to `timeoutMs`) until the helpers are up; false without a pool. */
export async function warmGemmThreads(timeoutMs = 10_000): Promise<boolean> {
  const p = startPool();
  if (!p) return false;
  const t0 = Date.now();
  while (Atomics.load(p.ctl, READY) < p.helpers.length) {
    if (Date.now() - t0 > timeoutMs) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

/** The multi-threaded kernel (starting its helpers), or null when none is installed or it failed. */
export function threadedKernel(): SimdKernel | null {
  return startPool()?.kernel ?? null;
}

function startPool(): Pool | undefined {
  if (pool || broken || !spawner || helperCount < 1) return pool;
  try {
    if (!simdKernel()) return undefined;
    const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
    const module = new WebAssembly.Module(moduleBytes(true, MAX_PAGES));
    const control = new SharedArrayBuffer(16 * 4);
    const own = kernelOver(module, memory, MAX_PAGES * 65536);
    const ctl = new Int32Array(control);
    const helpers: GemmHelper[] = [];
    const p: Pool = { ctl, helpers, gemm: own.gemm, kernel: { view: own.view, gemm: (...args) => splitGemm(p, ...args) } };
    pool = p;
    for (let i = 1; i <= helperCount; i++) helpers.push(spawner(HELPER_SOURCE, { module, memory, control, index: i }));
    return p;
  } catch {
    // no shared memory here (not cross-origin isolated) or no threads: one thread
    stopGemmThreads();
    broken = true;
    return undefined;
  }
}

function markUsed(): void {
  lastUse = Date.now();
  if (idleTimer !== undefined) return;
  const check = () => {
    const left = lastUse + idleAfterMs - Date.now();
    idleTimer = undefined;
    if (left <= 0) stopGemmThreads();
    else arm(left);
  };
  const arm = (ms: number) => {
    idleTimer = setTimeout(check, ms);
    (idleTimer as { unref?: () => void }).unref?.();
  };
  arm(idleAfterMs);
}

/** C = A Bᵀ with chunks of rows taken in turn by this thread and the ready helpers. */
function splitGemm(p: Pool, a: number, b: number, c: number, m: number, n: number, k: number): void {
  markUsed();
  const parts = p.helpers.length + 1;
  const ready = Atomics.load(p.ctl, READY) === p.helpers.length;
  if (!ready || pool !== p || m * n * k < THREAD_MIN || m < 8 * parts) return p.gemm(a, b, c, m, n, k);
  const ctl = p.ctl;
  // about four chunks per thread, whole 4-row tiles, at least 8 rows
  const per = Math.max(8, Math.ceil(m / 4 / (4 * parts)) * 4);
  ctl.set([a, b, c, m, n, k, per], ARGS);
  Atomics.store(ctl, NEXT, 0);
  Atomics.store(ctl, DONE, 0);
  Atomics.add(ctl, GEN, 1);
  Atomics.notify(ctl, GEN);
  for (let i0 = Atomics.add(ctl, NEXT, 1) * per; i0 < m; i0 = Atomics.add(ctl, NEXT, 1) * per)
    p.gemm(a + i0 * k * 8, b, c + i0 * n * 8, Math.min(per, m - i0), n, k);
  const t0 = Date.now();
  const spinUntil = performance.now() + SPIN_MS;
  for (let d = Atomics.load(ctl, DONE); d < p.helpers.length; d = Atomics.load(ctl, DONE)) {
    if (performance.now() < spinUntil) continue;
    if (Atomics.wait(ctl, DONE, d, 1000) === 'timed-out' && Date.now() - t0 > HELPER_TIMEOUT_MS) break;
  }
  if (Atomics.load(ctl, DONE) < p.helpers.length || Atomics.load(ctl, ERR) !== 0) {
    // a helper failed or hung: no more threads this session; this call again, whole, here
    stopGemmThreads();
    broken = true;
    p.gemm(a, b, c, m, n, k);
    return;
  }
  threadedCalls++;
}
