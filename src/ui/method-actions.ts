/**
 * Pruning methods that pick their own units and update weights on the way (the engine's
 * iterativePrune and slimGptPrune): run with progress and cancel, show their per-round / per-layer
 * records, then measure the result like an applied plan (exact perplexity, latency, results row);
 * the plan they arrived at joins the timeline (its live preview is the plain masked one, without
 * their weight updates).
 */
import type { IterativeRequest, SlimGptRequest } from '../api/types';
import { useStudio } from '../store';
import { evaluationTextOrReport } from './actions';
import { job } from './jobs';
import { EXACT_PROTOCOL, measureApplied } from './measure-applied';
import { quiet } from './prune-actions';

export async function runIterative(req: Omit<IterativeRequest, 'perplexity'>): Promise<void> {
  await quiet();
  const text = await evaluationTextOrReport();
  if (text === undefined) return;
  // Rounds and the final result on the same tokens (the exact protocol), so they compare.
  const result = await job('Iterative prune-and-recover', 'iterativePrune', [{ ...req, perplexity: { ...EXACT_PROTOCOL, text } }]);
  if (!result) return;
  useStudio.getState().setIterativeRounds(result.rounds);
  await measureApplied(
    result.applied,
    {
      criterion: req.criterion,
      allocation: result.plan.derivation?.allocation ?? 'iterative',
      compensation: req.recovery,
    },
    result.perplexity,
  );
  // the units it removed join the plan timeline (heatmap hatching, save, undo)
  useStudio.getState().setPlan(result.plan);
}

export async function runSlimGpt(req: Omit<SlimGptRequest, 'perplexity'>): Promise<void> {
  await quiet();
  const text = await evaluationTextOrReport();
  if (text === undefined) return;
  useStudio.getState().setSlimGptLayers([]);
  const result = await job('SlimGPT (layer-wise OBS)', 'slimGptPrune', [{ ...req, perplexity: { ...EXACT_PROTOCOL, text } }]);
  if (!result) return;
  useStudio.getState().setSlimGptLayers(result.layers);
  await measureApplied(
    result.applied,
    { criterion: 'slimgpt', allocation: result.plan.derivation?.allocation ?? req.allocation, compensation: 'obs' },
    result.perplexity,
  );
  useStudio.getState().setPlan(result.plan);
}
