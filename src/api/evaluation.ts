/** Api operations that evaluate a model: perplexity (dense, masked preview, pruned) and latency (generation: generation.ts). */
import type { GraphOptions } from '../graph/options';
import { InputError, throwIfAborted } from '../core/errors';
import { isUniform, type ModelIR } from '../core/ir';
import { rowsPerRun } from '../core/run-size';
import { asFloat32, float32Tensor, int64Tensor, type Feeds, type Runner, type RunnerSession } from '../core/runner';
import {
  NllAccumulator,
  accumulateScored,
  batchWindows,
  firstScoredPosition,
  planWindows,
  windowFeeds,
  type EvalWindow,
} from '../eval/perplexity';
import { streamGroups, useBlockwise, type BlockSource, type PerplexityPath } from './block-perplexity';
import { runByBlocks, runToHead, separateHead, type BlockInput } from '../graph/block-run';
import { chunkedHeadNll, headRuns, type HeadInput } from '../graph/head-chunks';
import { windowsPerBatch } from '../core/memory-model';
import { summarizeTimings } from '../eval/latency';
import { openWithWeights } from '../graph/external-weights';
import { buildModelProto } from '../graph/build';
import { isolatesSessions, withIsolate } from './isolation';
import { evictResident } from './weight-spill';
import type { MaskSet } from '../saliency/types';
import { maskFeeds as calibrationMaskFeeds } from '../saliency/calibrate';
import { onesMasks } from '../saliency/criteria/ablation';
import { checkTextSize, textWarnings } from './text-guard';
import { requirePruned, tokensOf, type LoadedModel, type StudioState } from './state';
import { openRunSession } from '../graph/model-session';
import type { JobOptions, LatencyComparison, LatencyRequest, LatencyResult, PerplexityRequest, PerplexityResult } from './types';

/** Mask inputs for a (uniform) model: the calibration module's feeds, sized from the IR. */
export function maskFeeds(ir: ModelIR, m: MaskSet): Feeds {
  if (!isUniform(ir)) {
    throw new InputError(
      'This model has layers of different shapes (a loaded pruned export): masked previews, importance scores and further pruning need layers of one shape.',
      'Evaluate, generate and export it as it is, or load the original model and apply a plan that combines both prunings.',
    );
  }
  return calibrationMaskFeeds(m, ir.layers.length, ir.layers[0]?.numHeads ?? 0, ir.layers[0]?.ffnSize ?? 0);
}

export function denseMaskSet(ir: ModelIR): MaskSet {
  return onesMasks(ir.layers.length, ir.layers[0]?.numHeads ?? 0, ir.layers[0]?.ffnSize ?? 0);
}

/**
 * Whether the loaded model's evaluation graph has mask inputs: only a model whose layers share one
 * shape (a pruned export re-loaded with per-layer shapes is evaluated without masks).
 */
export const hasMaskInputs = (ir: ModelIR): boolean => isUniform(ir);

/** Feeds that make the evaluation graph the plain dense model: all-ones masks, or nothing without mask inputs. */
export function denseFeeds(ir: ModelIR): Feeds {
  return hasMaskInputs(ir) ? maskFeeds(ir, denseMaskSet(ir)) : {};
}

/**
 * Streams perplexity over `session` (a token-loss graph); `extraFeeds` carries masks when the graph has them.
 * With `blocks` (the model and the options `session` was built with), a large model runs block by
 * block instead (api/block-perplexity.ts: same windows, batches and numbers, one block's weights in
 * the wasm heap at a time); `path` forces one way.
 */
export async function streamPerplexity(
  m: LoadedModel,
  session: RunnerSession,
  maxPositions: number,
  req: PerplexityRequest,
  extraFeeds: Feeds,
  options: JobOptions,
  blocks?: BlockSource & { path?: PerplexityPath },
): Promise<PerplexityResult> {
  checkTextSize(req.text, req.textName, req.maxTokens || undefined, req.maxTextChars);
  const all = tokensOf(m, req.textName, req.text, req.maxTokens);
  const ids = req.maxTokens ? all.slice(0, req.maxTokens) : all;
  const warnings = textWarnings(req.text, req.textName, ids, m.tokenizer);
  const context = Math.min(req.contextLength, maxPositions);
  const stride = Math.min(req.stride, context - 1);
  // Windows per run: capped by their logits (one 1024-token window of a 50k vocabulary is 206 MB) and
  // sized to the FLOPs budget (core/run-size.ts), so each run ends well within the cancel bound.
  const perBatch = Math.min(
    windowsPerBatch(req.batchSize ?? 8, context, m.ir.spec.vocabSize),
    rowsPerRun(m.ir, context, req.batchSize ?? 8),
  );
  const batches = batchWindows(planWindows(ids.length, context, stride), perBatch);
  const acc = new NllAccumulator();
  const status = () => `${Math.exp(acc.mean).toFixed(2)} ± ${(Math.exp(acc.mean) * acc.stdError).toFixed(2)} after ${acc.count} tokens`;
  if (blocks && useBlockwise(blocks.ir, blocks.path)) {
    await perplexityByBlocks(blocks, ids, batches, extraFeeds, acc, options, status);
  } else {
    for (const [i, batch] of batches.entries()) {
      throwIfAborted(options.signal, 'Perplexity evaluation');
      const { inputIds, labels, len } = windowFeeds(ids, batch);
      const out = await session.run(
        { input_ids: int64Tensor(inputIds, [batch.length, len]), labels: int64Tensor(labels, [batch.length, len]), ...extraFeeds },
        ['token_nll'],
      );
      accumulateScored(acc, batch, asFloat32(out.token_nll, 'token_nll'), len);
      options.onProgress?.({ stage: 'perplexity', done: i + 1, total: batches.length, message: status() });
    }
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
      stride,
      bosPrepended: false,
    },
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** The batches of streamPerplexity run block by block (groups of windows; per group each block's session is opened, run and released), accumulated in order. */
async function perplexityByBlocks(
  src: BlockSource,
  ids: readonly number[],
  batches: readonly EvalWindow[][],
  extraFeeds: Feeds,
  acc: NllAccumulator,
  options: JobOptions,
  status: () => string,
): Promise<void> {
  const runs: (BlockInput & { batch: EvalWindow[] })[] = batches.map((batch) => {
    const { inputIds, labels, len } = windowFeeds(ids, batch);
    const dims = [batch.length, len];
    const feeds = { input_ids: int64Tensor(inputIds, dims), labels: int64Tensor(labels, dims) };
    return { batch, rows: batch.length, len, lossFrom: firstScoredPosition(batch), feeds };
  });
  const L = src.ir.layers.length;
  const scored = { ...src, lossFrom: true };
  // A large vocabulary's head runs once over every group's scored tails (graph/head-chunks.ts): one session per chunk in all.
  const headApart = separateHead(scored);
  const total = runs.length * L + (headApart ? headRuns(src.ir, runs.length, src.headChunk) : 0);
  let done = 0;
  const step = () => {
    done++;
    options.onProgress?.({
      stage: 'perplexity',
      done,
      total,
      message: acc.count > 0 ? status() : `block by block, ${done}/${total} runs`,
    });
  };
  const tails: HeadInput[] = [];
  for (const group of streamGroups(runs, src.ir.spec.hiddenSize, src.streamBytes)) {
    if (headApart) {
      tails.push(...(await runToHead(scored, group, extraFeeds, options.signal, step)));
      continue;
    }
    const nll = await runByBlocks(scored, group, extraFeeds, 'token_nll', options.signal, step);
    group.forEach((r, i) => accumulateScored(acc, r.batch, nll[i]!, r.len, r.lossFrom));
  }
  if (!headApart) return;
  const job = { onRun: step, ...(options.signal ? { signal: options.signal } : {}) };
  const nll = await chunkedHeadNll(src.runner, src.ir, tails, src.headChunk, job);
  runs.forEach((r, i) => accumulateScored(acc, r.batch, nll[i]!, r.len, r.lossFrom));
}

/** The graph of the sessions latency times (and teaching reads logits from): logits, plus `logits_max`, the small output a timed run fetches. */
export const TIMED_GRAPH = { logits: true, logitsMax: true } as const satisfies GraphOptions;

export async function logitsSession(
  state: StudioState,
  m: LoadedModel,
  target: LatencyRequest['target'],
): Promise<{ session: RunnerSession; ir: ModelIR }> {
  if (target === 'pruned') {
    const p = requirePruned(m);
    p.latencySession ??= await openRunSession(state.deps.runner, p.ir, TIMED_GRAPH, m.evalSession.backend);
    return { session: p.latencySession, ir: p.ir };
  }
  if (!m.latencySession) m.latencySession = await openRunSession(state.deps.runner, m.ir, TIMED_GRAPH, m.evalSession.backend);
  return { session: m.latencySession, ir: m.ir };
}

/**
 * Runs `use` on the logits sessions of `targets` and the runner they came from: a small model's
 * cached in-process sessions (opened on first use, kept); a large model's opened for the call with
 * the weights embedded, in a disposable isolate where the runner has one (api/isolation.ts), else
 * in process, and released after it.
 */
export async function withLogitsSessions<T>(
  state: StudioState,
  m: LoadedModel,
  targets: readonly LatencyRequest['target'][],
  use: (sessions: { session: RunnerSession; ir: ModelIR }[], runner: Runner) => Promise<T>,
): Promise<T> {
  if (!isolatesSessions(state, m.ir) && !useBlockwise(m.ir)) {
    const sessions = [];
    for (const target of targets) sessions.push(await logitsSession(state, m, target));
    return use(sessions, state.deps.runner);
  }
  evictResident(m, state.deps);
  if (!isolatesSessions(state, m.ir)) return withEmbeddedLogitsSessions(state.deps.runner, m, targets, use);
  return withIsolate(state.deps.runner, (runner) => withEmbeddedLogitsSessions(runner, m, targets, use));
}

/**
 * Logits sessions that embed their weights (one copy, in the engine; not pre-packed; spilled weights,
 * core/weight-residency.ts, as copies that are not kept), released after `use`: in process the heap
 * region is reused by later runs.
 */
async function withEmbeddedLogitsSessions<T>(
  runner: Runner,
  m: LoadedModel,
  targets: readonly LatencyRequest['target'][],
  use: (sessions: { session: RunnerSession; ir: ModelIR }[], runner: Runner) => Promise<T>,
): Promise<T> {
  const sessions: { session: RunnerSession; ir: ModelIR }[] = [];
  try {
    for (const target of targets) {
      const ir = target === 'pruned' ? requirePruned(m).ir : m.ir;
      const graph = buildModelProto(ir, { ...TIMED_GRAPH, weights: 'inputs' });
      sessions.push({ session: await openWithWeights(runner, graph, ir, { prepack: false }), ir });
    }
    return await use(sessions, runner);
  } finally {
    for (const s of sessions) await s.session.release();
  }
}

export function latencyFeeds(session: RunnerSession, ir: ModelIR, req: LatencyRequest): Feeds {
  const max = ir.spec.maxPositions;
  if (!(Number.isInteger(req.seq) && req.seq >= 1 && req.seq <= max) || !(Number.isInteger(req.batch) && req.batch >= 1))
    throw new InputError(
      `Latency input batch ${req.batch} × ${req.seq} tokens does not fit ${ir.name} (context ${max} tokens).`,
      `Use a batch of at least 1 and a sequence length from 1 to ${max}.`,
    );
  const vision = ir.spec.input === 'patches' ? ir.spec.vision : undefined;
  if (vision) {
    // image classifiers: `batch` deterministic images (the sequence is fixed by the patch grid; seq is not read)
    const { numChannels: c, imageSize: s } = vision;
    const pixels = Float32Array.from({ length: req.batch * c * s * s }, (_, i) => (((i * 7919) % 255) - 127) / 128);
    const labels = Array.from({ length: req.batch }, (_, i) => i % ir.spec.vocabSize);
    return {
      pixel_values: float32Tensor(pixels, [req.batch, c, s, s]),
      ...(session.inputNames.includes('labels') ? { labels: int64Tensor(labels, [req.batch]) } : {}),
    };
  }
  const ids = Array.from({ length: req.batch * req.seq }, (_, i) => (i * 7919) % ir.spec.vocabSize);
  const shape = [req.batch, req.seq];
  return { input_ids: int64Tensor(ids, shape), ...(session.inputNames.includes('labels') ? { labels: int64Tensor(ids, shape) } : {}) };
}

export interface Timed {
  session: RunnerSession;
  feeds: Feeds;
  samplesMs: number[];
}

/** What a timed run fetches: each row's largest logit where the graph has it (graph option logitsMax), not the logits. */
function timedOutputs(session: RunnerSession): string[] | undefined {
  return session.outputNames.includes('logits_max') ? ['logits_max'] : undefined;
}

async function timeOnce(state: StudioState, t: Timed, keep: boolean): Promise<void> {
  const t0 = state.now();
  await t.session.run(t.feeds, timedOutputs(t.session));
  if (keep) t.samplesMs.push(state.now() - t0);
}

export function latencyResult(t: Timed, req: LatencyRequest): LatencyResult {
  return { ...summarizeTimings(t.samplesMs), samplesMs: t.samplesMs, request: req, backend: t.session.backend };
}

export async function measureLatency(state: StudioState, m: LoadedModel, req: LatencyRequest, options: JobOptions): Promise<LatencyResult> {
  const result = await withLogitsSessions(state, m, [req.target], async ([s]) => {
    const t: Timed = { session: s!.session, feeds: latencyFeeds(s!.session, s!.ir, req), samplesMs: [] };
    for (let i = 0; i < req.warmup + req.runs; i++) {
      throwIfAborted(options.signal, 'Latency measurement');
      await timeOnce(state, t, i >= req.warmup);
      options.onProgress?.({ stage: 'latency', done: i + 1, total: req.warmup + req.runs });
    }
    return latencyResult(t, req);
  });
  if (req.target === 'pruned') requirePruned(m).latency = result;
  else m.denseResults.latency = result;
  return result;
}

/**
 * Times several sessions run by run (run i times every session, rotating which goes first), so
 * drift in machine load affects all alike; samples land in each Timed.
 */
export async function timeInterleaved(state: StudioState, timed: Timed[], req: LatencyRequest, options: JobOptions, what: string) {
  const total = req.warmup + req.runs;
  for (let i = 0; i < total; i++) {
    throwIfAborted(options.signal, what);
    const order = timed.map((_, k) => timed[(k + i) % timed.length]!);
    for (const t of order) await timeOnce(state, t, i >= req.warmup);
    options.onProgress?.({ stage: 'latency', done: i + 1, total, message: `${what}, run ${i + 1}/${total}` });
  }
}

/** Dense and pruned latency measured interleaved; the speedup is the ratio of the medians. */
export async function compareLatency(
  state: StudioState,
  m: LoadedModel,
  req: LatencyRequest,
  options: JobOptions,
): Promise<LatencyComparison> {
  requirePruned(m);
  const [dense, pruned] = await withLogitsSessions(state, m, ['dense', 'pruned'], async (sessions) => {
    const pair: Timed[] = sessions.map(({ session, ir }) => ({ session, feeds: latencyFeeds(session, ir, req), samplesMs: [] }));
    await timeInterleaved(state, pair, req, options, 'Dense and pruned');
    return [latencyResult(pair[0]!, { ...req, target: 'dense' }), latencyResult(pair[1]!, { ...req, target: 'pruned' })] as const;
  });
  m.denseResults.latency = dense;
  requirePruned(m).latency = pruned;
  return { dense, pruned, speedup: dense.medianMs / pruned.medianMs };
}
