/**
 * Evaluation slice: the dense baseline's perplexity (evaluation and held-out text) and latency (with their protocols and the
 * latency input size), the history of dense latency measurements, measured unit costs.
 */
import type { StateCreator } from 'zustand';
import type { LatencyResult, PerplexityResult, UnitLatency } from '../api/types';

/** Latency input: batch x sequence length (default 1 x min(128, the model's context)). */
export interface LatencySetup {
  batch: number;
  seq: number;
}

export interface EvaluationSlice {
  densePerplexity: PerplexityResult | null;
  /** The dense model on the held-out text (measured with the first applied model, the reference of the results' held-out column). */
  denseHeldOut: PerplexityResult | null;
  denseLatency: LatencyResult | null;
  /** Earlier dense measurements of this model (newest last), shown under the baseline. */
  denseLatencyHistory: LatencyResult[];
  latencySetup: LatencySetup;
  setLatencySetup: (s: LatencySetup) => void;
  setDensePerplexity: (r: PerplexityResult | null) => void;
  setDenseHeldOut: (r: PerplexityResult | null) => void;
  setDenseLatency: (r: LatencyResult | null) => void;
  /** Latency per kv group / neuron measured on this backend (latency-aware allocation). */
  unitLatency: UnitLatency | null;
  setUnitLatency: (u: UnitLatency | null) => void;
}

export const createEvaluationSlice: StateCreator<EvaluationSlice> = (set) => ({
  densePerplexity: null,
  denseHeldOut: null,
  denseLatency: null,
  denseLatencyHistory: [],
  latencySetup: { batch: 1, seq: 128 },
  setLatencySetup: (latencySetup) => set({ latencySetup }),
  setDensePerplexity: (densePerplexity) => set({ densePerplexity }),
  setDenseHeldOut: (denseHeldOut) => set({ denseHeldOut }),
  setDenseLatency: (denseLatency) =>
    set((s) => ({
      denseLatency,
      denseLatencyHistory: denseLatency ? [...s.denseLatencyHistory, denseLatency].slice(-10) : [],
    })),
  unitLatency: null,
  setUnitLatency: (unitLatency) => set({ unitLatency }),
});
