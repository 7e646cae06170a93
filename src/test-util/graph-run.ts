/** Test helper: build a graph for a ModelIR, run it with a Runner, and compare arrays. */
import type { ModelIR } from '../core/ir';
import { int64Tensor, type Feeds, type Runner, type RunnerTensor } from '../core/runner';
import { buildOnnx } from '../graph/build';
import type { GraphOptions } from '../graph/options';

export const SAMPLE_IDS = [
  [3, 17, 42, 8, 0, 29, 11],
  [49, 1, 1, 36, 20, 5, 44],
];

export function idsFeed(ids: readonly (readonly number[])[], name = 'input_ids'): Feeds {
  return { [name]: int64Tensor(ids.flat(), [ids.length, ids[0]?.length ?? 0]) };
}

/** labels[t] = ids[t+1] (0 at the end), the shift callers use for next-token loss. */
export function nextTokenLabels(ids: readonly (readonly number[])[]): Feeds {
  return idsFeed(
    ids.map((row) => [...row.slice(1), 0]),
    'labels',
  );
}

export function maskFeeds(
  ir: ModelIR,
  edit?: { head?: (m: Float32Array) => void; ffn?: (m: Float32Array) => void; layer?: (m: Float32Array) => void },
): Feeds {
  const L = ir.layers.length;
  const H = ir.layers[0]!.numHeads;
  const F = ir.layers[0]!.ffnSize;
  const head = new Float32Array(L * H).fill(1);
  const ffn = new Float32Array(L * F).fill(1);
  const layer = new Float32Array(L).fill(1);
  edit?.head?.(head);
  edit?.ffn?.(ffn);
  edit?.layer?.(layer);
  return {
    head_mask: { type: 'float32', dims: [L, H], data: head },
    ffn_mask: { type: 'float32', dims: [L, F], data: ffn },
    layer_mask: { type: 'float32', dims: [L], data: layer },
  };
}

export async function runGraph(runner: Runner, ir: ModelIR, options: GraphOptions, feeds: Feeds): Promise<Record<string, RunnerTensor>> {
  const session = await runner.open(buildOnnx(ir, options));
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

export function floats(t: RunnerTensor | undefined): Float32Array {
  if (!t || t.type !== 'float32') throw new Error('expected a float32 tensor');
  return t.data;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function cloneIR(ir: ModelIR): ModelIR {
  return structuredClone(ir);
}
