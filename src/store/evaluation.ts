/** Evaluation slice: the dense baseline's perplexity and latency (with their protocols), measured unit costs. */
import type { StateCreator } from 'zustand';
import type { LatencyResult, PerplexityResult, UnitLatency } from '../api/types';

export interface EvaluationSlice {
  densePerplexity: PerplexityResult | null;
  denseLatency: LatencyResult | null;
  setDensePerplexity: (r: PerplexityResult | null) => void;
  setDenseLatency: (r: LatencyResult | null) => void;
  /** Latency per kv group / neuron measured on this backend (latency-aware allocation). */
  unitLatency: UnitLatency | null;
  setUnitLatency: (u: UnitLatency | null) => void;
}

export const createEvaluationSlice: StateCreator<EvaluationSlice> = (set) => ({
  densePerplexity: null,
  denseLatency: null,
  setDensePerplexity: (densePerplexity) => set({ densePerplexity }),
  setDenseLatency: (denseLatency) => set({ denseLatency }),
  unitLatency: null,
  setUnitLatency: (unitLatency) => set({ unitLatency }),
});
