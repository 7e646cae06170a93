/** Engine state shared by the api modules: the loaded model, its sessions and results. */
import type { ExportFileStore, ExportFileStoreFactory } from '../core/export-file-store';
import type { BlockSource } from './block-perplexity';
import { InputError } from '../core/errors';
import type { GramStore, GramStoreFactory } from '../core/gram-store';
import type { WeightResidency } from '../core/weight-residency';
import type { ModelIR } from '../core/ir';
import type { Runner, RunnerSession } from '../core/runner';
import type { FileSource } from '../io/source';
import type { BlobCache } from '../io/hub-cache';
import type { MemoryBudget } from '../io/memory-budget';
import type { TextTokenizer } from '../io/tokenizer';
import type { CalibrationSet } from '../saliency/calibrate';
import type { CalibrationStats } from '../saliency/stats';
import type { CriterionName, UnitScores } from '../saliency/types';
import type { ImagePreprocess } from '../io/image-preprocess';
import type { ImageDataset } from '../eval/image-dataset';
import type { AccuracyReport } from './vision-types';
import type { AppliedModel, CalibrationSummary, LatencyResult, PerplexityResult, UnitLatency } from './types';

export interface StudioDeps {
  runner: Runner;
  /** Base URL of the built-in demo model folder. */
  demoUrl: string;
  /** Opens a local folder (Node only). */
  openDir?: (path: string) => FileSource;
  /** Hub endpoint when a source names none (default https://huggingface.co). */
  hubEndpoint?: string;
  /** Download cache for Hub files (the worker passes a Cache API one; none = no caching). */
  hubCache?: BlobCache;
  /** Memory the host can give a model (size preflight); undefined = no check. */
  memoryBudget?: () => MemoryBudget | undefined;
  /** fetch for Hub downloads (tests inject failures); default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Stall timeout of Hub downloads in ms (default 60 s). */
  stallMs?: number;
  /** Monotonic clock in ms (performance.now). */
  now?: () => number;
  /**
   * Latency and generation sessions in a disposable isolate of the runner (api/isolation.ts):
   * 'auto' (default) for large models, 'always', 'never' (tests compare both ways).
   */
  isolateSessions?: 'auto' | 'always' | 'never';
  /**
   * Whether an applied model keeps its compensated full-size copy (install.ts keepsCompensated):
   * 'auto' (default) below BLOCKWISE_MIN_WEIGHT_BYTES of fp32 weights; 'rebuild' never (tests).
   */
  compensatedCopy?: 'auto' | 'rebuild';
  /** Opens storage for a calibration's Grams (Node: a temp file, the engine Worker: OPFS); none = memory (api/gram-storage.ts). */
  gramStore?: GramStoreFactory;
  /**
   * Which models keep their weights in a `gramStore` store and in memory only while used
   * (core/weight-residency.ts): 'auto' (default) models that run block by block, 'always', 'never'.
   * Such a model's whole-model sessions embed the weights and run in process (no isolate).
   */
  weightSpill?: 'auto' | 'always' | 'never';
  /**
   * Collects garbage now (Node hosts: src/cli/collect-garbage.ts): called after spilled weights were
   * evicted for a step that needs the memory elsewhere; absent in a browser (no such call exists).
   */
  collectGarbage?: () => void;
  /** Which calibrations use `gramStore`: 'auto' (default) models that run block by block (runsBlockwise), 'always', 'never' (tests). */
  gramStorage?: 'auto' | 'always' | 'never';
  /**
   * Opens storage for one written export file (the engine Worker: OPFS): a spilled model's ONNX
   * export in a runner without isolates is then streamed there and bundled as a Blob read from it
   * (api/streamed-export.ts) instead of held in memory beside the file's session.
   */
  exportFileStore?: ExportFileStoreFactory;
}

export interface PrunedModel {
  ir: ModelIR;
  /**
   * The compensated (not sliced) model: the reference that export verification compares with and
   * what recovery trains. Absent when not kept (install.ts keepsCompensated: large models); then
   * `compensatedModel` rebuilds it from the sliced model on use.
   */
  compensatedIr?: ModelIR;
  /** Sliced graph with logits + token loss: perplexity. */
  session: RunnerSession;
  /** What a large model's perplexity runs block by block on instead of `session` (api/block-perplexity.ts). */
  evalBlocks?: BlockSource;
  /** Sliced graph with logits only (the exported graph): latency, opened on first use (in process only: api/isolation.ts). */
  latencySession?: RunnerSession;
  /** Sliced with-past graph (graph/kv-cache.ts): generation, opened on first use (in process only). */
  generateSession?: RunnerSession;
  summary: AppliedModel;
  perplexity?: PerplexityResult;
  /** Perplexity on the held-out text (PerplexityRequest.role 'heldOut'). */
  heldOut?: PerplexityResult;
  latency?: LatencyResult;
  /** Image classifiers: the latest accuracy of the applied model, and the images it was measured on (the export re-measures the written file on them). */
  accuracy?: { report: AccuracyReport; dataset: ImageDataset };
}

export interface LoadedModel {
  ir: ModelIR;
  config: unknown;
  source: FileSource;
  tokenizer: TextTokenizer;
  tokenizerJson: Uint8Array | undefined;
  /** core/fingerprint.ts of the dense weights. */
  fingerprint: string;
  /** Where the dense weights live when spilled (StudioDeps.weightSpill); disposed with the model. */
  residency?: WeightResidency;
  /** The stores of the applied models' own arrays when `residency` is set (api/weight-spill.ts spillApplied). */
  appliedSpills?: WeightResidency[];
  /** The last streamed export's file (its bundle's Blob reads it): deleted at the next export or with the model. */
  exportFile?: ExportFileStore;
  /** Dense graph with masks + token loss: perplexity, preview, ablation. */
  evalSession: RunnerSession;
  /** What a large model's perplexity and preview run block by block on instead of `evalSession` (api/block-perplexity.ts). */
  evalBlocks?: BlockSource;
  /** Dense graph with logits: latency (in process only: a large model's runs in a disposable isolate, api/isolation.ts). */
  latencySession?: RunnerSession;
  /** Dense with-past graph (graph/kv-cache.ts): generation, opened on first use (in process only). */
  generateSession?: RunnerSession;
  /** Dense graph with masks, logits and attention probabilities: the attention view (api/teach.ts), opened on first use. */
  attentionSession?: RunnerSession;
  /** Dense graph with taps: calibration. */
  tapSession?: RunnerSession;
  /** Gradient graph (masks, o/down weights as inputs, mask + weight gradients): Taylor, Fisher, recovery. */
  gradSession?: RunnerSession;
  /** `store`: where its Grams are kept when not in memory (disposed with the statistics). */
  calibration?: { set: CalibrationSet; stats: CalibrationStats; summary: CalibrationSummary; store?: GramStore };
  pruned?: PrunedModel;
  /** Latest scores per criterion (cleared when calibration changes). */
  scores: Map<CriterionName, UnitScores>;
  denseResults: { perplexity?: PerplexityResult; heldOut?: PerplexityResult; latency?: LatencyResult; accuracy?: AccuracyReport };
  /** Image classifiers only: the input preprocessing from preprocessor_config.json. */
  preprocess?: ImagePreprocess;
  /** Measured latency per unit (latency-aware allocation uses it instead of FLOPs when present). */
  unitLatency?: UnitLatency;
  tokenCache: Map<string, { ids: number[]; complete: boolean }>;
}

export interface StudioState {
  deps: StudioDeps;
  loaded: LoadedModel | undefined;
  now: () => number;
  /**
   * The engine's wasm heap as the memory model predicts it after the steps checked so far (it never
   * shrinks, whatever model comes next): carried into the next step's check (api/memory.ts checkStep).
   */
  wasmHeapBytes?: number;
}

export function requireModel(state: StudioState): LoadedModel {
  if (!state.loaded) throw new InputError('No model is loaded yet.', 'Load a model first (step 1).');
  return state.loaded;
}

export function requirePruned(m: LoadedModel): PrunedModel {
  if (!m.pruned) throw new InputError('No pruned model yet.', 'Apply a plan first.');
  return m.pruned;
}

/**
 * Token ids of a text, cached. With `atLeast`, only a prefix is tokenised (a few characters per
 * token, grown until it yields `atLeast` tokens plus a margin): byte-level BPE pre-tokenises on
 * word boundaries, so the first `atLeast` ids of a prefix equal those of the whole text once the
 * cut falls well after them. Long evaluation texts then cost milliseconds instead of seconds.
 */
export function tokensOf(m: LoadedModel, name: string, text: string, atLeast?: number): number[] {
  const key = `${name}:${text.length}`;
  const cached = m.tokenCache.get(key);
  if (cached && (cached.complete || (atLeast !== undefined && cached.ids.length >= atLeast))) return cached.ids;
  const margin = 64;
  for (let chars = atLeast ? (atLeast + margin) * 6 : text.length; ; chars *= 2) {
    const complete = chars >= text.length;
    const ids = m.tokenizer.encode(complete ? text : text.slice(0, chars));
    if (complete || ids.length >= (atLeast ?? 0) + margin) {
      const kept = complete ? ids : ids.slice(0, ids.length - margin);
      m.tokenCache.set(key, { ids: kept, complete });
      return kept;
    }
  }
}

export async function releaseModel(m: LoadedModel): Promise<void> {
  await m.evalSession.release();
  await m.latencySession?.release();
  await m.generateSession?.release();
  await m.tapSession?.release();
  await m.attentionSession?.release();
  await m.gradSession?.release();
  if (m.pruned) await releasePruned(m.pruned);
  await m.calibration?.store?.dispose();
  for (const r of m.appliedSpills ?? []) await r.dispose();
  await m.residency?.dispose();
  await m.exportFile?.dispose();
}

export async function releasePruned(p: PrunedModel): Promise<void> {
  await p.session.release();
  await p.latencySession?.release();
  await p.generateSession?.release();
}
