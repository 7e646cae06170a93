/**
 * collectMaskGradients one block at a time (a large model's Taylor / Fisher): the whole-model
 * gradient graph holds every weight and every block's activations and their gradients in the wasm
 * heap at once, and that heap never shrinks. Here backpropagation runs through the blocks as the
 * chain rule does: each sequence's residual stream is carried forward block by block (block l's
 * graph alone, the stream entering every block kept), the head's graph alone gives the loss and its
 * gradient with respect to the final stream, then block l's gradient graph (graph/options.ts
 * GradientOptions.stream: the scalar Σ hidden.{l+1} ⊙ grad_out) gives, from the stream entering it and
 * the gradient of the stream leaving it, the gradient of the stream entering it and of the masks, from
 * the last block down. Block l's graph reads only row l of each mask, so its mask gradient is the
 * whole graph's in that row and 0 elsewhere: the per-sequence sums of |g| and g² add up to the whole
 * graph's (saliency/gradients-by-layer.test.ts).
 */
import { throwIfAborted } from '../core/errors';
import type { ModelIR } from '../core/ir';
import { asFloat32, float32Tensor, type Feeds, type Runner, type RunnerSession } from '../core/runner';
import { embedRows } from '../graph/embed-rows';
import { gradNames, GRAD_OUT } from '../graph/grad/loss';
import { openModelSession } from '../graph/model-session';
import type { GraphOptions } from '../graph/options';
import type { GradientStats } from '../core/stats';
import { maskFeeds, sampleFeeds, sampleLossWeights, type CalibrationSet } from './calibrate';
import { onesMasks } from './criteria/ablation';
import { absSq, accumulate, MASK_GRADS, type GradientRunOptions } from './gradients';

/** Runs `use` on the graph of `options` (weights as inputs), released afterwards. */
async function withGraph<T>(runner: Runner, ir: ModelIR, options: GraphOptions, use: (s: RunnerSession) => Promise<T>): Promise<T> {
  const session = await openModelSession(runner, ir, options);
  try {
    return await use(session);
  } finally {
    await session.release();
  }
}

/** The feeds a session declares, of `feeds`. */
function declared(session: RunnerSession, feeds: Feeds): Feeds {
  return Object.fromEntries(Object.entries(feeds).filter(([name]) => session.inputNames.includes(name)));
}

/** Per-sequence mask gradients, block by block: the Taylor / Fisher accumulators of collectMaskGradients. */
export async function collectMaskGradientsByLayer(
  runner: Runner,
  ir: ModelIR,
  set: CalibrationSet,
  opts: GradientRunOptions = {},
): Promise<GradientStats> {
  const L = ir.layers.length;
  const H = ir.layers[0]?.numHeads ?? 0;
  const F = ir.layers[0]?.ffnSize ?? 0;
  const d = ir.spec.hiddenSize;
  const n = set.samples;
  const fixed: Feeds = { ...maskFeeds(opts.masks ?? onesMasks(L, H, F), L, H, F), ...opts.extraFeeds };
  const sample = (s: number) => sampleFeeds(set, s, 1).feeds;
  const stream = (data: Float32Array) => float32Tensor(data, [1, set.seq, d]);
  const total = 2 * L * n + n;
  let done = 0;
  const step = (what: string) => {
    throwIfAborted(opts.signal, 'Gradient calibration');
    opts.onProgress?.({ stage: 'gradients', done: ++done, total, message: what });
  };
  const block = (l: number): GraphOptions => ({ masks: true, layerRange: { from: l, to: l + 1, embedded: true, head: false } });
  // entering[l][s]: the stream entering block l (l = L: the final stream) of sequence s
  const entering: Float32Array[][] = [Array.from({ length: n }, (_, s) => embedRows(ir, sample(s).input_ids!, 1, set.seq))];
  for (let l = 0; l < L; l++) {
    entering.push(
      await withGraph(runner, ir, block(l), async (session) => {
        const out: Float32Array[] = [];
        for (let s = 0; s < n; s++) {
          step(`Forward pass: block ${l + 1}/${L}, sequence ${s + 1}/${n}`);
          const r = await session.run(
            { ...declared(session, fixed), input_ids: sample(s).input_ids!, hidden_in: stream(entering[l]![s]!) },
            [`hidden.${l + 1}`],
          );
          out.push(asFloat32(r[`hidden.${l + 1}`], `hidden.${l + 1}`));
        }
        return out;
      }),
    );
  }
  const stats: GradientStats = { numSequences: n, meanLoss: 0, heads: absSq(L * H), ffn: absSq(L * F), layers: absSq(L) };
  // the head alone: each sequence's loss and its gradient with respect to the final stream
  let upstream = await withGraph(
    runner,
    ir,
    { logits: false, gradients: { stream: true }, layerRange: { from: L, to: L } },
    async (session) => {
      const out: Float32Array[] = [];
      let loss = 0;
      for (let s = 0; s < n; s++) {
        step(`Loss gradient: sequence ${s + 1}/${n}`);
        const r = await session.run(
          { ...declared(session, fixed), ...sample(s), ...sampleLossWeights(set, 1), hidden_in: stream(entering[L]![s]!) },
          ['loss', gradNames.hiddenIn],
        );
        loss += asFloat32(r.loss, 'loss')[0]!;
        out.push(asFloat32(r[gradNames.hiddenIn], gradNames.hiddenIn));
      }
      stats.meanLoss = loss / n;
      return out;
    },
  );
  entering.pop();
  for (let l = L - 1; l >= 0; l--) {
    const graph: GraphOptions = { ...block(l), gradients: { masks: true, stream: true } };
    upstream = await withGraph(runner, ir, graph, async (session) => {
      const out: Float32Array[] = [];
      for (let s = 0; s < n; s++) {
        step(`Backward pass: block ${l + 1}/${L}, sequence ${s + 1}/${n}`);
        const feeds = {
          ...declared(session, fixed),
          input_ids: sample(s).input_ids!,
          hidden_in: stream(entering[l]![s]!),
          [GRAD_OUT]: stream(upstream[s]!),
        };
        const r = await session.run(feeds, [...MASK_GRADS, ...(l > 0 ? [gradNames.hiddenIn] : [])]);
        accumulate(stats.heads, asFloat32(r['grad.head_mask'], 'grad.head_mask'));
        accumulate(stats.ffn, asFloat32(r['grad.ffn_mask'], 'grad.ffn_mask'));
        accumulate(stats.layers, asFloat32(r['grad.layer_mask'], 'grad.layer_mask'));
        if (l > 0) out.push(asFloat32(r[gradNames.hiddenIn], gradNames.hiddenIn));
      }
      return out;
    });
    entering.pop();
  }
  return stats;
}
