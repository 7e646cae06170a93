/**
 * Results slice: the live masked preview (streamed estimate + final), the applied (pruned) model
 * with its exact perplexity and measured latency, text comparisons, the export verification,
 * iterative rounds, SlimGPT per-layer records, the recovery curve of the training that runs (or ran
 * last), the quantized variants of the applied model, and the table of applied plans and their quantized
 * variants (persisted in localStorage; a recovered row keeps its curve).
 */
import type { StateCreator } from 'zustand';
import type {
  AppliedModel,
  ExportBundle,
  QuantizedVariant,
  QuantVariantInfo,
  GenerateResult,
  IterativeRound,
  LatencyComparison,
  LatencyResult,
  PerplexityResult,
} from '../api/types';
import type { SlimGptLayerRecord } from '../prune/slimgpt';

export interface ResultRow {
  id: string;
  /** modelKey (name@fingerprint) of the model the row was measured on; rows of other models are kept, not shown. */
  model?: string;
  plan: string;
  criterion: string;
  allocation: string;
  compensation: string;
  parameters: number;
  perplexity: number;
  /** Perplexity on the held-out text (heldout.txt, same protocol); absent in rows saved before it existed. */
  heldOutPerplexity?: number | null;
  /** Image classifiers: top-1 accuracy on the test images, its Wilson 95% interval and mean loss (perplexity is then NaN). */
  accuracy?: { top1: number; ci: [number, number]; meanLoss: number; images: number };
  /** Recovery training of this row's model: its loss per step (the recovery curve). */
  curve?: LossPoint[];
  latencyMs: number;
  denseLatencyMs: number | null;
  flopRatio: number;
  at: string;
  /** Weight precision of the measured file (a quantization variant); absent: the fp32 applied model. */
  dtype?: string;
  /** Bytes of the measured model file (quantized rows; the fp32 file's size is in fp32Bytes). */
  bytes?: number;
  /** Bytes of the fp32 onnx/model.onnx of the same plan (quantized rows). */
  fp32Bytes?: number;
}

/** One point of a recovery curve: the training loss of a step's minibatch before its update. */
export interface LossPoint {
  step: number;
  loss: number;
}

/** The recovery training that runs or ran last on the applied model: its curve as it grows. */
export interface RecoveryCurveView {
  plan: string;
  steps: number;
  running: boolean;
  points: LossPoint[];
}

export interface PreviewView {
  /** The plan name the estimate belongs to. */
  plan: string;
  running: boolean;
  /** Streamed "ppl ± band after N tokens" parsed from progress. */
  estimate: { ppl: number; band: number; tokens: number } | null;
  final: PerplexityResult | null;
  /**
   * The chosen compensation applied to a copy of the weights, sliced and evaluated on the same tokens
   * (only when a compensation other than none is chosen): what Apply gives on these tokens.
   */
  compensated?: { compensation: string; running: boolean; result: PerplexityResult | null };
}

export interface ResultsSlice {
  preview: PreviewView | null;
  applied: AppliedModel | null;
  prunedPerplexity: PerplexityResult | null;
  /** The applied model's perplexity on the held-out text (heldout.txt). */
  prunedHeldOut: PerplexityResult | null;
  prunedLatency: LatencyResult | null;
  generated: { dense: GenerateResult | null; pruned: GenerateResult | null };
  exportVerification: ExportBundle['verification'] | null;
  iterativeRounds: IterativeRound[];
  slimGptLayers: SlimGptLayerRecord[];
  /** Dense and pruned latency measured interleaved after the last apply (the baseline panel keeps its own). */
  latencyComparison: LatencyComparison | null;
  recoveryCurve: RecoveryCurveView | null;
  results: ResultRow[];
  setRecoveryCurve: (c: RecoveryCurveView | null) => void;
  /** The engine's quantization variants (listed once). */
  quantVariants: QuantVariantInfo[];
  /** Variants measured on the current applied model (the Quantize block), newest last. */
  quantized: QuantizedVariant[];
  setQuantVariants: (v: QuantVariantInfo[]) => void;
  /** Adds (or replaces, same variant) a measured variant of the current applied model. */
  addQuantized: (q: QuantizedVariant) => void;
  setLatencyComparison: (c: LatencyComparison | null) => void;
  /** A model was loaded: the previous model's preview, applied model and measurements no longer apply. */
  resetModelResults: () => void;
  setPreview: (p: PreviewView | null) => void;
  setApplied: (a: AppliedModel | null) => void;
  setPrunedPerplexity: (r: PerplexityResult | null) => void;
  setPrunedHeldOut: (r: PerplexityResult | null) => void;
  setPrunedLatency: (r: LatencyResult | null) => void;
  setGenerated: (g: Partial<ResultsSlice['generated']>) => void;
  setExportVerification: (v: ExportBundle['verification'] | null) => void;
  setIterativeRounds: (r: IterativeRound[]) => void;
  setSlimGptLayers: (r: SlimGptLayerRecord[]) => void;
  addResult: (row: ResultRow) => void;
  removeResult: (id: string) => void;
}

const KEY = 'prune-studio:results:v1';

function loadRows(): ResultRow[] {
  try {
    const raw = typeof localStorage !== 'undefined' ? localStorage.getItem(KEY) : null;
    const rows = raw ? (JSON.parse(raw) as unknown) : [];
    return Array.isArray(rows) ? (rows as ResultRow[]) : [];
  } catch {
    return [];
  }
}

function saveRows(rows: ResultRow[]): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(rows));
  } catch {
    // Not remembered across reloads; the table still works.
  }
}

export const createResultsSlice: StateCreator<ResultsSlice> = (set, get) => ({
  preview: null,
  applied: null,
  prunedPerplexity: null,
  prunedHeldOut: null,
  prunedLatency: null,
  generated: { dense: null, pruned: null },
  exportVerification: null,
  iterativeRounds: [],
  slimGptLayers: [],
  latencyComparison: null,
  recoveryCurve: null,
  results: loadRows(),
  setRecoveryCurve: (recoveryCurve) => set({ recoveryCurve }),
  quantVariants: [],
  quantized: [],
  setQuantVariants: (quantVariants) => set({ quantVariants }),
  addQuantized: (q) => set((s) => ({ quantized: [...s.quantized.filter((x) => x.variant !== q.variant), q] })),
  setLatencyComparison: (latencyComparison) => set({ latencyComparison }),
  resetModelResults: () =>
    set({
      preview: null,
      applied: null,
      prunedPerplexity: null,
      prunedHeldOut: null,
      prunedLatency: null,
      latencyComparison: null,
      generated: { dense: null, pruned: null },
      exportVerification: null,
      iterativeRounds: [],
      slimGptLayers: [],
      recoveryCurve: null,
      quantized: [],
    }),
  setPreview: (preview) => set({ preview }),
  setApplied: (applied) =>
    set({
      applied,
      prunedPerplexity: null,
      prunedHeldOut: null,
      prunedLatency: null,
      latencyComparison: null,
      exportVerification: null,
      quantized: [],
      generated: { ...get().generated, pruned: null },
    }),
  setPrunedPerplexity: (prunedPerplexity) => set({ prunedPerplexity }),
  setPrunedHeldOut: (prunedHeldOut) => set({ prunedHeldOut }),
  setPrunedLatency: (prunedLatency) => set({ prunedLatency }),
  setGenerated: (g) => set((s) => ({ generated: { ...s.generated, ...g } })),
  setExportVerification: (exportVerification) => set({ exportVerification }),
  setIterativeRounds: (iterativeRounds) => set({ iterativeRounds }),
  setSlimGptLayers: (slimGptLayers) => set({ slimGptLayers }),
  addResult: (row) => {
    const results = [...get().results, row];
    set({ results });
    saveRows(results);
  },
  removeResult: (id) => {
    const results = get().results.filter((r) => r.id !== id);
    set({ results });
    saveRows(results);
  },
});
