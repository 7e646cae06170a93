/**
 * In-process StudioApi: the engine behind the UI (inside the Worker), the CLI and the tests.
 * Pure apart from the injected Runner. The operations live in evaluation.ts, importance.ts and
 * pruning.ts; this file loads models and wires the operations to the shared state.
 */
import { InputError, throwIfAborted } from '../core/errors';
import { parameterCount } from '../core/ir';
import { loadModelIR } from '../arch/load';
import { buildOnnx } from '../graph/build';
import { loadTokenizer } from '../io/tokenizer';
import { urlSource, type FileSource } from '../io/source';
import { criterionInfos } from '../saliency/registry';
import { compareLatency, denseMaskSet, generate, maskFeeds, measureLatency, streamPerplexity } from './evaluation';
import { calibrate, computeImportance, restoreScores } from './importance';
import { modelFingerprint } from '../core/fingerprint';
import { allocatePlan, applyPlan, exportPruned, previewPlan, prunedPerplexity } from './pruning';
import { denseGradientStats } from './gradients';
import { iterativePrune } from './iterative';
import { slimGptPrune } from './slimgpt';
import { measureUnitLatency } from './unit-latency';
import { loadOptionsFor, openModelSource } from './sources';
import { openModelSession } from './sessions';
import { releaseModel, requireModel, type LoadedModel, type StudioDeps, type StudioState } from './state';
import type { JobOptions, ModelSource, ModelSummary, StudioApi } from './types';

export type { StudioDeps } from './state';

export function resolveSource(source: ModelSource, deps: StudioDeps): FileSource {
  switch (source.kind) {
    case 'demo':
      return urlSource(deps.demoUrl);
    case 'url':
      return urlSource(source.baseUrl);
    case 'dir':
      if (!deps.openDir) throw new InputError('Local folders can only be opened from the CLI; pick files instead.');
      return deps.openDir(source.path);
    case 'hub':
    case 'files':
      return openModelSource(source, deps);
  }
}

async function loadModel(state: StudioState, source: ModelSource, options: JobOptions): Promise<ModelSummary> {
  const files = resolveSource(source, state.deps);
  const { ir, config } = await loadModelIR(files, { ...options, ...loadOptionsFor(source, state.deps) });
  throwIfAborted(options.signal, 'Loading the model');
  options.onProgress?.({ stage: 'tokenizer', done: 0, total: 1, message: 'Loading tokenizer' });
  const tokenizer = await loadTokenizer(files, ir.name, ir.spec.vocabSize);
  const tokenizerJson = await files.read('tokenizer.json');
  options.onProgress?.({ stage: 'session', done: 0, total: 1, message: 'Opening inference session' });
  const evalSession = await openModelSession(state.deps.runner, ir, { masks: true, tokenLoss: true, logits: false });
  throwIfAborted(options.signal, 'Loading the model');
  if (state.loaded) await releaseModel(state.loaded);
  state.loaded = {
    ir,
    config,
    source: files,
    tokenizer,
    tokenizerJson,
    evalSession,
    fingerprint: modelFingerprint(ir),
    denseResults: {},
    scores: new Map(),
    tokenCache: new Map(),
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
  };
}

export function createStudioApi(deps: StudioDeps): StudioApi & { state: StudioState } {
  const state: StudioState = { deps, loaded: undefined, now: deps.now ?? (() => performance.now()) };
  const model = () => requireModel(state);
  return {
    state,
    loadModel: (source, options = {}) => loadModel(state, source, options),
    async evaluatePerplexity(req, options = {}) {
      const m = model();
      if (req.target === 'pruned') return prunedPerplexity(m, req, options);
      const result = await streamPerplexity(m, m.evalSession, m.ir.spec.maxPositions, req, maskFeeds(m.ir, denseMaskSet(m.ir)), options);
      m.denseResults.perplexity = result;
      return result;
    },
    measureLatency: (req, options = {}) => measureLatency(state, model(), req, options),
    compareLatency: (req, options = {}) => compareLatency(state, model(), req, options),
    measureUnitLatency: (req, options = {}) => measureUnitLatency(state, model(), req, options),
    exportOnnx: async () => buildOnnx(model().ir, { logits: true }),
    criteria: async () => criterionInfos(),
    calibrate: (req, options = {}) => calibrate(state, model(), req, options),
    restoreScores: async (scores) => restoreScores(model(), scores),
    computeImportance: (name, options = {}) =>
      computeImportance(model(), name, options, { gradients: () => denseGradientStats(state, model(), options) }),
    allocatePlan: async (req) => allocatePlan(model(), req),
    previewPlan: (req, options = {}) => previewPlan(model(), req, options),
    applyPlan: (req, options = {}) => applyPlan(state, model(), req, options),
    generate: (req, options = {}) => generate(state, model(), req, options),
    exportPruned: (options = {}) => exportPruned(state, model(), options),
    iterativePrune: (req, options = {}) => iterativePrune(state, model(), req, options),
    slimGptPrune: (req, options = {}) => slimGptPrune(state, model(), req, options),
  };
}
