/**
 * StudioApi: the one contract between the UI and the engine. The in-process implementation
 * (src/api/studio.ts) runs in Node (tests, CLI) and inside the Worker; the UI talks to the Worker
 * through comlink with exactly this interface, so tests and the CLI skip the worker.
 * Long jobs take a `JobOptions` (progress callback + AbortSignal). Over comlink the signal is
 * replaced by a job id and `cancel(jobId)`; see workers/studio.worker.ts.
 */
import type { ArchSpec, LayerShape } from '../core/ir';
import type { JobOptions } from '../core/job';
import type { PruningPlan } from '../core/plan';
import type { Compensation, CompensationOptions } from '../prune/compensate';
import type { AllocationRequest } from '../prune/allocate';
import type { BackendInfo } from '../core/runner';
import type { CriterionInfo, CriterionName, UnitScores } from '../saliency/types';
import type { LocalFile } from '../io/blob-source';
import type { ExportFile, ExportOptions, ExportVerification } from '../exporters/types';
import type { MemoryEstimate, MemorySettings } from '../core/memory-model';
import type { MemoryBudget } from '../io/memory-budget';
import type { AccuracyReport, AccuracyRequest, ImageDataset } from './vision-types';
import type { RawImages } from '../io/image-preprocess';
import type { PerplexityRequest, ModelTarget, PerplexityResult } from './perplexity-types';
import type {
  AppliedModel,
  RecoveryRequest,
  RecoveryResult,
  IterativeRequest,
  IterativeResult,
  IterativeJobOptions,
  SlimGptRequest,
  SlimGptResult,
  SlimGptJobOptions,
  GenerateRequest,
  GenerateResult,
} from './job-types';
import type {
  SweepRequest,
  SweepResult,
  SweepJobOptions,
  TokenLossRequest,
  TokenLossResult,
  AttentionRequest,
  AttentionResult,
  NextTokenRequest,
  NextTokenResult,
} from './teach-types';

export type * from './perplexity-types';
export type * from './job-types';
export type * from './teach-types';

export type { AccuracyProtocol, AccuracyReport, AccuracyRequest, ImageDataset, RawImages } from './vision-types';

/** A model's quality number: perplexity (language models) or top-1 accuracy (image classifiers). */
export type ModelMetric = { kind: 'perplexity'; result: PerplexityResult } | { kind: 'accuracy'; result: AccuracyReport };

/** What the api adds for image classifiers (part of StudioApi). */
export interface VisionApi {
  /** uint8 pixels of the loaded classifier's size -> its input, as its preprocessor_config.json says. */
  prepareImages(raw: RawImages): Promise<ImageDataset>;
  /** Top-1 accuracy (Wilson 95% interval), mean loss and confusion matrix on labelled images. */
  evaluateAccuracy(request: AccuracyRequest, options?: JobOptions): Promise<AccuracyReport>;
  /** The dense model's last measured quality: perplexity or accuracy (undefined before any). */
  baselineMetric(): Promise<ModelMetric | undefined>;
}

export type ModelSource = ModelSourceKind & {
  /**
   * An ONNX bundle's weight variant to load: fp32 (default: model.safetensors or onnx/model.onnx),
   * fp16, int8 / q8 (model_quantized.onnx), int4 / q4 (model_q4.onnx). A bundle holding only a
   * quantized file loads it without this. Quantized weights are dequantized to float32 on import.
   */
  variant?: string;
};

export type ModelSourceKind =
  /** The built-in demo model shipped under public/models/demo-gpt2. */
  | { kind: 'demo' }
  /** A folder in Hugging Face layout reachable over HTTP (also the local fake Hub in tests). */
  | { kind: 'url'; baseUrl: string }
  /** A local folder (Node CLI and tests only). */
  | { kind: 'dir'; path: string }
  /**
   * A Hugging Face Hub repository: `repo` is a repo id ("org/name"), "org/name@revision" or a Hub
   * URL; `revision` and `endpoint` override what it says (default main, https://huggingface.co or
   * StudioDeps.hubEndpoint); `token` is needed for gated or private repos.
   */
  | { kind: 'hub'; repo: string; revision?: string; endpoint?: string; token?: string }
  /** Files the user picked or dropped (browser File objects): a model folder, or an .onnx file (+ external data). */
  | { kind: 'files'; files: LocalFile[]; name?: string };

export type { JobOptions, Progress, ProgressCallback } from '../core/job';

export interface ModelSummary {
  name: string;
  /** Identity of the weights (core/fingerprint.ts): keys cached results across reloads. */
  fingerprint: string;
  spec: ArchSpec;
  layers: LayerShape[];
  parameters: number;
  /** Bytes of the float32 weights. */
  weightBytes: number;
  backend: BackendInfo;
  /** Where the weights are kept while not in use (api/weight-spill.ts), e.g. 'OPFS'; absent: all in memory. */
  weightStore?: string;
}

/** modelFilePerplexity: the file's and the fp32 model's perplexity over the same windows. */
export interface ModelFilePerplexity {
  fp32: number;
  file: number;
  tokens: number;
  context: number;
  stride: number;
}

export interface LatencyRequest {
  target?: ModelTarget;
  batch: number;
  seq: number;
  runs: number;
  warmup: number;
}

export interface LatencyResult {
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  samplesMs: number[];
  request: LatencyRequest;
  backend: BackendInfo;
}

/** Measured latency per prunable unit (api.measureUnitLatency), used by latency-aware allocation. */
export interface UnitLatency {
  /** Milliseconds one kv group (a head under multi-head attention) costs, per forward pass of `request`. */
  kvGroupMs: number;
  /** Milliseconds one FFN neuron costs. */
  neuronMs: number;
  /** Medians of the three graphs timed: dense, half of every layer's kv groups removed, half of its FFN. */
  denseMs: number;
  halfHeadsMs: number;
  halfFfnMs: number;
  request: LatencyRequest;
  backend: BackendInfo;
}

/** Dense and pruned latency measured interleaved; speedup = dense median / pruned median. */
export interface LatencyComparison {
  dense: LatencyResult;
  pruned: LatencyResult;
  speedup: number;
}

export interface CalibrationRequest {
  text: string;
  textName: string;
  /** Number of sequences. */
  samples: number;
  /** Tokens per sequence (at most the model's context). */
  seq: number;
  /** Accumulate X^T X (needed by OBS); costs O(width^2) memory per projection. */
  withHessians: boolean;
  /** Raise the text caps (api/text-guard.ts). */
  maxTextChars?: number;
  /** Image classifiers: calibrate on the first `samples` of these images (text and seq are then not read). */
  images?: ImageDataset;
}

export interface CalibrationSummary {
  textName: string;
  samples: number;
  seq: number;
  tokens: number;
  /** Mean next-token NLL of the dense model on the calibration set. */
  baseLoss: number;
  withHessians: boolean;
  /** Stable key of (model, text, samples, seq) for result caches. */
  key: string;
  /** Set when the text does not look like text (NUL bytes, mostly unknown / byte-fallback tokens). */
  warnings?: string[];
}

export interface PlanRequest extends AllocationRequest {
  /** Criterion whose (already computed) scores rank heads and FFN neurons. */
  criterion: CriterionName;
  /**
   * A global target in parameters or FLOPs (of the whole model, forward pass at seq 128): heads and
   * ffn are then replaced by the one shared ratio whose plan comes closest to removing `fraction`.
   */
  target?: { metric: 'parameters' | 'flops'; fraction: number };
  /** Criterion whose scores rank whole layers (default: the same one, else block influence). */
  layerCriterion?: CriterionName;
  name?: string;
}

export interface PreviewRequest {
  plan: PruningPlan;
  perplexity: PerplexityRequest;
}

export interface ApplyRequest {
  plan: PruningPlan;
  compensation: Compensation;
  /** Options of 'redistribute' (rank, default head_dim; ridge, default 0.01; intercept, default false). */
  compensationOptions?: CompensationOptions;
}

/** A plan with its compensation, evaluated exactly on a copy (the applied model, if any, is left alone). */
export interface CompensatedPreviewRequest extends ApplyRequest {
  perplexity: PerplexityRequest;
}

export type { ExportFile, ExportFormat, ExportDtype, ExportOptions, ExportVerification } from '../exporters/types';

/** A bundle file kept in the host's storage instead of memory (api/streamed-export.ts): a Blob read from there. */
export interface StoredExportFile {
  name: string;
  blob: Blob;
}

export interface ExportBundle {
  files: ExportFile[];
  /** Files in the host's storage (the browser engine's streamed model file), beside `files`; absent in Node. */
  stored?: StoredExportFile[];
  /** Re-loaded the written model in a fresh session and compared with the masked preview of the same plan. */
  verification: ExportVerification;
}

/** What to estimate memory for: a source (only its config.json is read) or the loaded model, and the planned steps. */
export interface MemoryRequest extends Partial<Omit<MemorySettings, 'perplexity'>> {
  /** Default: the loaded model. */
  source?: ModelSource;
  /** Default: context 128, batch 8 (the engine's perplexity defaults). */
  perplexity?: MemorySettings['perplexity'];
}

export interface MemoryReport {
  name: string;
  /** Named parts, per-phase totals, the peak and the part that dominates it (core/memory-model.ts). */
  estimate: MemoryEstimate;
  /** The host's budget (absent in Node without one). */
  budget?: MemoryBudget;
  /** Which limit the plan breaks, in words (absent when it fits). */
  problem?: string;
  /** The nearest setting that fits, when one does. */
  fit?: string;
}

export type { MemoryEstimate, MemoryPart, MemoryPhase, MemorySettings } from '../core/memory-model';

/** A quantization variant the engine offers (src/quantize/registry.ts), for lists and tooltips. */
export interface QuantVariantInfo {
  name: string;
  /** One line for users. */
  what: string;
  source: string;
  /** GPTQ: needs calibration sequences (its Hessians are collected on the applied model). */
  needsCalibration: boolean;
  /** Bundle file name under onnx/ (transformers.js names). */
  file: string;
}

export interface QuantizeRequest {
  variant: string;
  /** int4 variants: symmetric blocks (zero point 8, no zero_points input); default asymmetric. */
  int4Symmetric?: boolean;
  /** Prefill timed for the latency (default seq 128, 2 warm-up, 10 runs). */
  latency?: { seq?: number; warmup?: number; runs?: number };
}

/** quantizeApplied: one variant of the applied model's bundle file, measured like an applied plan. */
export interface QuantizedVariant {
  variant: string;
  /** The applied plan's name. */
  plan: string;
  /** Path in the bundle, e.g. onnx/model_q4.onnx. */
  file: string;
  bytes: number;
  /** Bytes of the fp32 onnx/model.onnx of the same plan. */
  fp32Bytes: number;
  /** The file's perplexity on the tokens of the applied model's last perplexity (session: the fp32 number on them). */
  perplexity: { perplexity: number; session: number; tokensScored: number; textName: string; context: number; stride: number };
  /** The variant's and the fp32 file's latency, runs interleaved. */
  latency: LatencyResult;
  fp32Latency: LatencyResult;
}

export interface StudioApi extends VisionApi {
  /**
   * Predicted peak memory, by named part and phase, from the shapes alone (a source's config.json,
   * before any weight download; or the loaded model), against the host's budget.
   */
  estimateMemory(request: MemoryRequest, options?: JobOptions): Promise<MemoryReport>;
  /** The importance criteria with their explanations. */
  criteria(): Promise<CriterionInfo[]>;
  calibrate(request: CalibrationRequest, options?: JobOptions): Promise<CalibrationSummary>;
  /** Scores per head, FFN neuron and layer (typed arrays; transferred, not copied, over the worker). */
  computeImportance(criterion: CriterionName, options?: JobOptions): Promise<UnitScores>;
  /**
   * Hands the engine scores computed earlier for this model (e.g. cached in the browser across a
   * reload) so allocation can use them without recomputing; checked against the model's shape.
   */
  restoreScores(scores: UnitScores): Promise<void>;
  loadModel(source: ModelSource, options?: JobOptions): Promise<ModelSummary>;
  evaluatePerplexity(request: PerplexityRequest, options?: JobOptions): Promise<PerplexityResult>;
  measureLatency(request: LatencyRequest, options?: JobOptions): Promise<LatencyResult>;
  /** Dense vs pruned latency, runs interleaved so machine drift hits both alike (needs an applied plan). */
  compareLatency(request: LatencyRequest, options?: JobOptions): Promise<LatencyComparison>;
  /** Dense ONNX bytes of the loaded model (logits only). */
  exportOnnx(): Promise<Uint8Array>;
  /**
   * Times the dense model against it with half the heads and half the FFN neurons sliced away, and
   * derives a latency cost per kv group and per neuron; latency-aware allocation then uses them
   * instead of FLOPs.
   */
  measureUnitLatency(request: LatencyRequest, options?: JobOptions): Promise<UnitLatency>;
  /** Builds a plan from computed scores and targets (cheap: call on every slider move). */
  allocatePlan(request: PlanRequest): Promise<PruningPlan>;
  /** Perplexity with the plan's masks on the already-open dense session (no rebuild). */
  previewPlan(request: PreviewRequest, options?: JobOptions): Promise<PerplexityResult>;
  /**
   * Exact perplexity of a plan with its compensation: compensates a copy of the weights, slices it,
   * evaluates it on a temporary session and releases it; the applied model is left alone.
   */
  previewCompensated(request: CompensatedPreviewRequest, options?: JobOptions): Promise<PerplexityResult>;
  /** Slices (and optionally compensates) the weights and opens a session on the smaller model. */
  applyPlan(request: ApplyRequest, options?: JobOptions): Promise<AppliedModel>;
  generate(request: GenerateRequest, options?: JobOptions): Promise<GenerateResult>;
  /**
   * The one export: the applied model's bundle in the requested format (default onnx, fp32):
   * model.onnx (or model.safetensors), config.json, tokenizer.json, plan.json, README.md; written by
   * the format's exporter (src/exporters) and verified by re-loading it.
   */
  exportModel(request?: Partial<ExportOptions>, options?: JobOptions): Promise<ExportBundle>;
  /** Perplexity of a written model file (e.g. a quantized variant) and of the loaded fp32 model on the same tokens. */
  modelFilePerplexity(file: Uint8Array, request: PerplexityRequest): Promise<ModelFilePerplexity>;
  /** The quantization variants (fp16, int8, int4-rtn, int4-gptq) with one line each. */
  quantVariants(): Promise<QuantVariantInfo[]>;
  /**
   * One quantization variant of the applied model (src/api/quantize-variant.ts): the bundle file
   * exportModel({ dtype: variant }) writes, with its perplexity, bytes and latency against fp32.
   */
  quantizeApplied(request: QuantizeRequest, options?: JobOptions): Promise<QuantizedVariant>;
  /**
   * Iterative prune-and-recover on the calibration set (calibrate first); the result becomes the
   * applied model (as applyPlan), so exportModel and target 'pruned' work on it.
   */
  iterativePrune(request: IterativeRequest, options?: IterativeJobOptions): Promise<IterativeResult>;
  /**
   * SlimGPT: per layer in order, greedy grouped-Cholesky head removal and dynamic-group FFN removal
   * with OBS weight updates, each on statistics of the already pruned earlier layers; the result
   * becomes the applied model (as applyPlan).
   */
  slimGptPrune(request: SlimGptRequest, options?: SlimGptJobOptions): Promise<SlimGptResult>;
  /** Perplexity vs fraction removed per criterion and random seed, from masks (estimates; src/api/sweep.ts). */
  sweep(request: SweepRequest, options?: SweepJobOptions): Promise<SweepResult>;
  /** Per-token loss of the dense and the pruned model on a short text (src/api/teach.ts). */
  tokenLosses(request: TokenLossRequest, options?: JobOptions): Promise<TokenLossResult>;
  /** Attention probabilities of every head on a short text; next-token change with heads knocked out. */
  attentionPatterns(request: AttentionRequest, options?: JobOptions): Promise<AttentionResult>;
  /** Top next tokens of the dense and / or pruned model after a prompt and continuation ids. */
  nextTokens(request: NextTokenRequest): Promise<NextTokenResult>;
  /**
   * Recovery training of the applied model (after applyPlan, iterativePrune or slimGptPrune): Adam
   * on every block linear weight, distilling the dense model; the result becomes the applied model.
   */
  recover(request: RecoveryRequest, options?: JobOptions): Promise<RecoveryResult>;
}
