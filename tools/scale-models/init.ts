/**
 * Deterministic random initialisation: one xoshiro128** stream per tensor, seeded from the model
 * seed and the tensor's name (so values do not depend on write order), normal deviates by
 * Box-Muller. Values are produced in chunks so that no tensor has to be held whole.
 */
import type { Init } from './shapes';

/** FNV-1a of the name mixed with the seed (32-bit). */
function hashSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** xoshiro128** seeded by splitmix32; next() is a uniform float in (0, 1). */
export function rng(seed: number, name: string): () => number {
  let x = hashSeed(seed, name);
  const splitmix = () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  return () => {
    const r = Math.imul(((Math.imul(b, 5) << 7) | (Math.imul(b, 5) >>> 25)) >>> 0, 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = (d << 11) | (d >>> 21);
    return (r + 0.5) / 4294967296;
  };
}

/**
 * Calls `sink` with consecutive chunks (at most `chunk` values each) of `count` values drawn from
 * `init`; the chunk array is reused between calls.
 */
export function generate(
  init: Init,
  count: number,
  seed: number,
  name: string,
  sink: (values: Float32Array) => void,
  chunk = 1 << 20,
): void {
  const buf = new Float32Array(Math.min(chunk, Math.max(count, 1)));
  if (init.kind !== 'normal') {
    buf.fill(init.kind === 'ones' ? 1 : 0);
    for (let done = 0; done < count; done += buf.length) sink(buf.subarray(0, Math.min(buf.length, count - done)));
    return;
  }
  const next = rng(seed, name);
  const std = init.std;
  let spare: number | undefined;
  for (let done = 0; done < count; done += buf.length) {
    const n = Math.min(buf.length, count - done);
    for (let i = 0; i < n; i++) {
      if (spare !== undefined) {
        buf[i] = spare;
        spare = undefined;
        continue;
      }
      const r = Math.sqrt(-2 * Math.log(next())) * std;
      const theta = 2 * Math.PI * next();
      buf[i] = r * Math.cos(theta);
      spare = r * Math.sin(theta);
    }
    sink(buf.subarray(0, n));
  }
}
