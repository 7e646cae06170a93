/**
 * Text generation by sampling (pure): temperature, top-k, and a seeded RNG so the dense and the
 * pruned model can be compared on the same random stream. The forward pass is injected.
 */

export interface SamplingOptions {
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topK: number;
  seed: number;
  stopId?: number | undefined;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks a token id from one row of logits. */
export function sampleToken(logits: ArrayLike<number>, temperature: number, topK: number, random: () => number): number {
  const n = logits.length;
  let best = 0;
  for (let i = 1; i < n; i++) if (logits[i]! > logits[best]!) best = i;
  if (temperature <= 0) return best;
  const k = Math.max(1, Math.min(topK > 0 ? topK : n, n));
  const idx = Array.from({ length: n }, (_, i) => i)
    .sort((a, b) => logits[b]! - logits[a]! || a - b)
    .slice(0, k);
  const max = logits[idx[0]!]!;
  const weights = idx.map((i) => Math.exp((logits[i]! - max) / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let u = random() * total;
  for (let j = 0; j < k; j++) {
    u -= weights[j]!;
    if (u <= 0) return idx[j]!;
  }
  return idx[k - 1]!;
}

/**
 * Autoregressive loop; `lastLogits(ids)` returns the logits of the last position for a context
 * (the caller keeps the context within the model's window).
 */
export async function generateIds(
  prompt: readonly number[],
  contextLimit: number,
  lastLogits: (ids: number[]) => Promise<ArrayLike<number>>,
  opts: SamplingOptions,
  signal?: AbortSignal,
): Promise<number[]> {
  const random = mulberry32(opts.seed);
  const ids = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < opts.maxNewTokens; i++) {
    if (signal?.aborted) break;
    const next = sampleToken(await lastLogits(ids.slice(-contextLimit)), opts.temperature, opts.topK, random);
    if (next === opts.stopId) break;
    ids.push(next);
    out.push(next);
  }
  return out;
}
