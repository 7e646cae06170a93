/**
 * Perplexity one block at a time (issue 11, memory): a whole-model graph fed its weights as inputs
 * makes onnxruntime-web copy every weight into the wasm heap for each run, and that heap never
 * shrinks, so a 124M model's perplexity left ~1x the weight bytes behind in wasm. Here the windows
 * run through the graph of block l alone (layerRange l..l+1, weights as inputs: only that block's
 * weights, the embedding with block 0, the head and the chunked token loss with the last block),
 * carrying their residual stream from block to block as float32, as the whole graph does inside.
 * Windows are taken in groups whose stream stays under STREAM_BYTES; the block sessions stay open
 * across groups (their graphs are small) and are released at the end. Small models keep the whole
 * graph (faster: one run per batch); `useBlockwise` is the size rule.
 */
import { throwIfAborted } from '../core/errors';
import { parameterCount, type ModelIR } from '../core/ir';
import { asFloat32, float32Tensor, type Feeds, type Runner, type RunnerSession } from '../core/runner';
import { openModelSession } from '../graph/model-session';
import type { GraphOptions } from '../graph/options';

/** Models with at least this many fp32 weight bytes run perplexity block by block. */
export const BLOCKWISE_MIN_WEIGHT_BYTES = 256 * 2 ** 20;

/** Largest residual stream carried between blocks at once (float32 bytes); more windows run in further groups. */
export const STREAM_BYTES = 64 * 2 ** 20;

/** 'auto': block by block from BLOCKWISE_MIN_WEIGHT_BYTES of fp32 weights; 'blocks' / 'whole' force one path. */
export type PerplexityPath = 'auto' | 'blocks' | 'whole';

/** What the block graphs are built from: the model and the options of its whole token-loss graph. */
export interface BlockSource {
  runner: Runner;
  ir: ModelIR;
  graph: GraphOptions;
  /** Cap of the carried residual stream (default STREAM_BYTES). */
  streamBytes?: number;
}

/** The size rule: token-input models of two or more layers whose fp32 weights reach the threshold. */
export function useBlockwise(ir: ModelIR, path: PerplexityPath = 'auto'): boolean {
  if (path !== 'auto') return path === 'blocks';
  return ir.spec.input !== 'patches' && ir.layers.length > 1 && parameterCount(ir) * 4 >= BLOCKWISE_MIN_WEIGHT_BYTES;
}

/** One run of windows: input_ids and labels [rows, len]. */
export interface WindowRun {
  feeds: Feeds;
  rows: number;
  len: number;
}

/** Splits runs into consecutive groups whose residual stream (rows · len · hidden float32) fits STREAM_BYTES (at least one run each). */
export function streamGroups<R extends WindowRun>(runs: readonly R[], hidden: number, cap = STREAM_BYTES): R[][] {
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

/** Opens block sessions on first use and releases them all at the end. */
export class BlockSessions {
  private readonly open = new Map<number, Promise<RunnerSession>>();
  constructor(private readonly src: BlockSource) {}

  get(l: number): Promise<RunnerSession> {
    let s = this.open.get(l);
    if (!s) {
      s = openModelSession(this.src.runner, this.src.ir, {
        ...this.src.graph,
        logits: false,
        taps: false,
        layerRange: { from: l, to: l + 1 },
      });
      this.open.set(l, s);
    }
    return s;
  }

  async release(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    for (const s of all) await (await s).release();
  }
}

/**
 * token_nll [rows, len] of each run of one group, computed block by block: block 0 embeds
 * input_ids, each later block reads hidden_in (the previous block's hidden.l), the last adds the
 * head and the token loss. `extra` (masks) is passed to the blocks that declare it. `onStep` after each run.
 */
export async function groupTokenNll(
  sessions: BlockSessions,
  ir: ModelIR,
  group: readonly WindowRun[],
  extra: Feeds,
  signal: AbortSignal | undefined,
  onStep?: () => void,
): Promise<Float32Array[]> {
  const L = ir.layers.length;
  const d = ir.spec.hiddenSize;
  let stream: Float32Array[] = [];
  let nll: Float32Array[] = [];
  for (let l = 0; l < L; l++) {
    const session = await sessions.get(l);
    const fixed = Object.fromEntries(Object.entries(extra).filter(([name]) => session.inputNames.includes(name)));
    const last = l === L - 1;
    const output = last ? 'token_nll' : `hidden.${l + 1}`;
    const next: Float32Array[] = [];
    for (const [i, r] of group.entries()) {
      throwIfAborted(signal, 'Perplexity evaluation');
      const feeds: Feeds = {
        ...fixed,
        input_ids: r.feeds.input_ids!,
        ...(last && r.feeds.labels ? { labels: r.feeds.labels } : {}),
        ...(l > 0 ? { hidden_in: float32Tensor(stream[i]!, [r.rows, r.len, d]) } : {}),
      };
      const out = await session.run(feeds, [output]);
      next.push(asFloat32(out[output], output));
      stream[i] = new Float32Array(0); // the block's input is no longer needed
      onStep?.();
    }
    if (last) nll = next;
    else stream = next;
  }
  return nll;
}
