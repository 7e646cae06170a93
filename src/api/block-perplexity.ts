/**
 * Perplexity one block at a time for large models (graph/block-run.ts): the windows of
 * streamPerplexity, in groups whose residual stream stays under STREAM_BYTES, each group run
 * through block 0, 1, ... L-1 (the last adds the chunked token loss), so only one block's weights
 * (and the embedding or the head) are ever in the wasm heap. Same windows, batches and numbers as
 * the whole graph (block-perplexity.test.ts).
 */
import type { BlockInput, BlockPath } from '../graph/block-run';

export { BLOCKWISE_MIN_WEIGHT_BYTES, useBlockwise, type BlockSource } from '../graph/block-run';

/** Largest residual stream carried between blocks at once (float32 bytes); more windows run in further groups. */
export const STREAM_BYTES = 64 * 2 ** 20;

/** 'auto': block by block from BLOCKWISE_MIN_WEIGHT_BYTES of fp32 weights; 'blocks' / 'whole' force one path. */
export type PerplexityPath = BlockPath;

/** Splits runs into consecutive groups whose residual stream (rows · len · hidden float32) fits the cap (at least one run each). */
export function streamGroups<R extends BlockInput>(runs: readonly R[], hidden: number, cap = STREAM_BYTES): R[][] {
  const groups: R[][] = [];
  let bytes = Infinity;
  for (const r of runs) {
    const b = r.rows * r.len * hidden * 4;
    if (bytes + b > cap) {
      groups.push([]);
      bytes = 0;
    }
    groups[groups.length - 1]!.push(r);
    bytes += b;
  }
  return groups;
}
