/**
 * Adam (Kingma & Ba, 2015) on named float32 parameter tensors, updated in place:
 * m ← β1 m + (1 − β1) g, v ← β2 v + (1 − β2) g², θ ← θ − lr · m̂ / (√v̂ + ε) with bias-corrected
 * m̂ = m / (1 − β1^t), v̂ = v / (1 − β2^t). Moments are float64. A parameter whose gradient is
 * exactly zero at a step (a masked unit's row or column) does not move at that step and its moments
 * are held, so one optimizer can carry on across pruning rounds: units masked in a later round freeze
 * where they are, while the surviving weights keep their moment estimates.
 */
export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export interface Adam {
  /** One step with learning rate lr; `grads` and `params` share names (missing gradients skip the parameter). */
  step(params: ReadonlyMap<string, Float32Array>, grads: ReadonlyMap<string, ArrayLike<number>>, lr: number): void;
  readonly steps: number;
  /** Bytes held by the moments (2 float64 per parameter). */
  readonly stateBytes: number;
}

export function createAdam(opts: AdamOptions = {}): Adam {
  const b1 = opts.beta1 ?? 0.9;
  const b2 = opts.beta2 ?? 0.999;
  const eps = opts.eps ?? 1e-8;
  const moments = new Map<string, { m: Float64Array; v: Float64Array }>();
  let t = 0;
  let bytes = 0;
  return {
    get steps() {
      return t;
    },
    get stateBytes() {
      return bytes;
    },
    step(params, grads, lr) {
      t++;
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      for (const [name, p] of params) {
        const g = grads.get(name);
        if (!g) continue;
        if (g.length !== p.length) throw new Error(`Adam: gradient ${name} has ${g.length} values for ${p.length} parameters.`);
        let s = moments.get(name);
        if (!s) {
          moments.set(name, (s = { m: new Float64Array(p.length), v: new Float64Array(p.length) }));
          bytes += 16 * p.length;
        }
        const { m, v } = s;
        for (let i = 0; i < p.length; i++) {
          const gi = g[i]!;
          if (gi === 0) continue;
          m[i] = b1 * m[i]! + (1 - b1) * gi;
          v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
          p[i] = p[i]! - (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + eps);
        }
      }
    },
  };
}
