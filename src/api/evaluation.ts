/** Api operations that evaluate a model: perplexity (dense, masked preview, pruned), latency, generation. */
import { throwIfAborted } from '../core/errors';
import type { ModelIR } from '../core/ir';
import { asFloat32, int64Tensor, type Feeds, type RunnerSession } from '../core/runner';
import { NllAccumulator, accumulateScored, batchWindows, planWindows, windowFeeds } from '../eval/perplexity';
import { summarizeTimings } from '../eval/latency';
import { generateIds } from '../eval/generate';
import type { MaskSet } from '../saliency/types';
import { maskFeeds as calibrationMaskFeeds } from '../saliency/calibrate';
import { onesMasks } from '../saliency/criteria/ablation';
import { requirePruned, tokensOf, type LoadedModel, type StudioState } from './state';
import { openModelSession } from './sessions';
import type {
  GenerateRequest,
  GenerateResult,
  JobOptions,
  LatencyComparison,
  LatencyRequest,
  LatencyResult,
  PerplexityRequest,
  PerplexityResult,
} from './types';

/** Mask inputs for a (uniform) model: the calibration module's feeds, sized from the IR. */
export function maskFeeds(ir: ModelIR, m: MaskSet): Feeds {
  return calibrationMaskFeeds(m, ir.layers.length, ir.layers[0]?.numHeads ?? 0, ir.layers[0]?.ffnSize ?? 0);
}

export function denseMaskSet(ir: ModelIR): MaskSet {
  return onesMasks(ir.layers.length, ir.layers[0]?.numHeads ?? 0, ir.layers[0]?.ffnSize ?? 0);
}

/** Streams perplexity over `session` (a token-loss graph); `extraFeeds` carries masks when the graph has them. */
export async function streamPerplexity(
  m: LoadedModel,
  session: RunnerSession,
  maxPositions: number,
  req: PerplexityRequest,
  extraFeeds: Feeds,
  options: JobOptions,
): Promise<PerplexityResult> {
  const all = tokensOf(m, req.textName, req.text, req.maxTokens);
  const ids = req.maxTokens ? all.slice(0, req.maxTokens) : all;
  const context = Math.min(req.contextLength, maxPositions);
  const stride = Math.min(req.stride, context - 1);
  const batches = batchWindows(planWindows(ids.length, context, stride), req.batchSize ?? 8);
  const acc = new NllAccumulator();
  for (const [i, batch] of batches.entries()) {
    throwIfAborted(options.signal, 'Perplexity evaluation');
    const { inputIds, labels, len } = windowFeeds(ids, batch);
    const out = await session.run(
      { input_ids: int64Tensor(inputIds, [batch.length, len]), labels: int64Tensor(labels, [batch.length, len]), ...extraFeeds },
      ['token_nll'],
    );
    accumulateScored(acc, batch, asFloat32(out.token_nll, 'token_nll'), len);
    options.onProgress?.({
      stage: 'perplexity',
      done: i + 1,
      total: batches.length,
      message: `${Math.exp(acc.mean).toFixed(2)} ± ${(Math.exp(acc.mean) * acc.stdError).toFixed(2)} after ${acc.count} tokens`,
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
      stride,
      bosPrepended: false,
    },
  };
}

export async function logitsSession(
  state: StudioState,
  m: LoadedModel,
  target: LatencyRequest['target'],
): Promise<{ session: RunnerSession; ir: ModelIR }> {
  if (target === 'pruned') {
    const p = requirePruned(m);
    p.latencySession ??= await openModelSession(state.deps.runner, p.ir, { logits: true });
    return { session: p.latencySession, ir: p.ir };
  }
  if (!m.latencySession) m.latencySession = await openModelSession(state.deps.runner, m.ir, { logits: true });
  return { session: m.latencySession, ir: m.ir };
}

export function latencyFeeds(session: RunnerSession, ir: ModelIR, req: LatencyRequest): Feeds {
  const ids = Array.from({ length: req.batch * req.seq }, (_, i) => (i * 7919) % ir.spec.vocabSize);
  const shape = [req.batch, req.seq];
  return { input_ids: int64Tensor(ids, shape), ...(session.inputNames.includes('labels') ? { labels: int64Tensor(ids, shape) } : {}) };
}

export interface Timed {
  session: RunnerSession;
  feeds: Feeds;
  samplesMs: number[];
}

async function timeOnce(state: StudioState, t: Timed, keep: boolean): Promise<void> {
  const t0 = state.now();
  await t.session.run(t.feeds);
  if (keep) t.samplesMs.push(state.now() - t0);
}

export function latencyResult(t: Timed, req: LatencyRequest): LatencyResult {
  return { ...summarizeTimings(t.samplesMs), samplesMs: t.samplesMs, request: req, backend: t.session.backend };
}

export async function measureLatency(state: StudioState, m: LoadedModel, req: LatencyRequest, options: JobOptions): Promise<LatencyResult> {
  const { session, ir } = await logitsSession(state, m, req.target);
  const t: Timed = { session, feeds: latencyFeeds(session, ir, req), samplesMs: [] };
  for (let i = 0; i < req.warmup + req.runs; i++) {
    throwIfAborted(options.signal, 'Latency measurement');
    await timeOnce(state, t, i >= req.warmup);
    options.onProgress?.({ stage: 'latency', done: i + 1, total: req.warmup + req.runs });
  }
  const result = latencyResult(t, req);
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
  const pair: Timed[] = [];
  for (const target of ['dense', 'pruned'] as const) {
    const { session, ir } = await logitsSession(state, m, target);
    pair.push({ session, feeds: latencyFeeds(session, ir, req), samplesMs: [] });
  }
  await timeInterleaved(state, pair, req, options, 'Dense and pruned');
  const dense = latencyResult(pair[0]!, { ...req, target: 'dense' });
  const pruned = latencyResult(pair[1]!, { ...req, target: 'pruned' });
  m.denseResults.latency = dense;
  requirePruned(m).latency = pruned;
  return { dense, pruned, speedup: dense.medianMs / pruned.medianMs };
}

export async function generate(state: StudioState, m: LoadedModel, req: GenerateRequest, options: JobOptions): Promise<GenerateResult> {
  const { session, ir } = await logitsSession(state, m, req.target);
  const V = ir.spec.vocabSize;
  const t0 = state.now();
  const prompt = m.tokenizer.encode(req.prompt);
  const out = await generateIds(
    prompt.length ? prompt : [m.tokenizer.eosId ?? 0],
    ir.spec.maxPositions,
    async (ctx) => {
      const ids = int64Tensor(ctx, [1, ctx.length]);
      const res = await session.run(session.inputNames.includes('labels') ? { input_ids: ids, labels: ids } : { input_ids: ids }, [
        'logits',
      ]);
      return asFloat32(res.logits, 'logits').subarray((ctx.length - 1) * V, ctx.length * V);
    },
    { maxNewTokens: req.maxNewTokens, temperature: req.temperature, topK: req.topK, seed: req.seed, stopId: m.tokenizer.eosId },
    options.signal,
  );
  return { target: req.target, text: m.tokenizer.decode(out), newTokens: out.length, ms: state.now() - t0 };
}
