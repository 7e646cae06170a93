/**
 * Api operation `slimGptPrune`: runs src/prune/slimgpt.ts with an engine over one tap graph of the
 * full-size model whose o / down projections are graph inputs (the compensated weights of the
 * layers done so far are fed, nothing is rebuilt). Each Hessian is one calibration pass that
 * accumulates X^T X for the one projection being pruned. The result is sliced and installed as the
 * applied model, exactly like applyPlan.
 */
import { InputError } from '../core/errors';
import { weightFeeds } from '../graph/grad/loss';
import { slimGptPrune as runLayers } from '../prune/slimgpt';
import { collectStats } from '../saliency/calibrate';
import { hessian } from '../saliency/criteria/obs';
import { installApplied } from './install';
import { prunedPerplexity } from './pruning';
import type { LoadedModel, StudioState } from './state';
import { openModelSession } from '../graph/model-session';
import type { SlimGptJobOptions, SlimGptRequest, SlimGptResult } from './types';

export async function slimGptPrune(
  state: StudioState,
  m: LoadedModel,
  req: SlimGptRequest,
  options: SlimGptJobOptions,
): Promise<SlimGptResult> {
  const cal = m.calibration;
  if (!cal) throw new InputError('SlimGPT needs calibration data.', 'Run calibration (step 2) first.');
  const t0 = state.now();
  const signal = options.signal ? { signal: options.signal } : {};
  const taps = await openModelSession(state.deps.runner, m.ir, {
    masks: true,
    logits: false,
    weightInputs: true,
    taps: true,
    grams: 'packed',
    tokenLoss: true,
  });
  let result;
  try {
    result = await runLayers(
      m.ir,
      { heads: req.heads, ffn: req.ffn, allocation: req.allocation, ...(req.locked ? { locked: req.locked } : {}) },
      {
        now: state.now,
        async hessian(ir, masks, layer, kind) {
          const which = kind === 'attn' ? 'attnIn' : 'ffnIn';
          const stats = await collectStats(ir, taps, cal.set, {
            withGram: (l, k) => l === layer && k === which,
            masks,
            extraFeeds: weightFeeds(ir),
            ...signal,
          });
          return hessian(stats.layers[layer]![which], stats.numSequences);
        },
      },
      {
        ...signal,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.onLayer ? { onLayer: options.onLayer } : {}),
      },
    );
  } finally {
    await taps.release();
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
