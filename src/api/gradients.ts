/**
 * Api plumbing for gradients: the loaded model's gradient session (built once: masks, o / down
 * weights as inputs, mask and weight gradients) and the per-sequence mask-gradient statistics of
 * the current calibration set (shared by Taylor and Fisher, recomputed when calibration changes).
 */
import { InputError } from '../core/errors';
import type { RunnerSession } from '../core/runner';
import { openModelSession } from '../graph/model-session';
import { weightFeeds } from '../graph/grad/loss';
import { collectMaskGradients, type GradientStats } from '../saliency/gradients';
import { collectMaskGradientsByLayer } from '../saliency/gradients-by-layer';
import { useBlockwise } from '../graph/block-run';
import type { LoadedModel, StudioState } from './state';
import type { JobOptions } from './types';

export async function gradientSession(state: StudioState, m: LoadedModel, options: JobOptions = {}): Promise<RunnerSession> {
  if (!m.gradSession) {
    options.onProgress?.({ stage: 'build', done: 0, total: 1, message: 'Building the gradient graph' });
    const graph = { masks: true, logits: false, weightInputs: true, gradients: { masks: true, weights: true } } as const;
    m.gradSession = await openModelSession(state.deps.runner, m.ir, graph);
  }
  return m.gradSession;
}

/** Releases the gradient session after a job (reopening costs a graph build, not a weight copy). */
export async function releaseGradientSession(m: LoadedModel): Promise<void> {
  const s = m.gradSession;
  m.gradSession = undefined;
  await s?.release();
}

const cache = new WeakMap<object, Promise<GradientStats>>();

/**
 * Taylor / Fisher accumulators of the dense model on the current calibration set (cached per
 * calibration); a large model's by block-by-block backpropagation (saliency/gradients-by-layer.ts).
 */
export function denseGradientStats(state: StudioState, m: LoadedModel, options: JobOptions): Promise<GradientStats> {
  const cal = m.calibration;
  if (!cal) throw new InputError('Gradient criteria need calibration data.', 'Run calibration (step 2) first.');
  let hit = cache.get(cal);
  if (!hit) {
    hit = (async () => {
      // a large model backpropagates block by block (never the whole gradient graph in the wasm heap)
      if (useBlockwise(m.ir) && !cal.set.images) return collectMaskGradientsByLayer(state.deps.runner, m.ir, cal.set, options);
      try {
        return await collectMaskGradients(m.ir, await gradientSession(state, m, options), cal.set, {
          ...options,
          extraFeeds: weightFeeds(m.ir),
        });
      } finally {
        await releaseGradientSession(m);
      }
    })();
    hit.catch(() => cache.delete(cal));
    cache.set(cal, hit);
  }
  return hit;
}
