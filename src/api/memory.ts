/**
 * Memory preflight in the api: `estimateMemory(request)` (the UI's table of named parts, before
 * loading or calibrating), and the checks the operations run before they allocate: the whole
 * model at load (from config.json, before the weights download), a perplexity run, latency and
 * generation, calibration, pruning (apply, SlimGPT) and export, each carrying the wasm heap the
 * steps before it left. The model itself is core/memory-model.ts; the limits and advice io/memory-preflight.ts.
 */
import { ConfigError, throwIfAborted } from '../core/errors';
import { DEFAULT_MEMORY_CONSTANTS, type MemoryConstants } from '../core/memory-constants';
import type { MemoryPhase, MemorySettings } from '../core/memory-model';
import type { ModelShape } from '../core/model-shape';
import { shapeFromConfig } from '../arch/config';
import { bytesPerWeight, type MemoryBudget } from '../io/memory-budget';
import { checkMemory, memoryProblem, suggestFit } from '../io/memory-preflight';
import { estimateMemory as modelEstimate } from '../core/memory-model';
import { filesHeldWhole, openSource } from './sources';
import { mayIsolate } from './isolation';
import { requireModel, type LoadedModel, type PrunedModel, type StudioState } from './state';
import { parameterCount } from '../core/ir';
import type { JobOptions, MemoryReport, MemoryRequest } from './types';
import { readJson } from '../io/source';
import { maySpillWeights } from './weight-spill';
import type { PruningPlan } from '../core/plan';
import { planCost } from '../prune/target';

/** Perplexity settings the engine uses when a request names none (api/evaluation.ts: batch 8). */
export const DEFAULT_PERPLEXITY_MEMORY = { contextLength: 128, batchSize: 8 } as const;

/**
 * The memory model's constants for this host: whether large models' Grams go to storage
 * (api/gram-storage.ts) and whether their whole-model sessions run in a disposable isolate (api/isolation.ts).
 */
export function hostConstants(state: StudioState): MemoryConstants {
  return {
    ...DEFAULT_MEMORY_CONSTANTS,
    gramStore: !!state.deps.gramStore && state.deps.gramStorage !== 'never',
    isolatedSessions: mayIsolate(state),
    weightStore: maySpillWeights(state.deps),
    streamsWeights: state.deps.runner.readsExternalDataBySubarray === true,
    streamsExport:
      !!state.deps.exportFileStore &&
      maySpillWeights(state.deps) &&
      !mayIsolate(state) &&
      state.deps.runner.readsExternalDataBySubarray === true,
  };
}

function loadedShape(m: LoadedModel): ModelShape {
  return { spec: m.ir.spec, layers: m.ir.layers, storedBytesPerWeight: bytesPerWeight(m.config) };
}

export function settingsOf(req: MemoryRequest): MemorySettings {
  const { source: _source, perplexity, ...settings } = req;
  return { ...settings, perplexity: perplexity ?? DEFAULT_PERPLEXITY_MEMORY };
}

/** The phases a request plans: always load and perplexity, the others when named. */
function plannedPhases(s: MemorySettings): MemoryPhase[] {
  return [
    'load',
    'perplexity',
    ...(s.calibration ? (['calibration'] as const) : []),
    ...(s.generation ? (['generation'] as const) : []),
    'pruning',
    'export',
  ];
}

export function memoryReport(
  name: string,
  shape: ModelShape,
  req: MemoryRequest,
  budget: MemoryBudget | undefined,
  constants: MemoryConstants = DEFAULT_MEMORY_CONSTANTS,
): MemoryReport {
  const settings = settingsOf(req);
  const estimate = modelEstimate(shape, settings, constants);
  const phases = plannedPhases(settings);
  const problem = budget ? memoryProblem(estimate, budget, phases) : undefined;
  const fit = budget && problem ? suggestFit(shape, settings, budget, phases, constants) : undefined;
  return {
    name,
    estimate,
    ...(budget ? { budget } : {}),
    ...(problem ? { problem: problem.what } : {}),
    ...(fit ? { fit } : {}),
  };
}

/** StudioApi.estimateMemory: of `request.source` (reads config.json only), else of the loaded model. */
export async function estimateMemory(state: StudioState, req: MemoryRequest, options: JobOptions = {}): Promise<MemoryReport> {
  const budget = state.deps.memoryBudget?.();
  if (req.source) {
    const { files, options: loadOptions } = openSource(req.source, state.deps);
    const config = await readJson(files, 'config.json', { error: ConfigError, ...(options.signal ? { signal: options.signal } : {}) });
    throwIfAborted(options.signal, 'Estimating memory');
    return memoryReport(
      loadOptions.name ?? files.location,
      { ...shapeFromConfig(config), filesHeldWhole: filesHeldWhole(req.source) },
      req,
      budget,
      hostConstants(state),
    );
  }
  const m = requireModel(state);
  // the loaded model's path goes on from the heap the steps so far left
  const heapCarried = req.heapCarried ?? state.wasmHeapBytes ?? 0;
  return memoryReport(m.ir.name, loadedShape(m), { ...req, heapCarried }, budget, hostConstants(state));
}

/**
 * Before a step allocates: throws ModelTooLargeError when its phase does not fit the host's budget,
 * counting the wasm heap the steps before it left (it never shrinks); a step that fits raises that
 * high water to its own predicted heap.
 */
export function checkStep(state: StudioState, m: LoadedModel, phase: MemoryPhase, req: MemoryRequest): void {
  const settings = { ...settingsOf(req), heapCarried: state.wasmHeapBytes ?? 0, nextStep: true };
  const est = checkMemory(m.ir.name, loadedShape(m), settings, state.deps.memoryBudget?.(), [phase], hostConstants(state));
  const after = est.phases.find((p) => p.phase === phase)!.heapBytes;
  // a malformed request (its own step rejects it next) leaves the high water as it was
  if (Number.isFinite(after)) state.wasmHeapBytes = Math.max(state.wasmHeapBytes ?? 0, after);
}

/**
 * Before pruning (apply, SlimGPT): the pruning phase — a projection's Hessian expanded while OBS
 * compensates, the pruned copy (of `plan`'s size; without a plan the dense size, an upper bound),
 * the applied model already held until the new one replaces it, and the calibration statistics.
 */
export function checkPruning(state: StudioState, m: LoadedModel, plan?: PruningPlan): void {
  const prunedFraction = plan ? 1 - planCost(m.ir, plan, m.calibration?.summary.seq ?? 128).parameters / parameterCount(m.ir) : undefined;
  checkStep(state, m, 'pruning', {
    ...(prunedFraction !== undefined && Number.isFinite(prunedFraction) ? { prunedFraction } : {}),
    ...(m.pruned ? { heldPrunedFraction: appliedFraction(m, m.pruned) } : {}),
    ...heldCalibration(m),
  });
}

/** Before export of the applied model: its size, the exported bytes and their verification, the calibration statistics. */
export function checkExport(state: StudioState, m: LoadedModel): void {
  if (m.pruned) checkStep(state, m, 'export', { prunedFraction: appliedFraction(m, m.pruned), ...heldCalibration(m) });
}

/** Before latency: a whole-model session like generation's, its logits over the request's tokens. */
export function checkLatency(state: StudioState, m: LoadedModel, req: { batch: number; seq: number }): void {
  checkStep(state, m, 'generation', { generation: { tokens: req.batch * req.seq } });
}

/** The fraction of the parameters the applied model removed. */
function appliedFraction(m: LoadedModel, pruned: PrunedModel): number {
  return 1 - pruned.summary.parameters / parameterCount(m.ir);
}

/** The calibration still held (its statistics stay alive through pruning and export; a large model's Grams in storage). */
function heldCalibration(m: LoadedModel): Pick<MemoryRequest, 'calibration'> {
  const c = m.calibration?.summary;
  return c ? { calibration: { samples: c.samples, seq: c.seq, withHessians: c.withHessians } } : {};
}
