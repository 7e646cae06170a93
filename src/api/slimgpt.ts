/**
 * Api operation `slimGptPrune`: runs src/prune/slimgpt.ts with an engine that calibrates one block
 * at a time (saliency/calibrate-by-layer.ts): block l's graph (layerRange, its o / down projections as
 * inputs, fed the compensated weights) gives the Hessian of the projection being pruned from the
 * residual stream that the blocks already pruned leave; once layer l is done the stream is carried
 * through it. One pass over the model in all (three runs of each block at most) instead of a
 * whole-model pass per Hessian, and only one block's weights in a run; each run's graph computes
 * only the Gram it is run for. The result is sliced and
 * installed as the applied model, exactly like applyPlan.
 */
import { InputError } from '../core/errors';
import type { ModelIR } from '../core/ir';
import type { RunnerSession } from '../core/runner';
import { hessian } from '../core/stats';
import { warmGemmThreads } from '../core/gemm-threads';
import { weightFeeds } from '../graph/grad/loss';
import { openModelSessionEmbedded } from '../graph/model-session';
import { slimGptPrune as runLayers, type SlimGptEngine } from '../prune/slimgpt';
import type { CalibrationSet } from '../saliency/calibrate';
import { runBlock } from '../saliency/calibrate-by-layer';
import { createStats } from '../saliency/stats';
import { installApplied } from './install';
import { withLayerSpill } from './weight-spill';
import { prunedPerplexity } from './pruning';
import { checkPruning } from './memory';
import type { LoadedModel, StudioState } from './state';
import type { SlimGptJobOptions, SlimGptRequest, SlimGptResult } from './types';

/**
 * The engine: block sessions opened on demand and the residual stream entering block `at`. A session
 * computes the Gram of one kind of tap only (graph option gramsOf: onnxruntime runs every node, so an
 * unread 3,072-wide FFN Gram would cost its MatMuls on every run); the attention one (a 768-wide Gram,
 * cheap) also carries the stream forward. At most two sessions are open (the two used last). SlimGPT
 * asks for layers in order and never changes a layer below the one it asks for, so the stream is
 * advanced through finished blocks only (a request for an earlier layer restarts).
 */
function sequentialEngine(state: StudioState, ir0: ModelIR, set: CalibrationSet, signal: { signal?: AbortSignal }) {
  type Kind = 'attn' | 'ffn';
  let open: { layer: number; kind: Kind; session: RunnerSession }[] = [];
  let stream: Float32Array[] = [];
  let at = 0;
  const block = async (layer: number, kind: Kind): Promise<RunnerSession> => {
    const hit = open.find((s) => s.layer === layer && s.kind === kind);
    if (hit) {
      open = [...open.filter((s) => s !== hit), hit];
      return hit.session;
    }
    while (open.length >= 2) await open.shift()!.session.release();
    // every weight but the block's o / down projections (compensated as SlimGPT goes, fed from the current model) is embedded from ir0
    const fed = new Set([`weight.o.${layer}`, `weight.down.${layer}`]);
    const session = await openModelSessionEmbedded(
      state.deps.runner,
      ir0,
      {
        masks: true,
        logits: false,
        weightInputs: true,
        taps: true,
        grams: 'packed',
        gramsOf: kind === 'attn' ? 'attn_in' : 'ffn_in',
        // no head (Hessians need the taps and the stream only); block 0 fed the embedding computed in JS
        // (graph/embed-rows.ts), so no block reads the vocabulary matrix
        layerRange: { from: layer, to: layer + 1, head: false, embedded: ir0.spec.input !== 'patches' },
      },
      fed,
    );
    open.push({ layer, kind, session });
    return session;
  };
  const engine: SlimGptEngine = {
    now: state.now,
    async hessian(ir, masks, layer, kind) {
      if (layer < at) [stream, at] = [[], 0];
      // each block is fed the projections its graph declares (the current model's), nothing else
      const feeds = (session: RunnerSession) => ({ masks, extraFeeds: weightFeeds(ir, session.inputNames), ...signal });
      for (; at < layer; at++) {
        const pass = createStats(ir, false);
        const session = await block(at, 'attn');
        stream = (await runBlock(ir, session, at, set, stream, pass, feeds(session))).stream;
      }
      const which = kind === 'attn' ? 'attnIn' : 'ffnIn';
      const stats = createStats(ir, (l, k) => l === layer && k === which);
      const session = await block(layer, kind);
      await runBlock(ir, session, layer, set, stream, stats, feeds(session));
      // A maker over the packed float32 Gram (n(n+1)/2 values): SlimGPT inverts in the array it makes.
      const gram = stats.layers[layer]![which];
      return () => hessian(gram, set.samples);
    },
  };
  const release = async () => {
    for (const s of open.splice(0)) await s.session.release();
  };
  return { engine, release };
}

export async function slimGptPrune(
  state: StudioState,
  m: LoadedModel,
  req: SlimGptRequest,
  options: SlimGptJobOptions,
): Promise<SlimGptResult> {
  const cal = m.calibration;
  if (!cal) throw new InputError('SlimGPT needs calibration data.', 'Run calibration (step 2) first.');
  checkPruning(state, m);
  const t0 = state.now();
  const signal = options.signal ? { signal: options.signal } : {};
  const { engine, release } = sequentialEngine(state, m.ir, cal.set, signal);
  // the helper threads of the float64 products, if the host has them, up before the first layer
  await warmGemmThreads(2000);
  // a spilled model's compensated projections go to storage as each layer is finished (kept with the applied model)
  let result;
  try {
    result = await withLayerSpill(state.deps, m, (spillLayer) =>
      runLayers(
        m.ir,
        { heads: req.heads, ffn: req.ffn, allocation: req.allocation, ...(req.locked ? { locked: req.locked } : {}) },
        engine,
        {
          ...signal,
          ...(options.onProgress ? { onProgress: options.onProgress } : {}),
          ...(options.onLayer ? { onLayer: options.onLayer } : {}),
          onLayerWeights: (_layer, weights) => spillLayer(weights),
        },
      ),
    );
  } finally {
    await release();
  }
  const plan = {
    ...result.plan,
    name: req.name ?? `slimgpt-${req.allocation}-h${Math.round(req.heads * 100)}-f${Math.round(req.ffn * 100)}`,
  };
  plan.derivation = {
    criterion: 'slimgpt',
    allocation: `${req.allocation} (layer-wise, sequential calibration)`,
    targets: { heads: req.heads, ffn: req.ffn, layers: 0 },
    calibration: { textName: cal.summary.textName, samples: cal.summary.samples, seq: cal.summary.seq },
    compensation: 'obs',
  };
  plan.createdAt = new Date().toISOString();
  const applied = await installApplied(state, m, plan, result.ir, 'obs');
  const perplexity = await prunedPerplexity(m, req.perplexity, signal);
  return { plan, applied, layers: result.layers, perplexity, ms: state.now() - t0 };
}
