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
import type { ModelCost } from '../prune/cost';
import type { AllocationRequest } from '../prune/allocate';
import type { BackendInfo } from '../core/runner';
import type { CriterionInfo, CriterionName, UnitScores } from '../saliency/types';
import type { LocalFile } from '../io/blob-source';
import type { Recovery } from '../prune/recovery/registry';
import type { CurvePoint } from '../prune/distill';
import type { RoundRecord } from '../prune/iterative';
import type { SlimGptAllocation, SlimGptLayerRecord } from '../prune/slimgpt';
import type { ExportFile, ExportOptions, ExportVerification } from '../exporters/types';
import type { MemoryEstimate, MemorySettings } from '../core/memory-model';
import type { MemoryBudget } from '../io/memory-budget';
import type { Allocation } from '../prune/allocation/registry';
import type { AccuracyReport, AccuracyRequest, ImageDataset } from './vision-types';
import type { RawImages } from '../io/image-preprocess';

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
}

/** modelFilePerplexity: the file's and the fp32 model's perplexity over the same windows. */
export interface ModelFilePerplexity {
  fp32: number;
  file: number;
  tokens: number;
  context: number;
  stride: number;
}

export interface PerplexityRequest {
  /** The text to score; the UI passes the shipped evaluation text by default. */
  text: string;
  /** Name of the text shown in the protocol, e.g. 'evaluation.txt'. */
  textName: string;
  contextLength: number;
  stride: number;
  /** Score at most this many tokens of the text (after tokenisation). */
  maxTokens?: number;
  /** Raise the cap on a text tokenised whole (default 2 M characters, api/text-guard.ts). */
  maxTextChars?: number;
  batchSize?: number;
  /** Which model: the dense one (default) or the applied (physically pruned) one. */
  target?: ModelTarget;
  /**
   * 'evaluation' (default) or 'heldOut': a text of another domain that neither training nor
   * calibration saw (public/data/heldout.txt); results are kept per role and both are reported.
   */
  role?: 'evaluation' | 'heldOut';
}

export type ModelTarget = 'dense' | 'pruned';

/** Everything needed to reproduce a perplexity number; always shown next to it. */
export interface PerplexityProtocol {
  tokenizer: string;
  textName: string;
  /** Tokens of the text used (after maxTokens). */
  totalTokens: number;
  /** Tokens whose log-probability entered the mean: totalTokens - 1 (the first token has no context). */
  tokensScored: number;
  contextLength: number;
  stride: number;
  /** Whether a BOS token is prepended: always false here; the first token is never scored. */
  bosPrepended: boolean;
}

export interface PerplexityResult {
  perplexity: number;
  meanNll: number;
  /** Standard error of the mean NLL over scored tokens (for a ± band). */
  nllStdError: number;
  protocol: PerplexityProtocol;
  /** Set when the text does not look like text (NUL bytes, mostly unknown / byte-fallback tokens). */
  warnings?: string[];
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

export interface AppliedModel {
  plan: PruningPlan;
  compensation: Compensation;
  /** Set when the model came from iterative prune-and-recover. */
  recovery?: { method: Recovery; rounds: number; sgdSteps?: number; sgdLearningRate?: number };
  /** The redistribution's settings (rank, ridge, intercept) when the compensation was 'redistribute'. */
  compensationOptions?: { rank: number; ridge: number; intercept: boolean };
  /** Set when the model was fine-tuned by distillation from the dense model (api.recover or 'distill' rounds). */
  training?: RecoveryTraining;
  layers: LayerShape[];
  parameters: number;
  weightBytes: number;
  cost: ModelCost;
  denseCost: ModelCost;
}

/** How a model was trained by distillation (src/prune/distill.ts); per round for iterative 'distill'. */
export interface RecoveryTraining {
  steps: number;
  learningRate: number;
  /** Loss = lm · NLL + kl · cross-entropy to the dense model's distribution. */
  lm: number;
  kl: number;
  textName: string;
  samples: number;
  seq: number;
}

/** Recovery training of the applied model: distillation from the dense model (calibrate or pass text first). */
export interface RecoveryRequest {
  /** Adam steps, one minibatch each (default 40). */
  steps?: number;
  /** Peak Adam learning rate, cosine-decayed to 0 over the steps (default 2e-4). */
  learningRate?: number;
  /** Loss weights: lm · NLL + kl · cross-entropy to the dense model (defaults: lm 0, kl 1). */
  lmWeight?: number;
  klWeight?: number;
  /** Sequences per step (default 4). */
  batchSize?: number;
  /** Training text (default: the calibration set). */
  training?: { text: string; textName: string; samples: number; seq?: number };
  /** Perplexity of the result (evaluation protocol; required for a language model, not read for an image classifier). */
  perplexity?: PerplexityRequest;
  /** Image classifiers: labelled training images (default: the calibration images), validation and evaluation images. */
  images?: RecoveryImages;
}

/** Images of an image classifier's recovery training (api/recovery-images.ts); keep the evaluation images out of training. */
export interface RecoveryImages {
  training?: ImageDataset;
  /** Accuracy on these every `validateEvery` steps (and after the last): the validation curve. */
  validation?: ImageDataset;
  validateEvery?: number;
  /** Accuracy of the result on these (e.g. the test images). */
  evaluation?: ImageDataset;
}

/** Top-1 accuracy and mean loss of the model being trained after `step` steps (0: before training). */
export interface ValidationPoint {
  step: number;
  accuracy: number;
  meanLoss: number;
}

export interface RecoveryResult {
  applied: AppliedModel;
  /** Loss of each step's minibatch before its update: the recovery curve. */
  curve: CurvePoint[];
  /** Language models: the result's perplexity (an image classifier reports `accuracy` instead). */
  perplexity?: PerplexityResult;
  /** Image classifiers: accuracy of the result on `images.evaluation`, and the validation curve. */
  accuracy?: AccuracyReport;
  validation?: ValidationPoint[];
  ms: number;
  /** Memory of Adam's moments (2 float64 per trained weight). */
  adamStateBytes: number;
}

/** Iterative prune-and-recover (src/prune/iterative.ts): reach the targets in rounds, recovering after each. */
export interface IterativeRequest {
  /** Criterion recomputed on the current (masked, recovered) model every round. */
  criterion: CriterionName;
  /** Target fractions of heads and FFN neurons removed (uniform across layers). */
  heads: number;
  ffn: number;
  /**
   * Rounds; each removes about 1 − (1 − target)^(1/rounds) of what remains. Default: enough rounds
   * for about 12.5% per round (6 for 50%, 10 for 70%).
   */
  rounds?: number;
  /** After each round: OBS compensation, gradient descent on the o / down projections, or nothing. */
  recovery: Recovery;
  /** Gradient-descent steps per round (default 10) and learning rate (default 0.05), for 'sgd'. */
  sgdSteps?: number;
  sgdLearningRate?: number;
  /** Distillation training per round ('distill'): steps per round (default 40), learning rate, loss weights, text. */
  training?: Omit<RecoveryRequest, 'perplexity'>;
  /** Training steps on the final structure after the last round (training recoveries; default 0). */
  finalSteps?: number;
  /** 'run' (default): one Adam and one cosine decay over every round's steps and the final steps; 'round': fresh each round. */
  trainingSchedule?: 'run' | 'round';
  /** Perplexity after every round and of the final model, on the same request (the studio: evaluation.txt, 8,192 tokens, ctx 128, stride 64). */
  perplexity: PerplexityRequest;
  locked?: number[];
  name?: string;
}

/** One point of the progress view: the state after a round (round 0 = the dense model). */
export type IterativeRound = RoundRecord;

export interface IterativeResult {
  plan: PruningPlan;
  applied: AppliedModel;
  /** Round 0 (dense) then one record per round. */
  rounds: IterativeRound[];
  /** Perplexity of the final pruned model (sliced, as exported), with its protocol. */
  perplexity: PerplexityResult;
}

export interface IterativeJobOptions extends JobOptions {
  /** Called after each round (and once for the dense model) with the perplexity reached. */
  onRound?: (round: IterativeRound) => void;
}

/** SlimGPT (src/prune/slimgpt.ts): layer-wise structured OBS, calibrated sequentially (calibrate first). */
export interface SlimGptRequest {
  /** Mean fractions of heads (kv groups) and FFN channels removed per layer. */
  heads: number;
  ffn: number;
  /** uniform: the same fraction in every layer; incremental: SlimGPT's log-increase (fewer in early layers). */
  allocation: SlimGptAllocation;
  locked?: number[];
  /** Perplexity of the result (the studio default: evaluation.txt, 8192 tokens, ctx 128, stride 64). */
  perplexity: PerplexityRequest;
  name?: string;
}

export interface SlimGptResult {
  plan: PruningPlan;
  applied: AppliedModel;
  /** One record per layer: heads in pick order with their errors, FFN group sizes, time. */
  layers: SlimGptLayerRecord[];
  perplexity: PerplexityResult;
  ms: number;
}

export interface SlimGptJobOptions extends JobOptions {
  /** Called when a layer is done. */
  onLayer?: (layer: SlimGptLayerRecord) => void;
}

export interface GenerateRequest {
  prompt: string;
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topK: number;
  seed: number;
  target: ModelTarget;
}

export interface GenerateResult {
  target: ModelTarget;
  text: string;
  newTokens: number;
  ms: number;
  /** The generated token ids and each one decoded alone (compare-text finds the first divergence). */
  ids?: number[];
  pieces?: string[];
}

/** One series of a sweep: a computed criterion, or random selection with a seed. */
export type SweepSeries = { criterion: CriterionName } | { random: number };

/** api.sweep: perplexity against the fraction removed, from masks on the dense session (no compensation). */
export interface SweepRequest {
  series: SweepSeries[];
  /** Fractions in [0, 1) of heads and / or FFN neurons removed (e.g. 0, 0.1, ..., 0.9). */
  fractions: number[];
  /** What a fraction removes: heads and FFN neurons alike (default), or only one kind. */
  units?: 'both' | 'heads' | 'ffn';
  /** Default uniform (every layer loses the fraction). */
  allocation?: Allocation;
  /** The tokens every point is scored on (fewer than the exact evaluation: a sweep is an estimate). */
  perplexity: PerplexityRequest;
  /**
   * Default 'none': masks on the dense session (kind 'estimate'). 'bias' / 'obs': each point's plan is
   * compensated and sliced as Apply does it and scored on a temporary session (kind 'exact'); needs
   * the calibration the compensation names.
   */
  compensation?: Compensation;
}

export interface SweepPoint {
  /** The criterion, or `random:<seed>`. */
  series: string;
  seed?: number;
  fraction: number;
  perplexity: number;
  meanNll: number;
  tokens: number;
  /**
   * 'estimate': masked dense model, no compensation; 'exact': the compensated, sliced model as Apply
   * builds it. Either way on the sweep's tokens (not the 8192-token evaluation protocol).
   */
  kind: 'estimate' | 'exact';
}

export interface SweepResult {
  points: SweepPoint[];
  units: NonNullable<SweepRequest['units']>;
  allocation: Allocation;
  compensation: Compensation;
}

export interface SweepJobOptions extends JobOptions {
  /** Called after every point. */
  onPoint?: (point: SweepPoint) => void;
}

/** api.tokenLosses: per-token loss on a short text, dense and pruned. */
export interface TokenLossRequest {
  text: string;
  /** At most this many tokens (default and cap 128, and the model's context). */
  maxTokens?: number;
  /** The pruned side: this plan's masks on the dense model; without it, the applied model. */
  plan?: PruningPlan;
}

export interface TokenLossResult {
  ids: number[];
  /** Each token decoded alone. */
  pieces: string[];
  /** -log p(token t | tokens before t) in nats; index 0 is NaN (no context). */
  dense: number[];
  pruned: number[];
  prunedFrom: 'plan' | 'applied';
}

export interface TopToken {
  id: number;
  text: string;
  prob: number;
}

/** api.attentionPatterns: attention of every head on a short text; optionally heads knocked out. */
export interface AttentionRequest {
  text: string;
  /** Default 48 tokens (cap 128). */
  maxTokens?: number;
  /** Heads masked to zero (head_mask) for the knocked-out next-token distribution. */
  knockout?: { layer: number; head: number }[];
  /** Next tokens listed (default 5). */
  topK?: number;
}

export interface AttentionResult {
  ids: number[];
  pieces: string[];
  /** Query heads per layer. */
  heads: number[];
  /** Per layer: row-major [heads, seq, seq] (query rows, key columns). */
  probs: Float32Array[];
  /** Dense next-token distribution after the text (top k). */
  next: TopToken[];
  knockedOut?: {
    heads: { layer: number; head: number }[];
    next: TopToken[];
    /** The dense top tokens with their probability once the heads are knocked out. */
    denseTopNow: TopToken[];
    /** KL(dense || knocked out) of the next-token distribution, in nats. */
    kl: number;
  };
}

/** api.nextTokens: top next tokens after prompt + continuation ids (first divergence in compare-text). */
export interface NextTokenRequest {
  prompt: string;
  continuation: number[];
  targets: ModelTarget[];
  k?: number;
}

export type NextTokenResult = Partial<Record<ModelTarget, TopToken[]>>;

export type { ExportFile, ExportFormat, ExportDtype, ExportOptions, ExportVerification } from '../exporters/types';

export interface ExportBundle {
  files: ExportFile[];
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
