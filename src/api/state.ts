/** Engine state shared by the api modules: the loaded model, its sessions and results. */
import { InputError } from '../core/errors';
import type { ModelIR } from '../core/ir';
import type { Runner, RunnerSession } from '../core/runner';
import type { FileSource } from '../io/source';
import type { TextTokenizer } from '../io/tokenizer';
import type { CalibrationSet } from '../saliency/calibrate';
import type { CalibrationStats } from '../saliency/stats';
import type { CriterionName, UnitScores } from '../saliency/types';
import type { AppliedModel, CalibrationSummary, LatencyResult, ModelTarget, PerplexityResult } from './types';

export interface StudioDeps {
  runner: Runner;
  /** Base URL of the built-in demo model folder. */
  demoUrl: string;
  /** Opens a local folder (Node only). */
  openDir?: (path: string) => FileSource;
  /** Monotonic clock in ms (performance.now). */
  now?: () => number;
}

export interface PrunedModel {
  ir: ModelIR;
  /** The compensated (not sliced) model: the reference that export verification compares with. */
  compensatedIr: ModelIR;
  session: RunnerSession;
  summary: AppliedModel;
  perplexity?: PerplexityResult;
  latency?: LatencyResult;
}

export interface LoadedModel {
  ir: ModelIR;
  config: unknown;
  source: FileSource;
  tokenizer: TextTokenizer;
  tokenizerJson: Uint8Array | undefined;
  /** Dense graph with masks + token loss: perplexity, preview, ablation. */
  evalSession: RunnerSession;
  /** Dense graph with logits: latency and generation. */
  latencySession?: RunnerSession;
  /** Dense graph with taps: calibration. */
  tapSession?: RunnerSession;
  calibration?: { set: CalibrationSet; stats: CalibrationStats; summary: CalibrationSummary };
  pruned?: PrunedModel;
  /** Latest scores per criterion (cleared when calibration changes). */
  scores: Map<CriterionName, UnitScores>;
  denseResults: { perplexity?: PerplexityResult; latency?: LatencyResult };
  tokenCache: Map<string, number[]>;
}

export interface StudioState {
  deps: StudioDeps;
  loaded: LoadedModel | undefined;
  now: () => number;
}

export function requireModel(state: StudioState): LoadedModel {
  if (!state.loaded) throw new InputError('No model is loaded yet.', 'Load a model first (step 1).');
  return state.loaded;
}

export function requirePruned(m: LoadedModel): PrunedModel {
  if (!m.pruned) throw new InputError('No pruned model yet.', 'Apply a plan first.');
  return m.pruned;
}

export function tokensOf(m: LoadedModel, name: string, text: string): number[] {
  const key = `${name}:${text.length}`;
  let ids = m.tokenCache.get(key);
  if (!ids) {
    ids = m.tokenizer.encode(text);
    m.tokenCache.set(key, ids);
  }
  return ids;
}

export async function releaseModel(m: LoadedModel): Promise<void> {
  await m.evalSession.release();
  await m.latencySession?.release();
  await m.tapSession?.release();
  await m.pruned?.session.release();
}

export function targetIr(m: LoadedModel, target: ModelTarget | undefined): ModelIR {
  return target === 'pruned' ? requirePruned(m).ir : m.ir;
}
