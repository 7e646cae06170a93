/**
 * Measured latency cost per prunable unit, for latency-aware allocation (NViT ranks units against
 * a latency table measured on the target hardware; Kwon et al. 2022 fit a linear latency model per
 * layer). Three logits-only graphs are timed interleaved on this backend: the dense model, the model
 * with half of every layer's kv groups sliced away, and the model with half of every layer's FFN
 * neurons sliced away. Cost per kv group = (dense − fewer heads) / groups removed; per neuron
 * likewise; a unit type that cannot be halved (one kv group) takes the other's cost scaled by FLOPs.
 */
import { emptyPlan } from '../core/plan';
import { unitCosts } from '../prune/cost';
import { sliceModel } from '../prune/slice';
import { TIMED_GRAPH, latencyFeeds, latencyResult, timeInterleaved, withLogitsSessions, type Timed } from './evaluation';
import type { LoadedModel, StudioState } from './state';
import { openModelSession } from '../graph/model-session';
import type { JobOptions, LatencyRequest, UnitLatency } from './types';

function halfPlan(m: LoadedModel, part: 'heads' | 'ffn') {
  const plan = emptyPlan(m.ir, `half-${part}`);
  plan.layers = plan.layers.map((entry, l) => {
    const { numHeads: H, numKvHeads: K, ffnSize: F } = m.ir.layers[l]!;
    const groups = Math.floor(K / 2);
    return {
      ...entry,
      removedHeads: part === 'heads' ? Array.from({ length: groups * (H / K) }, (_, h) => h) : [],
      removedFfn: part === 'ffn' ? Array.from({ length: Math.floor(F / 2) }, (_, j) => j) : [],
    };
  });
  return plan;
}

export async function measureUnitLatency(
  state: StudioState,
  m: LoadedModel,
  req: LatencyRequest,
  options: JobOptions,
): Promise<UnitLatency> {
  const request = { ...req, target: 'dense' as const };
  const plans = [halfPlan(m, 'heads'), halfPlan(m, 'ffn')];
  // the dense session and the two halved ones: in one disposable isolate for a large model (api/isolation.ts)
  return withLogitsSessions(state, m, ['dense'], async ([dense], runner) => {
    const sessions = await Promise.all(plans.map((p) => openModelSession(runner, sliceModel(m.ir, p), TIMED_GRAPH)));
    try {
      const timed: Timed[] = [dense!.session, ...sessions].map((session) => ({
        session,
        feeds: latencyFeeds(session, m.ir, req),
        samplesMs: [],
      }));
      await timeInterleaved(state, timed, request, options, 'Unit latency (dense, half heads, half FFN)');
      const [d, h, f] = timed.map((t) => latencyResult(t, request).medianMs) as [number, number, number];
      const groups = m.ir.layers.reduce((a, l) => a + Math.floor(l.numKvHeads / 2), 0);
      const neurons = m.ir.layers.reduce((a, l) => a + Math.floor(l.ffnSize / 2), 0);
      const flops = unitCosts(m.ir, req.seq);
      let kvGroupMs = groups > 0 ? Math.max(0, (d - h) / groups) : NaN;
      let neuronMs = neurons > 0 ? Math.max(0, (d - f) / neurons) : NaN;
      if (Number.isNaN(kvGroupMs)) kvGroupMs = (neuronMs * flops.kvGroup(0)) / flops.neuron;
      if (Number.isNaN(neuronMs)) neuronMs = (kvGroupMs * flops.neuron) / flops.kvGroup(0);
      const result: UnitLatency = {
        kvGroupMs,
        neuronMs,
        denseMs: d,
        halfHeadsMs: h,
        halfFfnMs: f,
        request,
        backend: dense!.session.backend,
      };
      m.unitLatency = result;
      // NViT prices units by this table: scores computed before it are stale
      m.scores.delete('nvit');
      return result;
    } finally {
      await Promise.all(sessions.map((s) => s.release()));
    }
  });
}
