/**
 * Incremental decoding over the with-past graph (src/graph/kv-cache.ts). The decoder keeps the
 * last context and its present keys / values: a context that extends the cached one by new tokens
 * runs only those (one token per generation step); anything else (the first call, or a window that
 * slid once the model's context was full) prefills from an empty cache. `lastLogits` has the
 * signature generateIds expects, so the sampling loop is the same with and without the cache.
 */
import { asFloat32, int64Tensor, type Feeds, type RunnerSession } from '../core/runner';
import { kvNames } from '../graph/kv-cache';

export interface CacheShape {
  /** kv heads of each layer's cache (0 for a layer without attention). */
  kvHeads: readonly number[];
  headDim: number;
  vocabSize: number;
}

export interface KvDecoder {
  /** Logits of the last position of `context` (batch 1), computed from the cache where it can be. */
  lastLogits(context: readonly number[]): Promise<Float32Array>;
  /** Drops the cached keys / values. */
  reset(): void;
  /** Runs so far: prefills from an empty cache and incremental steps. */
  readonly stats: { prefills: number; steps: number };
}

function emptyPast(shape: CacheShape): Feeds {
  const feeds: Feeds = {};
  shape.kvHeads.forEach((K, l) => {
    const empty = { type: 'float32', dims: [1, K, 0, shape.headDim], data: new Float32Array(0) } as const;
    feeds[kvNames.pastKey(l)] = empty;
    feeds[kvNames.pastValue(l)] = empty;
  });
  return feeds;
}

/** Number of leading tokens of `context` the cache already holds (0 = prefill from scratch). */
function reusable(cached: readonly number[], context: readonly number[]): number {
  if (cached.length === 0 || context.length <= cached.length) return 0;
  for (let i = 0; i < cached.length; i++) if (cached[i] !== context[i]) return 0;
  return cached.length;
}

export function createKvDecoder(session: RunnerSession, shape: CacheShape): KvDecoder {
  let cached: number[] = [];
  let past: Feeds = {};
  const stats = { prefills: 0, steps: 0 };
  const outputs = ['logits', ...shape.kvHeads.flatMap((_, l) => [kvNames.presentKey(l), kvNames.presentValue(l)])];
  return {
    stats,
    reset() {
      cached = [];
      past = {};
    },
    async lastLogits(context) {
      const reuse = reusable(cached, context);
      const fresh = context.slice(reuse);
      const n = fresh.length;
      const total = context.length;
      const res = await session.run(
        {
          input_ids: int64Tensor(fresh, [1, n]),
          attention_mask: int64Tensor(new Array<number>(total).fill(1), [1, total]),
          position_ids: int64Tensor(
            Array.from({ length: n }, (_, i) => reuse + i),
            [1, n],
          ),
          ...(reuse ? past : emptyPast(shape)),
        },
        outputs,
      );
      if (reuse) stats.steps++;
      else stats.prefills++;
      past = {};
      shape.kvHeads.forEach((_, l) => {
        past[kvNames.pastKey(l)] = res[kvNames.presentKey(l)]!;
        past[kvNames.pastValue(l)] = res[kvNames.presentValue(l)]!;
      });
      cached = [...context];
      const V = shape.vocabSize;
      return asFloat32(res.logits, 'logits').slice((n - 1) * V, n * V);
    },
  };
}
