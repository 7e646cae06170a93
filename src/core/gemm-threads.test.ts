/**
 * The multi-threaded GEMM (gemm-threads.ts) on real worker_threads: products and a Cholesky split
 * between helpers are bitwise equal to the one-thread kernel and close to plain triple loops; the
 * split really happens (threadedCalls counts it); idle helpers are stopped; a failing helper turns
 * threading off and the call's result is still right.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { mulberry32 } from '../eval/generate';
import { choleskyBlocked, gemmNT, strided } from './linalg-blocked';
import { gemmThreadStats, helpersFor, setGemmThreads, warmGemmThreads, type GemmHelperSpawner } from './gemm-threads';
import { nodeGemmSpawner } from '../cli/gemm-threads-node';

const random = (n: number, seed: number) => {
  const r = mulberry32(seed);
  return Float64Array.from({ length: n }, () => r() * 2 - 1);
};

/** c (m x p, zero) += A Bᵀ through gemmNT with A [m, k], B [p, k]. */
function product(a: Float64Array, b: Float64Array, m: number, p: number, k: number): Float64Array {
  const c = new Float64Array(m * p);
  gemmNT(c, strided(m, p), strided(p, 1), 1, a, 0, k, b, 0, k, k);
  return c;
}

function tripleLoop(a: Float64Array, b: Float64Array, m: number, p: number, k: number): Float64Array {
  const c = new Float64Array(m * p);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[i * k + t]! * b[j * k + t]!;
      c[i * p + j] = s;
    }
  return c;
}

function spd(n: number, seed: number): Float64Array {
  const x = random(n * (n + 3), seed);
  const a = new Float64Array(n * n);
  gemmNT(a, strided(n, n), strided(n, 1), 1 / n, x, 0, n + 3, x, 0, n + 3, n + 3);
  for (let i = 0; i < n; i++) a[i * n + i] = a[i * n + i]! + 0.1;
  return a;
}

afterEach(() => setGemmThreads(undefined, 0));

describe('multi-threaded GEMM', () => {
  it('gives the bits of the one-thread kernel on shapes that straddle the tiles and the parts', async () => {
    const shapes: [number, number, number][] = [
      [301, 130, 517],
      [1027, 64, 256],
      [64, 200, 700],
    ];
    const single = shapes.map(([m, p, k], i) => product(random(m * k, i), random(p * k, 10 + i), m, p, k));
    for (const helpers of [1, 3]) {
      setGemmThreads(nodeGemmSpawner, helpers);
      expect(await warmGemmThreads()).toBe(true);
      const before = gemmThreadStats().threadedCalls;
      shapes.forEach(([m, p, k], i) => {
        const c = product(random(m * k, i), random(p * k, 10 + i), m, p, k);
        expect(c).toEqual(single[i]);
      });
      expect(gemmThreadStats()).toMatchObject({ helpers, ready: helpers });
      expect(gemmThreadStats().threadedCalls).toBeGreaterThan(before);
      expect(gemmThreadStats().helperChunks).toBeGreaterThan(0);
    }
    const [m, p, k] = shapes[0]!;
    const ref = tripleLoop(random(m * k, 0), random(p * k, 10), m, p, k);
    single[0]!.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 10));
  });

  it('factors an SPD matrix to the same bits as on one thread', async () => {
    const n = 640;
    const a = spd(n, 5);
    const single = choleskyBlocked(a, n)!;
    setGemmThreads(nodeGemmSpawner, 2);
    await warmGemmThreads();
    const before = gemmThreadStats().threadedCalls;
    expect(choleskyBlocked(a, n)).toEqual(single);
    expect(gemmThreadStats().threadedCalls).toBeGreaterThan(before);
    expect(gemmThreadStats().helperChunks).toBeGreaterThan(0);
  });

  it('stops idle helpers and starts them again on the next large product', async () => {
    setGemmThreads(nodeGemmSpawner, 1, 50);
    await warmGemmThreads();
    product(random(512 * 512, 1), random(64 * 512, 2), 512, 64, 512);
    expect(gemmThreadStats().helpers).toBe(1);
    await new Promise((r) => setTimeout(r, 250));
    expect(gemmThreadStats().helpers).toBe(0);
    expect(await warmGemmThreads()).toBe(true);
    expect(gemmThreadStats().helpers).toBe(1);
  });

  it('recomputes a call whose helper fails, then stays on one thread', async () => {
    // a helper that reports ready, then answers every call with an error and no result
    const failing: GemmHelperSpawner = (_source, data) => {
      const w = new Worker(
        `const { parentPort } = require('node:worker_threads');
         parentPort.once('message', (d) => {
           const ctl = new Int32Array(d.control);
           let seen = Atomics.load(ctl, 0);
           Atomics.add(ctl, 3, 1);
           for (;;) {
             Atomics.wait(ctl, 0, seen);
             seen = Atomics.load(ctl, 0);
             if (Atomics.load(ctl, 1) === 2) return;
             Atomics.store(ctl, 11, 1);
             Atomics.add(ctl, 2, 1);
             Atomics.notify(ctl, 2);
           }
         });`,
        { eval: true },
      );
      w.unref();
      w.postMessage(data);
      return { terminate: () => void w.terminate() };
    };
    const [m, p, k] = [256, 64, 256];
    const a = random(m * k, 3);
    const b = random(p * k, 4);
    const single = product(a, b, m, p, k);
    setGemmThreads(failing, 1);
    expect(await warmGemmThreads()).toBe(true);
    expect(product(a, b, m, p, k)).toEqual(single);
    expect(gemmThreadStats().helpers).toBe(0);
    expect(await warmGemmThreads()).toBe(false);
    expect(product(a, b, m, p, k)).toEqual(single);
  });

  it('takes one helper per core beside the caller, at most seven', () => {
    expect([1, 2, 4, 16, 0].map(helpersFor)).toEqual([0, 1, 3, 7, 0]);
  });
});
