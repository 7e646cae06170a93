/**
 * In-process StudioApi: the engine behind the UI (inside the Worker), the CLI and the tests.
 * Pure apart from the injected Runner; owns the loaded model, its tokenizer and its sessions.
 */
import { InputError, throwIfAborted } from '../core/errors';
import { parameterCount, type ModelIR } from '../core/ir';
import { int64Tensor, asFloat32, type Runner, type RunnerSession } from '../core/runner';
import { loadModelIR } from '../arch/load';
import { buildOnnx } from '../graph/build';
import { loadTokenizer, type TextTokenizer } from '../io/tokenizer';
import { urlSource, type FileSource } from '../io/source';
import { NllAccumulator, accumulateScored, batchWindows, planWindows, windowFeeds } from '../eval/perplexity';
import { summarizeTimings } from '../eval/latency';
import { collectStats, makeCalibrationSet, maskedLossOracle, type CalibrationSet } from '../saliency/calibrate';
import type { CalibrationStats } from '../saliency/stats';
import { criterionInfos, getCriterion } from '../saliency/registry';
import type { CriterionName, UnitScores } from '../saliency/types';
import type {
  CalibrationRequest,
  CalibrationSummary,
  JobOptions,
  LatencyRequest,
  LatencyResult,
  ModelSource,
  ModelSummary,
  PerplexityRequest,
  PerplexityResult,
  StudioApi,
} from './types';

export interface StudioDeps {
  runner: Runner;
  /** Base URL of the built-in demo model folder. */
  demoUrl: string;
  /** Opens a local folder (Node only). */
  openDir?: (path: string) => FileSource;
  /** Monotonic clock in ms (performance.now). */
  now?: () => number;
}

interface LoadedModel {
  ir: ModelIR;
  tokenizer: TextTokenizer;
  evalSession: RunnerSession;
  latencySession?: RunnerSession;
  tapSession?: RunnerSession;
  calibration?: { set: CalibrationSet; stats: CalibrationStats; summary: CalibrationSummary };
  tokenCache: Map<string, number[]>;
}

export function resolveSource(source: ModelSource, deps: StudioDeps): FileSource {
  switch (source.kind) {
    case 'demo':
      return urlSource(deps.demoUrl);
    case 'url':
      return urlSource(source.baseUrl);
    case 'dir':
      if (!deps.openDir) throw new InputError('Local folders can only be opened from the CLI; pick files instead.');
      return deps.openDir(source.path);
  }
}

export function createStudioApi(deps: StudioDeps): StudioApi & { model(): LoadedModel | undefined } {
  let loaded: LoadedModel | undefined;
  const now = deps.now ?? (() => performance.now());

  const requireModel = (): LoadedModel => {
    if (!loaded) throw new InputError('No model is loaded yet.', 'Load a model first (step 1).');
    return loaded;
  };

  const tokens = (m: LoadedModel, name: string, text: string): number[] => {
    const key = `${name}:${text.length}`;
    let ids = m.tokenCache.get(key);
    if (!ids) {
      ids = m.tokenizer.encode(text);
      m.tokenCache.set(key, ids);
    }
    return ids;
  };

  return {
    model: () => loaded,

    async loadModel(source: ModelSource, options: JobOptions = {}): Promise<ModelSummary> {
      const files = resolveSource(source, deps);
      const { ir } = await loadModelIR(files, options);
      throwIfAborted(options.signal, 'Loading the model');
      options.onProgress?.({ stage: 'tokenizer', done: 0, total: 1, message: 'Loading tokenizer' });
      const tokenizer = await loadTokenizer(files, ir.name, ir.spec.vocabSize);
      options.onProgress?.({ stage: 'build', done: 0, total: 1, message: 'Building ONNX graph' });
      const graph = buildOnnx(ir, { masks: true, tokenLoss: true, logits: false });
      options.onProgress?.({ stage: 'session', done: 0, total: 1, message: 'Opening inference session' });
      const evalSession = await deps.runner.open(graph);
      throwIfAborted(options.signal, 'Loading the model');
      if (loaded) await releaseModel(loaded);
      loaded = { ir, tokenizer, evalSession, tokenCache: new Map() };
      options.onProgress?.({ stage: 'session', done: 1, total: 1, message: 'Model ready' });
      return summarize(loaded);
    },

    async evaluatePerplexity(req: PerplexityRequest, options: JobOptions = {}): Promise<PerplexityResult> {
      const m = requireModel();
      const all = tokens(m, req.textName, req.text);
      const ids = req.maxTokens ? all.slice(0, req.maxTokens) : all;
      const context = Math.min(req.contextLength, m.ir.spec.maxPositions);
      const windows = planWindows(ids.length, context, Math.min(req.stride, context));
      const batches = batchWindows(windows, req.batchSize ?? 8);
      const acc = new NllAccumulator();
      const masks = denseMasks(m.ir);
      for (const [i, batch] of batches.entries()) {
        throwIfAborted(options.signal, 'Perplexity evaluation');
        const { inputIds, labels, len } = windowFeeds(ids, batch);
        const out = await m.evalSession.run(
          { input_ids: int64Tensor(inputIds, [batch.length, len]), labels: int64Tensor(labels, [batch.length, len]), ...masks },
          ['token_nll'],
        );
        accumulateScored(acc, batch, asFloat32(out.token_nll, 'token_nll'), len);
        options.onProgress?.({
          stage: 'perplexity',
          done: i + 1,
          total: batches.length,
          message: `ppl ≈ ${acc.perplexity.toFixed(2)} after ${acc.count} tokens`,
        });
      }
      return {
        perplexity: acc.perplexity,
        meanNll: acc.mean,
        nllStdError: acc.stdError,
        protocol: {
          tokenizer: m.tokenizer.description,
          textName: req.textName,
          totalTokens: ids.length,
          tokensScored: acc.count,
          contextLength: context,
          stride: Math.min(req.stride, context),
          bosPrepended: false,
        },
      };
    },

    async measureLatency(req: LatencyRequest, options: JobOptions = {}): Promise<LatencyResult> {
      const m = requireModel();
      if (!m.latencySession) m.latencySession = await deps.runner.open(buildOnnx(m.ir, { logits: true }));
      const session = m.latencySession;
      const n = req.batch * req.seq;
      const ids = Array.from({ length: n }, (_, i) => (i * 7919) % m.ir.spec.vocabSize);
      const feeds = { input_ids: int64Tensor(ids, [req.batch, req.seq]) };
      const samplesMs: number[] = [];
      for (let i = 0; i < req.warmup + req.runs; i++) {
        throwIfAborted(options.signal, 'Latency measurement');
        const t0 = now();
        await session.run(feeds);
        if (i >= req.warmup) samplesMs.push(now() - t0);
        options.onProgress?.({ stage: 'latency', done: i + 1, total: req.warmup + req.runs });
      }
      return { ...summarizeTimings(samplesMs), samplesMs, request: req, backend: session.backend };
    },

    async criteria() {
      return criterionInfos();
    },

    async calibrate(req: CalibrationRequest, options: JobOptions = {}): Promise<CalibrationSummary> {
      const m = requireModel();
      const seq = Math.min(req.seq, m.ir.spec.maxPositions);
      const set = makeCalibrationSet(tokens(m, req.textName, req.text), req.textName, req.samples, seq);
      if (!m.tapSession) {
        options.onProgress?.({ stage: 'build', done: 0, total: 1, message: 'Building the calibration graph' });
        m.tapSession = await deps.runner.open(buildOnnx(m.ir, { masks: true, taps: true, tokenLoss: true, logits: false }));
      }
      const stats = await collectStats(m.ir, m.tapSession, set, { ...options, withGram: req.withHessians });
      const summary: CalibrationSummary = {
        textName: req.textName,
        samples: set.samples,
        seq,
        tokens: stats.numTokens,
        baseLoss: stats.baseLoss,
        withHessians: req.withHessians,
        key: `${m.ir.name}|${req.textName}|${req.text.length}|${set.samples}x${seq}`,
      };
      m.calibration = { set, stats, summary };
      return summary;
    },

    async computeImportance(name: CriterionName, options: JobOptions = {}): Promise<UnitScores> {
      const m = requireModel();
      const criterion = getCriterion(name);
      const cal = m.calibration;
      if ((criterion.needs.stats || criterion.needs.maskedLoss) && !cal) {
        throw new InputError(`${criterion.label} needs calibration data.`, 'Run calibration (step 2) first.');
      }
      if (criterion.needs.gram && !cal?.stats.layers[0]?.attnIn.gram) {
        throw new InputError(`${criterion.label} needs Hessians (X^T X).`, 'Re-run calibration with Hessians enabled.');
      }
      return criterion.compute({
        ir: m.ir,
        ...(cal ? { stats: cal.stats, maskedLoss: maskedLossOracle(m.ir, m.evalSession, cal.set) } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    },

    async exportOnnx(): Promise<Uint8Array> {
      return buildOnnx(requireModel().ir, { logits: true });
    },
  };
}

export function denseMasks(ir: ModelIR) {
  const L = ir.layers.length;
  const H = ir.layers[0]?.numHeads ?? 0;
  const F = ir.layers[0]?.ffnSize ?? 0;
  return {
    head_mask: { type: 'float32' as const, dims: [L, H], data: new Float32Array(L * H).fill(1) },
    ffn_mask: { type: 'float32' as const, dims: [L, F], data: new Float32Array(L * F).fill(1) },
    layer_mask: { type: 'float32' as const, dims: [L], data: new Float32Array(L).fill(1) },
  };
}

function summarize(m: LoadedModel): ModelSummary {
  const parameters = parameterCount(m.ir);
  return {
    name: m.ir.name,
    spec: m.ir.spec,
    layers: m.ir.layers,
    parameters,
    weightBytes: parameters * 4,
    backend: m.evalSession.backend,
  };
}

async function releaseModel(m: LoadedModel): Promise<void> {
  await m.evalSession.release();
  await m.latencySession?.release();
  await m.tapSession?.release();
}
