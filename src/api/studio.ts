/**
 * In-process StudioApi: the engine behind the UI (inside the Worker), the CLI and the tests.
 * Pure apart from the injected Runner. The operations live in evaluation.ts, importance.ts,
 * pruning.ts and export.ts; sources.ts resolves a ModelSource; this file loads models and wires
 * the operations to the shared state.
 */
import { throwIfAborted } from '../core/errors';
import { parameterCount } from '../core/ir';
import { loadModelIR } from '../arch/load';
import { loadTokenizer } from '../io/tokenizer';
import { criterionInfos } from '../saliency/registry';
import { compareLatency, denseFeeds, hasMaskInputs, measureLatency, streamPerplexity } from './evaluation';
import { generate } from './generation';
import { calibrate, computeImportance, restoreScores } from './importance';
import { nvitGradients } from '../saliency/nvit-grad';
import { modelFingerprint } from '../core/fingerprint';
import { allocatePlan, applyPlan, previewCompensated, previewPlan, prunedPerplexity } from './pruning';
import { exportModel } from './export';
import { logitsOnnx } from '../exporters/onnx';
import { denseGradientStats } from './gradients';
import { iterativePrune } from './iterative';
import { slimGptPrune } from './slimgpt';
import { sweep } from './sweep';
import { attentionPatterns, nextTokens, tokenLosses } from './teach';
import { recover } from './recovery';
import { recoverImages } from './recovery-images';
import { modelFilePerplexity } from './model-file';
import { quantizeApplied, quantVariantInfos } from './quantize-variant';
import { measureUnitLatency } from './unit-latency';
import { openSource } from './sources';
import { checkExport, checkLatency, checkStep, estimateMemory } from './memory';
import { verifyOnnxImport } from './verify-import';
import { evaluateAccuracy, imageModelTokenizer, isImageClassifier, loadPreprocess, prepareImages } from './accuracy';
import { computesOnDevice, openRunSession } from '../graph/model-session';
import { shareWeights } from '../core/shared-weights';
import { allocatingShared } from '../core/tensor';
import { isolatesSessions, mayIsolate } from './isolation';
import { maySpillWeights, openWeightSpill } from './weight-spill';
import { releaseModel, requireModel, type LoadedModel, type StudioDeps, type StudioState } from './state';
import type { JobOptions, ModelSource, ModelSummary, StudioApi } from './types';

export type { StudioDeps } from './state';

async function loadModel(state: StudioState, source: ModelSource, options: JobOptions): Promise<ModelSummary> {
  const { files, options: loadOptions } = openSource(source, state.deps);
  // isolated latency / generation sessions read the weights from shared memory (api/isolation.ts)
  const load = () => loadModelIR(files, { ...options, ...loadOptions });
  const shared = mayIsolate(state) && !maySpillWeights(state.deps);
  const { ir, config, onnxSource } = await (shared ? allocatingShared(load) : load());
  throwIfAborted(options.signal, 'Loading the model');
  const fingerprint = modelFingerprint(ir);
  const residency = await openWeightSpill(state.deps, ir, true);
  // spilled weights reach an isolate as owned copies (graph/external-weights.ts), not shared arrays
  if (!residency && isolatesSessions(state, ir)) shareWeights(ir);
  if (onnxSource) {
    options.onProgress?.({ stage: 'verify', done: 0, total: 1, message: 'Checking the ONNX import numerically' });
    await verifyOnnxImport(state.deps.runner, ir, onnxSource);
  }
  const images = isImageClassifier(ir);
  options.onProgress?.({
    stage: 'tokenizer',
    done: 0,
    total: 1,
    message: images ? 'Reading preprocessor_config.json' : 'Loading tokenizer',
  });
  const preprocess = images ? await loadPreprocess(files, ir, options.signal) : undefined;
  const tokenizer = images ? imageModelTokenizer(ir) : await loadTokenizer(files, ir.name, ir.spec.vocabSize);
  const tokenizerJson = images ? undefined : await files.read('tokenizer.json');
  options.onProgress?.({ stage: 'session', done: 0, total: 1, message: 'Building the graph and opening the inference session' });
  // A classifier's eval session also gives logits (accuracy needs the predictions, not only the loss).
  const evalGraph = { masks: hasMaskInputs(ir), tokenLoss: true, logits: images };
  const evalSession = await openRunSession(state.deps.runner, ir, evalGraph);
  throwIfAborted(options.signal, 'Loading the model');
  if (state.loaded) await releaseModel(state.loaded);
  state.loaded = {
    ir,
    config,
    source: files,
    tokenizer,
    tokenizerJson,
    evalSession,
    // block by block bounds the wasm heap; a device holds the whole model and runs it at once
    ...(computesOnDevice(evalSession.backend) ? {} : { evalBlocks: { runner: state.deps.runner, ir, graph: evalGraph } }),
    fingerprint,
    ...(residency ? { residency } : {}),
    denseResults: {},
    scores: new Map(),
    tokenCache: new Map(),
    ...(preprocess ? { preprocess } : {}),
  };
  options.onProgress?.({ stage: 'session', done: 1, total: 1, message: 'Model ready' });
  return summarize(state.loaded);
}

function summarize(m: LoadedModel): ModelSummary {
  const parameters = parameterCount(m.ir);
  return {
    name: m.ir.name,
    fingerprint: m.fingerprint,
    spec: m.ir.spec,
    layers: m.ir.layers,
    parameters,
    weightBytes: parameters * 4,
    backend: m.evalSession.backend,
    ...(m.residency ? { weightStore: m.residency.where } : {}),
  };
}

export function createStudioApi(deps: StudioDeps): StudioApi & { state: StudioState } {
  const state: StudioState = { deps, loaded: undefined, now: deps.now ?? (() => performance.now()) };
  const model = () => requireModel(state);
  return {
    state,
    loadModel: (source, options = {}) => loadModel(state, source, options),
    estimateMemory: (req, options = {}) => estimateMemory(state, req, options),
    async evaluatePerplexity(req, options = {}) {
      const m = model();
      checkStep(state, m, 'perplexity', { perplexity: { contextLength: req.contextLength, batchSize: req.batchSize ?? 8 } });
      if (req.target === 'pruned') return prunedPerplexity(m, req, options);
      const result = await streamPerplexity(m, m.evalSession, m.ir.spec.maxPositions, req, denseFeeds(m.ir), options, m.evalBlocks);
      if (req.role === 'heldOut') m.denseResults.heldOut = result;
      else m.denseResults.perplexity = result;
      return result;
    },
    measureLatency: async (req, options = {}) => {
      checkLatency(state, model(), req);
      return measureLatency(state, model(), req, options);
    },
    compareLatency: async (req, options = {}) => {
      checkLatency(state, model(), req);
      return compareLatency(state, model(), req, options);
    },
    measureUnitLatency: (req, options = {}) => measureUnitLatency(state, model(), req, options),
    exportOnnx: async () => logitsOnnx(model().ir),
    criteria: async () => criterionInfos(),
    calibrate: async (req, options = {}) => {
      checkStep(state, model(), 'calibration', { calibration: { samples: req.samples, seq: req.seq, withHessians: req.withHessians } });
      return calibrate(state, model(), req, options);
    },
    restoreScores: async (scores) => restoreScores(model(), scores),
    computeImportance: (name, options = {}) =>
      computeImportance(model(), name, options, {
        gradients: () => denseGradientStats(state, model(), options),
        nvitGradients: () => nvitGradients(model().ir, state.deps.runner, model().calibration!.set, options),
      }),
    allocatePlan: async (req) => allocatePlan(model(), req),
    previewPlan: (req, options = {}) => previewPlan(model(), req, options),
    previewCompensated: (req, options = {}) => previewCompensated(state, model(), req, options),
    applyPlan: (req, options = {}) => applyPlan(state, model(), req, options),
    generate: async (req, options = {}) => {
      const m = model();
      // prompt + new tokens: the KV cache and the prefill logits (the with-past session's weights)
      checkStep(state, m, 'generation', { generation: { tokens: m.tokenizer.encode(req.prompt).length + req.maxNewTokens } });
      return generate(state, m, req, options);
    },
    exportModel: async (request, options = {}) => {
      checkExport(state, model());
      return exportModel(state, model(), request, options);
    },
    modelFilePerplexity: (file, req) => modelFilePerplexity(state, model(), file, req),
    quantVariants: async () => quantVariantInfos(),
    quantizeApplied: (req, options = {}) => quantizeApplied(state, model(), req, options),
    iterativePrune: (req, options = {}) => iterativePrune(state, model(), req, options),
    slimGptPrune: (req, options = {}) => slimGptPrune(state, model(), req, options),
    sweep: (req, options = {}) => sweep(state, model(), req, options),
    tokenLosses: (req, options = {}) => tokenLosses(model(), req, options),
    attentionPatterns: (req, options = {}) => attentionPatterns(state, model(), req, options),
    nextTokens: (req) => nextTokens(state, model(), req),
    recover: (req, options = {}) =>
      isImageClassifier(model().ir) ? recoverImages(state, model(), req, options) : recover(state, model(), req, options),
    prepareImages: async (raw) => prepareImages(model(), raw),
    evaluateAccuracy: (req, options = {}) => evaluateAccuracy(model(), req, options),
    baselineMetric: async () => {
      const r = model().denseResults;
      if (isImageClassifier(model().ir)) return r.accuracy && { kind: 'accuracy', result: r.accuracy };
      return r.perplexity && { kind: 'perplexity', result: r.perplexity };
    },
  };
}
